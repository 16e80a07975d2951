"""The paper: published numbers, quoting numbers from result files, and the notebook build.

- :mod:`virialff.paper.numbers` reads metrics files, formats numbers and records where every
  quoted number came from (so a test can check each one against its file).
- :mod:`virialff.paper.published` reads ``data/published/terets2026.yaml``.
- :mod:`virialff.paper.build` executes ``paper/paper.py`` (jupytext) and writes the notebook and
  a self-contained HTML file.
"""
