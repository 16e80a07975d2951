# Stage 3 (beyond the paper, config `training.interactions`, off in config/paper.yaml): the
# stage-2 total-energy model fine-tuned on CCSD(T)-quality interaction energies of neutral
# dimers from Psi4's BioFragment Database modules SSI and BBI, then evaluated exactly like the
# paper-faithful model. S66 and the base pairs stay test sets: no pair of theirs (monomer
# identity or geometry) enters training, validation or the choice of the loss weight.
# Library: virialff.train.dimer_databases, virialff.train.interactions,
# virialff.evaluate.interaction_model, virialff.plots.interactions.
# Needs BENCH, BENCH_DATA, BENCH_METHODS, BENCH_METHOD_ENVS, BUNDLED_XYZ, MODEL_TOTAL,
# INTERACTION_KEY (rules/benchmarks.smk), _TRAIN_DATASET, _TRAIN_THREADS, _TRAIN_RESOURCES,
# MODEL_INTERACTIONS (rules/train.smk)
# and rules conformers_predict, conformer_metrics (rules/conformers.smk): include
# this file after those.

from virialff.config_keys import INTERACTION_TRAINING_KEYS as _INTERACTION_TRAINING_KEYS  # noqa: E402

INTERACTIONS = f"{RESULTS}/interactions"
_INTERACTIONS_CFG = config["training"]["interactions"]
_DIMER_DATABASES_DIR = _INTERACTIONS_CFG["databases_dir"]
# The interaction-trained model is the method "virialff" run with another model file
# (INTERACTION_KEY, MODEL_INTERACTIONS); its predictions on S66 (both geometry sets), the base
# pairs and the conformers come from the prediction rules benchmark_predict
# (rules/benchmarks.smk) and conformers_predict (rules/conformers.smk).
# With GBFFS_INTERACTIONS (rules/gbffs.smk) the interaction-trained GB-FFs model (method
# GBFFS_INTERACTION_KEY) is compared too.
_COMPARED = [*BENCH_METHODS, INTERACTION_KEY,
             *([GBFFS_INTERACTION_KEY] if GBFFS_INTERACTIONS else [])]


rule prepare_dimers:
    """SSI/BBI dimers: neutral closed-shell pairs, bonds per monomer, test-set pairs left out."""
    input:
        modules=[f"{_DIMER_DATABASES_DIR}/{name}.py" for name in _INTERACTIONS_CFG["databases"]],
        s66=f"{BENCH_DATA}/s66/s66.csv",
        base_pairs=f"{BENCH_DATA}/base_pairs/base_pairs.csv",
        xyz=BUNDLED_XYZ["s66"] + BUNDLED_XYZ["base_pairs"],
    output:
        dimers=f"{INTERACTIONS}/dimers.pt",
        summary=f"{INTERACTIONS}/summary.json",
    params:
        databases_dir=lambda w, input: str(Path(input.modules[0]).parent),
        databases=_INTERACTIONS_CFG["databases"],
        # sorted: the same tables in another YAML key order are the same setting
        reference_tables=dict(sorted(_INTERACTIONS_CFG["reference_tables"].items())),
        val_fraction=_INTERACTIONS_CFG["val_fraction"],
        split_unit=_INTERACTIONS_CFG["split_unit"],
        seed=config["seed"],
    log:
        f"{LOGS}/prepare_dimers/prepare_dimers.log",
    benchmark:
        f"{LOGS}/prepare_dimers/prepare_dimers.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    script:
        "../scripts/prepare_dimers.py"


rule train_interactions:
    """Stage 3: charge_net + feats_net fine-tuned on MAE_mol + w·MAE_int (embeddings frozen)."""
    input:
        dataset=_TRAIN_DATASET,
        dimers=rules.prepare_dimers.output.dimers,
        model=MODEL_TOTAL,
    output:
        model=MODEL_INTERACTIONS,
        history=f"{RESULTS}/training/total_interactions_history.csv",
        selection=f"{RESULTS}/training/total_interactions_selection.json",
    params:
        interactions={key: _INTERACTIONS_CFG[key] for key in _INTERACTION_TRAINING_KEYS},
        seed=config["seed"],
    log:
        f"{LOGS}/train_interactions/train_interactions.log",
    benchmark:
        f"{LOGS}/train_interactions/train_interactions.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_interactions.py"


rule interaction_metrics:
    """Both models side by side on every benchmark → results/metrics/interactions.json."""
    localrule: True
    input:
        model_paper=MODEL_TOTAL,
        model_interactions=MODEL_INTERACTIONS,
        molecular_paper=f"{RESULTS}/metrics/total.json",
        molecular_interactions=f"{RESULTS}/metrics/total_interactions.json",
        s66_reference=expand(f"{BENCH}/s66_reference/predictions/{{method}}.csv", method=_COMPARED),
        s66_xtb=expand(f"{BENCH}/s66/predictions/{{method}}.csv", method=_COMPARED),
        s66_dft_cp=rules.s66_dft_cp.output.predictions,
        s66_csv=f"{BENCH_DATA}/s66/s66.csv",
        base_pairs_csv=f"{BENCH_DATA}/base_pairs/base_pairs.csv",
        xyz=BUNDLED_XYZ["s66"] + BUNDLED_XYZ["base_pairs"],
        base_pairs=expand(f"{BENCH}/base_pairs/predictions/{{method}}.csv", method=_COMPARED),
        base_pair_reference="data/references/mo2006_base_pairs.yaml",
        conformer_dft=rules.conformer_metrics.input.dft,
        conformers=expand(f"{BENCH}/conformers/predictions/{{method}}.csv", method=_COMPARED),
        selection=rules.train_interactions.output.selection,
        gbffs_selection=([rules.train_gbffs_interactions.output.selection]
                         if GBFFS_INTERACTIONS else []),
        model_gbffs_interactions=[MODEL_GBFFS_INTERACTIONS] if GBFFS_INTERACTIONS else [],
        dimer_summary=rules.prepare_dimers.output.summary,
        published="data/published/terets2026.yaml",
    output:
        metrics=f"{RESULTS}/metrics/interactions.json",
        table=f"{INTERACTIONS}/s66_comparison.csv",
    params:
        methods=_COMPARED,
        data_dir=lambda w, input: str(Path(input.s66_csv).parent.parent),
        run_name=config["run_name"],
        data_scale=config["data_scale"],
    log:
        f"{LOGS}/interaction_metrics/interaction_metrics.log",
    benchmark:
        f"{LOGS}/interaction_metrics/interaction_metrics.benchmark.tsv"
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/run_interaction_metrics.py"


if _INTERACTIONS_CFG["enabled"]:
    FINAL_TARGETS.extend([
        rules.interaction_metrics.output.metrics,
        f"{RESULTS}/metrics/total_interactions.json",
    ])
