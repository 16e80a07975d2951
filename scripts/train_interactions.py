"""Snakemake script: stage 3, the stage-2 total model fine-tuned on dimer interaction energies
(rule train_interactions; :func:`virialff.train.interactions.train_interactions`)."""

import json
import logging

from virialff.train.interactions import train_interactions
from virialff.train.runtime import setup_script

snakemake = globals()["snakemake"]
setup_script(snakemake.log[0], snakemake.threads)
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
