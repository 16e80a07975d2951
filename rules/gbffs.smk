# GB-FFs (Chen 2023, thesis ch. 4): every parameter of the GAFF2 functional form predicted from
# the frozen stage-1 atom embeddings, trained in three steps (GAFF2 parameters, then per-term
# GAFF2 energies, then DFT relative energies and forces with the parameters as anchors) against
# the gaff2 stage (rules/gaff2.smk). virialff.train.gbffs; the benchmarks read the model as the
# method "gbffs" (rules/benchmarks.smk). A molecule without usable GAFF2 parameters is a row of
# gbffs.status.csv and is left out of the training.


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
        gbffs=settings("training.gbffs"),
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
