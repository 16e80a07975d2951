"""Snakemake script: test-set predictions and metrics of a stage-2 model (rule evaluate_model)."""

import json
import logging

from virialff.logs import setup_logging
from virialff.train.evaluate import evaluate_model

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
metrics = evaluate_model(
    model_path=snakemake.input.model,
    dataset_path=snakemake.input.dataset,
    predictions_csv=snakemake.output.predictions,
    metrics_json=snakemake.output.metrics,
    run_name=snakemake.params.run_name,
    data_scale=snakemake.params.data_scale,
    device=snakemake.resources.device,
    split="test",
)
logging.getLogger("virialff.train").info("metrics: %s", json.dumps(metrics))
