"""Snakemake script: the GB-FFs embedding ablation as mean ± SD over the seeds (rule
``gbffs_ablation``; :func:`virialff.train.studies.gbffs_ablation`)."""

import json
from pathlib import Path

from virialff.evaluate.metrics import json_ready
from virialff.logs import setup_logging
from virialff.train.studies import gbffs_ablation, gbffs_ablation_markdown

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0], "virialff.train")
runs = {mode: [json.loads(Path(path).read_text()) for path in getattr(snakemake.input, mode)]
        for mode in ("frozen", "fine_tuned")}
summary = gbffs_ablation(runs)
Path(snakemake.output.metrics).parent.mkdir(parents=True, exist_ok=True)
Path(snakemake.output.metrics).write_text(json.dumps(json_ready(summary), indent=1) + "\n")
Path(snakemake.output.table).parent.mkdir(parents=True, exist_ok=True)
Path(snakemake.output.table).write_text(gbffs_ablation_markdown(summary))
log.info("GB-FFs embedding ablation:\n%s", gbffs_ablation_markdown(summary))
