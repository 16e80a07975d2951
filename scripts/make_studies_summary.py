"""Snakemake script: the seeded studies as mean ± SD (rule ``studies``;
:func:`virialff.train.studies.summarize`)."""

import json
from pathlib import Path

from virialff.evaluate.metrics import json_ready
from virialff.logs import setup_logging
from virialff.train.studies import job_time, studies_markdown, summarize

log = setup_logging(snakemake.log[0], "virialff.train")
seeds = [json.loads(Path(path).read_text()) for path in snakemake.input.seeds]
summary = {"run_name": snakemake.params.run_name, "data_scale": snakemake.params.data_scale,
           **summarize(seeds), "job_time": job_time(snakemake.params.job_benchmarks)}
Path(snakemake.output.metrics).parent.mkdir(parents=True, exist_ok=True)
Path(snakemake.output.metrics).write_text(json.dumps(json_ready(summary), indent=1) + "\n")
Path(snakemake.output.table).parent.mkdir(parents=True, exist_ok=True)
Path(snakemake.output.table).write_text(studies_markdown(summary))
log.info("studies:\n%s", studies_markdown(summary))
