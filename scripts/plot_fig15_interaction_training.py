"""Snakemake script: Fig. 15, the interaction-trained model beside the paper-faithful one
(rule plot_fig15; :func:`virialff.plots.interactions.draw_interaction_training`)."""

import json
from pathlib import Path

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.interactions import draw_interaction_training
from virialff.plots.style import apply_theme, save_figure

snakemake = globals()["snakemake"]
log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
selection = json.loads(Path(snakemake.input.selection).read_text())
metrics = json.loads(Path(snakemake.input.metrics).read_text())
table = pd.read_csv(snakemake.input.table)
figure = draw_interaction_training(selection, table, metrics, snakemake.params.run_label)
save_figure(figure, snakemake.output.png)
log.info("fig15: chosen weight %s, goals %s", selection["chosen_weight"], metrics["goals"])
