"""Helpers shared by tests/qc (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HAS_XTB = shutil.which("xtb") is not None
HAS_PSI4 = shutil.which("psi4") is not None
needs_xtb = pytest.mark.skipif(not HAS_XTB, reason="the xtb program is not on PATH")
needs_psi4 = pytest.mark.skipif(not HAS_PSI4, reason="the psi4 program is not on PATH")

from virialff.formats.molecules_csv import COLUMNS as MOLECULE_COLUMNS  # noqa: E402

#: (molecule_id, name, smiles, shard, expected reason or "" for ok)
DEMO_ROWS = [
    ("demo_000", "water", "O", "shard00000", ""),
    ("demo_001", "ethanol", "CCO", "shard00000", ""),
    ("demo_002", "unclosed ring", "C1CC(O", "shard00000", "bad_smiles"),
    ("demo_003", "tetramethylsilane", "C[Si](C)(C)C", "shard00000", "unsupported_element"),
    ("demo_004", "methylammonium", "C[NH3+]", "shard00000", "charged"),
    ("demo_005", "methyl radical", "[CH3]", "shard00000", "open_shell"),
    ("demo_006", "methane", "C", "shard00001", ""),
]


def write_molecules_csv(path: Path, rows: list[dict]) -> Path:
    """Write a ``results/dataset/molecules.csv``-shaped file (docs/data-formats.md)."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MOLECULE_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({key: row.get(key, "") for key in MOLECULE_COLUMNS})
    return path


def demo_row(molecule_id: str, name: str, smiles: str, shard: str) -> dict:
    return {"molecule_id": molecule_id, "name": name, "smiles": smiles, "split": "train",
            "shard": shard, "source": "demo"}


def default_xtb_settings(**changes):  # noqa: ANN003, ANN201 - XtbSettings
    """The schema's GFN2-xTB settings, with ``changes``."""
    from dataclasses import replace

    from virialff.config import default_config
    from virialff.qc.xtb import xtb_settings_from_config

    return replace(xtb_settings_from_config(default_config()["geometry"]), **changes)


def default_psi4_settings(**changes):  # noqa: ANN003, ANN201 - Psi4Settings
    """The schema's Psi4 settings (1 GB, one thread), with ``changes``."""
    from dataclasses import replace

    from virialff.config import default_config
    from virialff.qc.psi4_process import psi4_settings_from_config

    section = {**default_config()["descriptors"], "memory": "1 GB", "threads": 1}
    return replace(psi4_settings_from_config(section), **changes)
