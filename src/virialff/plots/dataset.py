"""Figures 1–3 of the paper: the data set, split into training, validation and test.

- Fig. 1 (:func:`plot_element_counts`): number of atoms of each element per molecule;
- Fig. 2 (:func:`plot_atoms_per_molecule`): number of atoms (with H) per molecule;
- Fig. 3 (:func:`plot_energy_per_atom`): total DFT energy per atom, kcal/mol.

Each split is normalised on its own (fraction of that split's molecules), so similar curves
mean a representative split, which is what the paper's figures show.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.plots.style import SPLIT_LABELS, SPLIT_ORDER, SPLIT_PALETTE

COUNT_COLUMNS: tuple[str, ...] = tuple(f"n_{e}" for e in SUPPORTED_ELEMENTS)


def element_count_table(molecules: pd.DataFrame) -> pd.DataFrame:
    """``molecule_id, split, n_atoms, n_H … n_P`` per row.

    Uses the count columns when the table has them (``descriptors.csv``); otherwise counts
    atoms of the SMILES with hydrogens added (``molecules.csv``).
    """
    if all(c in molecules.columns for c in ("n_atoms", *COUNT_COLUMNS)):
        return molecules[["molecule_id", "split", "n_atoms", *COUNT_COLUMNS]].copy()
    from rdkit import Chem

    records = []
    for row in molecules.itertuples(index=False):
        mol = Chem.AddHs(Chem.MolFromSmiles(row.smiles))
        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        record = {"molecule_id": row.molecule_id, "split": row.split, "n_atoms": len(symbols)}
        record.update({f"n_{e}": symbols.count(e) for e in SUPPORTED_ELEMENTS})
        records.append(record)
    return pd.DataFrame.from_records(
        records, columns=["molecule_id", "split", "n_atoms", *COUNT_COLUMNS]
    )


def _split_labels(table: pd.DataFrame) -> dict[str, str]:
    counts = table["split"].value_counts()
    return {s: f"{SPLIT_LABELS[s]} (N = {int(counts.get(s, 0))})" for s in SPLIT_ORDER}


def _split_legend(target, table: pd.DataFrame, **kwargs) -> None:  # noqa: ANN001
    """Legend of the three splits with their molecule counts on an Axes or a Figure."""
    labels = _split_labels(table)
    handles = [plt.Line2D([], [], color=SPLIT_PALETTE[s], lw=1.4) for s in SPLIT_ORDER]
    target.legend(handles, [labels[s] for s in SPLIT_ORDER], ncol=3, frameon=False, **kwargs)


def _present(table: pd.DataFrame) -> list[str]:
    return [s for s in SPLIT_ORDER if (table["split"] == s).any()]


def _stamp(fig, run_label: str, top: bool = False) -> None:  # noqa: ANN001
    """Write the run name and data scale in a corner, so no demo figure passes for the paper's."""
    if run_label:
        fig.text(0.005, 0.995 if top else 0.005, run_label, ha="left",
                 va="top" if top else "bottom", fontsize=7, color="0.4")


def _step_hist(ax, table: pd.DataFrame, column: str, discrete: bool, bins=None) -> None:  # noqa: ANN001
    for split in _present(table):
        values = table.loc[table["split"] == split, column].to_numpy(dtype=float)
        sns.histplot(x=values, ax=ax, discrete=discrete, bins="auto" if bins is None else bins,
                     stat="probability", element="step", fill=False,
                     color=SPLIT_PALETTE[split], linewidth=1.4, label=split)
    ax.set_ylim(bottom=0)
    if discrete:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_element_counts(table: pd.DataFrame, run_label: str = ""):  # noqa: ANN201 - Figure
    """Fig. 1: per element, the distribution of its atom count per molecule, by split."""
    fig, axes = plt.subplots(3, 3, figsize=(10, 8.5), constrained_layout=True)
    for ax, element in zip(axes.ravel(), SUPPORTED_ELEMENTS, strict=True):
        column = f"n_{element}"
        _step_hist(ax, table, column, discrete=True)
        ax.set_title(element)
        ax.set_xlabel(f"{element} atoms per molecule")
        ax.set_ylabel("fraction of molecules")
        top = int(table[column].max()) if len(table) else 0
        ax.set_xlim(-0.7, max(top, 1) + 0.7)
    _split_legend(fig, table, loc="outside upper center")
    _stamp(fig, run_label, top=True)
    return fig


def plot_atoms_per_molecule(table: pd.DataFrame, run_label: str = ""):  # noqa: ANN201
    """Fig. 2: distribution of the number of atoms (hydrogens included) per molecule."""
    fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    _step_hist(ax, table, "n_atoms", discrete=True)
    _split_legend(ax, table, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8)
    ax.set_xlabel("atoms per molecule (with H)")
    ax.set_ylabel("fraction of molecules")
    _stamp(fig, run_label)
    return fig


def plot_energy_per_atom(table: pd.DataFrame, run_label: str = ""):  # noqa: ANN201
    """Fig. 3: distribution of the total DFT energy per atom (kcal/mol), by split."""
    fig, ax = plt.subplots(figsize=(5.5, 4), constrained_layout=True)
    values = table["energy_per_atom_kcal_mol"].to_numpy(dtype=float)
    bins = None
    if values.size:
        n_bins = int(np.clip(np.sqrt(values.size), 10, 80))
        bins = np.linspace(values.min(), values.max(), n_bins + 1) if np.ptp(values) else n_bins
    _step_hist(ax, table, "energy_per_atom_kcal_mol", discrete=False, bins=bins)
    _split_legend(ax, table, loc="lower center", bbox_to_anchor=(0.5, 1.0), fontsize=8)
    ax.set_xlabel("total energy per atom E/N (kcal/mol)")
    ax.set_ylabel("fraction of molecules")
    _stamp(fig, run_label)
    return fig
