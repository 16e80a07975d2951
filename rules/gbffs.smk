# GB-FFs (Chen 2023, thesis ch. 4): every parameter of the GAFF2 functional form predicted from
# the frozen stage-1 atom embeddings, trained in three steps (GAFF2 parameters, then per-term
# GAFF2 energies, then DFT relative energies and forces with the parameters as anchors) against
# the gaff2 stage (rules/gaff2.smk). virialff.train.gbffs; the benchmarks read the model as the
# method "gbffs" (rules/benchmarks.smk). A molecule without usable GAFF2 parameters is a row of
# gbffs.status.csv and is left out of the training.

from virialff.config_keys import GBFFS_INTERACTION_TRAINING_KEYS as _GBFFS_INTERACTION_KEYS  # noqa: E402

#: the GB-FFs model of the interaction stage, and whether the run makes it.
MODEL_GBFFS_INTERACTIONS = f"{RESULTS}/models/gbffs_interactions.pt"
GBFFS_INTERACTIONS = bool(config["training"]["interactions"]["enabled"]
                          and config["training"]["gbffs"]["interactions"])


rule train_gbffs:
    """GB-FFs head on the stage-1 MPNN: results/models/gbffs.pt."""
    input:
        dataset=_TRAIN_DATASET,
        embedding=rules.train_embedding.output.model,
        gaff2=expand(f"{RESULTS}/gaff2/{{shard}}.npz", shard=SHARDS),
        geometries=rules.assemble_dataset.input.geometries,
    output:
        model=f"{RESULTS}/models/gbffs.pt",
        history=f"{RESULTS}/training/gbffs_history.csv",
        metrics=f"{RESULTS}/training/gbffs_metrics.json",
        status=f"{RESULTS}/training/gbffs.status.csv",
    params:
        gbffs=_gbffs_settings(),
        seed=config["seed"],
    log:
        f"{LOGS}/train_gbffs/train_gbffs.log",
    benchmark:
        f"{LOGS}/train_gbffs/train_gbffs.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    # small tensors: one thread (the demo trains in about a minute on one core)
    threads: 1
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_gbffs.py"


# The interaction stage for GB-FFs (training.interactions.enabled and training.gbffs.interactions):
# the charge-transfer and VdW heads fine-tuned on the SSI/BBI dimers of rule prepare_dimers
# (rules/interactions.smk) with the training.interactions settings; scored beside "gbffs" and
# the paper model's stage 3 in results/metrics/interactions.json (method gbffs_interactions).
rule train_gbffs_interactions:
    """GB-FFs fine-tuned on MAE_mol + w·MAE_int: results/models/gbffs_interactions.pt."""
    input:
        dataset=_TRAIN_DATASET,
        dimers=f"{RESULTS}/interactions/dimers.pt",
        model=rules.train_gbffs.output.model,
        gaff2=rules.train_gbffs.input.gaff2,
        geometries=rules.train_gbffs.input.geometries,
    output:
        model=MODEL_GBFFS_INTERACTIONS,
        history=f"{RESULTS}/training/gbffs_interactions_history.csv",
        selection=f"{RESULTS}/training/gbffs_interactions_selection.json",
    params:
        interactions={k: config["training"]["interactions"][k] for k in _GBFFS_INTERACTION_KEYS},
        gbffs=_gbffs_settings(),
        seed=config["seed"],
    log:
        f"{LOGS}/train_gbffs_interactions/train_gbffs_interactions.log",
    benchmark:
        f"{LOGS}/train_gbffs_interactions/train_gbffs_interactions.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
    script:
        "../scripts/train_gbffs_interactions.py"


# The embedding ablation of GB-FFs (frozen stage-1 embeddings, as by default, against
# fine-tuned ones), retrained from every seed of studies.seeds: part of `snakemake studies`.
wildcard_constraints:
    gbffs_mode="frozen|fine_tuned",


rule gbffs_study:
    """One GB-FFs training of the embedding ablation (mode, seed)."""
    input:
        dataset=_TRAIN_DATASET,
        embedding=rules.train_embedding.output.model,
        gaff2=expand(f"{RESULTS}/gaff2/{{shard}}.npz", shard=SHARDS),
        geometries=rules.assemble_dataset.input.geometries,
    output:
        model=f"{RESULTS}/studies/gbffs/{{gbffs_mode}}_seed{{study_seed}}.pt",
        history=f"{RESULTS}/studies/gbffs/{{gbffs_mode}}_seed{{study_seed}}_history.csv",
        metrics=f"{RESULTS}/studies/gbffs/{{gbffs_mode}}_seed{{study_seed}}.json",
        status=f"{RESULTS}/studies/gbffs/{{gbffs_mode}}_seed{{study_seed}}.status.csv",
    params:
        gbffs=lambda w: {**_gbffs_settings(),
                         "fine_tune_embeddings": w.gbffs_mode == "fine_tuned"},
        seed=lambda w: int(w.study_seed),
    log:
        f"{LOGS}/gbffs_study/{{gbffs_mode}}_seed{{study_seed}}.log",
    benchmark:
        f"{LOGS}/gbffs_study/{{gbffs_mode}}_seed{{study_seed}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"],
        device=config["training"]["device"],
    script:
        "../scripts/train_gbffs.py"


rule gbffs_ablation:
    """Frozen against fine-tuned embeddings: mean ± SD over the seeds
    (results/metrics/gbffs_ablation.json, results/tables/gbffs_ablation.md)."""
    input:
        frozen=expand(f"{RESULTS}/studies/gbffs/frozen_seed{{seed}}.json",
                      seed=config["studies"]["seeds"]),
        fine_tuned=expand(f"{RESULTS}/studies/gbffs/fine_tuned_seed{{seed}}.json",
                          seed=config["studies"]["seeds"]),
    output:
        metrics=f"{RESULTS}/metrics/gbffs_ablation.json",
        table=f"{RESULTS}/tables/gbffs_ablation.md",
    log:
        f"{LOGS}/gbffs_ablation/gbffs_ablation.log",
    localrule: True
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/make_gbffs_ablation.py"
