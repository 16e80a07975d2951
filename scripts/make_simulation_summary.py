"""Snakemake entry point: the simulation check and test-split errors of every simulated model
in one file and one table, and the force fields' checks beside them in the file (rule
``simulation_summary``; :mod:`virialff.evaluate.simulation`)."""

import json
from pathlib import Path

import pandas as pd

from virialff.evaluate.metrics import json_ready
from virialff.evaluate.simulation import ABLATION_COLUMNS, ablation_markdown, ablation_rows
from virialff.formats.model_file import read_model_file
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
models = list(snakemake.params.models)
simulations = {name: json.loads(Path(path).read_text())
               for name, path in zip(models, snakemake.input.simulations, strict=True)}
metrics = {name: json.loads(Path(path).read_text())
           for name, path in zip(models, snakemake.input.metrics, strict=True)}
weights = {}
for name in models:
    payload = read_model_file(simulations[name]["model"])
    selection = payload.get("force_weight_selection")
    weights[name] = (selection["chosen"] if selection
                     else payload["config"].get("training", {}).get("force_weight") or None)
rows = ablation_rows(simulations, metrics, weights)
force_fields = list(snakemake.params.force_fields)
ff_simulations = {name: json.loads(Path(path).read_text())
                  for name, path in zip(force_fields, snakemake.input.force_fields, strict=True)}
force_field_rows = ablation_rows(ff_simulations, {}, {})
settings = simulations[models[0]]["settings"]
Path(snakemake.output.csv).parent.mkdir(parents=True, exist_ok=True)
pd.DataFrame(rows, columns=list(ABLATION_COLUMNS)).to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.md).write_text(
    ablation_markdown(rows, settings["md_time_ps"], settings["temperature_k"]))
Path(snakemake.output.summary).write_text(json.dumps(json_ready(
    {"models": models, "settings": settings, "rows": rows,
     "force_fields": force_fields, "force_field_rows": force_field_rows,
     "by_model": {name: simulation["summary"]
                  for name, simulation in {**simulations, **ff_simulations}.items()}}),
    indent=1) + "\n")
log.info("forces ablation:\n%s", pd.DataFrame(rows).to_string(index=False))
log.info("force fields:\n%s", pd.DataFrame(force_field_rows).to_string(index=False))
