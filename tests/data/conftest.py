"""Shared fixtures for the data-stage tests: configs, the QMugs fixture tree, output paths."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from data_support import DEMO_CSV, QMUGS_FIXTURE, REPO


@pytest.fixture
def demo_config() -> dict:
    """config.yaml as Snakemake sees it (over the schema's defaults; paths relative to the
    repository)."""
    from virialff.config import load_config

    config = load_config(REPO / "config.yaml")
    config["demo"]["molecules_csv"] = str(DEMO_CSV)
    return config


@pytest.fixture
def qmugs_config(demo_config: dict) -> dict:
    """The demo config pointed at the QMugs fixture tree, every molecule kept."""
    config = copy.deepcopy(demo_config)
    config["source"] = "qmugs"
    config["qmugs"] = {"root": str(QMUGS_FIXTURE), "conformers_per_molecule": 3}
    config["sharding"]["molecules_per_shard"] = 2
    return config


@pytest.fixture
def subset_paths(tmp_path: Path) -> dict[str, Path]:
    """Output paths of the subset step inside a temporary folder."""
    return {
        "molecules_csv": tmp_path / "molecules.csv",
        "split_json": tmp_path / "split.json",
        "status_csv": tmp_path / "subset.status.csv",
        "summary_json": tmp_path / "subset.summary.json",
    }
