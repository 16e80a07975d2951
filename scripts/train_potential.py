"""Snakemake script: stage 2, one potential model (rule train_potential).

``params.target``: "total" or "kinetic"; with ``input.embedding`` the frozen stage-1
embeddings are used, without it an embedding network of ``params.embedding_sizes`` is learned
from scratch (the ablation).
"""

from virialff.logs import setup_logging
from virialff.train.stages import train_potential

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
train_potential(
    dataset_path=snakemake.input.dataset,
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    target=snakemake.params.target,
    settings=snakemake.params.potential,
    seed=snakemake.params.seed,
    device=snakemake.resources.device,
    embedding_path=snakemake.input.get("embedding"),
    embedding_sizes=snakemake.params.embedding_sizes,
)
