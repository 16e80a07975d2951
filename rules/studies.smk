# The seeded studies: `snakemake studies` (or `make studies`), not part of `make run`. Every
# comparison between trained models that the README or the paper states, repeated for each seed
# of studies.seeds (both stages retrained from that seed): pretraining against none, free
# against neutral charges, energies against forces, and the guards, each model also through the
# simulation check. results/metrics/studies.json and results/tables/studies.md give mean ± SD.

_STUDY_SEEDS = config["studies"]["seeds"]


wildcard_constraints:
    study_seed=r"\d+",


rule study_seed:
    """Every compared model of one seed: trained, evaluated on the test split, simulated."""
    input:
        dataset=f"{RESULTS}/dataset/dataset.pt",
        molecules=f"{RESULTS}/dataset/molecules.csv",
        geometries=expand(f"{RESULTS}/geometries/{{shard}}.sdf", shard=SHARDS),
    output:
        summary=f"{RESULTS}/studies/seed{{study_seed}}.json",
    params:
        embedding=settings("training.embedding"),
        potential=settings("training.potential"),
        forces={k: settings("training.forces")[k]
                for k in ("force_weight_grid", "max_grid_extensions")},
        guards=settings("training.guards"),
        simulation=settings("evaluation.simulation"),
    log:
        f"{LOGS}/study_seed/seed{{study_seed}}.log",
    benchmark:
        f"{LOGS}/study_seed/seed{{study_seed}}.benchmark.tsv"
    conda:
        "../envs/train.yaml"
    threads: _TRAIN_THREADS
    resources:
        mem_mb=_TRAIN_RESOURCES["mem_mb"],
        runtime=_TRAIN_RESOURCES["runtime"] * 4,
        device=config["training"]["device"],
    script:
        "../scripts/run_study_seed.py"


rule studies:
    """Mean ± SD over the seeds of every compared model (results/metrics/studies.json,
    results/tables/studies.md)."""
    input:
        seeds=expand(f"{RESULTS}/studies/seed{{seed}}.json", seed=_STUDY_SEEDS),
    output:
        metrics=f"{RESULTS}/metrics/studies.json",
        table=f"{RESULTS}/tables/studies.md",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
    log:
        f"{LOGS}/studies/studies.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/make_studies_summary.py"
