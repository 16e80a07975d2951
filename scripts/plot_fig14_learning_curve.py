"""Snakemake script: Fig. 14, learning curves with and without K·D pretraining."""

import json

from virialff.logs import setup_logging
from virialff.plots.style import apply_theme, save_figure
from virialff.plots.training import learning_curve_figure

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
apply_theme()
with open(snakemake.input.metrics) as handle:
    metrics = json.load(handle)
save_figure(learning_curve_figure(metrics, snakemake.params.run_label), snakemake.output.png)
