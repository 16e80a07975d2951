# Data stage: demo CSV, QMugs tree or reference set → the run's molecules, split and shards.
# Formats: docs/data-formats.md ("Data stage").


rule subset:
    """Check, filter, de-duplicate and subsample the molecules; split by molecule; shard."""
    input:
        _subset_inputs,
    output:
        molecules=f"{RESULTS}/dataset/molecules.csv",
        split=f"{RESULTS}/dataset/split.json",
        status=f"{RESULTS}/dataset/subset.status.csv",
        summary=f"{RESULTS}/dataset/subset.summary.json",
    params:
        source=config["source"],
        source_settings=_source_settings(),
        filters=settings("filters"),
        subset=settings("subset"),
        split=settings("split"),
        sharding=settings("sharding"),
        seed=config["seed"],
        conformers_per_molecule=conformers_per_molecule(),
        shards=SHARDS,
    log:
        f"{LOGS}/subset/subset.log",
    benchmark:
        f"{LOGS}/subset/subset.benchmark.tsv"
    conda:
        "../envs/rdkit.yaml"
    resources:
        mem_mb=lambda wildcards: 2000 if config["source"] == "demo" else 16000,
        runtime=lambda wildcards: 10 if config["source"] == "demo" else 240,
    script:
        "../scripts/make_subset.py"
