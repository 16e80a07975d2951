"""Conformer fallback: duplicates are removed; relative energies; molecule choice."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from virialff.evaluate.conformers import candidate_molecules, relative_energies, spread_subset
from virialff.qc.conformers import ENGINE_FALLBACK, deduplicate, fallback_search

HAS_XTB = shutil.which("xtb") is not None


def _conformers(smiles: str, n: int, seed: int = 7) -> tuple[Chem.Mol, list[np.ndarray]]:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    ids = AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params)
    AllChem.MMFFOptimizeMoleculeConfs(mol)
    return mol, [mol.GetConformer(i).GetPositions() for i in ids]


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def test_deduplicate_removes_copies_rotations_and_translations():
    mol, positions = _conformers("OCCOCCO", 1)
    base = positions[0]
    copies = [base, base @ _rotation(0.7).T + 3.0, base + np.array([10.0, 0.0, 0.0])]
    kept = deduplicate(mol, copies, [0.0, 0.1, 0.2], rmsd_threshold_angstrom=0.1)
    assert kept == [0]


def test_deduplicate_keeps_distinct_conformers_lowest_first():
    mol, positions = _conformers("CCCCCCO", 12)
    energies = list(np.linspace(5.0, 0.0, len(positions)))
    unique = deduplicate(mol, positions, energies, rmsd_threshold_angstrom=0.25)
    doubled = deduplicate(mol, positions + positions, energies + energies,
                          rmsd_threshold_angstrom=0.25)
    assert len(unique) >= 2
    assert len(doubled) == len(unique)  # every copy recognised
    assert unique[0] == int(np.argmin(energies))


@pytest.mark.xtb
@pytest.mark.skipif(not HAS_XTB, reason="xtb not on PATH")
def test_fallback_search_with_duplicated_starts():
    from virialff.qc.xtb import XtbSettings

    mol, positions = _conformers("CCCC", 2, seed=3)
    starts = [positions[0], positions[0].copy(), positions[0] + 5.0]
    result = fallback_search(mol, "butane", initial_positions=starts,
                             xtb_settings=XtbSettings(threads=1), rmsd_threshold_angstrom=0.1)
    assert result.engine == ENGINE_FALLBACK
    assert result.counts["optimized"] == 3
    assert result.n_conformers == 1
    assert len(result.xtb_energies_hartree) == 1


def test_spread_subset():
    assert spread_subset(3, 5) == [0, 1, 2]
    assert spread_subset(10, None) == list(range(10))
    chosen = spread_subset(17, 5)
    assert chosen[0] == 0 and chosen[-1] == 16 and len(chosen) == 5


def test_relative_energies_each_against_own_minimum():
    dft = pd.DataFrame({"molecule_id": ["m"] * 3, "conformer_id": ["a", "b", "c"],
                        "energy_kcal_mol": [-100.0, -99.0, -97.0]})
    model = pd.DataFrame({"molecule_id": ["m"] * 3, "conformer_id": ["a", "b", "c"],
                          "energy_kcal_mol": [10.0, 12.0, np.nan]})
    rel = relative_energies(dft, {"virialff": model})
    ours = rel[rel["method"] == "virialff"].set_index("conformer_id")
    assert list(ours.index) == ["a", "b"]  # c has no model energy
    assert ours.loc["b", "relative_energy_kcal_mol"] == pytest.approx(2.0)
    assert ours.loc["b", "dft_relative_energy_kcal_mol"] == pytest.approx(1.0)
    assert ours.loc["b", "error_kcal_mol"] == pytest.approx(1.0)


def test_candidate_molecules_prefers_flexible_then_small():
    table = pd.DataFrame({"molecule_id": ["rigid", "big", "small", "tiny", "charged"],
                          "smiles": ["c1ccccc1C", "CN(CCCl)CCCl", "O=C(O)CCCO", "CCO",
                                     "CCCCCC[NH3+]"]})
    chosen = candidate_molecules(table, 7, 9)
    assert list(chosen["molecule_id"]) == ["small", "big", "rigid"]
