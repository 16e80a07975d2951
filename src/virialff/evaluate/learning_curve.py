"""Learning curves: test MAE against the number of training compounds, with and without K·D
pretraining, over several seeds, and what they say (power-law slope, pretraining gap,
extrapolation to the paper's 227,613 training molecules).

The test MAE of a model trained on N compounds is assumed to follow MAE ≈ a·N^s on log–log
axes (s < 0); :func:`fit_power_law` fits log10 MAE on log10 N by least squares over every
(size, seed) point and gives s with its standard error. The pretraining gap at each size is the
ratio MAE(scratch)/MAE(pretrained) averaged over seeds; :func:`pretraining_gap` reports the
geometric mean over sizes with its standard error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

#: training molecules of the paper (Terets' & Nikolayenko 2026, section 3).
PAPER_TRAINING_MOLECULES = 227_613


def learning_curve_sizes(n_compounds: int, min_compounds: int, n_sizes: int) -> list[int]:
    """``n_sizes`` training-set sizes, log-spaced from ``min_compounds`` (or all, if fewer) to
    ``n_compounds``, increasing and distinct (fewer when the range is too narrow)."""
    if n_compounds < 1:
        raise ValueError("the training split is empty")
    low = min(min_compounds, n_compounds)
    sizes = np.unique(np.round(np.geomspace(low, n_compounds, n_sizes)).astype(int))
    return [int(n) for n in sizes]


@dataclass(frozen=True)
class PowerLaw:
    """log10 MAE = intercept + slope · log10 N, with the slope's standard error."""

    slope: float
    slope_standard_error: float
    intercept: float
    n_points: int

    def predict(self, n_compounds: float) -> float:
        """MAE (kcal/mol) at ``n_compounds``."""
        return float(10 ** (self.intercept + self.slope * np.log10(n_compounds)))


def fit_power_law(sizes: Sequence[float], maes_kcal_mol: Sequence[float]) -> PowerLaw:
    """Least-squares line through (log10 N, log10 MAE); at least 3 points."""
    x = np.log10(np.asarray(sizes, dtype=float))
    y = np.log10(np.asarray(maes_kcal_mol, dtype=float))
    if x.size < 3 or np.ptp(x) == 0:
        raise ValueError("a power-law fit needs at least 3 points at 2 or more sizes")
    design = np.vstack([np.ones_like(x), x]).T
    (intercept, slope), *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ np.array([intercept, slope])
    variance = float(residual @ residual) / max(x.size - 2, 1)
    covariance = variance * np.linalg.inv(design.T @ design)
    return PowerLaw(float(slope), float(np.sqrt(covariance[1, 1])), float(intercept), int(x.size))


def pretraining_gap(points: Iterable[dict]) -> dict:
    """Ratio MAE(scratch)/MAE(pretrained) per size (mean over the seeds both have) and its
    geometric mean over sizes with a standard error (of the mean log ratio).

    ``points``: dicts with ``size``, ``seed``, ``variant`` (``pretrained``/``scratch``),
    ``mae_kcal_mol`` of one target.
    """
    table: dict[tuple[int, int], dict[str, float]] = {}
    for p in points:
        table.setdefault((int(p["size"]), int(p["seed"])), {})[p["variant"]] = p["mae_kcal_mol"]
    per_size: dict[int, list[float]] = {}
    for (size, _), values in sorted(table.items()):
        if {"pretrained", "scratch"} <= set(values):
            per_size.setdefault(size, []).append(np.log(values["scratch"] / values["pretrained"]))
    if not per_size:
        return {"n_sizes": 0, "ratio_by_size": {}, "geometric_mean_ratio": float("nan"),
                "ratio_standard_error": float("nan")}
    logs = np.array([np.mean(v) for v in per_size.values()])
    se = float(np.std(logs, ddof=1) / np.sqrt(logs.size)) if logs.size > 1 else float("nan")
    mean = float(np.mean(logs))
    return {
        "n_sizes": int(logs.size),
        "ratio_by_size": {str(k): float(np.exp(np.mean(v))) for k, v in per_size.items()},
        "geometric_mean_ratio": float(np.exp(mean)),
        # delta method: se of exp(mean log) ≈ exp(mean) · se(mean log)
        "ratio_standard_error": float(np.exp(mean) * se),
    }


def summarise_learning_curve(points: Sequence[dict],
                             extrapolate_to: int = PAPER_TRAINING_MOLECULES) -> dict:
    """Everything the paper quotes about the learning curves, per target.

    ``points``: dicts with ``target``, ``variant``, ``size``, ``seed``, ``mae_kcal_mol``.
    Returns ``{target: {"points": [{variant, size, n_seeds, mae_mean, mae_std}], "fits":
    {variant: {slope, slope_standard_error, intercept, extrapolated_mae_kcal_mol}},
    "pretraining_gap": {...}}}``.
    """
    out: dict[str, dict] = {}
    for target in sorted({p["target"] for p in points}):
        mine = [p for p in points if p["target"] == target]
        summary: dict = {"points": [], "fits": {}}
        for variant in sorted({p["variant"] for p in mine}):
            rows = [p for p in mine if p["variant"] == variant]
            for size in sorted({int(p["size"]) for p in rows}):
                values = [p["mae_kcal_mol"] for p in rows if int(p["size"]) == size]
                summary["points"].append({
                    "variant": variant, "size": size, "n_seeds": len(values),
                    "mae_mean_kcal_mol": float(np.mean(values)),
                    "mae_std_kcal_mol": float(np.std(values, ddof=1)) if len(values) > 1
                    else 0.0})
            try:
                law = fit_power_law([p["size"] for p in rows], [p["mae_kcal_mol"] for p in rows])
            except ValueError as error:
                summary["fits"][variant] = {"error": str(error)}
                continue
            summary["fits"][variant] = {
                "slope": law.slope, "slope_standard_error": law.slope_standard_error,
                "intercept": law.intercept, "n_points": law.n_points,
                "extrapolated_to": extrapolate_to,
                "extrapolated_mae_kcal_mol": law.predict(extrapolate_to)}
        summary["pretraining_gap"] = pretraining_gap(mine)
        out[target] = summary
    return out
