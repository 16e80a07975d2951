"""Snakemake entry point: Fig. 8, S66 DFT-CP vs CCSD(T)/CBS interaction energies."""

import json
from pathlib import Path

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.evaluation import draw_s66_dft_vs_reference
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
combined = pd.read_csv(snakemake.input.table)
metrics = json.loads(Path(snakemake.input.metrics).read_text())
save_figure(draw_s66_dft_vs_reference(combined, metrics), snakemake.output.png)
log.info("fig08: %d dimers with DFT-CP", metrics["methods"]["dft"]["n"])
