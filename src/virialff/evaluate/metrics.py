"""Error statistics and the benchmark metrics files.

Files: ``results/metrics/{s66,base_pairs,conformers}.json``.

Format (docs/data-formats.md, "Benchmarks")::

    {"run_name", "data_scale", "benchmark", "n", "mae_kcal_mol", "rmse_kcal_mol",   # this model
     "reference": "...",  "sign_convention": "...",
     "methods": {key: {"available", "reason", "n", "mae_kcal_mol", "rmse_kcal_mol", ...}}}

Errors are ``predicted − reference`` in kcal/mol over the items where both are finite.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

SIGN_CONVENTION = ("interaction energy E_int = E_monomer1 + E_monomer2 - E_complex "
                   "(kcal/mol; positive = bound), the paper's Eq. 25")


def error_stats(predicted, reference) -> dict:  # noqa: ANN001
    """``{"n", "mae_kcal_mol", "rmse_kcal_mol", "max_abs_error_kcal_mol", "mean_error_kcal_mol"}``.

    Args:
        predicted: [N] values (NaN = missing).
        reference: [N] values (NaN = missing).
    """
    p = np.asarray(predicted, dtype=float)
    r = np.asarray(reference, dtype=float)
    mask = np.isfinite(p) & np.isfinite(r)
    n = int(mask.sum())
    if n == 0:
        return {"n": 0, "mae_kcal_mol": None, "rmse_kcal_mol": None,
                "max_abs_error_kcal_mol": None, "mean_error_kcal_mol": None}
    err = p[mask] - r[mask]
    return {
        "n": n,
        "mae_kcal_mol": float(np.mean(np.abs(err))),
        "rmse_kcal_mol": float(np.sqrt(np.mean(err ** 2))),
        "max_abs_error_kcal_mol": float(np.max(np.abs(err))),
        "mean_error_kcal_mol": float(np.mean(err)),
    }


def method_entry(available: bool, reason: str | None, predicted=None, reference=None,  # noqa: ANN001
                 **extra) -> dict:  # noqa: ANN003
    """One ``methods[key]`` entry; an unavailable method gets ``n = 0`` and null errors."""
    if available and predicted is not None:
        stats = error_stats(predicted, reference)
    else:
        stats = error_stats([], [])
    return {"available": bool(available), "reason": reason or None, **stats, **extra}


def json_ready(value):  # noqa: ANN001, ANN201
    """``value`` for strict JSON: NaN/inf → None, NumPy scalars → Python, recursively."""
    if isinstance(value, dict):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return None if not math.isfinite(float(value)) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def write_metrics(path: Path | str, *, run_name: str, data_scale: str, benchmark: str,
                  methods: dict[str, dict], sign_convention: str | None = SIGN_CONVENTION,
                  **extra) -> dict:  # noqa: ANN003
    """Write a benchmark metrics file; top-level n/MAE/RMSE are this model's (``virialff``).

    ``sign_convention`` (interaction benchmarks) is omitted when ``None`` (conformers).
    """
    own = methods.get("virialff") or method_entry(False, "not run")
    payload = {
        "run_name": run_name, "data_scale": data_scale, "benchmark": benchmark,
        "n": own["n"], "mae_kcal_mol": own["mae_kcal_mol"], "rmse_kcal_mol": own["rmse_kcal_mol"],
        **({"sign_convention": sign_convention} if sign_convention else {}),
        **extra, "methods": methods,
    }
    payload = json_ready(payload)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return payload
