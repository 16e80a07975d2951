"""Configuration files: every example config validates; a misspelt key or a wrong type stops
the run with a message that names the key, both in Python and in `snakemake -n`."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from virialff.config import ConfigError, load_config, validate_config

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIGS = [REPO / "config.yaml", *sorted((REPO / "config").glob("*.yaml"))]


@pytest.fixture
def config() -> dict:
    return yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: p.name)
def test_every_example_config_validates(path):
    load_config(path)


def test_paper_config_asks_for_the_paper_subset():
    paper = load_config(REPO / "config" / "paper.yaml")
    assert paper["source"] == "qmugs" and paper["subset"]["n_molecules"] == 304331
    assert sum(paper["split"]["counts"].values()) == 304331


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda c: c.update(subsett={"n_molecules": 5}), "subsett"),
        (lambda c: c["filters"].update(max_heavy_atom=9), "filters.max_heavy_atom"),
        (lambda c: c["qmugs"].update(conformers=2), "qmugs.conformers"),
    ],
    ids=["top-level", "filters", "qmugs"],
)
def test_unknown_key_is_named(config, edit, key):
    edit(config)
    with pytest.raises(ConfigError, match=f"unknown key '{key}'"):
        validate_config(config)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("sharding", "molecules_per_shard"), "eight"),
        (("subset", "n_molecules"), 2.5),
        (("filters", "elements"), ["H", "C", "Si"]),
        (("qmugs", "conformers_per_molecule"), 0),
        (("split", "val"), "0.1"),
        (("source",), "pubchem"),
    ],
    ids=lambda v: ".".join(v) if isinstance(v, tuple) else str(v),
)
def test_wrong_type_or_value_is_named(config, path, value):
    target = config
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(ConfigError, match=f"key '{'.'.join(path)}"):
        validate_config(config)


def test_cross_field_rules(config):
    broken = copy.deepcopy(config)
    broken["split"].update(train=0.9, val=0.2)
    with pytest.raises(ConfigError, match="key 'split'"):
        validate_config(broken)
    broken = copy.deepcopy(config)
    broken["filters"].update(min_heavy_atoms=10, max_heavy_atoms=9)
    with pytest.raises(ConfigError, match="filters.min_heavy_atoms"):
        validate_config(broken)
    broken = copy.deepcopy(config)
    broken["source"] = "qmugs"
    with pytest.raises(ConfigError, match="qmugs.root"):
        validate_config(broken)


def test_snakemake_dry_run_stops_on_a_bad_config_naming_the_keys(tmp_path):
    """One dry run (Snakemake start-up is the slow part): every problem is listed."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"sharding": {"molecules_per_shard": "eight"},
                                   "filterz": {"elements": ["H"]}}))
    snakemake = Path(sys.executable).with_name("snakemake")
    run = subprocess.run(
        [str(snakemake), "-n", "--cores", "1", "--nolock", "--configfile", str(bad)],
        cwd=REPO, capture_output=True, text=True, timeout=180,
    )
    assert run.returncode != 0
    output = run.stdout + run.stderr
    assert "key 'sharding.molecules_per_shard'" in output
    assert "unknown key 'filterz'" in output
