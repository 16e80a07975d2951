# Shared helpers of all rule files (config validation, shards, target registry).
import math
import sys
from pathlib import Path

# Scripts import the library from src/ whether or not it is pip-installed (conda envs, clusters).
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)

from virialff.workflow import prepend_to_pythonpath  # noqa: E402

prepend_to_pythonpath(SRC_DIR)

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
    """Upper bound on rows of results/dataset/molecules.csv, known without opening any SDF.

    Demo: rows of the CSV (capped by subset.n_molecules). QMugs: n_molecules ×
    conformers_per_molecule, tightened by summary.csv's chembl_id column (or the directory
    listing of structures/) when present. Shards are fixed at DAG construction from this
    bound; the subset rule fills them consecutively and checks the bound, and a shard whose
    molecules were all filtered out writes empty outputs.
    """
    from virialff.data.subset import max_selected_rows

    try:
        return max_selected_rows(config)
    except (OSError, ValueError) as error:
        raise WorkflowError(
            f"cannot count the candidate molecules ({error}); for source 'qmugs' point "
            "qmugs.root at a QMugs download or set subset.n_molecules"
        ) from None


def _subset_inputs(wildcards):
    """Files the subset reads: the demo CSV, or QMugs summary.csv when there is one.

    A QMugs tree without summary.csv is indexed by directory listing inside the job.
    """
    if config["source"] == "demo":
        return [config["demo"]["molecules_csv"]]
    summary = Path(config["qmugs"]["root"]) / "summary.csv"
    return [str(summary)] if summary.exists() else []


N_SHARDS = max(1, math.ceil(_count_candidate_molecules() / config["sharding"]["molecules_per_shard"]))
SHARDS = [f"shard{index:05d}" for index in range(N_SHARDS)]


# ---- helpers of individual rule files, kept here so those files hold rules only ----


def _memory_mb(text):
    """Psi4 memory string ("4 GB", "500 MiB") -> MB."""
    import re

    number, unit = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", str(text)).groups()
    scale = {"b": 1e-6, "kb": 1e-3, "mb": 1.0, "gb": 1e3, "tb": 1e6,
             "kib": 1.024e-3, "mib": 1.048576, "gib": 1073.741824, "tib": 1099511.627776}
    return int(float(number) * scale[unit.lower()])


def _potential_inputs(pretrained):
    inputs = {"dataset": _TRAIN_DATASET}
    if pretrained:
        inputs["embedding"] = rules.train_embedding.output.model
    return inputs


def _paper_ablation(wildcards):
    """total_scratch.json (no-pretraining ablation) when some rule makes it or it exists."""
    path = f"{RESULTS}/metrics/total_scratch.json"
    if Path(path).exists() or any(r.is_producer(path) for r in workflow.rules):
        return [path]
    return []
