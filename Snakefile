# virialff: from molecules to the finished paper. Run with `snakemake --cores all`.
# Demo config: config.yaml. Reference scale: --configfile config/reference.yaml.
# Paper scale: --configfile config/paper.yaml.
from snakemake.utils import min_version

min_version("8.20")


# config.yaml is the demo: it is read only when no --configfile is given, so every other
# configuration is complete on top of the schema's defaults (schemas/config.schema.yaml), the
# one source of every default (the keys, with what each does: docs/configuration.md).
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


wildcard_constraints:
    shard=r"shard\d{5}",


include: "rules/data.smk"
include: "rules/geometry.smk"
include: "rules/gaff2.smk"
include: "rules/descriptors.smk"
include: "rules/dataset.smk"
include: "rules/train.smk"
include: "rules/gbffs.smk"
include: "rules/benchmarks.smk"
include: "rules/conformers.smk"
include: "rules/learning_curve.smk"
include: "rules/interactions.smk"
include: "rules/studies.smk"
include: "rules/figures.smk"
include: "rules/paper.smk"


# Local rules (seconds of work, run on the submitting node of a cluster) say so themselves
# (`localrule: True`): the figure rules from the registry in rules/figures.smk, the metrics,
# the table, the summary and the paper.
rule all:
    default_target: True
    localrule: True
    input:
        final_targets,


# The run ends with how many molecules passed and failed, at which stage and why.
onsuccess:
    summary = Path(RESULTS) / "dataset" / "summary.md"
    if summary.exists():
        print(summary.read_text())
