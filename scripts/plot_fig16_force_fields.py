"""Snakemake entry point: Fig. 16, GB-FFs and GAFF2/AM1-BCC beside this model on S66, the
conformers and the simulation check (:mod:`virialff.plots.force_fields`)."""

import json
from pathlib import Path

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.force_fields import draw_force_field_comparison
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
simulations = {name: json.loads(Path(path).read_text())
               for name, path in zip(snakemake.params.simulated, snakemake.input.simulations,
                                     strict=True)}
fig = draw_force_field_comparison(
    pd.read_csv(snakemake.input.s66_table),
    json.loads(Path(snakemake.input.s66_metrics).read_text()),
    pd.read_csv(snakemake.input.relative),
    json.loads(Path(snakemake.input.conformer_metrics).read_text()),
    simulations,
    methods=snakemake.params.methods,
)
save_figure(fig, snakemake.output.png)
log.info("fig16: %s", ", ".join(snakemake.params.methods))
