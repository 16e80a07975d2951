"""Snakemake entry point: Fig. 9, S66 interaction energies of this model and the baselines."""

import json
from pathlib import Path

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.evaluation import draw_s66_methods
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
combined = pd.read_csv(snakemake.input.table)
metrics = json.loads(Path(snakemake.input.metrics).read_text())
save_figure(draw_s66_methods(combined, metrics), snakemake.output.png)
for key, entry in metrics["methods"].items():
    log.info("fig09 %s: available=%s n=%s", key, entry["available"], entry["n"])
