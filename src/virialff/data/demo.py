"""The bundled demo molecules: a CSV with columns ``name, smiles, chembl_id``.

Row ``i`` (0-based, header excluded) becomes molecule ``demo_{i:03d}``; ids stay the same when
rows are rejected, so an id always points back to the same CSV line.
"""

from __future__ import annotations

import csv
from pathlib import Path

DEMO_COLUMNS: tuple[str, ...] = ("name", "smiles", "chembl_id")


def demo_molecule_id(index: int) -> str:
    """``7`` → ``demo_007``."""
    return f"demo_{index:03d}"


def read_demo_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a demo CSV; raises ``ValueError`` naming the file if a column is missing."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(DEMO_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: demo CSV lacks column(s) {', '.join(sorted(missing))}")
        return [
            {k: (row.get(k) or "").strip() for k in reader.fieldnames or ()}
            for row in reader
            if any((v or "").strip() for v in row.values())
        ]
