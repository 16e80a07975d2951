"""Snakemake entry point: summary.json + summary.md of what passed and what failed where."""

from virialff.data.summary import summarise_run, write_summary
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.summary")
summary = summarise_run(
    {
        "subset": [snakemake.input.subset_status],
        "geometry": list(snakemake.input.geometry_status),
        "descriptors": list(snakemake.input.descriptor_status),
        "dataset": [snakemake.input.dataset_status],
    },
    subset_summary_json=snakemake.input.subset_summary,
    molecules_csv=snakemake.input.molecules,
    descriptors_csv=snakemake.input.descriptors,
    run_name=snakemake.params.run_name,
    data_scale=snakemake.params.data_scale,
)
text = write_summary(summary, snakemake.output.json, snakemake.output.md)
log.info("run summary\n%s", text)
print(text)
