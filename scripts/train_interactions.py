"""Snakemake script: stage 3, the stage-2 total model fine-tuned on dimer interaction energies
(rule train_interactions; :func:`virialff.train.interactions.train_interactions`)."""

import json
import logging

from virialff.logs import setup_logging
from virialff.train.interactions import train_interactions

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
selection = train_interactions(
    dataset_path=snakemake.input.dataset,
    dimers_path=snakemake.input.dimers,
    model_path=snakemake.input.model,
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    selection_path=snakemake.output.selection,
    settings=snakemake.params.interactions,
    seed=snakemake.params.seed,
    device=snakemake.resources.device,
)
logging.getLogger("virialff.train").info(
    "chosen weight %s: %s", selection["chosen_weight"], json.dumps(selection["runs"]))
