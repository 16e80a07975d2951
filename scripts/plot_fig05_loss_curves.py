"""Snakemake script: Fig. 5, loss curves of the three trainings (reads history CSVs only)."""

import pandas as pd

from virialff.logs import setup_logging
from virialff.plots.style import save_figure
from virialff.plots.training import loss_curves_figure

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
histories = {name: pd.read_csv(snakemake.input[name]) for name in ("embedding", "kinetic", "total")}
scratch = pd.read_csv(snakemake.input.scratch) if hasattr(snakemake.input, "scratch") else None
figure = loss_curves_figure(histories, scratch=scratch, run_label=snakemake.params.run_label)
save_figure(figure, snakemake.output.png)
