# Figures owned here: Fig. 4 (architecture, drawn from the config) and Fig. 13 (pair potentials).
# Figure rules only plot: they read finished results and never train or compute, so a style
# change re-runs in seconds (`snakemake --cores 1 -R plot_fig04`, see "Rebuild one figure" in README.md).
# Each writes a 300 dpi PNG and a PDF beside it (virialff.plots.style.save_figure).

FIGURES = f"{RESULTS}/figures"


rule plot_fig04:
    output:
        png=report(
            f"{FIGURES}/fig04_architecture.png",
            caption="../report/fig04_architecture.rst",
            category="Figures",
            subcategory="Fig. 4 architecture",
        ),
        pdf=f"{FIGURES}/fig04_architecture.pdf",
    log:
        f"{LOGS}/plot_fig04/plot_fig04.log",
    benchmark:
        f"{LOGS}/plot_fig04/plot_fig04.benchmark.tsv"
    params:
        # Layer counts and widths come from the config only: a changed size re-draws Fig. 4.
        training={
            "embedding": config["training"]["embedding"],
            "potential": config["training"]["potential"],
        },
        elements=config["filters"]["elements"],
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/plot_fig04_architecture.py"


rule plot_fig13:
    input:
        parameters=f"{RESULTS}/evaluation/predicted_parameters.csv",
        charges=f"{RESULTS}/evaluation/predicted_charges.csv",  # for the Coulomb part of E_LR
    output:
        png=report(
            f"{FIGURES}/fig13_pair_potentials.png",
            caption="../report/fig13_pair_potentials.rst",
            category="Figures",
            subcategory="Fig. 13 pair potentials",
        ),
        pdf=f"{FIGURES}/fig13_pair_potentials.pdf",
    log:
        f"{LOGS}/plot_fig13/plot_fig13.log",
    benchmark:
        f"{LOGS}/plot_fig13/plot_fig13.benchmark.tsv"
    params:
        max_pairs=5000,  # pairs sampled per kind for the median curve
        seed=config["seed"],
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/plot_fig13_pair_potentials.py"


FINAL_TARGETS.extend(
    [
        f"{FIGURES}/fig04_architecture.png",
        f"{FIGURES}/fig04_architecture.pdf",
        f"{FIGURES}/fig13_pair_potentials.png",
        f"{FIGURES}/fig13_pair_potentials.pdf",
    ]
)
