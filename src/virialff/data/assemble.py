"""Geometries + descriptors → the training data set ``results/dataset/dataset.pt``.

For every molecule of ``molecules.csv`` that passed the geometry and descriptor stages, the
GFN2-xTB geometry (:mod:`virialff.formats.geometry_sdf`) and the K·D descriptors
(:mod:`virialff.formats.descriptors_npz`) are checked against each other and against the
SMILES, then featurised with :func:`virialff.chem.graph.graph_from_rdkit` and collated into one
:class:`~virialff.chem.graph.GraphBatch` with targets in kcal/mol
(:mod:`virialff.formats.dataset`):

- ``energy_kcal_mol`` [M], ``kinetic_kcal_mol`` [M] (molecule targets),
- ``kd_atom_kcal_mol`` [A] (atom targets),
- ``kd_bond_kcal_mol`` [B] (bond targets: KD of the bonded pair, on both directed bonds),
- ``forces_kcal_mol_angstrom`` [A, 3] with ``has_forces`` [M] (1 where the DFT gave forces,
  0 where it did not: QMugs wavefunctions, shards cached before forces; their rows are 0),
  ``dipole_debye`` [M, 3] with ``has_dipole`` [M] likewise.

A molecule whose inputs disagree (elements, atom order, bonds), hold NaN, break the sum rule
or are missing is recorded as failed in ``results/dataset/dataset.status.csv`` with the reason;
nothing is dropped silently. Molecules already failed upstream stay in their own stage's table.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.errors import MoleculeRejected
from virialff.formats.dataset import write_dataset
from virialff.formats.descriptors_npz import (
    MoleculeDescriptors,
    check_descriptors,
    read_descriptors_npz,
)
from virialff.formats.geometry_sdf import GeometryRecord, read_geometry_sdf
from virialff.formats.molecules_csv import SPLITS, read_molecules_csv
from virialff.formats.status_table import FAILED, StatusTable, read_status_tables
from virialff.units import HARTREE_TO_KCAL_MOL

log = logging.getLogger("virialff.data.assemble")

STAGE = "dataset"
DESCRIPTOR_COLUMNS: tuple[str, ...] = (
    "molecule_id", "name", "chembl_id", "split", "shard", "n_atoms", "n_heavy_atoms",
    *(f"n_{e}" for e in SUPPORTED_ELEMENTS),
    "energy_kcal_mol", "kinetic_kcal_mol", "energy_per_atom_kcal_mol",
    "kinetic_per_atom_kcal_mol", "virial_ratio",
)


def _formula(counts: Counter[str]) -> str:
    return "".join(f"{e}{counts[e]}" for e in SUPPORTED_ELEMENTS if counts.get(e))


def build_graph(row: dict[str, str], mol: Any, descriptors: MoleculeDescriptors):  # noqa: ANN201
    """Check one molecule's geometry against its descriptors and SMILES; return its graph.

    Raises :class:`MoleculeRejected` (``bad_sdf``, ``nan_value``, ``sum_rule``,
    ``bad_descriptors``, or a reason from :func:`graph_from_rdkit`) naming the molecule.
    """
    from rdkit import Chem

    from virialff.chem.graph import graph_from_rdkit

    molecule_id = row["molecule_id"]
    sdf_counts = Counter(a.GetSymbol() for a in mol.GetAtoms())
    reference = Chem.MolFromSmiles(row["smiles"])
    if reference is not None:
        smiles_counts = Counter(a.GetSymbol() for a in Chem.AddHs(reference).GetAtoms())
        if smiles_counts != sdf_counts:
            raise MoleculeRejected(
                molecule_id, "bad_sdf", f"geometry is {_formula(sdf_counts)} but the SMILES "
                f"{row['smiles']} is {_formula(smiles_counts)}", STAGE,
            )
    reason, message = check_descriptors(descriptors)
    if reason:
        raise MoleculeRejected(molecule_id, reason, message, STAGE)
    sdf_numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()])
    if not np.array_equal(sdf_numbers, descriptors.atomic_numbers):
        raise MoleculeRejected(
            molecule_id, "bad_sdf", f"the geometry SDF's {len(sdf_numbers)} atoms "
            f"({_formula(sdf_counts)}) differ in number or order from the descriptors' "
            f"{descriptors.n_atoms} atomic numbers", STAGE,
        )
    graph = graph_from_rdkit(mol, molecule_id)
    first, second = graph.bond_index.tolist()
    lookup = {tuple(pair): k for k, pair in enumerate(descriptors.bond_index.tolist())}
    directed = [(min(i, j), max(i, j)) for i, j in zip(first, second, strict=True)]
    if set(directed) != set(lookup):
        raise MoleculeRejected(
            molecule_id, "bad_sdf", f"the geometry SDF's {len(set(directed))} bonds differ "
            f"from the {len(lookup)} bonds the descriptors were computed for", STAGE,
        )
    kd_bond = descriptors.kd_bond_hartree[[lookup[pair] for pair in directed]]
    graph.targets = {
        "energy_kcal_mol": np.array([descriptors.energy_hartree * HARTREE_TO_KCAL_MOL]),
        "kinetic_kcal_mol": np.array([descriptors.kinetic_hartree * HARTREE_TO_KCAL_MOL]),
        "kd_atom_kcal_mol": descriptors.kd_atom_hartree * HARTREE_TO_KCAL_MOL,
        "kd_bond_kcal_mol": np.asarray(kd_bond) * HARTREE_TO_KCAL_MOL,
        "forces_kcal_mol_angstrom": (descriptors.forces_kcal_mol_angstrom
                                     if descriptors.has_forces else np.zeros((graph.n_atoms, 3))),
        "has_forces": np.array([float(descriptors.has_forces)]),
        "dipole_debye": (descriptors.dipole_debye if descriptors.dipole_debye is not None
                         else np.zeros(3)).reshape(1, 3),
        "has_dipole": np.array([float(descriptors.dipole_debye is not None)]),
    }
    return graph


def _status_by_id(paths: Iterable[str | Path]) -> dict[str, Any]:
    return {r.molecule_id: r for r in read_status_tables(p for p in paths if Path(p).exists())}


def assemble_dataset(
    molecules_csv: str | Path,
    geometry_sdfs: list[str | Path],
    geometry_status: list[str | Path],
    descriptor_npzs: list[str | Path],
    descriptor_status: list[str | Path],
    dataset_pt: str | Path,
    descriptors_csv: str | Path,
    status_csv: str | Path,
    data_scale: str,
) -> dict[str, Any]:
    """Build ``dataset.pt``, ``descriptors.csv`` and ``dataset.status.csv``; return counts."""
    import torch

    from virialff.chem.graph import collate

    molecules = read_molecules_csv(molecules_csv)
    upstream = {"geometry": _status_by_id(geometry_status),
                "descriptors": _status_by_id(descriptor_status)}
    geometries: dict[str, GeometryRecord] = {}
    for path in geometry_sdfs:
        geometries.update({r.molecule_id: r for r in read_geometry_sdf(path)})
    descriptors: dict[str, MoleculeDescriptors] = {}
    method_basis: set[tuple[str, str]] = set()
    engines: Counter[str] = Counter()
    for path in descriptor_npzs:
        entries, meta = read_descriptors_npz(path)
        descriptors.update({e.molecule_id: e for e in entries})
        engines.update(e.engine for e in entries)
        if entries:
            method_basis.add((meta["method"], meta["basis"]))

    table = StatusTable(STAGE)
    graphs, kept_rows = [], []
    kinds: dict[str, str] = {}
    groups: list[str] = []
    n_failed_upstream = 0
    for row in molecules:
        molecule_id = row["molecule_id"]
        failed_at = [stage for stage, records in upstream.items()
                     if molecule_id in records and records[molecule_id].status == FAILED]
        if failed_at:
            n_failed_upstream += 1
            continue
        with table.track(molecule_id):
            record = geometries.get(molecule_id)
            if record is None:
                raise MoleculeRejected(molecule_id, "missing_input", "no geometry in "
                                       f"results/geometries/{row['shard']}.sdf and no failure "
                                       "recorded by the geometry stage", STAGE)
            if record.error:
                raise MoleculeRejected(molecule_id, "bad_sdf", record.error, STAGE)
            if molecule_id not in descriptors:
                raise MoleculeRejected(molecule_id, "missing_input", "no descriptors in "
                                       f"results/descriptors/{row['shard']}.npz and no failure "
                                       "recorded by the descriptor stage", STAGE)
            graphs.append(build_graph(row, record.mol, descriptors[molecule_id]))
            kept_rows.append(row)
            kinds[molecule_id] = record.properties.get("geometry_kind", "xtb_minimum")
            groups.append(row["group_id"])

    batch = collate(graphs, dtype=torch.float64)
    # collate() files a per-bond target under atom targets when every molecule has B == A.
    if "kd_bond_kcal_mol" in batch.atom_targets:
        batch.bond_targets["kd_bond_kcal_mol"] = batch.atom_targets.pop("kd_bond_kcal_mol")
    split = {name: torch.tensor([i for i, r in enumerate(kept_rows) if r["split"] == name],
                                dtype=torch.long) for name in SPLITS}
    write_dataset(
        dataset_pt, batch, split, data_scale=data_scale,
        method=sorted(method_basis)[0][0] if len(method_basis) == 1 else "",
        basis=sorted(method_basis)[0][1] if len(method_basis) == 1 else "",
        engines=dict(engines), geometry_kinds=kinds, group_ids=groups,
    )
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
        "n_with_forces": int(sum(g.targets["has_forces"][0] for g in graphs)),
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
