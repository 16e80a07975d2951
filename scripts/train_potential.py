"""Snakemake script: stage 2, a total- or kinetic-energy potential (rules train_total, ...).

``params.target``: "total" or "kinetic"; ``params.pretrained``: use the frozen stage-1
embeddings (``input.embedding``) or learn the embedding network from scratch (ablation).
"""

from virialff.train.runtime import setup_script
from virialff.train.stages import train_potential

snakemake = globals()["snakemake"]
setup_script(snakemake.log[0], snakemake.threads)
pretrained = bool(snakemake.params.pretrained)
train_potential(
    dataset_path=snakemake.input.dataset,
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    config=snakemake.config,
    target=snakemake.params.target,
    embedding_path=snakemake.input.get("embedding") if pretrained else None,
    pretrained_embeddings=pretrained,
)
