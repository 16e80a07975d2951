"""Snakemake script: Fig. 14, learning curves with and without K·D pretraining."""

import json

from virialff.plots.style import apply_theme, save_figure
from virialff.plots.training import learning_curve_figure
from virialff.train.runtime import setup_script

snakemake = globals()["snakemake"]
setup_script(snakemake.log[0])
apply_theme()
with open(snakemake.input.metrics) as handle:
    metrics = json.load(handle)
save_figure(learning_curve_figure(metrics, snakemake.params.run_label), snakemake.output.png)
