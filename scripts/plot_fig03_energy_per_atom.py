"""Snakemake entry point: Fig. 3, total DFT energy per atom, by split."""

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.dataset import plot_energy_per_atom
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
table = pd.read_csv(snakemake.input.descriptors, keep_default_na=False)
save_figure(plot_energy_per_atom(table, snakemake.params.run_label), snakemake.output.png)
log.info("wrote %s and its PDF from %d molecules", snakemake.output.png, len(table))
