"""The one plotting style of virialff: seaborn theme, method and split palettes, saving.

Every figure script calls :func:`apply_theme` and saves through :func:`save_figure`, which
writes a 300 dpi PNG and a vector PDF beside it.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from virialff.evaluate.methods import METHOD_LABELS, METHOD_PALETTE, method_label  # noqa: E402

__all__ = ["METHOD_LABELS", "METHOD_PALETTE", "method_label"]
SPLIT_ORDER: tuple[str, ...] = ("train", "val", "test")
SPLIT_LABELS: dict[str, str] = {"train": "training", "val": "validation", "test": "test"}
SPLIT_PALETTE: dict[str, str] = {"train": "#0072B2", "val": "#E69F00", "test": "#009E73"}
DPI = 300


def apply_theme() -> None:
    """Set the shared seaborn theme; call once at the top of every figure script."""
    sns.set_theme(context="paper", style="ticks", font_scale=1.1)
    plt.rcParams.update({
        "figure.dpi": 100,
        "savefig.dpi": DPI,
        "savefig.bbox": "tight",
        "axes.spines.top": False,
        "axes.spines.right": False,
        "pdf.fonttype": 42,
    })


def method_color(method: str) -> str:
    """Colour of a method key from :data:`METHOD_PALETTE`."""
    return METHOD_PALETTE[method]


def save_figure(fig, png_path: str | Path) -> None:  # noqa: ANN001 - matplotlib Figure
    """Write ``png_path`` at 300 dpi and a vector PDF with the same stem beside it."""
    png_path = Path(png_path)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, dpi=DPI)
    fig.savefig(png_path.with_suffix(".pdf"))
    plt.close(fig)


def annotate_errors(ax, mae: float, rmse: float, n: int, loc: str = "upper left") -> None:  # noqa: ANN001
    """Write MAE, RMSE (kcal/mol) and N into a panel corner."""
    x, ha = (0.03, "left") if "left" in loc else (0.97, "right")
    y, va = (0.97, "top") if "upper" in loc else (0.03, "bottom")
    ax.text(
        x, y, f"MAE {mae:.2f} kcal/mol\nRMSE {rmse:.2f} kcal/mol\nN = {n}",
        transform=ax.transAxes, ha=ha, va=va, fontsize=8,
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0.5},
    )


def unavailable_panel(ax, title: str, reason: str) -> None:  # noqa: ANN001
    """Mark a panel whose method could not run, with the reason (nothing is faked)."""
    message_panel(ax, title, f"not available:\n{reason}")


def message_panel(ax, title: str, message: str) -> None:  # noqa: ANN001
    """A panel with no data, only ``message`` (e.g. "not covered by ANI-1x: ...")."""
    ax.set_title(title)
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=8,
            wrap=True)
    ax.set_xticks([])
    ax.set_yticks([])


def identity_line(ax, values) -> None:  # noqa: ANN001 - a matplotlib Axes, numbers
    """The y = x line of a parity plot over the finite ``values``, with equal axis limits
    padded by 5 % of their range."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=float)
    if finite.size == 0:
        return
    lo, hi = float(finite.min()), float(finite.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.5", lw=0.8, ls="--", zorder=0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
