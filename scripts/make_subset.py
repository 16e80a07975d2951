"""Snakemake entry point: select the run's molecules (demo CSV, QMugs or the reference set) →
molecules.csv, split.json, subset.status.csv, subset.summary.json."""

from virialff.data.subset import SubsetSettings, run_subset
from virialff.logs import setup_logging

setup_logging(snakemake.log[0])
p = snakemake.params
run_subset(
    p.source,
    p.source_settings,
    SubsetSettings.from_sections(p.filters, p.subset, p.split, p.sharding, p.seed,
                                 p.conformers_per_molecule),
    molecules_csv=snakemake.output.molecules,
    split_json=snakemake.output.split,
    status_csv=snakemake.output.status,
    summary_json=snakemake.output.summary,
    n_shards=len(p.shards),
)
