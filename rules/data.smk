# Data stage: demo CSV or QMugs tree → the run's molecules, split and shards.
# Formats: docs/data-formats.md ("Data stage").


rule subset:
    """Check, filter and subsample the molecules; split by molecule; assign shards."""
    input:
        _subset_inputs,
    output:
        molecules=f"{RESULTS}/dataset/molecules.csv",
        split=f"{RESULTS}/dataset/split.json",
        status=f"{RESULTS}/dataset/subset.status.csv",
        summary=f"{RESULTS}/dataset/subset.summary.json",
    params:
        n_shards=N_SHARDS,
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
