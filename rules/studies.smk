# The seeded studies: `snakemake studies` (or `make studies`), not part of `make run`. Every
# comparison between trained models that the README or the paper states, repeated for each seed
# of studies.seeds (both stages retrained from that seed): pretraining against none, free
# against neutral charges, energies against forces, and the guards, each model also through the
# simulation check, and the charge controls of the interaction stage (Table 2: free, neutral,
# neutralised after training, stage 3 from each; the intermolecular pair class; the dipole
# term), each scored on the test split, S66 at the CCSD(T) geometries, the base pairs and the
# conformers. results/metrics/studies.json and results/tables/studies.md give mean ± SD.

_STUDY_SEEDS = config["studies"]["seeds"]


wildcard_constraints:
    study_seed=r"\d+",


rule study_seed:
    """Every compared model of one seed: trained, evaluated on the test split, simulated."""
    input:
        dataset=f"{RESULTS}/dataset/dataset.pt",
        molecules=f"{RESULTS}/dataset/molecules.csv",
        geometries=expand(f"{RESULTS}/geometries/{{shard}}.sdf", shard=SHARDS),
        dimers=rules.prepare_dimers.output.dimers,
        s66=rules.s66_reference_geometries.output.geometries,
        base_pairs=PREDICTION_SETS["base_pairs"][1],
        benchmark_reference=[f"{BENCH_DATA}/{name}/{name}.csv" for name in ("s66", "base_pairs")],
        conformers=rules.conformer_dft.output.reference,
        conformer_dft=rules.conformer_dft.output.dft,
    output:
        summary=f"{RESULTS}/studies/seed{{study_seed}}.json",
    params:
        embedding=settings("training.embedding"),
        potential=settings("training.potential"),
        forces={k: settings("training.forces")[k]
                for k in ("force_weight_grid", "max_grid_extensions")},
        guards=settings("training.guards"),
        simulation=settings("evaluation.simulation"),
        interactions={key: _INTERACTIONS_CFG[key] for key in _INTERACTION_TRAINING_KEYS},
        dipole_weight=config["studies"]["dipole_weight"],
        data_dir=lambda w, input: str(Path(input.benchmark_reference[0]).parent.parent),
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
    results/tables/studies.md), and the GB-FFs embedding ablation (rules/gbffs.smk)."""
    input:
        seeds=expand(f"{RESULTS}/studies/seed{{seed}}.json", seed=_STUDY_SEEDS),
        gbffs=rules.gbffs_ablation.output.metrics,
    output:
        metrics=f"{RESULTS}/metrics/studies.json",
        table=f"{RESULTS}/tables/studies.md",
    params:
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        # the seeds' and the GB-FFs ablation's job times (Snakemake's benchmark files of the
        # input jobs), so that the summary says how long the target takes
        job_benchmarks=[f"{LOGS}/study_seed/seed{seed}.benchmark.tsv" for seed in _STUDY_SEEDS]
        + [f"{LOGS}/gbffs_study/{mode}_seed{seed}.benchmark.tsv"
           for mode in ("frozen", "fine_tuned") for seed in _STUDY_SEEDS],
    log:
        f"{LOGS}/studies/studies.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/make_studies_summary.py"
