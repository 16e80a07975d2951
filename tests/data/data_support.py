"""Paths shared by the data-stage tests."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
QMUGS_FIXTURE = REPO / "tests" / "fixtures" / "qmugs"
DEMO_CSV = REPO / "data" / "demo" / "molecules.csv"
BAD_CSV = REPO / "data" / "demo" / "bad_molecules.csv"
