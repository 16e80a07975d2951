"""Figures 1-3 draw every split from a small table and write PNG + PDF."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from virialff.plots.dataset import (
    element_count_table,
    plot_atoms_per_molecule,
    plot_element_counts,
    plot_energy_per_atom,
)
from virialff.plots.style import apply_theme, save_figure


@pytest.fixture
def molecules() -> pd.DataFrame:
    smiles = ["CCO", "CBr", "c1ccsc1", "COP(=O)(OC)OC", "FC(F)(F)C(Cl)Br", "NCC(=O)O"]
    return pd.DataFrame({"molecule_id": [f"demo_{i:03d}" for i in range(6)], "smiles": smiles,
                         "split": ["train", "train", "train", "val", "test", "test"]})


def test_element_counts_from_smiles(molecules):
    table = element_count_table(molecules)
    halothane = table.iloc[4]
    assert (halothane.n_atoms, halothane.n_F, halothane.n_Cl, halothane.n_Br, halothane.n_H) == (
        8, 3, 1, 1, 1)


def test_three_figures_have_one_curve_per_split(molecules, tmp_path):
    apply_theme()
    table = element_count_table(molecules)
    table["energy_per_atom_kcal_mol"] = [-20000.0, -45000.0, -30000.0, -25000.0, -60000.0,
                                         -21000.0]
    fig1 = plot_element_counts(table, "run test (demo scale)")
    assert [ax.get_title() for ax in fig1.axes] == ["H", "C", "N", "O", "F", "S", "Cl", "Br", "P"]
    for fig in (fig1, plot_energy_per_atom(table), plot_atoms_per_molecule(table)):
        assert all(len(ax.patches) + len(ax.lines) >= 3 for ax in fig.axes)
    plt.close("all")
    fig2 = plot_atoms_per_molecule(table, "run test (demo scale)")
    save_figure(fig2, tmp_path / "fig02.png")  # PNG and the PDF beside it
    assert (tmp_path / "fig02.png").stat().st_size > 0 and (tmp_path / "fig02.pdf").exists()
