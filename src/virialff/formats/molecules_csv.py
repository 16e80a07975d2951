"""The run's molecules: ``results/dataset/molecules.csv`` (written by the subset stage).

One row per molecule (conformer) that entered the run, with at least :data:`COLUMNS`; QMugs
rows add the SDF's reference energies (``dft_total_energy_hartree``, ...). ``group_id`` names
the compound (every conformer of one compound shares it, and its split); ``split`` is one of
:data:`SPLITS`; ``shard`` is a shard name (``shard00000``).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

FORMAT_VERSION = 2
SPLITS: tuple[str, ...] = ("train", "val", "test")
COLUMNS: tuple[str, ...] = (
    "molecule_id", "group_id", "name", "smiles", "canonical_key", "chembl_id", "conf_id",
    "n_heavy_atoms",
    "split", "shard", "source", "source_path",
)


def shard_name(index: int) -> str:
    """``3`` → ``shard00003``."""
    return f"shard{index:05d}"


def write_molecules_csv(rows: Iterable[Mapping[str, Any]], path: str | Path) -> Path:
    """Write the rows (header only when there are none); extra columns follow :data:`COLUMNS`."""
    rows = list(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = [k for k in (rows[0] if rows else {}) if k not in COLUMNS]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*COLUMNS, *extra])
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_molecules_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows as dicts of strings; ``ValueError`` naming the file on a missing column or an
    unknown split."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: molecules table lacks column(s) {', '.join(missing)}")
        rows = list(reader)
    for row in rows:
        if row["split"] not in SPLITS:
            raise ValueError(f"{path}: molecule {row['molecule_id']} has split "
                             f"{row['split']!r}, not one of {', '.join(SPLITS)}")
    return rows


def read_shard_rows(path: str | Path, shard: str) -> list[dict[str, str]]:
    """Rows whose ``shard`` is ``shard`` (file order)."""
    return [row for row in read_molecules_csv(path) if row["shard"] == shard]
