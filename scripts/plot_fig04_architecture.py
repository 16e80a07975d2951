"""Snakemake entry point: Fig. 4, the two-stage architecture drawn from the config."""

from virialff.logs import setup_logging
from virialff.plots.architecture import draw_architecture
from virialff.plots.style import apply_theme, save_figure

log = setup_logging(snakemake.log[0], "virialff.plots")
apply_theme()
training = snakemake.params.training
fig = draw_architecture(training["embedding"], training["potential"],
                        n_elements=len(snakemake.params.elements))
save_figure(fig, snakemake.output.png)
log.info("wrote %s and %s", snakemake.output.png, snakemake.output.pdf)
