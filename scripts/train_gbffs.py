"""Snakemake script: GB-FFs, GAFF2-form parameters from the stage-1 embeddings, trained in the
thesis's three steps (rule train_gbffs; virialff.train.gbffs)."""

from virialff.logs import setup_logging
from virialff.train.gbffs import train_gbffs

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
train_gbffs(
    dataset_path=snakemake.input.dataset,
    embedding_path=snakemake.input.embedding,
    gaff2_paths=list(snakemake.input.gaff2),
    geometry_paths=list(snakemake.input.geometries),
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    metrics_path=snakemake.output.metrics,
    status_path=snakemake.output.status,
    settings=snakemake.params.gbffs,
    seed=snakemake.params.seed,
    device=snakemake.resources.device,
)
