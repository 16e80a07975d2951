"""Specification of the NumPy pair-energy functions with analytic derivatives
(forcefield/pair_potential), checked against the torch forms of model/potential."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from virialff.forcefield.pair_potential import (
    WIDTH_EPSILON_ANGSTROM2,
    long_range_energy_and_derivative,
    pair_displacements_angstrom,
    pair_forces_kcal_mol_angstrom,
    short_range_energy_and_derivative,
    short_range_extent_angstrom,
    switching_function,
)
from virialff.model.potential import pair_energies_kcal_mol
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM


@pytest.fixture
def random_pairs():
    rng = np.random.default_rng(11)
    n_atoms = 7
    grid = np.array([(x, y, z) for x in range(2) for y in range(2) for z in range(2)])[:n_atoms]
    positions = 1.6 * grid + rng.uniform(-0.3, 0.3, size=(n_atoms, 3))  # 1 to 3.5 Å apart
    pair_index = np.array(np.triu_indices(n_atoms, 1))
    bonded = rng.random(pair_index.shape[1]) < 0.3
    charges = rng.normal(0.0, 0.4, n_atoms)
    params = rng.normal(0.0, 1.0, size=(pair_index.shape[1], 14))
    return positions, pair_index, bonded, charges, params


def _numpy_pair_energy(positions, pair_index, bonded, charges, params):
    """Per-pair energy and dE/dr from the NumPy functions (LR only for non-bonded pairs)."""
    delta, r = pair_displacements_angstrom(positions, pair_index)
    widths2 = params[:, 3::2] ** 2 + WIDTH_EPSILON_ANGSTROM2
    e_sr, d_sr = short_range_energy_and_derivative(r, params[:, 2::2], widths2)
    qq = COULOMB_KCAL_MOL_ANGSTROM * charges[pair_index[0]] * charges[pair_index[1]]
    e_lr, d_lr = long_range_energy_and_derivative(r, qq, np.abs(params[:, 0]), np.abs(params[:, 1]))
    keep = ~bonded
    return delta, r, e_sr + keep * e_lr, d_sr + keep * d_lr


def test_numpy_energies_equal_the_torch_energy_of_the_model(random_pairs):
    positions, pair_index, bonded, charges, params = random_pairs
    _, _, energy, _ = _numpy_pair_energy(positions, pair_index, bonded, charges, params)
    e_sr, e_lr = pair_energies_kcal_mol(
        *(torch.as_tensor(a) for a in (positions, pair_index, bonded, charges, params))
    )
    np.testing.assert_allclose(energy, (e_sr + e_lr).numpy(), rtol=1e-12, atol=1e-12)


def test_forces_are_minus_the_gradient_of_the_pair_sum(random_pairs):
    positions, pair_index, bonded, charges, params = random_pairs

    def total(x):
        return _numpy_pair_energy(x, pair_index, bonded, charges, params)[2].sum()

    delta, r, _, de_dr = _numpy_pair_energy(positions, pair_index, bonded, charges, params)
    forces = pair_forces_kcal_mol_angstrom(delta, r, de_dr, pair_index, positions.shape[0])
    assert np.abs(forces.sum(axis=0)).max() < 1e-9 * np.abs(forces).max()  # Newton's third law
    step = 1e-6
    for atom in range(positions.shape[0]):
        for axis in range(3):
            plus, minus = positions.copy(), positions.copy()
            plus[atom, axis] += step
            minus[atom, axis] -= step
            numeric = -(total(plus) - total(minus)) / (2 * step)
            assert forces[atom, axis] == pytest.approx(numeric, rel=1e-6, abs=1e-5)


def test_switch_is_one_inside_zero_outside_and_smooth_at_both_ends():
    r_s, r_c = 10.0, 12.0
    r = np.array([0.5, 9.0, 10.0, 12.0, 13.0, 50.0])
    switch, derivative = switching_function(r, r_s, r_c)
    np.testing.assert_array_equal(switch, [1, 1, 1, 0, 0, 0])
    np.testing.assert_array_equal(derivative, [0, 0, 0, 0, 0, 0])
    inside = np.linspace(r_s, r_c, 2001)
    s, ds = switching_function(inside, r_s, r_c)
    assert np.all(np.diff(s) <= 0) and s[1000] == pytest.approx(0.5)
    step = 1e-6
    numeric = (
        switching_function(inside + step, r_s, r_c)[0]
        - switching_function(inside - step, r_s, r_c)[0]
    ) / (2 * step)
    np.testing.assert_allclose(ds, numeric, rtol=1e-6, atol=1e-8)
    # the second derivative vanishes at both ends too: |S'| grows only quadratically there
    h = 1e-3
    assert abs(switching_function(np.array([r_s + h]), r_s, r_c)[1][0]) < 30 * h**2 / 2
    assert abs(switching_function(np.array([r_c - h]), r_s, r_c)[1][0]) < 30 * h**2 / 2


def test_switch_rejects_a_switch_distance_outside_the_cutoff():
    with pytest.raises(ValueError, match="switch distance"):
        switching_function(np.array([1.0]), 12.0, 10.0)


def test_gaussians_beyond_the_short_range_extent_are_negligible():
    rng = np.random.default_rng(2)
    amplitudes = rng.normal(0.0, 50.0, size=(40, 6))
    widths2 = rng.uniform(0.01, 1.5, size=(40, 6))
    extent = short_range_extent_angstrom(amplitudes, widths2, negligible_kcal_mol=1e-14)
    energy, _ = short_range_energy_and_derivative(extent, amplitudes, widths2)
    assert np.all(np.abs(energy) <= 6e-14)
    assert np.all(extent > 4.2)  # beyond the last centre, as some amplitude is large
