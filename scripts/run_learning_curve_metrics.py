"""Snakemake script: learning-curve metrics (rule learning_curve_metrics)."""

import json
from pathlib import Path

from virialff.evaluate.learning_curve import summarise_learning_curve
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
payloads = [json.loads(Path(path).read_text()) for path in snakemake.input.points]
points = [point for payload in payloads for point in payload["points"]]
metrics = {
    "run_name": snakemake.params.run_name,
    "data_scale": snakemake.params.data_scale,
    "n_training_compounds": payloads[0]["n_training_compounds"] if payloads else 0,
    "caveat": "the reference compounds have at most 9 heavy atoms; QMugs molecules are larger",
    "points": points,
    "targets": summarise_learning_curve(points, snakemake.params.extrapolate_to),
}
Path(snakemake.output.metrics).write_text(json.dumps(metrics, indent=1) + "\n")
for target, summary in metrics["targets"].items():
    log.info("%s: fits %s, gap %s", target, summary["fits"], summary["pretraining_gap"])
