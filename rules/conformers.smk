# Conformer relative energies (paper section 5.4, PC9-like protocol on the workflow's own
# molecules with 7–9 heavy atoms): conformer search (CREST when `crest` is on PATH, else RDKit
# ETKDG + GFN2-xTB + energy window + RMSD de-duplication; the output records which engine ran),
# ωB97X-D/def2-SVP reference energies (Psi4), every method's energies, metrics, Fig. 10.
# Rules and outputs reuse BENCH, BENCH_METHODS, BENCH_METHOD_ENVS from rules/benchmarks.smk.

CONFORMERS_CFG = dict(config.get("evaluation", {}).get("conformers", {}))
CONFORMERS_CFG.setdefault("n_molecules", 4)
CONFORMERS_CFG.setdefault("min_heavy_atoms", 7)
CONFORMERS_CFG.setdefault("max_heavy_atoms", 9)
CONFORMERS_CFG.setdefault("min_conformers", 5)
CONFORMERS_CFG.setdefault("n_embed", 30)
CONFORMERS_CFG.setdefault("energy_window_kcal_mol", 10.0)
CONFORMERS_CFG.setdefault("rmsd_threshold_angstrom", 0.25)
CONFORMERS_CFG.setdefault("dft_optimize", False)
CONFORMERS_CFG.setdefault("max_conformers", None)


rule conformer_search:
    input:
        molecules=f"{RESULTS}/dataset/molecules.csv",
    output:
        conformers=f"{BENCH}/conformers/conformers.json",
        status=f"{BENCH}/conformers/conformers.status.csv",
    log:
        f"{LOGS}/conformer_search/conformers.log",
    benchmark:
        f"{LOGS}/conformer_search/conformers.benchmark.tsv"
    params:
        conformers=CONFORMERS_CFG,
        geometry=config["geometry"],
        elements=config["filters"]["elements"],
        crest_executable=CONFORMERS_CFG.get("crest_executable", "crest"),
        seed=config["seed"],
    threads: config["geometry"]["threads"]
    resources:
        mem_mb=2000,
        runtime=120,
    conda:
        "../envs/xtb.yaml"
    script:
        "../scripts/run_conformer_search.py"


rule conformer_dft:
    """ωB97X-D/def2-SVP energies of every conformer (one Psi4 process per chunk)."""
    input:
        conformers=rules.conformer_search.output.conformers,
    output:
        dft=f"{BENCH}/conformers/dft.csv",
    log:
        f"{LOGS}/conformer_dft/conformers.log",
    benchmark:
        f"{LOGS}/conformer_dft/conformers.benchmark.tsv"
    params:
        descriptors=config["descriptors"],
        scf_options={"e_convergence": 1.0e-6, "d_convergence": 1.0e-6},
        dft_optimize=CONFORMERS_CFG["dft_optimize"],
        chunk_size=50,
    threads: config["descriptors"]["threads"]
    resources:
        mem_mb=6000,
        runtime=720,
    conda:
        "../envs/psi4.yaml"
    script:
        "../scripts/run_conformer_dft.py"


for _method in BENCH_METHODS:

    rule:
        name:
            f"conformers_predict_{_method}"
        input:
            systems=rules.conformer_search.output.conformers,
            **({"model": MODEL_TOTAL} if _method == "virialff" else {}),
        output:
            predictions=f"{BENCH}/conformers/predictions/{_method}.csv",
        log:
            f"{LOGS}/conformers_predict_{_method}/conformers.log",
        benchmark:
            f"{LOGS}/conformers_predict_{_method}/conformers.benchmark.tsv"
        params:
            benchmark="conformers",
            method=_method,
            data_dir=None,  # unused for conformers
            geometry=config["geometry"],
            ani_model=ANI_MODEL,
        threads: 1
        resources:
            mem_mb=4000,
            runtime=30,
        conda:
            BENCH_METHOD_ENVS[_method]
        script:
            "../scripts/run_benchmark_method.py"


rule conformer_metrics:
    input:
        conformers=rules.conformer_search.output.conformers,
        dft=rules.conformer_dft.output.dft,
        predictions=expand(f"{BENCH}/conformers/predictions/{{method}}.csv",
                           method=BENCH_METHODS),
    output:
        relative=f"{BENCH}/conformers/relative_energies.csv",
        metrics=f"{RESULTS}/metrics/conformers.json",
    log:
        f"{LOGS}/conformer_metrics/conformers.log",
    benchmark:
        f"{LOGS}/conformer_metrics/conformers.benchmark.tsv"
    params:
        methods=BENCH_METHODS,
        run_name=config["run_name"],
        data_scale=config["data_scale"],
        dft_method=f'{config["descriptors"]["method"]}/{config["descriptors"]["basis"]}',
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/rdkit.yaml"
    script:
        "../scripts/run_conformer_metrics.py"


rule plot_fig10:
    """Fig. 10: relative conformer energies of every method vs DFT, per-method RMSE."""
    input:
        relative=rules.conformer_metrics.output.relative,
        metrics=rules.conformer_metrics.output.metrics,
    output:
        png=report(
            f"{RESULTS}/figures/fig10_conformer_energies.png",
            caption="../report/fig10_conformer_energies.rst",
            category="Evaluation",
        ),
        pdf=f"{RESULTS}/figures/fig10_conformer_energies.pdf",
    log:
        f"{LOGS}/plot_fig10/plot_fig10.log",
    benchmark:
        f"{LOGS}/plot_fig10/plot_fig10.benchmark.tsv"
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/plot_fig10_conformer_energies.py"


FINAL_TARGETS.extend([
    rules.plot_fig10.output.png,
    rules.conformer_metrics.output.metrics,
])
