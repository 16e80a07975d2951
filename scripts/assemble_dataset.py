"""Snakemake entry point: geometries + descriptors of every shard → dataset.pt,
descriptors.csv, dataset.status.csv."""

from virialff.data.assemble import assemble_dataset
from virialff.logs import setup_logging

setup_logging(snakemake.log[0])
assemble_dataset(
    molecules_csv=snakemake.input.molecules,
    geometry_sdfs=list(snakemake.input.geometries),
    geometry_status=list(snakemake.input.geometry_status),
    descriptor_npzs=list(snakemake.input.descriptors),
    descriptor_status=list(snakemake.input.descriptor_status),
    dataset_pt=snakemake.output.dataset,
    descriptors_csv=snakemake.output.descriptors,
    status_csv=snakemake.output.status,
    data_scale=snakemake.params.data_scale,
)
