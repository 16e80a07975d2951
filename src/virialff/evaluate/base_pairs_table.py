"""Table 1: interaction energies of the Watson–Crick base pairs by method.

``results/tables/table01_base_pairs.csv``: columns ``pair``, ``reference`` and one per method of
:data:`~virialff.evaluate.methods.TABLE01_METHODS` (the paper's ``virialff``, ``ani1x``,
``gfn2_xtb``, ``mmff94``, then ``gaff2`` and ``gbffs``; kcal/mol, 2 decimals,
E_int = E_A + E_B − E_AB, positive = bound); an unavailable method's cells read
``not available``. The ``.md`` has display labels,
the reference's citation, the reasons for unavailable methods and the run name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from virialff.evaluate.methods import TABLE01_METHODS, method_label

PAIR_LABELS = {"A-T": "A–T", "G-C": "G–C"}


def build_table01(combined: pd.DataFrame, metrics: dict) -> pd.DataFrame:
    """The table as strings (rows A–T, G–C) from ``interaction_energies.csv`` and the metrics."""
    rows = []
    for _, row in combined.iterrows():
        out = {"pair": PAIR_LABELS.get(row["system_id"], row["system_id"]),
               "reference": f"{row['reference']:.1f}"}
        for method in TABLE01_METHODS:
            entry = metrics["methods"].get(method, {"available": False})
            value = row.get(method, np.nan)
            if not entry.get("available"):
                out[method] = "not available"
            elif value is None or not np.isfinite(value):
                out[method] = "failed"
            else:
                out[method] = f"{value:.2f}"
        rows.append(out)
    return pd.DataFrame(rows, columns=["pair", "reference", *TABLE01_METHODS])


def table01_markdown(table: pd.DataFrame, metrics: dict, reference: dict) -> str:
    """Markdown version with labels, citation, footnotes and the run name."""
    headers = ["Pair", "Reference [a]"] + [method_label(m) for m in TABLE01_METHODS]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for _, row in table.iterrows():
        lines.append("| " + " | ".join([row["pair"], row["reference"]]
                                       + [row[m] for m in TABLE01_METHODS]) + " |")
    notes = [
        "",
        "Interaction energies in kcal/mol, E_int = E_A + E_B − E_AB (positive = bound), "
        "GFN2-xTB geometries of the complex and of each base (paper Eq. 25).",
        f"[a] {reference['citation']}.",
    ]
    for method in TABLE01_METHODS:
        entry = metrics["methods"].get(method, {})
        if not entry.get("available"):
            notes.append(f"{method_label(method)}: not available: {entry.get('reason')}.")
        elif entry.get("mae_kcal_mol") is not None:
            notes.append(f"{method_label(method)}: MAE {entry['mae_kcal_mol']:.2f} kcal/mol vs "
                         "reference.")
    notes.append(f"Run {metrics['run_name']} ({metrics['data_scale']}).")
    return "\n".join(lines + notes) + "\n"
