"""Snakemake entry point: execute paper/paper.py against results/ and write .ipynb + .html."""

from pathlib import Path

from virialff.logs import setup_logging
from virialff.paper.build import build_paper

log = setup_logging(snakemake.log[0], "virialff.paper")
# The results directory is where the inputs are: results/metrics/total.json -> results/.
results = Path(snakemake.input.metrics[0]).parents[1]
log.info("executing %s against %s", snakemake.input.notebook, results)
html = build_paper(
    snakemake.input.notebook,
    snakemake.output.ipynb,
    snakemake.output.html,
    results=results,
    root=Path.cwd(),  # the working directory: where the declared inputs live
    timeout_s=snakemake.resources.notebook_timeout_s,
)
log.info("wrote %s (%d bytes) and %s", html, html.stat().st_size, snakemake.output.ipynb)
