"""Specification of the pure energy function (paper Eqs. 21-23) and the LJ conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from virialff.forcefield.pair_potential import lennard_jones_parameters
from virialff.model.potential import (
    molecule_energy_kcal_mol,
    neutralise_charges,
    pair_energies_kcal_mol,
    pair_energy_kcal_mol,
    sum_per_molecule,
)


def numpy_pair_energies(positions, pair_index, bonded, charges, params):
    """Independent, loop-based NumPy evaluation of Eqs. 21 and 22."""
    e_sr, e_lr = [], []
    for p, (i, j) in enumerate(pair_index.T):
        r = float(np.linalg.norm(positions[i] - positions[j]))
        c = params[p]
        sr = 0.0
        for k in range(1, 7):
            centre = 1.2 + 0.6 * (k - 1)
            sr += c[2 * k] * np.exp(-((r - centre) ** 2) / (c[2 * k + 1] ** 2 + 1e-5))
        lr = (
            0.0
            if bonded[p]
            else (332.0637 * charges[i] * charges[j] / r - abs(c[0]) / r**6 + abs(c[1]) / r**12)
        )
        e_sr.append(sr)
        e_lr.append(lr)
    return np.array(e_sr), np.array(e_lr)


@pytest.fixture
def random_system():
    rng = np.random.default_rng(7)
    positions = rng.uniform(0.0, 4.0, size=(6, 3))
    pair_index = np.array(np.triu_indices(6, 1))
    bonded = rng.random(pair_index.shape[1]) < 0.4
    charges = rng.normal(0, 0.3, 6)
    params = rng.normal(0, 1.0, size=(pair_index.shape[1], 14))
    return positions, pair_index, bonded, charges, params


def _torch(*arrays):
    return [
        torch.as_tensor(a, dtype=torch.float64) if a.dtype != bool else torch.as_tensor(a)
        for a in arrays
    ]


def test_energy_matches_independent_numpy_evaluation(random_system):
    positions, pair_index, bonded, charges, params = random_system
    expected_sr, expected_lr = numpy_pair_energies(positions, pair_index, bonded, charges, params)
    pos, q, c = _torch(positions, charges, params)
    e_sr, e_lr = pair_energies_kcal_mol(
        pos, torch.as_tensor(pair_index), torch.as_tensor(bonded), q, c
    )
    np.testing.assert_allclose(e_sr.numpy(), expected_sr, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(e_lr.numpy(), expected_lr, rtol=1e-12, atol=1e-12)
    total = pair_energy_kcal_mol(pos, torch.as_tensor(pair_index), torch.as_tensor(bonded), q, c)
    np.testing.assert_allclose(total.numpy(), expected_sr + expected_lr, rtol=1e-12)


def test_long_range_energy_is_zero_for_bonded_pairs(random_system):
    positions, pair_index, bonded, charges, params = random_system
    pos, q, c = _torch(positions, charges, params)
    _, e_lr = pair_energies_kcal_mol(
        pos, torch.as_tensor(pair_index), torch.as_tensor(bonded), q, c
    )
    assert torch.all(e_lr[torch.as_tensor(bonded)] == 0.0)
    assert torch.all(e_lr[~torch.as_tensor(bonded)] != 0.0)


def test_coulomb_term_of_two_unit_charges_at_one_angstrom():
    positions = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    params = torch.zeros(1, 14, dtype=torch.float64)
    _, e_lr = pair_energies_kcal_mol(
        positions,
        torch.tensor([[0], [1]]),
        torch.tensor([False]),
        torch.tensor([1.0, -1.0], dtype=torch.float64),
        params,
    )
    assert float(e_lr) == pytest.approx(-332.0637)


def test_molecule_energy_adds_linear_reference_and_signed_pair_sum():
    pair_energy = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64)
    owner = torch.tensor([0, 1, 1])
    linear = torch.tensor([10.0, 20.0], dtype=torch.float64)
    assert molecule_energy_kcal_mol(pair_energy, owner, linear).tolist() == [11.0, 26.0]
    assert molecule_energy_kcal_mol(pair_energy, owner, linear, sign=-1.0).tolist() == [9.0, 14.0]
    assert sum_per_molecule(pair_energy, owner, 3).tolist() == [1.0, 6.0, 0.0]


def test_charges_are_neutral_per_fragment():
    raw = torch.tensor([0.3, 0.1, -0.1, 0.5, 0.5])
    group = torch.tensor([0, 0, 0, 1, 1])
    q = neutralise_charges(raw, group, 2)
    assert sum_per_molecule(q, group, 2).abs().max() < 1e-6


def test_lennard_jones_conversion_inverts_the_textbook_form():
    sigma, epsilon = 3.4, 0.24
    c0, c1 = 4 * epsilon * sigma**6, 4 * epsilon * sigma**12  # |C0|/r⁶ and |C1|/r¹² terms
    got_sigma, got_epsilon, r_min = lennard_jones_parameters(c0, c1)
    assert got_sigma == pytest.approx(sigma)
    assert got_epsilon == pytest.approx(epsilon)
    r = np.linspace(3.0, 6.0, 30001)
    energy = c1 / r**12 - c0 / r**6
    assert r[np.argmin(energy)] == pytest.approx(r_min, abs=1e-3)
    assert energy.min() == pytest.approx(-epsilon, rel=1e-6)
