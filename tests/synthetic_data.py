"""A small synthetic data set made of real molecules, for the tests: RDKit ETKDG geometries
with smooth synthetic targets (K·D per element and bond, T = Σ K·D, E = −T + a Morse pair sum
and its exact forces), enough to test learning, formats and training stages without DFT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.chem.graph import collate, graph_from_rdkit
from virialff.formats.dataset import write_dataset

DEFAULT_SMILES: tuple[str, ...] = (
    "C",
    "CC",
    "CCO",
    "CO",
    "C=O",
    "CC(=O)O",
    "c1ccccc1",
    "CN",
    "CC#N",
    "O",
    "N",
    "CF",
    "CCl",
    "CS",
    "CBr",
    "OCCO",
    "CC(C)O",
    "c1ccncc1",
    "C=CC=C",
    "CC(=O)N",
    "COC",
    "CSC",
    "FC(F)F",
    "OP(O)O",
    "c1ccoc1",
    "CCCC",
    "CC=O",
    "NC=O",
    "ClCCl",
    "C#C",
)

def _synthetic_forces(positions: np.ndarray, first: np.ndarray, second: np.ndarray,
                      de_dr: np.ndarray) -> np.ndarray:
    """−∇ of Σ_p E_p(r_p) [A, 3] for pair derivatives ``de_dr`` [P] of pairs (first, second)."""
    delta = positions[first] - positions[second]
    scale = (-de_dr / np.linalg.norm(delta, axis=1))[:, None] * delta
    forces = np.zeros_like(positions)
    np.add.at(forces, first, scale)
    np.add.at(forces, second, -scale)
    return forces


def synthetic_molecules(
    n_molecules: int, smiles: tuple[str, ...] = DEFAULT_SMILES, seed: int = 0
) -> list:
    """The RDKit molecules (explicit Hs, one ETKDG conformer) of :func:`synthetic_dataset`."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mols = []
    for index in range(n_molecules):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles[index % len(smiles)]))
        params = AllChem.ETKDGv3()
        params.randomSeed = seed * 1000 + index
        AllChem.EmbedMolecule(mol, params)
        mol.SetProp("_Name", f"synthetic_{index:04d}")
        mols.append(mol)
    return mols


def synthetic_dataset(
    n_molecules: int = 16,
    smiles: tuple[str, ...] = DEFAULT_SMILES,
    seed: int = 0,
    split_fractions: tuple[float, float, float] = (0.75, 0.125, 0.125),
) -> dict:
    """A small data set ``{"graphs": GraphBatch, "split", "data_scale"}`` from real molecules
    (for tests and benchmarks; :func:`write_synthetic_dataset` saves it).

    Geometries come from RDKit ETKDG (several conformers per SMILES when ``n_molecules`` is
    larger than the SMILES list). Targets are smooth synthetic functions of structure and
    geometry, not quantum chemistry: KD_atom per element, KD_pair per bond type and length,
    T = Σ KD, and E = −T + a Morse-like pair sum — enough to test learning and formats.
    """
    rng = np.random.default_rng(seed)
    atom_kd = {s: 50.0 * (i + 1) for i, s in enumerate(SUPPORTED_ELEMENTS)}
    graphs = []
    for index, mol in enumerate(synthetic_molecules(n_molecules, smiles, seed)):
        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        positions = mol.GetConformer().GetPositions()
        kd_atom = np.array([atom_kd[s] for s in symbols]) + rng.normal(0, 1.0, len(symbols))
        graph = graph_from_rdkit(mol, f"synthetic_{index:04d}")
        i, j = graph.bond_index
        r_bond = np.linalg.norm(positions[i] - positions[j], axis=1)
        kd_bond = 20.0 * (graph.bond_type + 1) - 30.0 * (r_bond - 1.2)
        first, second = np.triu_indices(len(symbols), 1)
        r = np.linalg.norm(positions[first] - positions[second], axis=1)
        kinetic = kd_atom.sum() + kd_bond.sum() / 2.0
        morse = np.exp(-2.0 * (r - 1.5))
        energy = -kinetic + float(np.sum(5.0 * (morse - 1.0) ** 2))
        # F = −∇E: the Morse sum over all pairs, and +30·r per bond from −T (each bond is
        # listed in both directions, hence the half)
        forces = _synthetic_forces(positions, first, second, -20.0 * morse * (morse - 1.0))
        forces += _synthetic_forces(positions, i, j, np.full(i.shape[0], 15.0))
        graph.targets = {
            "energy_kcal_mol": np.array([energy]),
            "kinetic_kcal_mol": np.array([kinetic]),
            "kd_atom_kcal_mol": kd_atom,
            "kd_bond_kcal_mol": kd_bond,
            "forces_kcal_mol_angstrom": forces,
            "has_forces": np.array([1.0]),
            "dipole_debye": np.zeros((1, 3)),
            "has_dipole": np.array([0.0]),
        }
        graphs.append(graph)
    batch = collate(graphs)
    order = rng.permutation(n_molecules)
    n_train = max(1, int(round(split_fractions[0] * n_molecules)))
    n_val = max(1, int(round(split_fractions[1] * n_molecules))) if n_molecules > 2 else 0
    split = {
        "train": torch.as_tensor(np.sort(order[:n_train])),
        "val": torch.as_tensor(np.sort(order[n_train : n_train + n_val])),
        "test": torch.as_tensor(np.sort(order[n_train + n_val :])),
    }
    return {"graphs": batch, "split": split, "data_scale": "custom",
            "group_ids": list(batch.molecule_ids)}


def write_synthetic_dataset(path: str | Path, **kwargs) -> Path:  # noqa: ANN003
    """:func:`synthetic_dataset` saved to ``path`` (:mod:`virialff.formats.dataset`)."""
    data = synthetic_dataset(**kwargs)
    return write_dataset(path, data.pop("graphs"), data.pop("split"), **data)


def write_compound_dataset(path: str | Path, n_geometries: int, smiles: tuple[str, ...],
                           split_by_compound: dict[str, tuple[int, ...]], seed: int = 0) -> list:
    """A :func:`synthetic_dataset` of ``n_geometries`` geometries (geometry i is a conformer of
    compound ``i % len(smiles)``, its group), split by compound (``split_by_compound``: split →
    compound indices), saved to ``path``; returns the RDKit molecules of the geometries."""
    data = synthetic_dataset(n_geometries, smiles, seed=seed)
    compound = [i % len(smiles) for i in range(n_geometries)]
    data["group_ids"] = [smiles[c] for c in compound]
    data["split"] = {name: torch.as_tensor([i for i in range(n_geometries)
                                            if compound[i] in groups])
                     for name, groups in split_by_compound.items()}
    write_dataset(path, data.pop("graphs"), data.pop("split"), **data)
    return synthetic_molecules(n_geometries, smiles, seed=seed)
