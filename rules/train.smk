# Training stage (paper section 4): stage-1 K·D embeddings, the stage-2 models (total and
# kinetic energy, and the no-pretraining ablation) from one table, and test-set evaluation.
# Formats: docs/data-formats.md ("Models, training, predictions, metrics"). Figs. 5-7 are in
# rules/figures.smk.

from virialff.config_keys import EMBEDDING_KEYS  # noqa: E402

_TRAIN_DATASET = f"{RESULTS}/dataset/dataset.pt"
_PAPER_SCALE = config["data_scale"] in ("paper", "reference")
_PRETRAINED = config["training"]["potential"]["pretrained_embeddings"]
# Demo: one thread per training job (small tensors; two jobs share two cores); larger: 4.
_TRAIN_THREADS = 4 if _PAPER_SCALE else 1
_TRAIN_RESOURCES = {
    "mem_mb": 64000 if _PAPER_SCALE else 8000,
    "runtime": 24 * 60 if _PAPER_SCALE else 60,
}

#: The stage-2 models: name → target energy and whether the stage-1 embeddings are used.
#: total_scratch is the ablation without K·D pretraining (embeddings learned from scratch).
_NEUTRAL = config["training"]["potential"]["neutral_charges"]
#: The charge ablation: the total-energy model trained with the other neutral_charges setting.
CHARGE_ABLATION_MODEL = "total_free_charges" if _NEUTRAL else "total_neutral_charges"
#: Stage 3 (rules/interactions.smk): the total-energy model fine-tuned on dimer interactions.
MODEL_INTERACTIONS = f"{RESULTS}/models/total_interactions.pt"
POTENTIAL_MODELS = {
    "total": {"target": "total", "pretrained": _PRETRAINED},
    "kinetic": {"target": "kinetic", "pretrained": _PRETRAINED},
    "total_scratch": {"target": "total", "pretrained": False},
    CHARGE_ABLATION_MODEL: {"target": "total", "pretrained": _PRETRAINED,
                            "overrides": {"neutral_charges": not _NEUTRAL}},
}
#: Beyond the paper (training.forces): force-matched total-energy models, without and with
#: the guards of the functional form; w_F is chosen on validation from the grid.
FORCE_MODELS = ("total_forces_guards",)
if config["training"]["forces"]["ablation"]:
    FORCE_MODELS = ("total_forces", "total_forces_guards")
if config["training"]["forces"]["enabled"]:
    _FORCES = settings("training.forces")
    for _name in FORCE_MODELS:
        POTENTIAL_MODELS[_name] = {
            "target": "total", "pretrained": _PRETRAINED,
            "overrides": {"force_weight": list(_FORCES["force_weight_grid"]),
                          "max_grid_extensions": _FORCES["max_grid_extensions"],
                          "guards": _name.endswith("_guards")},
        }
    POTENTIAL_MODELS["total_forces_guards"]["overrides"]["guard_settings"] = settings(
        "training.guards")


wildcard_constraints:
    model_name="|".join(POTENTIAL_MODELS),


rule train_embedding:
    """Stage 1: MPNN + MLP_atom + MLP_edge on T = Σ KD_atom + Σ KD_bond (MAE, Adam)."""
    input:
        dataset=_TRAIN_DATASET,
    output:
        model=f"{RESULTS}/models/embedding.pt",
        history=f"{RESULTS}/training/embedding_history.csv",
    params:
        embedding=settings("training.embedding"),
        seed=config["seed"],
    log:
        f"{LOGS}/train_embedding/train_embedding.log",
    benchmark:
        f"{LOGS}/train_embedding/train_embedding.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_embedding.py"


rule train_potential:
    """Stage 2: charge_net + feats_net for one model of POTENTIAL_MODELS."""
    input:
        unpack(_potential_inputs),
    output:
        model=f"{RESULTS}/models/{{model_name}}.pt",
        history=f"{RESULTS}/training/{{model_name}}_history.csv",
    params:
        target=lambda wildcards: POTENTIAL_MODELS[wildcards.model_name]["target"],
        potential=_potential_settings,
        embedding_sizes=_embedding_sizes,
        seed=config["seed"],
    log:
        f"{LOGS}/train_potential/{{model_name}}.log",
    benchmark:
        f"{LOGS}/train_potential/{{model_name}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_potential.py"


#: Every stage-2 model that has test-set metrics: those above and the interaction-trained one.
_EVALUATED_MODELS = "|".join([*POTENTIAL_MODELS, Path(MODEL_INTERACTIONS).stem])


rule evaluate_model:
    """Test-set predictions and MAE/RMSE of one stage-2 model."""
    input:
        model=f"{RESULTS}/models/{{model_name}}.pt",
        dataset=_TRAIN_DATASET,
    output:
        predictions=f"{RESULTS}/predictions/{{model_name,{_EVALUATED_MODELS}}}_test.csv",
        metrics=f"{RESULTS}/metrics/{{model_name,{_EVALUATED_MODELS}}}.json",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
    log:
        f"{LOGS}/evaluate_model/{{model_name}}.log",
    benchmark:
        f"{LOGS}/evaluate_model/{{model_name}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=32000 if _PAPER_SCALE else 4000,
        runtime=120 if _PAPER_SCALE else 10,
        device=config["training"]["device"],
    script:
        "../scripts/evaluate_model.py"


FINAL_TARGETS.extend(expand(f"{RESULTS}/metrics/{{name}}.json", name=POTENTIAL_MODELS))
