"""ANI-1x runs offline from the weights in the torchani 2.2.4 wheel, gives the energies its own
networks give, forces = −∇E, reproduces its training level of theory, and reports what it does
not cover instead of a number."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolTransforms

from virialff.config import default_config
from virialff.evaluate.baselines import ani as ani_module
from virialff.evaluate.baselines import make_baseline
from virialff.evaluate.baselines.ani import ANI, ANI1X_ELEMENTS
from virialff.evaluate.conformers import conformer_table, coverage
from virialff.qc.psi4_process import psi4_settings_from_config
from virialff.units import HARTREE_TO_KCAL_MOL

PSI4 = psi4_settings_from_config({**default_config()["descriptors"], "memory": "1 GB"})

HAS_PSI4 = shutil.which("psi4") is not None


def _molecule(smiles: str, seed: int = 11) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    AllChem.MMFFOptimizeMolecule(mol)
    return mol


@pytest.fixture(scope="module")
def ani() -> ANI:
    baseline = make_baseline("ani1x", ani_model="ANI1x")
    ok, reason = baseline.available()
    assert ok, reason
    return baseline


def test_the_bundled_ensemble_loads_offline(ani):
    assert ani.model.species == ANI1X_ELEMENTS == ("H", "C", "N", "O")
    assert len(ani.model.ensemble) == 8
    assert ani_module.missing_resources(ani_module.resource_dir()) == []


def test_energy_is_finite_deterministic_and_the_mean_of_the_eight_networks(ani):
    mol = _molecule("OCC(=O)N")  # glycolamide: H, C, N, O
    first, second = ani.energies([mol])[0], ani.energies([mol])[0]
    assert np.isfinite(first) and first == second
    assert ani.statuses == ["ok"]

    # Independently: every network on its own, averaged, plus the self-atomic energies read
    # from sae_linfit.dat by hand.
    model = ani.model
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    species = model.species_indices(symbols)
    coords = torch.tensor(mol.GetConformer().GetPositions()[None], dtype=torch.float64)
    aev = model.aev_computer((species, coords)).aevs
    with torch.no_grad():
        members = [float(network((species, aev)).energies) for network in model.ensemble]
    self_energy = {}
    for line in (ani_module.resource_dir() / ani_module.SAE_FILE).read_text().splitlines():
        element_index, value = line.split("=")
        self_energy[element_index.split(",")[0].strip()] = float(value)
    expected_hartree = np.mean(members) + sum(self_energy[s] for s in symbols)
    assert first == pytest.approx(expected_hartree * HARTREE_TO_KCAL_MOL, abs=1e-8)
    assert np.std(members) * HARTREE_TO_KCAL_MOL < 2.0  # the members agree: a sane geometry


def test_forces_are_minus_the_gradient_of_the_energy(ani):
    mol = _molecule("CO")
    positions = mol.GetConformer().GetPositions()
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    _, forces = ani.model.energy_and_forces(symbols, positions)
    assert forces.shape == positions.shape
    assert np.abs(forces).max() > 1.0  # MMFF geometry: not an ANI minimum, forces are real
    step = 1e-4  # Å, central differences along random directions of all coordinates
    for direction in np.random.default_rng(0).normal(size=(4, *positions.shape)):
        direction /= np.linalg.norm(direction)
        e_plus, _ = ani.model.energy_and_forces(symbols, positions + step * direction, False)
        e_minus, _ = ani.model.energy_and_forces(symbols, positions - step * direction, False)
        numeric = -(e_plus - e_minus) / (2 * step)
        assert float(np.sum(forces * direction)) == pytest.approx(numeric, abs=1e-5)


@pytest.mark.parametrize(("smiles", "why"), [
    ("CS", "element S"),
    ("CCl", "element Cl"),
    ("C[NH3+]", "net charge +1"),
])
def test_what_ani1x_has_no_parameters_for_is_not_covered(ani, smiles, why):
    mol = _molecule(smiles)
    energy = ani.energies([mol])[0]
    assert np.isnan(energy)
    assert ani.statuses == ["not_covered"]
    assert ani.messages[0].startswith("not covered by ANI-1x:") and why in ani.messages[0]


def test_a_conformer_table_counts_not_covered_molecules(ani):
    payload = {"molecules": []}
    for molecule_id, smiles in (("methanethiol", "CS"), ("ethanol", "CCO")):
        mol = _molecule(smiles)
        payload["molecules"].append({
            "molecule_id": molecule_id, "smiles": smiles,
            "symbols": [a.GetSymbol() for a in mol.GetAtoms()],
            "conformers": [{"conformer_id": f"{molecule_id}_c{k}",
                            "positions_angstrom": mol.GetConformer().GetPositions().tolist()}
                           for k in range(2)],
        })
    table = conformer_table(ani, payload)
    assert list(table["status"]) == ["not_covered"] * 2 + ["ok"] * 2
    counts = coverage(table)
    assert counts["n_molecules_not_covered"] == 1 and counts["n_conformers_not_covered"] == 2
    assert counts["not_covered"] == ["methanethiol: not covered by ANI-1x: element S (ANI-1x "
                                     "covers H, C, N, O only)"]


def test_another_ani_model_name_is_refused():
    ok, reason = ANI(model="ANI2x").available()
    assert not ok and "only ANI1x" in reason


def test_missing_bundled_weights_are_reported(monkeypatch, tmp_path):
    # a torchani release without the wheel's weight files
    monkeypatch.setattr(ani_module, "resource_dir", lambda: tmp_path / "ani-1x_8x")
    ok, reason = ANI(model="ANI1x").available()
    assert not ok
    assert "no bundled ANI-1x weights" in reason and "torchani==2.2.4" in reason


def _ethane(dihedral_deg: float) -> Chem.Mol:
    mol = _molecule("CC", seed=1)
    h0 = next(n.GetIdx() for n in mol.GetAtomWithIdx(0).GetNeighbors() if n.GetSymbol() == "H")
    h1 = next(n.GetIdx() for n in mol.GetAtomWithIdx(1).GetNeighbors() if n.GetSymbol() == "H")
    rdMolTransforms.SetDihedralDeg(mol.GetConformer(), h0, 0, 1, h1, dihedral_deg)
    return mol


@pytest.mark.psi4
@pytest.mark.skipif(not HAS_PSI4, reason="psi4 not on PATH")
def test_ani1x_reproduces_its_training_level_of_theory(ani):
    """ANI-1x was fitted to ωB97x/6-31G(d): ethane's staggered and eclipsed energies agree."""
    from virialff.qc.psi4_energies import single_point_energies

    mols = [_ethane(60.0), _ethane(0.0)]  # staggered, eclipsed
    ani_energies = ani.energies(mols)
    items = [{"item_id": name, "symbols": [a.GetSymbol() for a in mol.GetAtoms()],
              "positions_angstrom": mol.GetConformer().GetPositions()}
             for name, mol in zip(("staggered", "eclipsed"), mols, strict=True)]
    outcomes = single_point_energies(items, PSI4, method="wb97x",
                                     basis="6-31g*")
    assert all(o.ok for o in outcomes), [o.message for o in outcomes]
    dft = np.array([o.value_kcal_mol for o in outcomes])
    np.testing.assert_allclose(ani_energies, dft, atol=1.5)  # totals of ~50,000 kcal/mol
    barrier_ani, barrier_dft = np.diff(ani_energies)[0], np.diff(dft)[0]
    assert 2.0 < barrier_dft < 4.0
    assert barrier_ani == pytest.approx(barrier_dft, abs=0.8)
