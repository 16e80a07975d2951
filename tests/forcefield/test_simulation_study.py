"""Specification of the simulation study (rule ``simulation_stability``): it tells a potential
that holds molecules together from one that does not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from forcefield_support import ASPIRIN, embedded, positions, random_rotation

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
    assert row["md_steps"] == 200 and row["md_error"] is None
    assert row["md_broken_bonds"] == 0 and row["md_max_bond_change_angstrom"] < 0.5


def test_a_potential_with_flat_bonds_is_reported_not_hidden(predictor):
    """The strong untrained model has no bonded minimum near chemical geometries: the row
    says what happened (no converged optimisation within the goal, or atoms collapsing)."""
    row = study_molecule(predictor, "ethanol", embedded("CCO"), SHORT, seed=0)
    assert not row["rmsd_goal_met"]
    assert row["optimise_error"] or row["md_broken_bonds"] > 0 or row["md_error"]


def test_summary_counts_the_rows():
    rows = [
        {"rmsd_to_xtb_angstrom": 0.05, "rmsd_goal_met": True, "flat_at_xtb_minimum": False,
         "bfgs_converged": True, "optimise_error": None, "start_max_force_kcal_mol_angstrom": 2.0,
         "md_max_bond_change_angstrom": 0.1, "md_broken_bonds": 0, "md_error": None},
        {"rmsd_to_xtb_angstrom": float("nan"), "rmsd_goal_met": False,
         "flat_at_xtb_minimum": False, "bfgs_converged": False,
         "optimise_error": "overlapping_atoms", "start_max_force_kcal_mol_angstrom": 5.0,
         "md_max_bond_change_angstrom": 1.4, "md_broken_bonds": 3, "md_error": "stopped"},
    ]
    summary = summarize(rows)
    assert summary["n_molecules"] == 2 and summary["n_rmsd_goal_met"] == 1
    assert summary["n_optimisation_collapsed"] == 1 and summary["n_md_stopped"] == 1
    assert summary["rmsd_to_xtb_angstrom_max"] == pytest.approx(0.05)
    assert summary["md_max_bond_change_angstrom_max"] == pytest.approx(1.4)
    assert summary["n_molecules_with_broken_bonds"] == 1
    assert json_ready({"x": [np.nan, 1.0]}) == {"x": [None, 1.0]}
