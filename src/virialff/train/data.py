"""Training data: load ``results/dataset/dataset.pt``, fit linear references, build test data.

The dataset is collated once (a :class:`~virialff.chem.graph.GraphBatch` of every molecule);
batches are cut from it with :func:`~virialff.chem.graph.select_molecules`, so no per-molecule
Python work happens in the training loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.chem.graph import GraphBatch, collate, graph_from_rdkit
from virialff.formats.dataset import read_dataset, write_dataset
from virialff.model.potential_model import fragment_labels

#: private per-atom keys added to ``atom_targets`` so that they follow ``select_molecules``.
ATOM_INDEX_KEY = "_atom_index"
FRAGMENT_KEY = "_fragment"


def load_dataset(path: str | Path) -> tuple[GraphBatch, dict[str, torch.Tensor], dict]:
    """``(graphs, split, metadata)`` from a dataset file (format in docs/data-formats.md).

    ``graphs`` gains two private per-atom entries: ``_atom_index`` (global atom index, to look
    up cached embeddings) and ``_fragment`` (covalent fragment label, for charge neutrality).
    """
    graphs, split, metadata = read_dataset(path)
    n_atoms = int(graphs.atom_ptr[-1])
    graphs.atom_targets[ATOM_INDEX_KEY] = torch.arange(n_atoms)
    graphs.atom_targets[FRAGMENT_KEY] = fragment_labels(graphs.bond_index, n_atoms)
    return graphs, split, metadata


def fit_linear_reference(
    element_counts: torch.Tensor, n_fragments: torch.Tensor, values: torch.Tensor
) -> tuple[np.ndarray, float]:
    """Least-squares ``values ≈ wᵀN + n_fragments·b`` (float64); returns ``(w [n_elements], b)``.

    ``element_counts`` [M, n_elements], ``n_fragments`` [M], ``values`` [M] kcal/mol. Elements
    absent from ``element_counts`` get weight 0 (minimum-norm solution).
    """
    counts = element_counts.detach().cpu().double().numpy()
    target = values.detach().cpu().double().numpy()
    fragments = n_fragments.detach().cpu().double().numpy().reshape(-1, 1)
    design = np.hstack([counts, fragments])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution[:-1], float(solution[-1])


def tensor_bytes(batch: GraphBatch) -> int:
    """Memory held by the tensors of a batch, bytes."""
    total = 0
    for value in batch.__dict__.values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, torch.Tensor):
                total += item.numel() * item.element_size()
    return total


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


def restrict_training_split(split: dict[str, torch.Tensor], group_ids: list[str],
                            n_groups: int, seed: int) -> dict[str, torch.Tensor]:
    """``split`` with its training part cut to every conformer of ``n_groups`` compounds.

    The compounds (``group_ids``, one per molecule of the data set) of the training split are
    put in a ``numpy.random.default_rng(seed)`` order and the first ``n_groups`` kept, so a
    smaller subset is always part of a larger one with the same seed (learning curves).
    Validation and test are unchanged. ``ValueError`` when ``n_groups`` exceeds the training
    compounds.
    """
    train = split["train"].tolist()
    compounds = sorted({group_ids[i] for i in train})
    if not 1 <= n_groups <= len(compounds):
        raise ValueError(f"cannot train on {n_groups} compounds: the training split has "
                         f"{len(compounds)}")
    order = np.random.default_rng(seed).permutation(len(compounds))
    chosen = {compounds[i] for i in order[:n_groups]}
    kept = [i for i in train if group_ids[i] in chosen]
    return {**split, "train": torch.as_tensor(kept, dtype=torch.long)}
