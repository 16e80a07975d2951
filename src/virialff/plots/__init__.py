"""Plotting: one shared style (:mod:`virialff.plots.style`) and one module per figure group."""
