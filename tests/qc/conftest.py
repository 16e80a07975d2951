"""Shared fixtures for the QC layer: one real xtb + Psi4 run of a tiny shard per session.

The shard ``shard00000`` holds water and ethanol (computed for real) and four molecules that
must be rejected before any program runs (bad SMILES, Si, a cation, a radical). Psi4 runs once,
at ωB97X-D/def2-SVP with density fitting as in ``config.yaml``; every test reuses the result.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from qc_support import DEMO_ROWS, HAS_PSI4, HAS_XTB, REPO, demo_row, write_molecules_csv

from virialff.config import load_config


@pytest.fixture(scope="session")
def config() -> dict:
    """The demo config, with Psi4 memory kept small for a shared test machine."""
    loaded = load_config(REPO / "config.yaml")
    loaded["descriptors"]["memory"] = "1 GB"
    # one thread: on a shared 2-core machine OpenMP spinning makes 2 threads several times slower
    loaded["descriptors"]["threads"] = 1
    return loaded


@pytest.fixture(scope="session")
def molecules_csv(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dataset")
    rows = [demo_row(mid, name, smiles, shard) for mid, name, smiles, shard, _ in DEMO_ROWS]
    return write_molecules_csv(folder / "molecules.csv", rows)


@pytest.fixture(scope="session")
def geometry_shard(tmp_path_factory, molecules_csv, config) -> dict:
    """``run_geometry_shard`` on shard00000 with the real xtb."""
    if not HAS_XTB:
        pytest.skip("the xtb program is not on PATH")
    from virialff.qc.geometry import run_geometry_shard
    from virialff.qc.xtb import xtb_settings_from_config

    folder = tmp_path_factory.mktemp("geometries")
    out = {"sdf": folder / "shard00000.sdf", "status": folder / "shard00000.status.csv",
           "log": folder / "shard00000.log"}
    geometry = config["geometry"]
    out["table"] = run_geometry_shard(
        molecules_csv, "shard00000", out["sdf"], out["status"],
        xtb_settings_from_config(geometry), geometry["reoptimize_qmugs"],
        geometry["embed_max_attempts"], config["seed"], log_path=out["log"])
    return out


@pytest.fixture(scope="session")
def descriptor_shard(tmp_path_factory, geometry_shard, config) -> dict:
    """``run_descriptor_shard`` on the geometries above: ONE real Psi4 process (water, ethanol).

    Psi4's work folder is kept so tests can read back the geometry Psi4 used.
    """
    if not HAS_PSI4:
        pytest.skip("the psi4 program is not on PATH")
    from virialff.qc.descriptors import run_descriptor_shard

    folder = tmp_path_factory.mktemp("descriptors")
    out = {"npz": folder / "shard00000.npz", "status": folder / "shard00000.status.csv",
           "log": folder / "shard00000.log", "workdir": folder / "psi4"}
    out["table"] = run_descriptor_shard(
        geometry_shard["sdf"], out["npz"], out["status"], config["descriptors"],
        log_path=out["log"], workdir=out["workdir"])
    return out
