"""Fig. 15: the model fine-tuned on dimer interaction energies beside the paper-faithful one.

(a) validation E_int MAE of the SSI/BBI validation dimers per fine-tuning epoch, one line per
loss weight (epoch 0 = the stage-2 model), with the molecular test MAE of the chosen run;
(b) S66 E_int of both models against CCSD(T)/CBS at the reference geometries;
(c) RMSE (MAE for the base pairs and the molecular test set) of both models on every
benchmark, the baselines as markers where they ran.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from virialff.plots.style import METHOD_LABELS, METHOD_PALETTE

MODEL_COLORS = {"virialff": METHOD_PALETTE["virialff"], "virialff_interactions": "#D55E00"}
MODEL_LABELS = {"virialff": "paper-faithful (molecules only)",
                "virialff_interactions": "+ SSI/BBI interaction training"}
BASELINE_MARKERS = {"gfn2_xtb": "o", "ani1x": "s", "ani2x": "s", "mmff94": "D"}
#: panel (c): metrics block → (label, statistic)
BENCHMARK_BARS: tuple[tuple[str, str, str], ...] = (
    ("s66_vs_ccsdt_cbs", "S66 vs\nCCSD(T)/CBS\nref. geom.", "rmse_kcal_mol"),
    ("s66_vs_dft_cp", "S66 vs\nDFT-CP\nxTB geom.", "rmse_kcal_mol"),
    ("base_pairs", "A–T, G–C\n(MAE)", "mae_kcal_mol"),
    ("conformers", "conformer\nrelative\nenergies", "rmse_kcal_mol"),
)


def _value(entry: dict | None, key: str) -> float:
    value = (entry or {}).get(key)
    return float("nan") if value is None else float(value)


def _label(method: str) -> str:
    return MODEL_LABELS.get(method) or METHOD_LABELS.get(method, method)


def draw_training_curves(ax, selection: dict) -> None:  # noqa: ANN001 - matplotlib Axes
    """Panel (a): validation E_int MAE per epoch for every loss weight (epoch 0: the stage-2
    model the runs start from, with neutral monomers when the stage makes them so)."""
    initial = selection["initial"]["val_interaction_mae_kcal_mol"]
    start = selection.get("epoch_0", selection["initial"])["val_interaction_mae_kcal_mol"]
    chosen = selection["chosen_weight"]
    weights = sorted(selection["histories"], key=float)
    shades = plt.get_cmap("Oranges")(np.linspace(0.45, 0.9, max(len(weights), 1)))
    for shade, weight in zip(shades, weights, strict=True):
        history = pd.DataFrame(selection["histories"][weight])
        epochs = np.concatenate([[0], history["epoch"].to_numpy()])
        values = np.concatenate([[start], history["val_loss"].to_numpy()])
        is_chosen = math.isclose(float(weight), float(chosen))
        ax.plot(epochs, values, color=shade, lw=2.2 if is_chosen else 1.2,
                label=f"w = {weight}" + (" (chosen)" if is_chosen else ""))
    ax.axhline(initial, color=MODEL_COLORS["virialff"], ls=":", lw=1,
               label="stage-2 model as trained")
    ax.set_xlabel("fine-tuning epoch")
    ax.set_ylabel("validation E$_{int}$ MAE (kcal/mol)")
    ax.set_title("(a) SSI/BBI validation dimers", loc="left")
    history = pd.DataFrame(selection["histories"].get(f"{chosen:g}", []))
    if len(history) and history["test_loss"].notna().any():
        twin = ax.twinx()
        twin.plot(history["epoch"], history["test_loss"], color="grey", ls="--", lw=1,
                  label="molecular test MAE")
        twin.set_ylabel("molecular test MAE, chosen w (kcal/mol)", color="grey")
        twin.tick_params(axis="y", colors="grey")
        twin.spines["right"].set_visible(True)
    ax.legend(fontsize=7, loc="center right")


def draw_s66_parity(ax, table: pd.DataFrame, metrics: dict) -> None:  # noqa: ANN001
    """Panel (b): both models' S66 E_int against CCSD(T)/CBS at the reference geometries."""
    block = metrics["s66_vs_ccsdt_cbs"]["methods"]
    reference = table["ccsdt_cbs"].to_numpy(dtype=float)
    values = [reference]
    for method in MODEL_COLORS:
        column = f"{method}@reference"
        if column not in table:
            continue
        predicted = table[column].to_numpy(dtype=float)
        values.append(predicted)
        entry = block.get(method, {})
        ax.scatter(reference, predicted, s=16, alpha=0.8, color=MODEL_COLORS[method],
                   label=f"{_label(method)}: RMSE {_value(entry, 'rmse_kcal_mol'):.2f}")
    finite = np.concatenate([v[np.isfinite(v)] for v in values])
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.05 * (high - low or 1.0)
    ax.plot([low - pad, high + pad], [low - pad, high + pad], color="black", lw=0.8)
    ax.set_xlabel("CCSD(T)/CBS E$_{int}$ (kcal/mol)")
    ax.set_ylabel("predicted E$_{int}$ (kcal/mol)")
    ax.set_title("(b) S66 at the reference geometries", loc="left")
    ax.legend(fontsize=7, loc="upper left")


def draw_benchmark_bars(ax, metrics: dict) -> None:  # noqa: ANN001
    """Panel (c): both models on every benchmark, baselines as markers."""
    groups = [(label, metrics[block]["methods"], stat) for block, label, stat in BENCHMARK_BARS]
    molecular = metrics.get("molecular_test", {})
    groups.append(("molecular test\n(MAE)", molecular, "mae_kcal_mol"))
    x = np.arange(len(groups))
    width = 0.36
    for offset, method in zip((-width / 2, width / 2), MODEL_COLORS, strict=True):
        heights = [_value(entries.get(method), stat) for _, entries, stat in groups]
        ax.bar(x + offset, heights, width, color=MODEL_COLORS[method], label=_label(method))
    for method, marker in BASELINE_MARKERS.items():
        points = [(i, _value(entries.get(method), stat))
                  for i, (_, entries, stat) in enumerate(groups)
                  if (entries.get(method) or {}).get("available")]
        points = [(i, v) for i, v in points if math.isfinite(v)]
        if points:
            xs, ys = zip(*points, strict=True)
            ax.scatter(xs, ys, marker=marker, s=30, zorder=3, edgecolor="black", linewidth=0.5,
                       color=METHOD_PALETTE.get(method, "grey"), label=_label(method))
    ax.set_xticks(x, [label for label, _, _ in groups], fontsize=7)
    ax.set_ylabel("error (kcal/mol)")
    ax.set_title("(c) every benchmark (RMSE unless marked)", loc="left")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)


def draw_interaction_training(selection: dict, table: pd.DataFrame, metrics: dict,
                              run_label: str = ""):  # noqa: ANN201 - matplotlib Figure
    """The three panels of Fig. 15 in one figure."""
    fig, axes = plt.subplots(1, 3, figsize=(16.5, 5.0), width_ratios=(1.0, 1.0, 1.25))
    draw_training_curves(axes[0], selection)
    draw_s66_parity(axes[1], table, metrics)
    draw_benchmark_bars(axes[2], metrics)
    if run_label:
        fig.text(0.995, 0.005, run_label, ha="right", va="bottom", fontsize=7, color="grey")
    fig.tight_layout()
    return fig
