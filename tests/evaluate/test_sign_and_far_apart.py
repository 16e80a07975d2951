"""Sign convention E_int = E_A + E_B − E_AB (> 0 bound) and E_int → 0 for separated monomers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from virialff.config import default_config
from virialff.evaluate.baselines import make_baseline
from virialff.evaluate.interactions import interaction_table
from virialff.evaluate.systems import (
    System,
    from_psi4_bind,
    interaction_energy_kcal_mol,
    read_xyz_system,
)
from virialff.qc.psi4_process import psi4_settings_from_config
from virialff.qc.xtb import xtb_settings_from_config

PSI4 = psi4_settings_from_config({**default_config()["descriptors"], "memory": "1 GB"})

XTB = xtb_settings_from_config(default_config()["geometry"])

REPO = Path(__file__).resolve().parents[2]
WATER_DIMER = REPO / "data" / "benchmarks" / "s66" / "geometries" / "S66-01.xyz"
HAS_XTB = shutil.which("xtb") is not None
HAS_PSI4 = shutil.which("psi4") is not None


def separated(system: System, distance_angstrom: float) -> System:
    """The same complex with monomer B moved ``distance_angstrom`` along x."""
    positions = system.positions_angstrom.copy()
    positions[system.fragment_slices()[1]] += np.array([distance_angstrom, 0.0, 0.0])
    return System(system.system_id, system.name, system.symbols, positions,
                  system.fragment_sizes)


def test_sign_convention():
    # bound complex: E_AB below the sum of the monomers -> positive interaction energy
    assert interaction_energy_kcal_mol(-100.0, [-40.0, -55.0]) == pytest.approx(5.0)
    assert interaction_energy_kcal_mol(-90.0, [-40.0, -55.0]) == pytest.approx(-5.0)
    assert from_psi4_bind(-4.918) == pytest.approx(4.918)


def test_mmff94_water_dimer_bound_and_far_apart_zero():
    dimer = read_xyz_system(WATER_DIMER)
    baseline = make_baseline("mmff94")
    close = interaction_table(baseline, [dimer])
    far = interaction_table(baseline, [separated(dimer, 30.0)])
    # inter-fragment terms are included (RDKit's default would give exactly 0 here)
    assert close["interaction_energy_kcal_mol"].iloc[0] > 3.0
    assert abs(far["interaction_energy_kcal_mol"].iloc[0]) < 0.05


@pytest.mark.xtb
@pytest.mark.skipif(not HAS_XTB, reason="xtb not on PATH")
def test_gfn2_xtb_water_dimer_bound_and_far_apart_zero():

    dimer = read_xyz_system(WATER_DIMER)
    baseline = make_baseline("gfn2_xtb", xtb_settings=XTB)
    table = interaction_table(baseline, [dimer, separated(dimer, 30.0)])
    assert list(table["status"]) == ["ok", "ok"]
    assert 3.0 < table["interaction_energy_kcal_mol"].iloc[0] < 7.0
    assert abs(table["interaction_energy_kcal_mol"].iloc[1]) < 0.01


def test_this_model_far_apart_zero():
    """Untrained model (random weights): E_int vanishes for monomers 30 Å apart.

    Far apart only Coulomb between the monomers' net charges could survive (~332·Q_A·Q_B/R);
    the check allows for that, so it also holds for a model without charge neutrality.
    """
    from virialff.evaluate.systems import system_mols
    from virialff.model.predictor import Predictor
    from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

    predictor = Predictor.untrained(seed=3)
    baseline = make_baseline("virialff", predictor=predictor)
    dimer = read_xyz_system(WATER_DIMER)
    table = interaction_table(baseline, [dimer, separated(dimer, 30.0)])
    assert list(table["status"]) == ["ok", "ok"], list(table["message"])
    far = separated(dimer, 30.0)
    q_a, q_b = (float(predictor.predict(m).charges_e.sum()) for m in system_mols(far).monomers)
    monopole = COULOMB_KCAL_MOL_ANGSTROM * q_a * q_b / 30.0
    assert table["interaction_energy_kcal_mol"].iloc[1] == pytest.approx(-monopole, abs=1e-2)
    assert (table["interaction_energy_kcal_mol"].iloc[0]
            != pytest.approx(table["interaction_energy_kcal_mol"].iloc[1], abs=1e-6))


@pytest.mark.psi4
@pytest.mark.slow
@pytest.mark.skipif(not HAS_PSI4, reason="psi4 not on PATH")
def test_psi4_counterpoise_sign_water_dimer(tmp_path):
    """Real Psi4 (HF/STO-3G, tiny): the CP interaction energy comes back positive = bound."""
    from virialff.qc.psi4_energies import cp_interaction_energies

    dimer = read_xyz_system(WATER_DIMER)
    items = [{"item_id": "water", "symbols": dimer.symbols,
              "positions_angstrom": dimer.positions_angstrom,
              "fragment_sizes": dimer.fragment_sizes}]
    (outcome,) = cp_interaction_energies(items, PSI4,
                                         method="hf", basis="sto-3g", workdir=tmp_path)
    assert outcome.ok, outcome.message
    assert outcome.value_kcal_mol > 0.2  # HF/STO-3G with CP: weakly bound, but bound
    assert outcome.energy_hartree < 0  # Psi4's own number: E_AB - E_A - E_B
