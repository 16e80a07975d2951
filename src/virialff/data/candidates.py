"""Candidates of a run: one :class:`Candidate` per conformer that may enter it, grouped by
compound, from each source (the bundled demo CSV, a QMugs tree, the reference set).

The subset stage (:mod:`virialff.data.subset`) checks, filters, de-duplicates, splits and shards
them; this module only reads what each source offers.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from virialff.data.demo import demo_molecule_id, read_demo_csv


@dataclass
class Candidate:
    """One conformer that may enter the run."""

    group_id: str  # unit of subset and split: ChEMBL id (QMugs) or molecule_id (demo)
    molecule_id: str
    name: str
    smiles: str | None  # None: read from the SDF at source_path (QMugs without summary.csv)
    chembl_id: str
    conf_id: str
    source: str
    source_path: str
    extra: dict[str, str] = field(default_factory=dict)
    split: str = ""  # fixed by the source (reference set), else drawn by the subset
    shard: str = ""  # fixed by the source (reference set), else assigned by the subset


def load_candidates(source: str, source_settings: dict[str, Any]) -> dict[str, list[Candidate]]:
    """``{group_id: [Candidate, ...]}`` (conformers in order) for ``source``: ``demo``
    (``source_settings`` = the ``demo`` section), ``qmugs`` (the ``qmugs`` section) or
    ``reference`` (the ``reference`` section)."""
    if source == "demo":
        return demo_candidates(source_settings["molecules_csv"])
    if source == "reference":
        return reference_candidates(source_settings)
    return qmugs_candidates(source_settings["root"])


def qmugs_candidates(root: str | Path) -> dict[str, list[Candidate]]:
    """One group per ChEMBL id of a QMugs tree, its conformers in ``CONF_ID`` order, with the
    summary's reference energies where ``summary.csv`` has them."""
    from virialff.data.qmugs import SUMMARY_ENERGY_COLUMNS, index_qmugs, qmugs_molecule_id

    groups: dict[str, list[Candidate]] = {}
    for chembl_id, rows in index_qmugs(root).items():
        groups[chembl_id] = [
            Candidate(
                group_id=chembl_id,
                molecule_id=qmugs_molecule_id(chembl_id, row["conf_id"]),
                name=chembl_id,
                smiles=row.get("smiles") or None,
                chembl_id=chembl_id,
                conf_id=row["conf_id"],
                source="qmugs",
                source_path=row["source_path"],
                extra={new: row[old] for old, new in SUMMARY_ENERGY_COLUMNS.items()
                       if row.get(old) not in (None, "")},
            )
            for row in rows
        ]
    return groups



def demo_candidates(path: str | Path) -> dict[str, list[Candidate]]:
    """One single-conformer group per CSV row, keyed by ``demo_NNN``."""
    groups = {}
    for index, row in enumerate(read_demo_csv(path)):
        molecule_id = demo_molecule_id(index)
        groups[molecule_id] = [Candidate(
            group_id=molecule_id, molecule_id=molecule_id, name=row["name"] or molecule_id,
            smiles=row["smiles"], chembl_id=row["chembl_id"], conf_id="conf_00",
            source="demo", source_path=str(path),
        )]
    return groups


def reference_candidates(settings: Mapping) -> dict:
    """``{molecule_id: [Candidate per geometry]}`` of the reference set's used shards, with the
    set's own split and shards. A molecule whose geometries could not be built is one
    candidate without geometry; the geometry stage records its failure. With
    ``off_equilibrium`` false, the MD snapshots are left out (minima only, as the paper)."""
    from virialff.data.reference import reference_shards
    from virialff.formats.geometry_sdf import KIND_MINIMUM, read_geometry_sdf
    from virialff.formats.status_table import OK, read_status

    root = Path(settings["root"])
    with open(root / "molecules.csv", newline="") as handle:
        rows = {r["molecule_id"]: r for r in csv.DictReader(handle)}
    groups: dict[str, list] = {}
    for shard in reference_shards(settings):
        path = root / "geometries" / f"{shard}.sdf.gz"
        for record in read_geometry_sdf(path):
            kind = record.properties.get("geometry_kind", KIND_MINIMUM)
            if kind != KIND_MINIMUM and not settings["off_equilibrium"]:
                continue
            group = record.properties.get("group_id", record.molecule_id)
            row = rows[group]
            groups.setdefault(group, []).append(Candidate(
                group_id=group, molecule_id=record.molecule_id, name=row["name"] or group,
                smiles=row["smiles"], chembl_id=row["parent_chembl_id"],
                conf_id=record.molecule_id.removeprefix(f"{group}_"), source="reference",
                source_path=str(path), extra={"geometry_kind": kind}, split=row["split"],
                shard=shard))
        for status in read_status(root / "geometries" / f"{shard}.status.csv"):
            if status.status != OK and status.molecule_id not in groups:
                row = rows[status.molecule_id]
                groups[status.molecule_id] = [Candidate(
                    group_id=status.molecule_id, molecule_id=status.molecule_id,
                    name=row["name"] or status.molecule_id, smiles=row["smiles"],
                    chembl_id=row["parent_chembl_id"], conf_id="", source="reference",
                    source_path="",
                    extra={"geometry_kind": "", "reference_failure":
                           f"{status.reason}: {status.message}"},
                    split=row["split"], shard=shard)]
    return groups
