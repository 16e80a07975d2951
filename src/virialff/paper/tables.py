"""Turn results tables into text: Markdown tables, base-pair values, dataset counts.

The parsers are tolerant of layout (wide or long tables, method keys or display labels) but not
of content: a value that is missing or not a finite number is reported as ``not available``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from virialff.plots.style import METHOD_LABELS

#: Canonical pair labels of the DNA base-pair benchmark.
BASE_PAIRS: tuple[str, ...] = ("A-T", "G-C")
_VALUE_COLUMNS = ("e_int_kcal_mol", "interaction_energy_kcal_mol", "value", "energy_kcal_mol",
                  "value_kcal_mol")


def normalise_pair(name: Any) -> str | None:
    """``"A–T"``, ``"AT"``, ``"a_t_kcal_mol"`` → ``"A-T"``; anything else → None."""
    letters = re.sub(r"(_?kcal_?mol|e_?int_?)", "", str(name), flags=re.IGNORECASE)
    letters = re.sub(r"[^A-Za-z]", "", letters).upper()
    for pair in BASE_PAIRS:
        if letters in {pair.replace("-", ""), pair[::-1].replace("-", "")}:
            return pair
    return None


def normalise_method(name: Any) -> str | None:
    """A method key from a key or a display label (``"GFN2-xTB"`` → ``"gfn2_xtb"``)."""
    text = str(name).strip()
    if text in METHOD_LABELS:
        return text
    for key, label in METHOD_LABELS.items():
        if text.lower() == label.lower():
            return key
    low = text.lower()
    rules = (("gaff", "gaff2"), ("gb-ff", "gbffs"), ("gbff", "gbffs"),
             ("ani", "ani1x"), ("xtb", "gfn2_xtb"), ("mmff", "mmff94"), ("ref", "reference"),
             ("ccsd", "reference"), ("mo 2006", "reference"), ("wb97", "dft"), ("ωb97", "dft"),
             ("dft", "dft"), ("virialff", "virialff"), ("this model", "virialff"),
             ("ml model", "virialff"), ("model", "virialff"))
    for needle, key in rules:
        if needle in low:
            return key
    return None


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def base_pair_values(table: pd.DataFrame) -> dict[str, dict[str, float | None]]:
    """``{method_key: {"A-T": value, "G-C": value}}`` from the base-pair table, any layout.

    Layouts: one row per method with one column per pair; one row per pair with one column per
    method; or long format with ``method``, ``pair`` and a value column.
    """
    columns = {str(c).lower(): c for c in table.columns}
    method_col = next((columns[c] for c in ("method", "method_key", "key") if c in columns), None)
    pair_col = next((columns[c] for c in ("pair", "base_pair", "system") if c in columns), None)
    value_col = next((columns[c] for c in _VALUE_COLUMNS if c in columns), None)
    out: dict[str, dict[str, float | None]] = {}
    if method_col is not None and pair_col is not None and value_col is not None:
        for _, row in table.iterrows():
            key, pair = normalise_method(row[method_col]), normalise_pair(row[pair_col])
            if key and pair:
                out.setdefault(key, {})[pair] = _finite(row[value_col])
        return out
    if method_col is not None:
        pair_columns = {c: normalise_pair(c) for c in table.columns if normalise_pair(c)}
        for _, row in table.iterrows():
            key = normalise_method(row[method_col])
            if key and key not in out:
                out[key] = {pair: _finite(row[c]) for c, pair in pair_columns.items()}
        return out
    if pair_col is not None:
        method_columns = {c: normalise_method(c) for c in table.columns if c != pair_col}
        for _, row in table.iterrows():
            pair = normalise_pair(row[pair_col])
            if not pair:
                continue
            for column, key in method_columns.items():
                if key:
                    out.setdefault(key, {})[pair] = _finite(row[column])
    return out


def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]],
             align: Sequence[str] | None = None) -> str:
    """A Markdown table; ``align`` holds ``"l"`` or ``"r"`` per column (default: left)."""
    align = list(align or ["l"] * len(header))
    rule = ["---:" if a == "r" else ":---" for a in align]
    lines = ["| " + " | ".join(str(h) for h in header) + " |", "| " + " | ".join(rule) + " |"]
    for row in rows:
        cells = [str(cell).replace("|", "\\|").replace("\n", " ") for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def display_table(table: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """A copy of ``table`` for display: floats rounded, missing cells ``not available``."""
    shown = table.copy().astype(object)
    for column in shown.columns:
        shown[column] = [
            "not available" if (v is None or (isinstance(v, float) and not math.isfinite(v)))
            else (f"{v:.{digits}f}" if isinstance(v, float) else v)
            for v in table[column].tolist()
        ]
    return shown


def decimals(cell: Any) -> int:
    """Number of decimals written in a table cell (``"12.40"`` → 2, ``"7"`` → 0)."""
    text = str(cell).strip()
    return len(text.split(".", 1)[1]) if "." in text else 0


def stage_rows(summary: Mapping[str, Any]) -> list[tuple[str, Any, Any, Any, str]]:
    """(stage, seen, passed, failed, reasons) per stage of ``results/dataset/summary.json``."""
    rows = []
    for stage, entry in (summary.get("stages") or {}).items():
        if not isinstance(entry, Mapping):
            continue
        reasons = entry.get("failed_by_reason") or {}
        text = ", ".join(f"{reason} {count}" for reason, count in reasons.items()) or "none"
        rows.append((str(stage), entry.get("n_seen"), entry.get("n_ok"), entry.get("n_failed"),
                     text))
    return rows


def flatten_counts(summary: Mapping[str, Any], prefix: str = "") -> list[tuple[str, int]]:
    """Every integer leaf of a nested summary as ``("stage.key", value)`` in file order."""
    out: list[tuple[str, int]] = []
    for key, value in summary.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            out.extend(flatten_counts(value, name))
        elif isinstance(value, int) and not isinstance(value, bool):
            out.append((name, value))
    return out


def split_counts(molecules: pd.DataFrame, splits: Sequence[str] = ("train", "val", "test"),
                 group_column: str | None = None) -> dict[str, int]:
    """Rows (or distinct ``group_column`` values) per split of ``results/dataset/molecules.csv``."""
    counts = {}
    for split in splits:
        part = molecules[molecules["split"] == split]
        counts[split] = int(part[group_column].nunique() if group_column else len(part))
    return counts
