"""Snakemake entry point: Fig. 10, relative conformer energies of every method vs DFT."""

import json
from pathlib import Path

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.evaluation import draw_conformers
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
relative = pd.read_csv(snakemake.input.relative)
metrics = json.loads(Path(snakemake.input.metrics).read_text())
save_figure(draw_conformers(relative, metrics), snakemake.output.png)
log.info("fig10: %d relative energies", len(relative))
