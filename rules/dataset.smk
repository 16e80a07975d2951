# Dataset stage: every shard's geometries and descriptors → dataset.pt (+ descriptors.csv),
# the run summary, and Figs. 1-3. Formats: docs/data-formats.md.

_RUN_LABEL = f"run {config['run_name']} ({config['data_scale']} scale)"


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


rule plot_fig01:
    """Fig. 1: atoms of each element per molecule, train/validation/test."""
    input:
        molecules=rules.subset.output.molecules,
    output:
        png=report(
            f"{RESULTS}/figures/fig01_elements.png",
            caption="../report/fig01_elements.rst",
            category="Dataset",
        ),
        pdf=f"{RESULTS}/figures/fig01_elements.pdf",
    params:
        run_label=_RUN_LABEL,
    log:
        f"{LOGS}/plot_fig01/plot_fig01.log",
    benchmark:
        f"{LOGS}/plot_fig01/plot_fig01.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig01_elements.py"


rule plot_fig02:
    """Fig. 2: atoms per molecule, train/validation/test."""
    input:
        molecules=rules.subset.output.molecules,
    output:
        png=report(
            f"{RESULTS}/figures/fig02_atoms_per_molecule.png",
            caption="../report/fig02_atoms_per_molecule.rst",
            category="Dataset",
        ),
        pdf=f"{RESULTS}/figures/fig02_atoms_per_molecule.pdf",
    params:
        run_label=_RUN_LABEL,
    log:
        f"{LOGS}/plot_fig02/plot_fig02.log",
    benchmark:
        f"{LOGS}/plot_fig02/plot_fig02.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig02_atoms_per_molecule.py"


rule plot_fig03:
    """Fig. 3: total DFT energy per atom, train/validation/test."""
    input:
        descriptors=rules.assemble_dataset.output.descriptors,
    output:
        png=report(
            f"{RESULTS}/figures/fig03_energy_per_atom.png",
            caption="../report/fig03_energy_per_atom.rst",
            category="Dataset",
        ),
        pdf=f"{RESULTS}/figures/fig03_energy_per_atom.pdf",
    params:
        run_label=_RUN_LABEL,
    log:
        f"{LOGS}/plot_fig03/plot_fig03.log",
    benchmark:
        f"{LOGS}/plot_fig03/plot_fig03.benchmark.tsv"
    conda:
        "../envs/plot.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    script:
        "../scripts/plot_fig03_energy_per_atom.py"


FINAL_TARGETS.extend([
    rules.summarise_run.output.json,
    rules.summarise_run.output.md,
    rules.plot_fig01.output.png,
    rules.plot_fig02.output.png,
    rules.plot_fig03.output.png,
])
