"""Specification of the simulation study (rule ``simulation_stability``): it tells a potential
that holds molecules together from one that does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from forcefield_support import (
    ASPIRIN,
    COLLAPSING_BONDED_PARAMETERS,
    embedded,
    positions,
    random_rotation,
    stiff_predictor,
    strong_predictor,
)

from virialff.evaluate.simulation import json_ready, kabsch_rmsd, study_molecule, summarize

SHORT = {"md_time_ps": 0.1, "temperature_k": 300.0, "timestep_fs": 0.5}


def test_kabsch_rmsd_ignores_rotation_and_translation_only():
    x = positions(embedded(ASPIRIN))
    moved = x @ random_rotation(4).T + [3.0, -1.0, 2.0]
    assert kabsch_rmsd(moved, x) < 1e-10
    bent = moved.copy()
    bent[0] += [0.3, 0.0, 0.0]
    assert kabsch_rmsd(bent, x) > 0.01


def test_a_stiff_potential_holds_the_molecule_together(stiff):
    row = study_molecule(stiff, "aspirin", embedded(ASPIRIN), SHORT, seed=0)
    assert row["bfgs_converged"] and row["optimise_error"] is None
    assert math.isfinite(row["rmsd_to_xtb_angstrom"])
    assert row["md_steps"] == row["md_steps_planned"] == 200 and row["md_error"] is None
    assert row["md_time_ps"] == pytest.approx(0.1)
    assert row["md_stretched_bonds"] == row["md_compressed_bonds"] == 0
    assert 0.6 < row["md_min_bond_ratio"] <= 1.0 <= row["md_max_bond_ratio"] < 1.5


def test_a_potential_with_flat_bonds_is_reported_not_hidden():
    """The strong untrained model of the paper's form has no bonded minimum near chemical
    geometries: the row says what happened (no converged optimisation within the goal, or
    atoms collapsing)."""
    row = study_molecule(strong_predictor(), "ethanol", embedded("CCO"), SHORT, seed=0)
    assert not row["rmsd_goal_met"]
    broken = row["md_stretched_bonds"] + row["md_compressed_bonds"]
    assert row["optimise_error"] or broken > 0 or row["md_error"]
    if row["md_error"]:  # the steps actually run, not the steps planned
        assert row["md_steps"] < row["md_steps_planned"]


def test_a_collapsing_bond_is_counted_as_compressed():
    """A bond pulled towards its atom is counted as compressed, apart from stretched bonds."""
    collapsing = stiff_predictor(bonded_parameters=COLLAPSING_BONDED_PARAMETERS)
    row = study_molecule(collapsing, "ethanol", embedded("CCO"), {**SHORT, "md_time_ps": 0.5},
                         seed=0)
    assert row["md_compressed_bonds"] >= 1 and row["md_min_bond_ratio"] < 0.6
    assert row["md_steps"] == row["md_steps_planned"] or row["md_error"]
    assert summarize([row])["n_molecules_with_compressed_bonds"] == 1


def test_summary_counts_the_rows():
    rows = [
        {"rmsd_to_xtb_angstrom": 0.05, "rmsd_goal_met": True, "flat_at_xtb_minimum": False,
         "bfgs_converged": True, "optimise_error": None, "start_max_force_kcal_mol_angstrom": 2.0,
         "md_max_bond_change_angstrom": 0.1, "md_stretched_bonds": 0,
         "md_compressed_bonds": 0, "md_time_ps": 10.0, "md_error": None},
        {"rmsd_to_xtb_angstrom": float("nan"), "rmsd_goal_met": False,
         "flat_at_xtb_minimum": False, "bfgs_converged": False,
         "optimise_error": "overlapping_atoms", "start_max_force_kcal_mol_angstrom": 5.0,
         "md_max_bond_change_angstrom": 1.4, "md_stretched_bonds": 2,
         "md_compressed_bonds": 1, "md_time_ps": 0.3, "md_error": "stopped"},
    ]
    summary = summarize(rows)
    assert summary["n_molecules"] == 2 and summary["n_rmsd_goal_met"] == 1
    assert summary["n_optimisation_collapsed"] == 1 and summary["n_md_stopped"] == 1
    assert summary["rmsd_to_xtb_angstrom_max"] == pytest.approx(0.05)
    assert summary["md_max_bond_change_angstrom_max"] == pytest.approx(1.4)
    assert summary["n_molecules_with_broken_bonds"] == 1
    assert summary["n_molecules_with_stretched_bonds"] == 1
    assert summary["n_molecules_with_compressed_bonds"] == 1
    assert summary["md_time_ps_min"] == pytest.approx(0.3)
    assert json_ready({"x": [np.nan, 1.0]}) == {"x": [None, 1.0]}
