"""Fig. 16: the force fields of the Amber form (GB-FFs, GAFF2/AM1-BCC) beside this model.

Three panels from the metrics files of one run: (a) S66 interaction energies against
CCSD(T)/CBS, (b) relative conformer energies against DFT, (c) the simulation check (BFGS RMSD
to the GFN2-xTB minimum per molecule; molecules whose bonds broke in the MD are counted). Every
number written into a panel comes from a metrics file; a method that did not run says why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib import pyplot as plt

from virialff.plots.style import identity_line, message_panel, method_color, method_label

#: the compared methods, in the panels' order: this model, then the two Amber-form force fields.
COMPARED: tuple[str, ...] = ("virialff", "gaff2", "gbffs")
#: the simulation check's name of each method's potential (this model: the paper-faithful one).
SIMULATED_AS: dict[str, str] = {"virialff": "total", "gaff2": "gaff2", "gbffs": "gbffs"}



def _finish_parity(ax, values: list, unavailable: list[str], title: str, xlabel: str,  # noqa: ANN001
                   ylabel: str) -> None:
    """Identity line, title, axis labels, the RMSE legend and the methods not drawn (why)."""
    identity_line(ax, values)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if values:
        ax.legend(loc="upper left", fontsize=7, frameon=False, title="RMSE (kcal/mol)",
                  title_fontsize=7)
    if unavailable:
        ax.text(0.97, 0.03, "\n".join(unavailable), transform=ax.transAxes, ha="right",
                va="bottom", fontsize=6, wrap=True)

def _fmt(value) -> str:  # noqa: ANN001
    return "–" if value is None or not np.isfinite(value) else f"{value:.2f}"


def _unavailable(entry: Mapping) -> str:
    return f"{entry.get('reason') or 'not run'}"


def draw_force_field_comparison(s66_table: pd.DataFrame, s66_metrics: Mapping,
                                relative: pd.DataFrame, conformer_metrics: Mapping,
                                simulations: Mapping[str, Mapping],
                                methods: Sequence[str] = COMPARED):  # noqa: ANN201
    """Fig. 16 (see the module docstring).

    Args:
        s66_table: ``results/benchmarks/s66/interaction_energies.csv`` (GFN2-xTB geometries;
            column ``ccsdt_cbs`` and one column per method).
        s66_metrics: ``results/metrics/s66.json`` (``methods.<key>.vs_ccsdt_cbs``).
        relative: ``results/benchmarks/conformers/relative_energies.csv``.
        conformer_metrics: ``results/metrics/conformers.json``.
        simulations: method key → ``results/metrics/simulation/<name>.json`` of its potential.
        methods: the compared method keys.
    """
    fig, (ax_s66, ax_conf, ax_sim) = plt.subplots(1, 3, figsize=(12.6, 4.0))
    lines = []
    all_values: list[float] = []
    for method in methods:
        entry = s66_metrics.get("methods", {}).get(method, {"available": False})
        if not entry.get("available") or method not in s66_table:
            lines.append(f"{method_label(method)}: not available: {_unavailable(entry)}")
            continue
        stats = entry.get("vs_ccsdt_cbs", {})
        ax_s66.scatter(s66_table["ccsdt_cbs"], s66_table[method], s=16,
                       color=method_color(method), edgecolor="0.2", linewidth=0.3,
                       label=f"{method_label(method)}: {_fmt(stats.get('rmse_kcal_mol'))}"
                             f" (N = {stats.get('n', 0)})")
        all_values += list(s66_table["ccsdt_cbs"]) + list(s66_table[method])
    _finish_parity(ax_s66, all_values, lines, "(a) S66 interaction energies",
                   r"$E_\mathrm{int}$ CCSD(T)/CBS (kcal/mol)",
                   r"predicted $E_\mathrm{int}$ (kcal/mol)")

    lines, all_values = [], []
    for method in methods:
        entry = conformer_metrics.get("methods", {}).get(method, {"available": False})
        rows = relative[relative["method"] == method] if len(relative) else relative
        if not entry.get("available") or rows.empty:
            lines.append(f"{method_label(method)}: not available: {_unavailable(entry)}"
                         if not entry.get("available") else
                         f"{method_label(method)}: no conformer with both energies")
            continue
        ax_conf.scatter(rows["dft_relative_energy_kcal_mol"], rows["relative_energy_kcal_mol"],
                        s=16, color=method_color(method), edgecolor="0.2", linewidth=0.3,
                        label=f"{method_label(method)}: {_fmt(entry.get('rmse_kcal_mol'))}"
                              f" (N = {entry.get('n', 0)})")
        all_values += list(rows["dft_relative_energy_kcal_mol"]) + list(
            rows["relative_energy_kcal_mol"])
    _finish_parity(ax_conf, all_values, lines, "(b) relative conformer energies",
                   r"$E_\mathrm{rel}$ DFT (kcal/mol)", r"predicted $E_\mathrm{rel}$ (kcal/mol)")

    drawn = [m for m in methods if SIMULATED_AS.get(m) in simulations]
    if not drawn:
        message_panel(ax_sim, "(c) simulation check", "no simulation results")
    ticks = []
    for position, method in enumerate(drawn):
        payload = simulations[SIMULATED_AS[method]]
        rmsd = np.asarray([row["rmsd_to_xtb_angstrom"] for row in payload.get("molecules", [])],
                          dtype=float)
        rmsd = rmsd[np.isfinite(rmsd)]
        jitter = np.linspace(-0.12, 0.12, rmsd.size) if rmsd.size > 1 else np.zeros(rmsd.size)
        ax_sim.scatter(position + jitter, rmsd, s=18, color=method_color(method),
                       edgecolor="0.2", linewidth=0.3)
        summary = payload.get("summary", {})
        tick = (f"{method_label(method)}\nMD: {summary.get('n_molecules_with_broken_bonds')} of "
                f"{summary.get('n_molecules')} broken")
        if summary.get("n_without_parameters"):
            tick += f"\n{summary['n_without_parameters']} without parameters"
        ticks.append(tick)
    if drawn:
        ax_sim.set_xticks(range(len(drawn)), ticks, fontsize=7)
        ax_sim.set_xlim(-0.6, len(drawn) - 0.4)
        ax_sim.set_ylim(bottom=0.0)
        first = simulations[SIMULATED_AS[drawn[0]]]
        threshold = first.get("summary", {}).get("rmsd_threshold_angstrom")
        if threshold is not None:
            ax_sim.axhline(threshold, color="0.5", lw=0.8, ls="--")
        settings = first.get("settings", {})
        ax_sim.set_title(f"(c) BFGS minimum; {settings.get('md_time_ps')} ps MD at "
                         f"{settings.get('temperature_k')} K", fontsize=9)
    ax_sim.set_ylabel("RMSD to the GFN2-xTB minimum (Å)")
    fig.text(0.5, -0.02, f"Run {s66_metrics.get('run_name')} ({s66_metrics.get('data_scale')}"
             "); S66 at GFN2-xTB geometries; conformers at the reference geometries; (c) "
             "test-split molecules, dashed: the RMSD threshold; MD: molecules with a bond "
             "stretched or compressed.", ha="center", fontsize=8)
    fig.tight_layout()
    return fig
