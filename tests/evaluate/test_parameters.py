"""σ = (C1/C0)^(1/6), ε = C0²/(4·C1) recover a Lennard-Jones potential."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from virialff.evaluate.parameters import lj_sigma_epsilon, molecular_charges, parameter_tables


def test_lj_round_trip():
    sigma, epsilon = 3.1, 0.13
    c0, c1 = 4 * epsilon * sigma ** 6, 4 * epsilon * sigma ** 12
    s, e = lj_sigma_epsilon([c0, -c0], [c1, -c1])  # the model uses |C0|, |C1|
    assert s == pytest.approx([sigma, sigma])
    assert e == pytest.approx([epsilon, epsilon])
    r = np.linspace(2.5, 6.0, 20001)
    potential = c1 / r ** 12 - c0 / r ** 6
    assert r[np.argmin(potential)] == pytest.approx(2 ** (1 / 6) * sigma, abs=1e-3)
    assert potential.min() == pytest.approx(-epsilon, rel=1e-6)


def test_parameter_tables():
    params = np.zeros((3, 14))
    params[:, 0] = [1.0, 2.0, 3.0]
    params[:, 1] = [4.0, 5.0, 6.0]
    prediction = SimpleNamespace(
        elements=["O", "H", "H"], pair_index=np.array([[0, 0, 1], [1, 2, 2]]),
        pair_bonded=np.array([True, True, False]), pair_parameters=params,
        charges_e=np.array([-0.6, 0.3, 0.25]))
    pairs, charges = parameter_tables([prediction], ["w"], ["val"])
    assert list(pairs["pair_type"]) == ["H-O", "H-O", "H-H"]
    assert pairs["sigma_angstrom"].isna().tolist() == [True, True, False]
    assert pairs.loc[2, "sigma_angstrom"] == pytest.approx((6.0 / 3.0) ** (1 / 6))
    assert pairs.loc[2, "epsilon_kcal_mol"] == pytest.approx(9.0 / 24.0)
    assert list(charges.columns) == ["molecule_id", "split", "atom", "element", "charge_e"]
    assert molecular_charges(charges)["total_charge_e"].iloc[0] == pytest.approx(-0.05)
