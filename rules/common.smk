# Shared helpers of all rule files (configuration, shards, settings for params, targets).
import math
import sys
from pathlib import Path

# Scripts import the library from src/ whether or not it is pip-installed (conda envs, clusters).
SRC_DIR = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC_DIR)

from virialff.workflow import prepend_to_pythonpath  # noqa: E402

prepend_to_pythonpath(SRC_DIR)

from virialff.config import ConfigError, prepare_config, result_settings  # noqa: E402

# Every violation at once with the key named, then the schema's defaults, then cross-field
# rules: from here on every key exists, and no rule or script holds a default of its own.
try:
    prepare_config(config)
except ConfigError as error:
    raise WorkflowError(str(error)) from None


RESULTS = config["results_dir"]
LOGS = f"{RESULTS}/logs"
RUN_LABEL = f"run {config['run_name']} ({config['data_scale']} scale)"

# Every rule file appends the final outputs it owns; `rule all` builds them.
FINAL_TARGETS = []


def final_targets(wildcards):
    return FINAL_TARGETS


def settings(path):
    """The result-affecting keys of config section `path` (for params:). Execution keys
    (threads, memory, timeouts, executables, device; `x-execution` in the schema) reach a rule
    as threads or resources instead, so changing them reruns nothing."""
    return result_settings(config, path)


def _gbffs_settings():
    """training.gbffs without its workflow switches (GBFFS_SWITCH_KEYS: they change no GB-FFs
    model)."""
    from virialff.config_keys import GBFFS_SWITCH_KEYS

    return {k: v for k, v in settings("training.gbffs").items() if k not in GBFFS_SWITCH_KEYS}


def _source_settings():
    """The section of the configured source (demo, qmugs or reference), for the subset."""
    return settings(config["source"])


def conformers_per_molecule():
    """Geometries the subset keeps per molecule: the source's own setting (QMugs conformers;
    the reference set's geometries, lowest conformer and 500 K snapshot first, None = all);
    the demo has one geometry per molecule."""
    if config["source"] in ("qmugs", "reference"):
        return config[config["source"]]["conformers_per_molecule"]
    return 1


def _subset_inputs(wildcards):
    """Files the subset reads: the demo CSV, QMugs summary.csv, or the reference set's
    molecules and geometry shards."""
    if config["source"] == "demo":
        return [config["demo"]["molecules_csv"]]
    if config["source"] == "reference":
        from virialff.data.reference import reference_input_files

        return reference_input_files(config["reference"])
    summary = Path(config["qmugs"]["root"]) / "summary.csv"
    return [str(summary)] if summary.exists() else []


def _shards():
    """Shard names, fixed at DAG construction without opening any SDF.

    Demo and QMugs: enough shards of sharding.molecules_per_shard rows for the upper bound on
    rows of molecules.csv (the demo CSV's line count; QMugs summary.csv or the directory
    listing); the subset fills them consecutively and a shard whose molecules were all filtered
    out writes empty outputs. Reference: the reference set's own shards (the units of its DFT
    cache), those with cached DFT unless reference.only_cached_shards is false.
    """
    if config["source"] == "reference":
        from virialff.data.reference import reference_shards

        return reference_shards(config["reference"])
    from virialff.data.subset import max_selected_rows

    source = config["source"]
    try:
        bound = max_selected_rows(source, config[source], config["subset"]["n_molecules"],
                                  config["qmugs"]["conformers_per_molecule"])
    except (OSError, ValueError) as error:
        raise WorkflowError(
            f"cannot count the candidate molecules ({error}); for source 'qmugs' point "
            "qmugs.root at a QMugs download or set subset.n_molecules"
        ) from None
    n_shards = max(1, math.ceil(bound / config["sharding"]["molecules_per_shard"]))
    return [f"shard{index:05d}" for index in range(n_shards)]


SHARDS = _shards()


def _memory_mb(text):
    """Psi4 memory string ("4 GB", "500 MiB") -> MB."""
    import re

    number, unit = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", str(text)).groups()
    scale = {"b": 1e-6, "kb": 1e-3, "mb": 1.0, "gb": 1e3, "tb": 1e6,
             "kib": 1.024e-3, "mib": 1.048576, "gib": 1073.741824, "tib": 1099511.627776}
    return int(float(number) * scale[unit.lower()])


# ---- helpers of individual rule files, kept here so those files hold rules only ----


def _potential_inputs(wildcards):
    inputs = {"dataset": _TRAIN_DATASET}
    if POTENTIAL_MODELS[wildcards.model_name]["pretrained"]:
        inputs["embedding"] = rules.train_embedding.output.model
    return inputs


def _embedding_sizes(wildcards):
    """Network sizes of a from-scratch embedding (None: taken from the stage-1 model file)."""
    if POTENTIAL_MODELS[wildcards.model_name]["pretrained"]:
        return None
    return {k: config["training"]["embedding"][k] for k in EMBEDDING_KEYS}


def _potential_settings(wildcards):
    """training.potential with the overrides of one model of POTENTIAL_MODELS."""
    overrides = POTENTIAL_MODELS[wildcards.model_name].get("overrides", {})
    return {**settings("training.potential"), **overrides}


# -- benchmark methods (keys and tables in rules/benchmarks.smk) ----------------------------
def method_inputs(method):
    """The model file a method key reads (none for the programs)."""
    model = {"virialff": MODEL_TOTAL, "gbffs": MODEL_GBFFS, **VIRIALFF_VARIANTS,
             **GBFFS_VARIANTS}.get(method)
    return {"model": model} if model else {}


def method_params(method):
    """The program a method key runs and the settings its results depend on."""
    program = ("virialff" if method in VIRIALFF_VARIANTS else
               "gbffs" if method in GBFFS_VARIANTS else method)
    return {"method": program,
            **({"geometry": settings("geometry")} if program == "gfn2_xtb" else {}),
            **({"ani_model": ANI_MODEL} if program.startswith("ani") else {}),
            **({"gaff2": settings("gaff2")} if program == "gaff2" else {})}


def method_env(method):
    """The conda environment of a method key."""
    return BENCH_METHOD_ENVS[method_params(method)["method"]]


# -- prediction and simulation-check inputs (rules/benchmarks.smk) ----------------------------
def _prediction_inputs(wildcards):
    """The systems of a prediction set, its bundled reference, and the method's model file."""
    benchmark, systems = PREDICTION_SETS[wildcards.prediction_set]
    return {"systems": systems, "reference": f"{BENCH_DATA}/{benchmark}/{benchmark}.csv",
            "xyz": BUNDLED_XYZ[benchmark], **method_inputs(wildcards.method)}


def _simulation_inputs(wildcards):
    """Test-split molecules and their geometries, and the potential: a model file, or the gaff2
    stage's parameters of every shard."""
    inputs = {"molecules": f"{RESULTS}/dataset/molecules.csv",
              "geometries": expand(f"{RESULTS}/geometries/{{shard}}.sdf", shard=SHARDS)}
    if wildcards.model_name == "gaff2":
        inputs["parameters"] = expand(rules.gaff2.output.npz, shard=SHARDS)
        inputs["parameter_status"] = expand(rules.gaff2.output.status, shard=SHARDS)
    else:
        inputs["model"] = f"{RESULTS}/models/{wildcards.model_name}.pt"
    return inputs
