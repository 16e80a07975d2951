"""Snakemake script: GB-FFs' charge-transfer and VdW heads fine-tuned on the SSI/BBI dimers
(rule train_gbffs_interactions; virialff.train.gbffs_interactions)."""

import json
import logging

from virialff.logs import setup_logging
from virialff.train.gbffs_interactions import train_gbffs_interactions

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
selection = train_gbffs_interactions(
    dataset_path=snakemake.input.dataset,
    dimers_path=snakemake.input.dimers,
    model_path=snakemake.input.model,
    gaff2_paths=list(snakemake.input.gaff2),
    geometry_paths=list(snakemake.input.geometries),
    output_path=snakemake.output.model,
    history_path=snakemake.output.history,
    selection_path=snakemake.output.selection,
    settings=snakemake.params.interactions,
    gbffs_settings=snakemake.params.gbffs,
    seed=snakemake.params.seed,
)
logging.getLogger("virialff.train.gbffs").info(
    "chosen weight %s: %s", selection["chosen_weight"],
    json.dumps([{k: r[k] for k in ("weight", "best_epoch", "val_interaction_mae_kcal_mol",
                                   "val_molecular_score")} for r in selection["runs"]]))
