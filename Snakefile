# virialff: from molecules to the finished paper. Run with `snakemake --cores all`.
# Demo config: config.yaml. Paper scale: --configfile config/paper.yaml.
from snakemake.utils import min_version

min_version("8.20")


configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/geometry.smk"
include: "rules/descriptors.smk"
include: "rules/dataset.smk"
include: "rules/train.smk"
include: "rules/benchmarks.smk"
include: "rules/conformers.smk"
include: "rules/figures.smk"
include: "rules/paper.smk"


rule all:
    default_target: True
    input:
        final_targets,
