# Dataset stage: every shard's geometries and descriptors → dataset.pt (+ descriptors.csv) and
# the run summary. Formats: docs/data-formats.md. Figs. 1-3 are in rules/figures.smk.

from virialff.formats.dataset import FORMAT_VERSION as DATASET_FORMAT_VERSION  # noqa: E402


rule assemble_dataset:
    """Check geometries against descriptors, featurise, collate → dataset.pt."""
    input:
        molecules=rules.subset.output.molecules,
        split=rules.subset.output.split,
        geometries=expand(f"{RESULTS}/geometries/{{shard}}.sdf", shard=SHARDS),
        geometry_status=expand(f"{RESULTS}/geometries/{{shard}}.status.csv", shard=SHARDS),
        descriptors=expand(f"{RESULTS}/descriptors/{{shard}}.npz", shard=SHARDS),
        descriptor_status=expand(f"{RESULTS}/descriptors/{{shard}}.status.csv", shard=SHARDS),
    output:
        dataset=f"{RESULTS}/dataset/dataset.pt",
        descriptors=f"{RESULTS}/dataset/descriptors.csv",
        status=f"{RESULTS}/dataset/dataset.status.csv",
    params:
        data_scale=config["data_scale"],
        # a new dataset format rebuilds the dataset (the script itself may not change)
        format_version=DATASET_FORMAT_VERSION,
    log:
        f"{LOGS}/assemble_dataset/assemble_dataset.log",
    benchmark:
        f"{LOGS}/assemble_dataset/assemble_dataset.benchmark.tsv"
    conda:
        "../envs/rdkit.yaml"
    resources:
        mem_mb=lambda wildcards: 4000 if config["data_scale"] == "demo" else 64000,
        runtime=lambda wildcards: 10 if config["data_scale"] == "demo" else 480,
    script:
        "../scripts/assemble_dataset.py"


rule summarise_run:
    """How many molecules passed, and how many failed at which stage and why."""
    localrule: True
    input:
        molecules=rules.subset.output.molecules,
        subset_status=rules.subset.output.status,
        subset_summary=rules.subset.output.summary,
        geometry_status=rules.assemble_dataset.input.geometry_status,
        descriptor_status=rules.assemble_dataset.input.descriptor_status,
        dataset_status=rules.assemble_dataset.output.status,
        descriptors=rules.assemble_dataset.output.descriptors,
    output:
        json=f"{RESULTS}/dataset/summary.json",
        md=f"{RESULTS}/dataset/summary.md",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
    log:
        f"{LOGS}/summarise_run/summarise_run.log",
    benchmark:
        f"{LOGS}/summarise_run/summarise_run.benchmark.tsv"
    conda:
        "../envs/rdkit.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/summarise_run.py"


FINAL_TARGETS.extend([
    rules.summarise_run.output.json,
    rules.summarise_run.output.md,
])
