"""Figures of the training stage: loss curves (Fig. 5) and test-set parity plots (Figs. 6, 7).

The functions only read the CSV/JSON files the training rules write
(docs/data-formats.md) and return matplotlib figures; scripts save them with
:func:`virialff.plots.style.save_figure`.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from virialff.plots.style import SPLIT_PALETTE, annotate_errors, apply_theme, method_color

PANEL_TITLES: dict[str, str] = {
    "embedding": "(a) embeddings (K·D)",
    "kinetic": "(b) kinetic energy",
    "total": "(c) total energy",
}


def _plot_history(ax, history: pd.DataFrame, label_suffix: str = "", linestyle: str = "-") -> None:  # noqa: ANN001
    for split in ("train", "test"):
        column = f"{split}_loss"
        if column in history and history[column].notna().any():
            ax.plot(
                history["epoch"],
                history[column],
                color=SPLIT_PALETTE[split],
                linestyle=linestyle,
                label=f"{'training' if split == 'train' else 'test'}{label_suffix}",
                linewidth=1.2,
            )


def loss_curves_figure(
    histories: dict[str, pd.DataFrame],
    scratch: pd.DataFrame | None = None,
    run_label: str = "",
) -> plt.Figure:
    """Three panels of MAE (kcal/mol, log scale) vs epoch: embeddings, kinetic, total.

    ``scratch`` (the total-energy model trained without K·D pretraining) is drawn dashed in
    panel (c) when given.
    """
    apply_theme()
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), constrained_layout=True)
    for ax, name in zip(axes, ("embedding", "kinetic", "total"), strict=True):
        _plot_history(ax, histories[name])
        if name == "total" and scratch is not None:
            _plot_history(ax, scratch, label_suffix=", no pretraining", linestyle="--")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(PANEL_TITLES[name], loc="left")
        ax.legend(frameon=False, fontsize=7)
    axes[0].set_ylabel("MAE (kcal/mol)")
    if run_label:
        fig.suptitle(run_label, fontsize=8, x=0.99, ha="right")
    return fig


def parity_figure(
    predictions: pd.DataFrame, metrics: dict, quantity: str, run_label: str = ""
) -> plt.Figure:
    """(a) predicted vs reference with the identity line, (b) histogram of errors (kcal/mol)."""
    apply_theme()
    fig, (ax_parity, ax_hist) = plt.subplots(1, 2, figsize=(8.5, 3.8), constrained_layout=True)
    reference = predictions["reference_kcal_mol"].to_numpy()
    predicted = predictions["predicted_kcal_mol"].to_numpy()
    errors = predictions["error_kcal_mol"].to_numpy()
    color = method_color("virialff")
    ax_parity.scatter(reference, predicted, s=8, alpha=0.6, color=color, edgecolor="none")
    if reference.size:
        low = float(min(reference.min(), predicted.min()))
        high = float(max(reference.max(), predicted.max()))
        pad = 0.03 * (high - low or 1.0)
        ax_parity.plot(
            [low - pad, high + pad], [low - pad, high + pad], color="black", linewidth=0.8
        )
    ax_parity.set_xlabel(f"reference {quantity} (kcal/mol)")
    ax_parity.set_ylabel(f"predicted {quantity} (kcal/mol)")
    ax_parity.set_title("(a) test set", loc="left")
    annotate_errors(ax_parity, metrics["mae_kcal_mol"], metrics["rmse_kcal_mol"], int(metrics["n"]))
    bins = max(5, min(60, int(np.sqrt(max(errors.size, 1))) * 2))
    ax_hist.hist(errors, bins=bins, color=color, alpha=0.8)
    ax_hist.axvline(0.0, color="black", linewidth=0.8)
    ax_hist.set_xlabel("predicted − reference (kcal/mol)")
    ax_hist.set_ylabel("molecules")
    ax_hist.set_title("(b) errors", loc="left")
    if run_label:
        fig.suptitle(run_label, fontsize=8, x=0.99, ha="right")
    return fig


LEARNING_CURVE_STYLES: dict[str, dict] = {
    "pretrained": {"label": "with K·D pretraining", "color": "#0072B2", "marker": "o"},
    "scratch": {"label": "embeddings from scratch", "color": "#D55E00", "marker": "s"},
}


def learning_curve_figure(metrics: dict, run_label: str = ""):  # noqa: ANN201 - Figure
    """Fig. 14: test MAE against training compounds on log–log axes, one panel per target,
    mean ± standard deviation over seeds, with the fitted power laws (from
    ``results/metrics/learning_curve.json``)."""
    targets = [t for t in ("total", "kinetic") if t in metrics["targets"]]
    fig, axes = plt.subplots(1, max(len(targets), 1), figsize=(5.2 * max(len(targets), 1), 4.2),
                             squeeze=False)
    for ax, target, letter in zip(axes[0], targets, "ab", strict=False):
        summary = metrics["targets"][target]
        for variant, style in LEARNING_CURVE_STYLES.items():
            rows = [p for p in summary["points"] if p["variant"] == variant]
            if not rows:
                continue
            sizes = np.array([p["size"] for p in rows], dtype=float)
            means = np.array([p["mae_mean_kcal_mol"] for p in rows])
            spread = np.array([p["mae_std_kcal_mol"] for p in rows])
            fit = summary["fits"].get(variant, {})
            label = style["label"]
            if "slope" in fit:
                label += f" (slope {fit['slope']:.2f} ± {fit['slope_standard_error']:.2f})"
                line = np.geomspace(sizes.min(), sizes.max(), 50)
                ax.plot(line, 10 ** (fit["intercept"] + fit["slope"] * np.log10(line)),
                        color=style["color"], linestyle="--", linewidth=1)
            ax.errorbar(sizes, means, yerr=spread, color=style["color"],
                        marker=style["marker"], linestyle="none", capsize=3, label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("training compounds")
        ax.set_ylabel("test MAE (kcal/mol)")
        ax.set_title(f"({letter}) {target} energy")
        ax.legend(fontsize=8)
    if run_label:
        fig.suptitle(run_label, fontsize=9)
    fig.tight_layout()
    return fig
