"""Geometries + descriptors → the training data set ``results/dataset/dataset.pt``.

For every molecule of ``molecules.csv`` that passed the geometry and descriptor stages, the
GFN2-xTB geometry (``results/geometries/{shard}.sdf``) and the Psi4 descriptors
(``results/descriptors/{shard}.npz``) are checked against each other and against the SMILES,
then featurised with :func:`virialff.chem.graph.graph_from_rdkit` and collated into one
:class:`~virialff.chem.graph.GraphBatch` with targets in kcal/mol:

- ``energy_kcal_mol`` [M], ``kinetic_kcal_mol`` [M] (molecule targets),
- ``kd_atom_kcal_mol`` [A] (atom targets),
- ``kd_bond_kcal_mol`` [B] (bond targets: KD_pair of the bonded pair, on both directed bonds).

A molecule whose inputs disagree (atom count, elements), hold NaN, break the sum rule
``Σ KD_atom + Σ KD_pair = T`` or are missing is recorded as failed in
``results/dataset/dataset.status.csv`` with the reason; nothing is dropped silently.
Molecules already failed upstream stay in their own stage's table only.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.data.split import SPLITS
from virialff.errors import MoleculeRejected
from virialff.units import HARTREE_TO_KCAL_MOL

log = logging.getLogger("virialff.data.assemble")

STAGE = "dataset"
DATASET_VERSION = 1
#: |Σ KD_atom + Σ KD_pair − T| above this (Hartree) rejects a molecule.
SUM_RULE_TOLERANCE_HARTREE = 1e-6
DESCRIPTOR_COLUMNS: tuple[str, ...] = (
    "molecule_id", "name", "chembl_id", "split", "shard", "n_atoms", "n_heavy_atoms",
    *(f"n_{e}" for e in SUPPORTED_ELEMENTS),
    "energy_kcal_mol", "kinetic_kcal_mol", "energy_per_atom_kcal_mol",
    "kinetic_per_atom_kcal_mol", "virial_ratio",
)


@dataclass
class Descriptors:
    """One molecule's rows of a descriptor npz (Hartree)."""

    energy_hartree: float
    kinetic_hartree: float
    n_atoms: int
    kd_atom_hartree: np.ndarray  # [A]
    kd_pair_hartree: np.ndarray  # [A(A-1)/2], numpy.triu_indices(A, 1) order
    atomic_numbers: np.ndarray | None = None  # [A] when the npz carries them


def read_descriptor_npz(path: str | Path) -> dict[str, Descriptors]:
    """``{molecule_id: Descriptors}`` from one ``results/descriptors/{shard}.npz``."""
    with np.load(path, allow_pickle=False) as npz:
        if "molecule_id" not in npz.files or len(npz["molecule_id"]) == 0:
            return {}
        ids = [str(i) for i in npz["molecule_id"]]
        atom_ptr, pair_ptr = npz["atom_ptr"].astype(np.int64), npz["pair_ptr"].astype(np.int64)
        numbers = npz["atomic_numbers"] if "atomic_numbers" in npz.files else None
        out = {}
        for m, molecule_id in enumerate(ids):
            atoms = slice(atom_ptr[m], atom_ptr[m + 1])
            out[molecule_id] = Descriptors(
                energy_hartree=float(npz["energy_hartree"][m]),
                kinetic_hartree=float(npz["kinetic_hartree"][m]),
                n_atoms=int(npz["n_atoms"][m]),
                kd_atom_hartree=np.asarray(npz["kd_atom_hartree"][atoms], dtype=np.float64),
                kd_pair_hartree=np.asarray(
                    npz["kd_pair_hartree"][pair_ptr[m] : pair_ptr[m + 1]], dtype=np.float64
                ),
                atomic_numbers=None if numbers is None else np.asarray(numbers[atoms]),
            )
    return out


def read_geometry_sdf(path: str | Path) -> dict[str, Any]:
    """``{molecule_id: rdkit Mol or error text}`` from one ``results/geometries/{shard}.sdf``.

    The id is the ``molecule_id`` property or, failing that, the title. Molecules that RDKit
    cannot sanitise map to the error text so the caller can record them.
    """
    from rdkit import Chem

    out: dict[str, Any] = {}
    if Path(path).stat().st_size == 0:
        return out
    for mol in Chem.SDMolSupplier(str(path), removeHs=False, sanitize=False):
        if mol is None:
            continue
        molecule_id = mol.GetProp("molecule_id") if mol.HasProp("molecule_id") else mol.GetProp(
            "_Name"
        )
        try:
            Chem.SanitizeMol(mol)
        except Exception as error:  # noqa: BLE001 - RDKit raises several types
            out[molecule_id] = f"RDKit cannot sanitise the geometry: {error}"
            continue
        out[molecule_id] = mol
    return out


def _formula(counts: Counter[str]) -> str:
    return "".join(f"{e}{counts[e]}" for e in SUPPORTED_ELEMENTS if counts.get(e))


def pair_position(i: np.ndarray, j: np.ndarray, n_atoms: int) -> np.ndarray:
    """Index of pair (i, j), i ≠ j, in ``numpy.triu_indices(n_atoms, 1)`` order."""
    low, high = np.minimum(i, j), np.maximum(i, j)
    return low * (2 * n_atoms - low - 1) // 2 + (high - low - 1)


def build_graph(row: dict[str, str], mol: Any, descriptors: Descriptors):  # noqa: ANN201
    """Check one molecule's geometry against its descriptors and SMILES; return its graph.

    Raises :class:`MoleculeRejected` (``bad_sdf``, ``nan_value``, ``psi4_failed``, or a
    reason from :func:`graph_from_rdkit`) with a message naming the molecule.
    """
    from rdkit import Chem

    from virialff.chem.graph import graph_from_rdkit

    molecule_id = row["molecule_id"]
    n_sdf = mol.GetNumAtoms()
    sdf_counts = Counter(a.GetSymbol() for a in mol.GetAtoms())
    reference = Chem.MolFromSmiles(row["smiles"])
    if reference is not None:
        smiles_counts = Counter(a.GetSymbol() for a in Chem.AddHs(reference).GetAtoms())
        if smiles_counts != sdf_counts:
            raise MoleculeRejected(
                molecule_id, "bad_sdf", f"geometry is {_formula(sdf_counts)} but the SMILES "
                f"{row['smiles']} is {_formula(smiles_counts)}", STAGE,
            )
    n_pairs = descriptors.kd_pair_hartree.shape[0]
    if not (n_sdf == descriptors.n_atoms == descriptors.kd_atom_hartree.shape[0]
            and n_pairs == n_sdf * (n_sdf - 1) // 2):
        raise MoleculeRejected(
            molecule_id, "bad_sdf", f"atom counts disagree: geometry SDF {n_sdf} atoms, "
            f"descriptors n_atoms {descriptors.n_atoms}, {descriptors.kd_atom_hartree.shape[0]} "
            f"KD_atom values, {n_pairs} KD_pair values", STAGE,
        )
    if descriptors.atomic_numbers is not None:
        sdf_numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
        if not np.array_equal(sdf_numbers, descriptors.atomic_numbers):
            raise MoleculeRejected(
                molecule_id, "bad_sdf", "element order of the geometry SDF differs from the "
                "descriptors' atomic_numbers", STAGE,
            )
    values = np.concatenate([[descriptors.energy_hartree, descriptors.kinetic_hartree],
                             descriptors.kd_atom_hartree, descriptors.kd_pair_hartree])
    if not np.all(np.isfinite(values)):
        raise MoleculeRejected(
            molecule_id, "nan_value", f"{int(np.sum(~np.isfinite(values)))} non-finite value(s) "
            "among E, T, KD_atom, KD_pair", STAGE,
        )
    residual = (descriptors.kd_atom_hartree.sum() + descriptors.kd_pair_hartree.sum()
                - descriptors.kinetic_hartree)
    if abs(residual) > SUM_RULE_TOLERANCE_HARTREE:
        raise MoleculeRejected(
            molecule_id, "psi4_failed", f"Σ KD_atom + Σ KD_pair − T = {residual:.3e} Eh "
            f"(tolerance {SUM_RULE_TOLERANCE_HARTREE:g})", STAGE,
        )
    graph = graph_from_rdkit(mol, molecule_id)
    first, second = graph.bond_index
    kd_bond = descriptors.kd_pair_hartree[pair_position(first, second, n_sdf)]
    graph.targets = {
        "energy_kcal_mol": np.array([descriptors.energy_hartree * HARTREE_TO_KCAL_MOL]),
        "kinetic_kcal_mol": np.array([descriptors.kinetic_hartree * HARTREE_TO_KCAL_MOL]),
        "kd_atom_kcal_mol": descriptors.kd_atom_hartree * HARTREE_TO_KCAL_MOL,
        "kd_bond_kcal_mol": kd_bond * HARTREE_TO_KCAL_MOL,
    }
    return graph


def _status_by_id(paths: Iterable[str | Path]) -> dict[str, Any]:
    from virialff.qc.status import read_status_tables

    return {r.molecule_id: r for r in read_status_tables(p for p in paths if Path(p).exists())}


def read_molecules_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of ``results/dataset/molecules.csv`` as dicts of strings."""
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def assemble_dataset(
    molecules_csv: str | Path,
    geometry_sdfs: list[str | Path],
    geometry_status: list[str | Path],
    descriptor_npzs: list[str | Path],
    descriptor_status: list[str | Path],
    dataset_pt: str | Path,
    descriptors_csv: str | Path,
    status_csv: str | Path,
    run_name: str = "",
    data_scale: str = "",
) -> dict[str, Any]:
    """Build ``dataset.pt``, ``descriptors.csv`` and ``dataset.status.csv``; return counts."""
    import torch

    from virialff.chem.graph import collate
    from virialff.qc.status import FAILED, StatusTable

    molecules = read_molecules_csv(molecules_csv)
    upstream = {"geometry": _status_by_id(geometry_status),
                "descriptors": _status_by_id(descriptor_status)}
    geometries: dict[str, Any] = {}
    for path in geometry_sdfs:
        geometries.update(read_geometry_sdf(path))
    descriptors: dict[str, Descriptors] = {}
    method_basis: set[tuple[str, str]] = set()
    for path in descriptor_npzs:
        descriptors.update(read_descriptor_npz(path))
        with np.load(path, allow_pickle=False) as npz:
            if "method" in npz.files and "basis" in npz.files and len(npz["molecule_id"]):
                method_basis.add((str(npz["method"]), str(npz["basis"])))

    table = StatusTable(STAGE)
    graphs, kept_rows = [], []
    n_failed_upstream = 0
    for row in molecules:
        molecule_id = row["molecule_id"]
        failed_at = [stage for stage, records in upstream.items()
                     if molecule_id in records and records[molecule_id].status == FAILED]
        if failed_at:
            n_failed_upstream += 1
            continue
        with table.track(molecule_id):
            mol = geometries.get(molecule_id)
            if mol is None:
                raise MoleculeRejected(molecule_id, "missing_input", "no geometry in "
                                       f"results/geometries/{row['shard']}.sdf and no failure "
                                       "recorded by the geometry stage", STAGE)
            if isinstance(mol, str):
                raise MoleculeRejected(molecule_id, "bad_sdf", mol, STAGE)
            if molecule_id not in descriptors:
                raise MoleculeRejected(molecule_id, "missing_input", "no descriptors in "
                                       f"results/descriptors/{row['shard']}.npz and no failure "
                                       "recorded by the descriptor stage", STAGE)
            graphs.append(build_graph(row, mol, descriptors[molecule_id]))
            kept_rows.append(row)

    batch = collate(graphs, dtype=torch.float64)
    # collate() files a per-bond target under atom targets when every molecule has B == A.
    if "kd_bond_kcal_mol" in batch.atom_targets:
        batch.bond_targets["kd_bond_kcal_mol"] = batch.atom_targets.pop("kd_bond_kcal_mol")
    split = {name: torch.tensor([i for i, r in enumerate(kept_rows) if r["split"] == name],
                                dtype=torch.long) for name in SPLITS}
    payload = {
        "graphs": batch.state_dict(),
        "split": split,
        "elements": list(SUPPORTED_ELEMENTS),
        "run_name": run_name,
        "data_scale": data_scale,
        "version": DATASET_VERSION,
        "units": {"energy": "kcal/mol", "length": "angstrom"},
        "method": sorted(method_basis)[0][0] if len(method_basis) == 1 else "",
        "basis": sorted(method_basis)[0][1] if len(method_basis) == 1 else "",
    }
    Path(dataset_pt).parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, dataset_pt)
    write_descriptor_table(kept_rows, graphs, descriptors_csv)
    table.write(status_csv)
    for record in table.records:
        if record.status == FAILED:
            log.warning("%s", record.message)
    counts = {
        "n_molecules": len(molecules),
        "n_failed_upstream": n_failed_upstream,
        "n_failed_here": len(table.failed_ids),
        "n_in_dataset": len(graphs),
        **{f"n_{name}": int(split[name].numel()) for name in SPLITS},
    }
    log.info("dataset: %s", counts)
    if not graphs:
        log.error("the dataset is empty: no molecule passed every stage")
    return counts


def write_descriptor_table(
    rows: list[dict[str, str]], graphs: list[Any], path: str | Path
) -> Path:
    """``descriptors.csv``: one row per molecule in the data set (columns
    :data:`DESCRIPTOR_COLUMNS`, energies in kcal/mol, ``virial_ratio`` = −T/E)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(DESCRIPTOR_COLUMNS))
        writer.writeheader()
        for row, graph in zip(rows, graphs, strict=True):
            energy = float(graph.targets["energy_kcal_mol"][0])
            kinetic = float(graph.targets["kinetic_kcal_mol"][0])
            counts = graph.element_counts()
            out = {
                "molecule_id": row["molecule_id"], "name": row.get("name", ""),
                "chembl_id": row.get("chembl_id", ""), "split": row["split"],
                "shard": row["shard"], "n_atoms": graph.n_atoms,
                "n_heavy_atoms": int(graph.n_atoms - counts[0]),
                **{f"n_{e}": int(counts[k]) for k, e in enumerate(SUPPORTED_ELEMENTS)},
                "energy_kcal_mol": f"{energy:.6f}", "kinetic_kcal_mol": f"{kinetic:.6f}",
                "energy_per_atom_kcal_mol": f"{energy / graph.n_atoms:.6f}",
                "kinetic_per_atom_kcal_mol": f"{kinetic / graph.n_atoms:.6f}",
                "virial_ratio": f"{-kinetic / energy:.8f}" if energy else "",
            }
            writer.writerow(out)
    return path
