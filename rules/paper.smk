# The paper: paper/paper.py (jupytext, percent format) executed with nbclient against results/,
# written as results/paper/paper.ipynb and one self-contained results/paper/paper.html (figures
# embedded as base64). The inputs are exactly the files the notebook reads, so a changed figure
# re-runs only that figure's rule and this one.

PAPER_METRICS = ["total", "kinetic", "s66", "base_pairs", "conformers", "charge_ablation",
                 "simulation"]
if config["learning_curve"]["enabled"]:
    PAPER_METRICS.append("learning_curve")
if config["training"]["interactions"]["enabled"]:
    PAPER_METRICS.extend(["interactions", "total_interactions"])


rule paper:
    localrule: True
    input:
        notebook="paper/paper.py",
        published="data/published/terets2026.yaml",
        figures=expand(f"{RESULTS}/figures/{{name}}.png", name=PAPER_FIGURES),
        table=f"{RESULTS}/tables/table01_base_pairs.csv",
        table2=f"{RESULTS}/tables/table02_charge_ablation.csv",
        metrics=expand(f"{RESULTS}/metrics/{{name}}.json", name=PAPER_METRICS),
        ablation=f"{RESULTS}/metrics/total_scratch.json",
        gbffs=rules.train_gbffs.output.metrics,
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
        run_name=config["run_name"],
        data_scale=config["data_scale"],
    resources:
        notebook_timeout_s=600,
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
