"""No stale results: changing any setting of config.yaml makes `snakemake -n` schedule exactly
the rules that depend on it (through their params) and what is downstream of them, and no
unrelated rule; settings that cannot change an output schedule nothing.

One finished run is simulated once per module: `snakemake --touch` records the provenance of
every job (params, code, inputs) without running it, then every output file is created with
one common timestamp, so `snakemake -n` says "nothing to be done". Each test changes one leaf
key of config.yaml and reads the dry run's reasons.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from virialff.config import execution_keys, load_config

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
LINKED = ("Snakefile", "rules", "scripts", "schemas", "src", "data", "paper", "report", "envs",
          "profiles")
pytestmark = pytest.mark.slow

# -- which rules take which settings as params --------------------------------------------------
FIGURES_WITH_RUN_LABEL = {"plot_fig01", "plot_fig02", "plot_fig03", "plot_fig05", "plot_fig06",
                          "plot_fig07", "plot_fig14", "plot_fig15"}
RUN_NAME_RULES = {"summarise_run", "evaluate_model", "s66_metrics", "base_pairs_metrics",
                  "conformer_metrics", "learning_curve_metrics", "charge_ablation",
                  "interaction_metrics", "paper",
                  *FIGURES_WITH_RUN_LABEL}
SUBSET = {"subset"}
# benchmark_predict and conformers_predict: their gfn2_xtb jobs (one wildcard rule per step)
GEOMETRY_RULES = {"geometry", "s66_geometries", "base_pairs_geometries", "benchmark_predict",
                  "conformers_predict", "conformer_search"}
#: the GAFF2 stage and the gaff2 jobs of the prediction rules
GAFF2_RULES = {"gaff2", "benchmark_predict", "conformers_predict"}
DFT_RULES = {"descriptors", "s66_dft_cp", "conformer_dft"}
EMBEDDING_NETWORK = {"train_embedding", "train_potential", "learning_curve_point", "plot_fig04"}
POTENTIAL_NETWORK = {"train_potential", "learning_curve_point", "plot_fig04"}
CONFORMERS = {"conformer_search", "conformer_dft"}

#: leaf key (dotted) → rules whose params must change. Keys matched by prefix when they end
#: with ".": the most specific entry wins.
EXPECTED: dict[str, set[str]] = {
    "run_name": RUN_NAME_RULES,
    "results_dir": set(),  # a new folder: every job is new there, none reruns for its params
    "data_scale": RUN_NAME_RULES | {"assemble_dataset"},
    "seed": {"subset", "geometry", "train_embedding", "train_potential", "plot_fig13",
             "conformer_search", "prepare_dimers", "train_interactions", "simulation_stability",
             "train_gbffs_interactions"},
    "demo.molecules_csv": SUBSET,
    "qmugs.": set(),  # the demo does not read QMugs
    "reference.": set(),  # nor the reference set
    "studies.": set(),  # the studies are their own target, not part of the run
    "filters.": SUBSET,
    "filters.elements": SUBSET | {"plot_fig04", "conformer_search"},
    "subset.": SUBSET,
    "split.": SUBSET,
    "sharding.": SUBSET,
    "geometry.": GEOMETRY_RULES,
    "descriptors.": DFT_RULES,
    "descriptors.cache": set(),  # content-addressed: a hit restores what the stage computes
    "descriptors.method": DFT_RULES | {"s66_metrics", "conformer_metrics"},
    "descriptors.basis": DFT_RULES | {"s66_metrics", "conformer_metrics"},
    "training.embedding.": {"train_embedding", "learning_curve_point"},
    "training.potential.": {"train_potential", "learning_curve_point"},
    "training.interactions.": {"train_interactions", "train_gbffs_interactions"},
    # the paper model's switches: GB-FFs' charges are neutral and it has no pair classes
    "training.interactions.neutral_charges": {"train_interactions"},
    "training.interactions.intermolecular_pair_class": {"train_interactions"},
    # the force-trained models: their grid and guards are their train_potential's params
    "training.forces.": {"train_potential"},
    "training.forces.enabled": {"simulation_summary"},
    "training.forces.ablation": {"simulation_summary"},
    "training.guards.": {"train_potential"},
    # the simulation check then also runs the interaction-stage model
    "training.interactions.enabled": {"simulation_summary"},
    "training.interactions.databases_dir": {"prepare_dimers"},
    "training.interactions.databases": {"prepare_dimers"},
    "training.interactions.reference_tables.": {"prepare_dimers"},
    "training.interactions.val_fraction": {"prepare_dimers"},
    "training.interactions.split_unit": {"prepare_dimers"},
    "learning_curve.": {"learning_curve_point"},
    "learning_curve.seeds": set(),  # the point names carry the seeds: new jobs, not params
    "learning_curve.enabled": set(),
    "learning_curve.extrapolate_to_compounds": {"learning_curve_metrics"},
    "evaluation.s66.": {"s66_dft_cp", "s66_metrics"},
    "evaluation.s66.scf_convergence": {"s66_dft_cp"},
    "evaluation.conformers.": CONFORMERS,
    "evaluation.parameters.": {"predicted_parameters"},
    "evaluation.simulation.": {"simulation_stability"},
    "gaff2.": GAFF2_RULES,
    "training.gbffs.": {"train_gbffs", "train_gbffs_interactions"},
    # the GB-FFs interaction stage joins or leaves the interaction metrics' methods
    "training.gbffs.interactions": {"interaction_metrics"},
}
for _key in ("message_passing_steps", "hidden_width", "atom_head_layers", "atom_head_width",
             "edge_head_layers", "edge_head_width"):
    EXPECTED[f"training.embedding.{_key}"] = EMBEDDING_NETWORK
for _key in ("charge_net_layers", "charge_net_width", "feats_net_layers", "feats_net_width"):
    EXPECTED[f"training.potential.{_key}"] = POTENTIAL_NETWORK
for _key in ("batch_size", "learning_rate", "epochs"):  # printed in Fig. 4
    EXPECTED[f"training.embedding.{_key}"] = {"train_embedding", "learning_curve_point",
                                               "plot_fig04"}
for _key in ("batch_size", "learning_rate", "lr_decay_factor", "lr_decay_every_epochs", "epochs",
             "coordinate_noise_angstrom", "pretrained_embeddings"):
    EXPECTED[f"training.potential.{_key}"] = {"train_potential", "learning_curve_point",
                                               "plot_fig04"}
# the charge ablation trains the other setting: its model and prediction rules change names
EXPECTED["training.potential.neutral_charges"] = POTENTIAL_NETWORK | {"charge_ablation"}

#: leaf keys that are not changed here, and why.
NOT_VARIED: dict[str, str] = {
    "source": "another source needs its data (a QMugs download or the reference cache)",
    "descriptors.source": "the wavefunction source needs stored QMugs wavefunction files",
    "evaluation.ani.model": "ANI-1x is the only allowed value",
}
#: keys that change which jobs exist (new shard or point names), not only params.
CHANGE_THE_JOBS = {"subset.n_molecules", "sharding.molecules_per_shard", "learning_curve.seeds",
                   "results_dir",
                   "training.forces.enabled", "training.forces.ablation",
                   "learning_curve.n_sizes", "learning_curve.enabled",
                   "training.potential.neutral_charges", "training.interactions.enabled",
                   "training.gbffs.interactions"}


def _leaves(node: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _leaves(value, path + ".")
        else:
            out.append(path)
    return out


#: the demo's complete configuration: every key of the schema, as config.yaml sets it or as
#: its default, so that every key is varied (a dry run is given the whole file)
CONFIG = load_config(REPO / "config.yaml")
LEAVES = _leaves(CONFIG)


def _execution_reason(key: str) -> str:
    section, _, leaf = key.rpartition(".")
    if not section:
        return execution_keys_top().get(leaf, "")
    return execution_keys(section).get(leaf, "")


def execution_keys_top() -> dict[str, str]:
    schema = yaml.safe_load((REPO / "schemas" / "config.schema.yaml").read_text())
    return {k: v["x-execution"] for k, v in schema["properties"].items()
            if isinstance(v, dict) and "x-execution" in v}


def _expected(key: str) -> set[str]:
    if _execution_reason(key):
        return set()
    matches = [k for k in EXPECTED if k == key or (k.endswith(".") and key.startswith(k))]
    assert matches, f"no expectation for {key}: add it to EXPECTED"
    return EXPECTED[max(matches, key=len)]


def _changed_value(key: str, value, work: Path):  # noqa: ANN001, ANN202
    if key == "demo.molecules_csv":
        copy_path = work / "molecules_copy.csv"
        copy_path.write_text((REPO / value).read_text())
        os.utime(copy_path, (0, 0))  # as old as the finished run: only the path changes
        return str(copy_path)
    if key == "evaluation.conformers.external_molecules_csv":  # null: the test split
        return _changed_value("demo.molecules_csv", CONFIG["demo"]["molecules_csv"], work)
    if key == "geometry.gfn":  # 0, 1 or 2
        return 1
    if key == "gaff2.charge_method":  # bcc or gas
        return "gas"
    if key == "training.interactions.split_unit":  # monomer or pair
        return "pair"
    if key == "training.guards.core_margin":  # below 1
        return round(value * 0.9, 6)
    if key == "split.counts":
        return {"train": 48, "val": 4, "test": 12}
    if key == "training.potential.lr_decay_factor":  # at most 1
        return round(value * 0.9, 6)
    if key == "evaluation.parameters.split":
        return "test"
    if key == "split.train":
        return round(value - 0.05, 6)
    if key == "split.val":
        return round(value + 0.05, 6)
    if key == "split.test":
        return round(value - 0.05, 6)
    if key == "evaluation.s66.dft_max_dimers":
        return value - 1
    if key == "data_scale":
        return "custom"
    if key == "filters.elements":
        return [e for e in value if e != "P"]
    if key in ("learning_curve.seeds", "studies.seeds"):
        return [*value, max(value) + 1]
    if key == "training.forces.force_weight_grid":
        return [*value, 3.0]
    if key == "training.interactions.databases":
        return value[:1]
    if key == "training.interactions.interaction_weight":
        return [*value, 10.0]
    if key == "training.interactions.databases_dir":
        return _copied_databases(value, work)
    if key.startswith("training.interactions.reference_tables."):
        return "BIND_BRONZE"
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value * 1.5
    if value is None:
        return {"qmugs.root": "/nonexistent/qmugs", "subset.n_molecules": 60,
                "descriptors.cache": "data/reference", "split.counts": None,
                "evaluation.conformers.max_conformers": 6,
                "descriptors.wavefunction_root": "/nonexistent/wavefunctions",
                "training.embedding.early_stopping_patience": 10,
                "training.potential.early_stopping_patience": 10,
                "reference.conformers_per_molecule": 2,
                "reference.shards": ["shard00000"]}[key]
    if isinstance(value, str):
        return {"method": "b3lyp-d3bj", "basis": "def2-tzvp", "scf_type": "pk",
                "memory": "2 GB", "optimization_level": "tight", "device": "cpu",
                "engine": "pyscf", "long_range_exchange_fit": "pyscf",
                "descriptors.pyscf.device": "auto",
                }.get(key, {"method": "b3lyp-d3bj", "basis": "def2-tzvp", "scf_type": "pk",
                            "memory": "2 GB", "optimization_level": "tight", "device": "cpu",
                            "engine": "pyscf", "long_range_exchange_fit": "pyscf",
                            }.get(key.rsplit(".", 1)[-1], value + "_changed"))
    raise AssertionError(f"no change rule for {key} = {value!r}")


def _copied_databases(folder: str, work: Path) -> str:
    """The database modules in another folder, as old as the finished run's outputs."""
    copy_dir = work / "psi4_databases_copy"
    copy_dir.mkdir(exist_ok=True)
    for module in Path(folder).glob("*.py"):
        target = copy_dir / module.name
        target.write_bytes(module.read_bytes())
        os.utime(target, (0, 0))
    return str(copy_dir)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("finished_run")
    for name in LINKED:
        (work / name).symlink_to(REPO / name)
    (work / "config.yaml").write_text((REPO / "config.yaml").read_text())
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    touched = subprocess.run([SNAKEMAKE, "--touch", "--cores", "1", "--nolock", "--quiet"],
                             cwd=work, capture_output=True, text=True, env=env, timeout=600)
    assert touched.returncode == 0, touched.stderr[-3000:]
    summary = subprocess.run([SNAKEMAKE, "--summary", "--nolock", "--quiet"], cwd=work,
                             capture_output=True, text=True, env=env, timeout=600)
    rows = [line.split("\t") for line in summary.stdout.splitlines()[1:] if "\t" in line]
    outputs = [row[0] for row in rows]
    assert outputs, summary.stderr[-3000:]
    (work / "rules_in_dag.txt").write_text("\n".join(sorted({row[2] for row in rows})))
    stamp = time.time()
    for output in outputs:
        path = work / output
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        os.utime(path, (stamp, stamp))
    return work


def _dry_run(work: Path, config: dict, name: str = "changed") -> dict[str, str]:
    """``{rule: reason}`` of every job `snakemake -n` schedules for ``config``."""
    path = work / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    run = subprocess.run([SNAKEMAKE, "-n", "--nolock", "--configfile", str(path)], cwd=work,
                         capture_output=True, text=True, timeout=600,
                         env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    jobs: dict[str, str] = {}
    current = None
    for line in run.stdout.splitlines():
        header = re.match(r"^(?:local)?rule (\w+):", line)
        if header:
            current = header.group(1)
            continue
        reason = re.match(r"^\s+reason: (.*)", line)
        if reason and current:
            jobs.setdefault(current, "")
            jobs[current] += reason.group(1) + "; "
    return jobs


def test_an_unchanged_configuration_schedules_nothing(finished_run):
    assert _dry_run(finished_run, CONFIG) == {}


VARIED = [k for k in LEAVES if k not in NOT_VARIED]


def _changed_config(key: str, work: Path) -> dict:
    config = copy.deepcopy(CONFIG)
    node = config
    *parents, leaf = key.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = _changed_value(key, node[leaf], work)
    if key == "split.train":  # the fractions must still sum to one
        config["split"]["val"] = round(config["split"]["val"] + 0.05, 6)
    if key == "split.val":
        config["split"]["test"] = round(config["split"]["test"] - 0.05, 6)
    if key == "split.test":
        config["split"]["train"] = round(config["split"]["train"] + 0.05, 6)
    return config


@pytest.fixture(scope="module")
def dry_runs(finished_run) -> dict[str, dict[str, str]]:
    """The dry run of every changed key, as many at once as the machine has cores."""
    from concurrent.futures import ThreadPoolExecutor

    def one(key: str) -> dict[str, str] | str:
        try:
            return _dry_run(finished_run, _changed_config(key, finished_run),
                            name=key.replace(".", "_"))
        except AssertionError as error:  # reported by that key's test, not by all of them
            return f"dry run failed: {error}"

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(VARIED, pool.map(one, VARIED), strict=True))


@pytest.mark.parametrize("key", VARIED)
def test_a_changed_setting_reruns_exactly_what_depends_on_it(finished_run, dry_runs, key):
    jobs = dry_runs[key]
    assert isinstance(jobs, dict), jobs
    in_dag = set((finished_run / "rules_in_dag.txt").read_text().split())
    expected = _expected(key) & in_dag
    # every rule that takes the setting reruns (Snakemake names the params as the reason
    # unless an upstream job reruns first) ...
    assert expected <= set(jobs), jobs
    # ... and no rule reruns for params it does not take
    by_params = {rule for rule, reason in jobs.items() if "Params have changed" in reason}
    assert by_params <= expected, {r: jobs[r] for r in by_params - expected}
    for rule, reason in jobs.items():
        allowed = ("Params have changed", "Input files updated by another job",
                   "Set of input files has changed")
        if key in CHANGE_THE_JOBS:
            allowed += ("Missing output files",)
        assert any(text in reason for text in allowed), f"{rule} scheduled: {reason}"


def test_the_keys_not_varied_are_few_and_explained():
    assert set(NOT_VARIED) <= set(LEAVES)
    execution = {k for k in LEAVES if _execution_reason(k)}
    # threads, timeouts, executables, memory, device: marked in the schema, with a reason
    assert {"geometry.threads", "geometry.timeout_s", "geometry.xtb_executable",
            "descriptors.threads", "descriptors.memory", "descriptors.psi4_executable",
            "descriptors.timeout_s", "training.device"} <= execution
