"""Snakemake script: stage 1, the K·D embedding MPNN (rule train_embedding)."""

from virialff.logs import setup_logging
from virialff.train.stages import train_embedding

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
train_embedding(
    dataset_path=snakemake.input.dataset,
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    settings=snakemake.params.embedding,
    seed=snakemake.params.seed,
    device=snakemake.resources.device,
)
