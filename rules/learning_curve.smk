# Learning curves (Fig. 14): both stages retrained on seeded subsets of the training compounds,
# log-spaced from learning_curve.min_compounds to all, with and without K·D pretraining, for the
# total and the kinetic energy; test MAE of each. Built when learning_curve.enabled (the
# reference configuration); the demo skips it. One job per (size index, seed).

_LC = config["learning_curve"]
LC_POINTS = [f"p{index}_s{seed}" for index in range(_LC["n_sizes"]) for seed in _LC["seeds"]]


wildcard_constraints:
    lc_point=r"p\d+_s\d+",


rule learning_curve_point:
    """Stage 1 and the four stage-2 models of one (size, seed), each evaluated on the test set."""
    input:
        dataset=f"{RESULTS}/dataset/dataset.pt",
    output:
        points=f"{RESULTS}/learning_curve/{{lc_point}}.json",
    params:
        learning_curve={k: _LC[k] for k in ("n_sizes", "min_compounds", "embedding_epochs",
                                            "potential_epochs")},
        embedding=settings("training.embedding"),
        potential=settings("training.potential"),
    log:
        f"{LOGS}/learning_curve_point/{{lc_point}}.log",
    benchmark:
        f"{LOGS}/learning_curve_point/{{lc_point}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_learning_curve_point.py"


rule learning_curve_metrics:
    """Slope, pretraining gap and extrapolation of the learning curves."""
    localrule: True
    input:
        points=expand(f"{RESULTS}/learning_curve/{{lc_point}}.json", lc_point=LC_POINTS),
    output:
        metrics=f"{RESULTS}/metrics/learning_curve.json",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        extrapolate_to=_LC["extrapolate_to_compounds"],
    log:
        f"{LOGS}/learning_curve_metrics/learning_curve_metrics.log",
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/run_learning_curve_metrics.py"


if _LC["enabled"]:
    FINAL_TARGETS.append(rules.learning_curve_metrics.output.metrics)
