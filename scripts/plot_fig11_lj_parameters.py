"""Snakemake entry point: Fig. 11, distributions of the LJ σ and ε from the predicted C0, C1."""

from pathlib import Path

import pandas as pd
import yaml

from virialff.logs import setup_logging
from virialff.plots.evaluation import draw_lj_parameters
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
pairs = pd.read_csv(snakemake.input.parameters)
typical = yaml.safe_load(Path(snakemake.input.typical).read_text())
save_figure(draw_lj_parameters(pairs, typical), snakemake.output.png)
log.info("fig11: %d pairs", len(pairs))
