"""Snakemake entry point: Fig. 12, predicted molecular and atomic charges."""

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.evaluation import draw_charges
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
charges = pd.read_csv(snakemake.input.charges)
save_figure(draw_charges(charges), snakemake.output.png)
log.info("fig12: %d atoms", len(charges))
