"""Snakemake entry point: select the run's molecules (demo CSV or QMugs) → molecules.csv,
split.json, subset.status.csv, subset.summary.json."""

from virialff.data.logs import setup_logging
from virialff.data.subset import run_subset

setup_logging(snakemake.log[0])
run_subset(
    snakemake.config,
    molecules_csv=snakemake.output.molecules,
    split_json=snakemake.output.split,
    status_csv=snakemake.output.status,
    summary_json=snakemake.output.summary,
    n_shards=snakemake.params.n_shards,
)
