# virialff: from molecules to the finished paper. Run with `snakemake --cores all`.
# Demo config: config.yaml. Paper scale: --configfile config/paper.yaml.
from snakemake.utils import min_version

min_version("8.20")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


wildcard_constraints:
    shard=r"shard\d{5}",


include: "rules/data.smk"
include: "rules/geometry.smk"
include: "rules/descriptors.smk"
include: "rules/dataset.smk"
include: "rules/train.smk"
include: "rules/benchmarks.smk"
include: "rules/conformers.smk"
include: "rules/figures.smk"
include: "rules/paper.smk"


# Seconds of work each: run on the submitting node, not as cluster jobs.
localrules:
    all,
    summarise_run,
    plot_fig01,
    plot_fig02,
    plot_fig03,
    plot_fig04,
    plot_fig05,
    plot_fig06,
    plot_fig07,
    plot_fig08,
    plot_fig09,
    plot_fig10,
    plot_fig11,
    plot_fig12,
    plot_fig13,
    make_table01,
    s66_metrics,
    base_pairs_metrics,
    conformer_metrics,
    paper,


rule all:
    default_target: True
    input:
        final_targets,


# The run ends with how many molecules passed and failed, at which stage and why.
onsuccess:
    summary = Path(RESULTS) / "dataset" / "summary.md"
    if summary.exists():
        print(summary.read_text())
