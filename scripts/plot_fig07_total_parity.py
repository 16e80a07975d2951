"""Snakemake script: Fig. 7, total energy on the test set: parity and error histogram."""

import json

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.style import save_figure
from virialff.plots.training import parity_figure

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
predictions = pd.read_csv(snakemake.input.predictions)
with open(snakemake.input.metrics) as handle:
    metrics = json.load(handle)
figure = parity_figure(
    predictions, metrics, quantity=snakemake.params.quantity, run_label=snakemake.params.run_label
)
save_figure(figure, snakemake.output.png)
