"""Snakemake entry point: Fig. 1, atoms of each element per molecule, by split."""

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.dataset import element_count_table, plot_element_counts
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
table = element_count_table(pd.read_csv(snakemake.input.molecules, keep_default_na=False))
save_figure(plot_element_counts(table, snakemake.params.run_label), snakemake.output.png)
log.info("wrote %s and its PDF from %d molecules", snakemake.output.png, len(table))
