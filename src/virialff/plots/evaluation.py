"""Figures 8–12: S66, conformers, LJ parameters and charges.

Every function takes the tables and metrics the workflow wrote and returns a matplotlib Figure;
the numbers written into panels come from the metrics files, never from this module.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from virialff.evaluate.methods import BENCHMARK_METHODS
from virialff.plots.style import (
    annotate_errors,
    identity_line,
    message_panel,
    method_color,
    method_label,
    unavailable_panel,
)

PANEL_LETTERS = "abcdefgh"
S66_PANEL_METHODS: tuple[str, ...] = BENCHMARK_METHODS


def _text_block(ax, lines: list[str], loc: str = "lower right") -> None:  # noqa: ANN001
    x, ha = (0.97, "right") if "right" in loc else (0.03, "left")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, "\n".join(lines), transform=ax.transAxes, ha=ha, va=va, fontsize=7,
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8, "linewidth": 0.5})


def _dft_label(metrics: dict) -> str:
    """Display name of the DFT reference recorded in a metrics file (``dft_method``)."""
    method = str(metrics.get("dft_method") or "wb97x-d/def2-svp")
    pretty = {"wb97x-d": "ωB97X-D", "def2-svp": "def2-SVP"}
    return "/".join(pretty.get(part.lower(), part) for part in method.split("/"))


def _fmt(value) -> str:  # noqa: ANN001
    return "–" if value is None else f"{value:.2f}"


def _panel_grid(n: int, max_columns: int, panel_inches: tuple[float, float]):  # noqa: ANN202
    """``(figure, [n] axes)``: ``n`` panels, at most ``max_columns`` per row, unused axes
    removed."""
    columns = min(n, max_columns)
    rows = -(-n // columns)
    fig, axes = plt.subplots(rows, columns, squeeze=False,
                             figsize=(panel_inches[0] * columns, panel_inches[1] * rows))
    flat = list(axes.flat)
    for ax in flat[n:]:
        ax.remove()
    return fig, flat[:n]


def draw_s66_dft_vs_reference(combined: pd.DataFrame, metrics: dict):  # noqa: ANN201
    """Fig. 8: DFT-CP (ωB97X-D/def2-SVP) E_int against CCSD(T)/CBS, one point per dimer.

    Args:
        combined: ``results/benchmarks/s66/interaction_energies.csv``.
        metrics: ``results/metrics/s66.json``.
    """
    fig, ax = plt.subplots(figsize=(4.2, 4.0))
    rows = combined[np.isfinite(combined["dft"])]
    ax.scatter(rows["ccsdt_cbs"], rows["dft"], s=18, color=method_color("dft"),
               edgecolor="white", linewidth=0.4, label=method_label("dft"))
    identity_line(ax, list(rows["ccsdt_cbs"]) + list(rows["dft"]))
    entry = metrics["methods"]["dft"]
    if entry["n"]:
        annotate_errors(ax, entry["mae_kcal_mol"], entry["rmse_kcal_mol"], entry["n"])
    missing = int(len(combined) - len(rows))
    if missing:
        fig.text(0.5, -0.02, f"DFT-CP not computed for {missing} of {len(combined)} dimers "
                 f"(evaluation.s66.dft_max_dimers = {metrics.get('dft_max_dimers')})",
                 ha="center", fontsize=7)
    ax.set_xlabel(r"$E_\mathrm{int}$ CCSD(T)/CBS (kcal/mol)")
    ax.set_ylabel(r"$E_\mathrm{int}$ " + _dft_label(metrics) + ", CP (kcal/mol)")
    ax.set_title(f"S66 ({metrics['run_name']}, {metrics['data_scale']})", fontsize=9)
    return fig


def draw_s66_methods(combined: pd.DataFrame, metrics: dict):  # noqa: ANN201
    """Fig. 9: each method's E_int against DFT-CP (filled) and CCSD(T)/CBS (open, all 66).

    One panel per method of the registry (:data:`S66_PANEL_METHODS`: this model, GFN2-xTB,
    ANI-1x, MMFF94, GAFF2/AM1-BCC, GB-FFs), three per row; unavailable methods say why.
    """
    fig, axes = _panel_grid(len(S66_PANEL_METHODS), 3, (3.8, 3.6))
    n_dft = int(np.isfinite(combined["dft"]).sum())
    for index, (ax, method) in enumerate(zip(axes, S66_PANEL_METHODS, strict=True)):
        title = f"({PANEL_LETTERS[index]}) {method_label(method)}"
        entry = metrics["methods"].get(method, {"available": False, "reason": "not run"})
        if not entry["available"] or method not in combined:
            unavailable_panel(ax, title, entry.get("reason") or "not run")
            continue
        colour = method_color(method)
        ax.scatter(combined["ccsdt_cbs"], combined[method], s=14, facecolor="none",
                   edgecolor="0.55", linewidth=0.7, label="vs CCSD(T)/CBS (all dimers)")
        with_dft = combined[np.isfinite(combined["dft"])]
        ax.scatter(with_dft["dft"], with_dft[method], s=20, color=colour, edgecolor="white",
                   linewidth=0.4, label=f"vs {_dft_label(metrics)} CP", zorder=3)
        identity_line(ax, list(combined["ccsdt_cbs"]) + list(combined[method])
                  + list(with_dft["dft"]))
        vs_cc = entry.get("vs_ccsdt_cbs", {})
        _text_block(ax, [
            f"vs DFT-CP: MAE {_fmt(entry['mae_kcal_mol'])}, RMSE {_fmt(entry['rmse_kcal_mol'])}"
            f" kcal/mol, N = {entry['n']}",
            f"vs CCSD(T)/CBS: MAE {_fmt(vs_cc.get('mae_kcal_mol'))}, "
            f"RMSE {_fmt(vs_cc.get('rmse_kcal_mol'))} kcal/mol, N = {vs_cc.get('n', 0)}",
        ], loc="upper left")
        if entry.get("n_failed"):
            _text_block(ax, [f"{entry['n_failed']} dimers failed"], loc="lower right")
        ax.set_title(title)
        ax.set_xlabel(r"reference $E_\mathrm{int}$ (kcal/mol)")
        ax.set_ylabel(r"predicted $E_\mathrm{int}$ (kcal/mol)")
        if index == 0:
            ax.legend(loc="lower right", fontsize=7, frameon=False)
    missing = len(combined) - n_dft
    note = (f"DFT-CP missing for {missing} of {len(combined)} dimers "
            f"(dft_max_dimers = {metrics.get('dft_max_dimers')}); open markers: all dimers vs "
            "CCSD(T)/CBS." if missing else "Open markers: all dimers vs CCSD(T)/CBS.")
    fig.text(0.5, -0.01, f"{note} Run {metrics['run_name']} ({metrics['data_scale']}).",
             ha="center", fontsize=8)
    fig.tight_layout()
    return fig


def _not_covered_line(entry: dict, method: str, n_molecules: int | None) -> str:
    """"k of n molecules (c conformers) not covered by LABEL" from a metrics entry, or ""."""
    k = entry.get("n_molecules_not_covered") or 0
    if not k:
        return ""
    of = f" of {n_molecules}" if n_molecules else ""
    return (f"{k}{of} molecule{'s' if (n_molecules or k) != 1 else ''} "
            f"({entry.get('n_conformers_not_covered')} conformers)\nnot covered by "
            f"{method_label(method)}")


def draw_conformers(relative: pd.DataFrame, metrics: dict):  # noqa: ANN201
    """Fig. 10: relative conformer energies of each method against DFT, per-method RMSE.

    A method that could not run says why; molecules a method has no parameters for (ANI-1x
    and any element but H, C, N, O) are counted in its panel as "not covered", and a panel
    where no molecule is covered says so instead of showing points.
    """
    fig, axes = _panel_grid(len(S66_PANEL_METHODS), 3, (3.6, 3.6))
    molecules = sorted(relative["molecule_id"].unique()) if len(relative) else []
    markers = "osD^vP*X"
    for index, (ax, method) in enumerate(zip(axes, S66_PANEL_METHODS, strict=True)):
        title = f"({PANEL_LETTERS[index]}) {method_label(method)}"
        entry = metrics["methods"].get(method, {"available": False, "reason": "not run"})
        rows = relative[relative["method"] == method]
        not_covered = _not_covered_line(entry, method, metrics.get("n_molecules"))
        if not entry["available"]:
            unavailable_panel(ax, title, entry.get("reason") or "not run")
            continue
        if rows.empty:
            message_panel(ax, title, not_covered or "no conformer with both energies")
            continue
        for k, molecule_id in enumerate(molecules):
            sub = rows[rows["molecule_id"] == molecule_id]
            if sub.empty:
                continue
            ax.scatter(sub["dft_relative_energy_kcal_mol"], sub["relative_energy_kcal_mol"],
                       s=18, marker=markers[k % len(markers)], color=method_color(method),
                       edgecolor="white", linewidth=0.4, label=molecule_id)
        identity_line(ax, list(rows["dft_relative_energy_kcal_mol"])
                  + list(rows["relative_energy_kcal_mol"]))
        annotate_errors(ax, entry["mae_kcal_mol"], entry["rmse_kcal_mol"], entry["n"])
        if not_covered:
            _text_block(ax, [not_covered], loc="lower right")
        ax.set_title(title)
        ax.set_xlabel(r"$E_\mathrm{rel}$ " + _dft_label(metrics) + " (kcal/mol)")
        if index % 3 == 0:
            ax.set_ylabel(r"predicted $E_\mathrm{rel}$ (kcal/mol)")
        if index == 0:
            ax.legend(loc="lower right", fontsize=6, frameon=False)
    source = "test split" if metrics.get("split") == "test" else str(metrics.get("source"))
    merged = metrics.get("n_merged_after_dft")
    fig.text(0.5, -0.02, f"{metrics.get('n_molecules')} molecules from the {source} (none in "
             f"training), {metrics.get('n_conformers')} conformers at {metrics.get('geometry')} "
             f"geometries (engine: {metrics.get('engine')}"
             + (f"; {merged} merged after the DFT optimisation" if merged else "")
             + f"); run {metrics['run_name']} ({metrics['data_scale']}).", ha="center",
             fontsize=8)
    fig.tight_layout()
    return fig


def draw_lj_parameters(pairs: pd.DataFrame, typical: dict):  # noqa: ANN201
    """Fig. 11: distributions of σ (a) and ε (b) over non-bonded pairs, GROMOS-typical marked.

    Args:
        pairs: ``results/evaluation/predicted_parameters.csv``.
        typical: ``data/references/schmid2011_gromos_lj.yaml`` (``sigma_angstrom``,
            ``epsilon_kcal_mol``).
    """
    nonbonded = pairs[~pairs["bonded"].astype(bool)]
    sigma = nonbonded["sigma_angstrom"].to_numpy(dtype=float)
    epsilon = nonbonded["epsilon_kcal_mol"].to_numpy(dtype=float)
    sigma, epsilon = sigma[np.isfinite(sigma)], epsilon[np.isfinite(epsilon) & (epsilon > 0)]
    fig, (ax_s, ax_e) = plt.subplots(1, 2, figsize=(8.0, 3.4))
    colour = method_color("virialff")
    if sigma.size:
        ax_s.hist(sigma, bins=60, color=colour, alpha=0.85)
    ax_s.axvline(typical["sigma_angstrom"], color="black", ls="--", lw=1,
                 label=f"GROMOS typical ≈ {typical['sigma_angstrom']:g} Å")
    ax_s.set_xlabel("σ = (C1/C0)^(1/6) (Å)")
    ax_s.set_ylabel("non-bonded atom pairs")
    ax_s.set_title(f"(a) σ, median {np.median(sigma):.2f} Å" if sigma.size else "(a) σ")
    ax_s.legend(fontsize=7, frameon=False)
    if epsilon.size:
        bins = np.logspace(np.log10(epsilon.min()), np.log10(epsilon.max()) + 1e-9, 60)
        ax_e.hist(epsilon, bins=bins, color=colour, alpha=0.85)
        ax_e.set_xscale("log")
    ax_e.axvline(typical["epsilon_kcal_mol"], color="black", ls="--", lw=1,
                 label=f"GROMOS typical ≈ {typical['epsilon_kcal_mol']:g} kcal/mol")
    ax_e.set_xlabel("ε = C0²/(4·C1) (kcal/mol)")
    ax_e.set_title(f"(b) ε, median {np.median(epsilon):.3g} kcal/mol" if epsilon.size
                   else "(b) ε")
    ax_e.legend(fontsize=7, frameon=False)
    n_molecules = nonbonded["molecule_id"].nunique()
    fig.text(0.5, -0.03, f"{len(nonbonded)} non-bonded pairs in {n_molecules} "
             "validation molecules", ha="center", fontsize=8)
    fig.tight_layout()
    return fig


def draw_charges(charges: pd.DataFrame):  # noqa: ANN201
    """Fig. 12: predicted total charge per molecule (a) and atomic charges by element (b)."""
    from virialff.evaluate.parameters import molecular_charges

    totals = molecular_charges(charges)["total_charge_e"].to_numpy(dtype=float)
    fig, (ax_t, ax_a) = plt.subplots(1, 2, figsize=(8.6, 3.4),
                                     gridspec_kw={"width_ratios": [1, 1.3]})
    colour = method_color("virialff")
    if totals.size and np.ptp(totals) < 1e-6 and np.abs(totals).max() < 1e-6:
        # a charge_net with an explicit neutrality constraint: every total is 0 to rounding
        ax_t.hist(np.round(totals, 6), bins=np.linspace(-0.3, 0.3, 40), color=colour,
                  alpha=0.85)
        ax_t.text(0.03, 0.97, f"|Σq| ≤ {np.abs(totals).max():.1e} e for every molecule\n"
                  "(neutral by construction)", transform=ax_t.transAxes, ha="left", va="top",
                  fontsize=7)
    elif totals.size:
        ax_t.hist(totals, bins=40, color=colour, alpha=0.85)
    ax_t.axvline(0.0, color="black", lw=0.8, ls="--")
    ax_t.set_xlabel("total predicted charge per molecule (e)")
    ax_t.set_ylabel("molecules")
    ax_t.set_title(f"(a) N = {totals.size}, |mean| {np.abs(totals).mean():.3f} e"
                   if totals.size else "(a)")
    elements = [e for e in ["H", "C", "N", "O", "F", "S", "Cl", "Br", "P"]
                if e in set(charges["element"])]
    data = [charges.loc[charges["element"] == e, "charge_e"].to_numpy(dtype=float)
            for e in elements]
    if data:
        parts = ax_a.violinplot(data, showmedians=True, widths=0.8)
        for body in parts["bodies"]:
            body.set_facecolor(colour)
            body.set_alpha(0.6)
        ax_a.set_xticks(range(1, len(elements) + 1),
                        [f"{e}\n({len(d)})" for e, d in zip(elements, data, strict=True)])
    ax_a.axhline(0.0, color="black", lw=0.8, ls="--")
    ax_a.set_ylabel("atomic charge (e)")
    ax_a.set_title("(b) atomic charges by element")
    fig.tight_layout()
    return fig
