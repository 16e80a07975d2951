"""Snakemake entry point: Fig. 13, E(r) of typical predicted pairs (C–C, C–H, O–H, N–H)."""

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.pair_potentials import attach_charges, draw_pair_potentials
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
table = pd.read_csv(snakemake.input.parameters)
if snakemake.input.get("charges"):
    table = attach_charges(table, pd.read_csv(snakemake.input.charges))
fig, with_charges = draw_pair_potentials(table, max_pairs=snakemake.params.max_pairs,
                                         seed=snakemake.params.seed)
save_figure(fig, snakemake.output.png)
log.info("fig13 from %d predicted pairs; Coulomb term included: %s", len(table), with_charges)
