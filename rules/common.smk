# Shared helpers for every rule file: config validation, shards, target registry.
import math
import sys
from pathlib import Path

import os

# Scripts import the library from src/ whether or not it is pip-installed (conda envs, clusters).
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)
os.environ["PYTHONPATH"] = os.pathsep.join(
    [SRC_DIR] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)

from virialff.config import ConfigError, validate_config  # noqa: E402

try:
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


RESULTS = "results"
LOGS = f"{RESULTS}/logs"

# Every rule file appends the final outputs it owns; `rule all` builds them.
FINAL_TARGETS = []


def final_targets(wildcards):
    return FINAL_TARGETS


def _count_candidate_molecules():
    """Upper bound on molecules entering the chain, known without opening any SDF file.

    Shards are fixed at DAG construction from this bound; a shard whose molecules were all
    filtered out writes empty outputs.
    """
    if config["subset"]["n_molecules"]:
        if config["source"] == "demo":
            return min(config["subset"]["n_molecules"], _count_csv_rows())
        return config["subset"]["n_molecules"]
    if config["source"] == "demo":
        return _count_csv_rows()
    summary = Path(config["qmugs"]["root"]) / "summary.csv"
    if not summary.exists():
        raise WorkflowError(
            f"qmugs.root has no summary.csv ({summary}); set subset.n_molecules instead"
        )
    with open(summary) as handle:
        return max(sum(1 for _ in handle) - 1, 0)


def _count_csv_rows():
    with open(config["demo"]["molecules_csv"]) as handle:
        return max(sum(1 for line in handle if line.strip()) - 1, 0)


N_SHARDS = max(1, math.ceil(_count_candidate_molecules() / config["sharding"]["molecules_per_shard"]))
SHARDS = [f"shard{index:05d}" for index in range(N_SHARDS)]


wildcard_constraints:
    shard=r"shard\d{5}",
