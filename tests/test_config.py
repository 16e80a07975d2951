"""Configuration files: every example config validates; a misspelt key or a wrong type stops
the run with a message that names the key, both in Python and in `snakemake -n`."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from virialff.config import (
    SCHEMA_PATH,
    ConfigError,
    execution_keys,
    load_config,
    prepare_config,
    result_settings,
    validate_config,
)

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIGS = [REPO / "config.yaml", *sorted((REPO / "config").glob("*.yaml"))]


@pytest.fixture
def config() -> dict:
    """The demo's complete configuration (config.yaml over the schema's defaults)."""
    return load_config(REPO / "config.yaml")


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: p.name)
def test_every_example_config_validates(path):
    load_config(path)


@pytest.mark.parametrize("path", EXAMPLE_CONFIGS, ids=lambda p: p.name)
def test_no_shipped_config_repeats_a_schema_default(path):
    """The schema holds every default; a file that repeated one would keep the old value when
    the schema changes. Each file holds what differs, with the reason in a comment."""
    from virialff.config import repeated_defaults

    assert repeated_defaults(yaml.safe_load(path.read_text())) == []


def test_the_key_list_users_read_is_the_schema():
    from virialff.config import configuration_markdown

    assert (REPO / "docs" / "configuration.md").read_text() == configuration_markdown(), (
        "docs/configuration.md differs from the schema: run python -m virialff.config")


def test_a_configfile_run_stands_on_the_defaults_not_on_the_demo(tmp_path):
    """config.yaml is read only without --configfile: a config file given on the command line
    is complete on top of the schema's defaults. The demo switches the interaction stage on;
    the default does not, so a run of an (almost) empty file schedules no stage 3."""
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    own = tmp_path / "own.yaml"
    own.write_text(yaml.safe_dump({"results_dir": str(tmp_path / "results")}))
    runs = {}
    # --config (not --configfile) keeps config.yaml; both plan into empty folders, so an
    # existing results/ of this checkout cannot hide a job
    demo = ["--config", f"results_dir={tmp_path / 'demo_results'}"]
    for name, extra in (("own", ["--configfile", str(own)]), ("demo", demo)):
        done = subprocess.run([snakemake, "-n", "--nolock", "--cores", "1", *extra], cwd=REPO,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        runs[name] = done.stdout
    assert "train_interactions" in runs["demo"]
    assert "train_interactions" not in runs["own"]
    # GB-FFs' interaction stage (training.gbffs.interactions, default on) follows stage 3
    assert "train_gbffs_interactions" in runs["demo"]
    assert "train_gbffs_interactions" not in runs["own"]


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
        prepare_config(broken)
    broken = copy.deepcopy(config)
    broken["filters"].update(min_heavy_atoms=10, max_heavy_atoms=9)
    with pytest.raises(ConfigError, match="filters.min_heavy_atoms"):
        prepare_config(broken)
    broken = copy.deepcopy(config)
    broken["source"] = "qmugs"
    with pytest.raises(ConfigError, match="qmugs.root"):
        prepare_config(broken)


def _leaves(schema: dict, prefix: str = ""):
    for key, node in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        if node.get("type") == "object" and "properties" in node:
            yield path, node, True
            yield from _leaves(node, path + ".")
        else:
            yield path, node, False


def test_the_schema_owns_every_default():
    """Every key and every section has a default, so an empty config is a complete one."""
    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    missing = [path for path, node, _ in _leaves(schema) if "default" not in node]
    assert missing == []
    config: dict = {}
    prepare_config(config)
    for path, _, _ in _leaves(schema):
        node = config
        for part in path.split("."):
            assert part in node, f"{path} has no value after the defaults"
            node = node[part]


def test_a_partial_config_keeps_its_values_and_gets_the_rest():
    config = {"run_name": "mine", "training": {"potential": {"epochs": 5}}}
    prepare_config(config)
    assert config["run_name"] == "mine"
    assert config["training"]["potential"]["epochs"] == 5
    assert config["training"]["potential"]["learning_rate"] == 1e-3
    assert config["descriptors"]["basis"] == "def2-svp"


def test_params_carry_result_settings_only():
    """Threads, memory, timeouts, executables and the device are execution settings: they are
    not in a rule's params, so changing them reruns nothing."""
    config = load_config(REPO / "config.yaml")
    assert set(execution_keys("descriptors")) == {
        "psi4_executable", "memory", "threads", "timeout_s", "cache"}
    descriptors = result_settings(config, "descriptors")
    assert "threads" not in descriptors and "psi4_executable" not in descriptors
    assert descriptors["method"] == config["descriptors"]["method"]


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


@pytest.mark.parametrize("profile", sorted(REPO.glob("profiles/*/config.v8+.yaml")),
                         ids=lambda p: p.parent.name)
def test_profile_resources_name_rules_that_exist(profile):
    # a renamed rule would silently lose its partition, GPU and runtime on the cluster
    rules = {match for smk in REPO.glob("rules/*.smk")
             for match in re.findall(r"^rule (\w+):", smk.read_text(), flags=re.M)}
    set_resources = yaml.safe_load(profile.read_text()).get("set-resources") or {}
    assert set(set_resources) <= rules, set(set_resources) - rules
