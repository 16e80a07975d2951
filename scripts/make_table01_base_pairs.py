"""Snakemake entry point: Table 1, A–T and G–C interaction energies (rule ``make_table01``).

Columns: reference (data/references/mo2006_base_pairs.yaml), this model, ANI, GFN2-xTB,
MMFF94, GAFF2/AM1-BCC, GB-FFs (kcal/mol, E_int = E_A + E_B − E_AB, positive = bound). An
unavailable method's column says "not available" and the reason is a footnote.
"""

import json
from pathlib import Path

import pandas as pd
import yaml

from virialff.evaluate.base_pairs_table import build_table01, table01_markdown
from virialff.logs import setup_logging

log = setup_logging(snakemake.log[0], "virialff.evaluate")
combined = pd.read_csv(snakemake.input.table)
metrics = json.loads(Path(snakemake.input.metrics).read_text())
reference = yaml.safe_load(Path(snakemake.input.reference).read_text())
table = build_table01(combined, metrics)
Path(snakemake.output.csv).parent.mkdir(parents=True, exist_ok=True)
table.to_csv(snakemake.output.csv, index=False)
Path(snakemake.output.md).write_text(table01_markdown(table, metrics, reference))
log.info("table01:\n%s", table.to_string(index=False))
