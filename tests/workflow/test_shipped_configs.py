"""Every configuration the project ships builds its workflow and runs its first stages.

For each file of ``config.yaml`` and ``config/*.yaml`` the DAG is built (``snakemake -n``, with
the default profile that Snakemake always loads), and a small slice of it runs for real:

- ``config/reference.yaml``: two cached shards → subset (every geometry of each molecule) →
  descriptors restored from the cache, no Psi4 → dataset → both training stages, two epochs;
- ``config/paper.yaml``: the QMugs fixture (three molecules) → subset → geometry → Psi4
  descriptors (energy only, as the paper);
- ``config.yaml`` (the demo) runs whole in ``make run`` and in the config-change tests.

``profiles/slurm`` runs through a real SLURM in ``tests/cluster/test_slurm.py``.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
CONFIGS = [REPO / "config.yaml", *sorted((REPO / "config").glob("*.yaml"))]
pytestmark = pytest.mark.slow


def snakemake(config: Path, *args: str, overlay: dict, tmp_path: Path) -> str:
    """Run snakemake in the repository on ``config`` with ``overlay`` merged over it; its
    output."""
    path = tmp_path / "overlay.yaml"
    path.write_text(yaml.safe_dump(overlay))
    command = [SNAKEMAKE, "--cores", "2", "--nolock", "--configfile", str(config), str(path),
               *args]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    return output


#: Overlays that point a configuration at data this checkout has (the paper's QMugs download
#: is not bundled; its DAG is built over the fixture tree).
DAG_OVERLAYS = {"paper.yaml": {"qmugs": {"root": "tests/fixtures/qmugs"}}}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_shipped_config_builds_its_dag(path, tmp_path):
    overlay = {"results_dir": str(tmp_path / "results"), **DAG_OVERLAYS.get(path.name, {})}
    output = snakemake(path, "-n", overlay=overlay, tmp_path=tmp_path)
    jobs = {line.split()[0]: int(line.split()[1]) for line in output.splitlines()
            if len(line.split()) == 2 and line.split()[1].isdigit()}
    for rule in ("subset", "descriptors", "train_embedding", "train_potential", "paper"):
        assert jobs.get(rule, 0) >= 1, (path.name, rule, output[-2000:])


def test_the_reference_config_trains_on_two_cached_shards_without_dft(tmp_path):
    results = tmp_path / "results"
    overlay = {"results_dir": str(results),
               "reference": {"shards": ["shard00000", "shard00001"]},
               "training": {"embedding": {"epochs": 2}, "potential": {"epochs": 2}}}
    snakemake(REPO / "config" / "reference.yaml", "--until", "train_potential",
              overlay=overlay, tmp_path=tmp_path)
    with open(results / "dataset" / "molecules.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    manifest = json.loads((REPO / "data" / "reference" / "manifest.json").read_text())
    cached = sum(manifest["shards"][s]["n_geometries"] for s in ("shard00000", "shard00001"))
    # every geometry of each molecule: conformers and 500 K snapshots, as the cache holds them
    assert len(rows) == cached
    assert len({r["group_id"] for r in rows}) < len(rows)
    assert any(r["molecule_id"].endswith("_md500k") for r in rows)
    for shard in ("shard00000", "shard00001"):
        log = (results / "logs" / "descriptors" / f"{shard}.log").read_text()
        assert f"restored from cached shard {shard}" in log
        assert "psi4 -k" not in log  # no Psi4 process was started
    for model in ("embedding.pt", "total.pt"):
        assert (results / "models" / model).stat().st_size > 0, model


def test_the_paper_config_runs_its_first_stages_on_the_qmugs_fixture(tmp_path):
    results = tmp_path / "results"
    overlay = {"results_dir": str(results), "qmugs": {"root": "tests/fixtures/qmugs"},
               "subset": {"n_molecules": 3}, "split": {"counts": None},
               "descriptors": {"threads": 1, "memory": "1 GB"}}
    snakemake(REPO / "config" / "paper.yaml", "--until", "descriptors", overlay=overlay,
              tmp_path=tmp_path)
    from virialff.formats.descriptors_npz import read_descriptors_npz

    entries = [e for path in sorted((results / "descriptors").glob("*.npz"))
               for e in read_descriptors_npz(path)[0]]
    assert len(entries) == 3
    assert all(not e.has_forces for e in entries)  # the paper trains on energies only
    assert all(np.isfinite(e.energy_hartree) for e in entries)
