# The paper: paper/paper.py (jupytext, percent format) executed with nbclient against results/,
# written as results/paper/paper.ipynb and one self-contained results/paper/paper.html (figures
# embedded as base64). The inputs are exactly the files the notebook reads, so a changed figure
# re-runs only that figure's rule and this one.

from virialff.paper import FIGURE_FILES  # noqa: E402

PAPER_FIGURES = [name.removesuffix(".png") for name in FIGURE_FILES.values()]
PAPER_METRICS = ["total", "kinetic", "s66", "base_pairs", "conformers"]



rule paper:
    input:
        notebook="paper/paper.py",
        published="data/published/terets2026.yaml",
        figures=expand(f"{RESULTS}/figures/{{name}}.png", name=PAPER_FIGURES),
        table=f"{RESULTS}/tables/table01_base_pairs.csv",
        metrics=expand(f"{RESULTS}/metrics/{{name}}.json", name=PAPER_METRICS),
        ablation=_paper_ablation,
        summary=f"{RESULTS}/dataset/summary.json",
        molecules=f"{RESULTS}/dataset/molecules.csv",
    output:
        ipynb=f"{RESULTS}/paper/paper.ipynb",
        html=report(
            f"{RESULTS}/paper/paper.html",
            caption="../report/paper.rst",
            category="Paper",
        ),
    log:
        f"{LOGS}/paper/paper.log",
    benchmark:
        f"{LOGS}/paper/paper.benchmark.tsv"
    params:
        timeout_s=600,
    resources:
        mem_mb=2000,
        runtime=15,
    conda:
        "../envs/plot.yaml"
    script:
        "../scripts/build_paper.py"


# Every figure is a final target too: Snakemake does not rebuild a missing input of an up-to-date
# paper, but it does rebuild a missing final target, and then the paper because its input changed.
FINAL_TARGETS.extend(
    expand(f"{RESULTS}/figures/{{name}}.png", name=PAPER_FIGURES)
    + [f"{RESULTS}/paper/paper.html", f"{RESULTS}/paper/paper.ipynb"]
)
