"""Chai–Head-Gordon dispersion of ωB97X-D: Psi4's numbers and the physics of a pair potential."""

from __future__ import annotations

import numpy as np
import pytest

from virialff.qc.dispersion import (
    CHG_DAMPING_A,
    GRIMME_D2_C6_R0,
    chg_dispersion_energy_hartree,
    chg_pair_energies_hartree,
    d2_parameters_atomic_units,
)

#: Psi4 1.3.2's Bohr radius: Psi4 turned these Å geometries into Bohr with it.
PSI4_BOHR_ANGSTROM = 0.52917721067

#: (atomic numbers, positions in Å, Psi4 1.3.2's -CHG energy in Hartree). Values from
#: ``psi4.core.Dispersion.build("CHG", s6=1.0).compute_energy(mol)`` and, for the first two,
#: the "DISPERSION CORRECTION ENERGY" of ``psi4.energy("wb97x-d")``.
PSI4_REFERENCE = [
    (
        [8, 1, 1],
        [[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]],
        -2.6787699884306935e-05,
    ),
    (
        [6, 6, 16, 17, 1, 1, 1, 1, 1],
        [
            [-1.2, 0.1, 0.0],
            [0.2, -0.3, 0.1],
            [1.4, 0.9, -0.2],
            [-1.9, 1.1, 1.1],
            [-1.8, -0.8, -0.1],
            [-1.2, 0.7, -0.9],
            [0.3, -1.0, 0.9],
            [0.5, -0.9, -0.8],
            [2.4, 0.2, 0.1],
        ],
        -0.0027277516148908453,
    ),
    (
        [7, 9, 15, 35, 53, 8, 1],
        [
            [0.0, 0.0, 0.0],
            [1.9, 0.3, -0.2],
            [-0.4, 2.6, 0.5],
            [2.8, 2.9, 1.1],
            [-2.9, -1.1, 2.0],
            [0.8, -2.4, -1.3],
            [3.5, -0.9, -0.4],
        ],
        -0.0028124814145583997,
    ),
]


@pytest.mark.parametrize(("numbers", "positions_angstrom", "psi4_hartree"), PSI4_REFERENCE)
def test_energy_equals_psi4_wb97x_d_dispersion_to_round_off(
    numbers, positions_angstrom, psi4_hartree
):
    positions_bohr = np.asarray(positions_angstrom) / PSI4_BOHR_ANGSTROM
    energy = chg_dispersion_energy_hartree(numbers, positions_bohr)
    assert energy == pytest.approx(psi4_hartree, rel=1e-12, abs=1e-16)


def test_d2_table_in_atomic_units_matches_grimme_2006_for_carbon():
    c6, r0 = d2_parameters_atomic_units(np.array([6]))
    # C: C6 = 1.75 J nm^6 mol^-1 = 30.354 Eh a0^6; R0 = 1.452 Å = 2.744 a0
    assert c6[0] == pytest.approx(30.3542, abs=1e-4)
    assert r0[0] == pytest.approx(2.7439, abs=1e-4)


def _random_molecule(seed: int, n_atoms: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    numbers = rng.choice([1, 6, 7, 8, 9, 15, 16, 17, 35], size=n_atoms)
    positions = rng.uniform(-4.0, 4.0, size=(n_atoms, 3)) * 1.8
    return numbers, positions


def test_energy_is_invariant_under_rotation_translation_and_atom_permutation():
    numbers, positions = _random_molecule(1)
    reference = chg_dispersion_energy_hartree(numbers, positions)
    rotation, _ = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    moved = positions @ rotation.T + np.array([3.0, -7.0, 1.5])
    permutation = np.random.default_rng(3).permutation(len(numbers))
    assert chg_dispersion_energy_hartree(numbers, moved) == pytest.approx(reference, rel=1e-12)
    assert chg_dispersion_energy_hartree(
        numbers[permutation], positions[permutation]
    ) == pytest.approx(reference, rel=1e-12)


def test_pair_matrix_is_symmetric_attractive_and_sums_to_the_total():
    numbers, positions = _random_molecule(4)
    pairs = chg_pair_energies_hartree(numbers, positions)
    assert np.allclose(pairs, pairs.T)
    assert np.all(np.diag(pairs) == 0.0)
    assert np.all(pairs[~np.eye(len(numbers), dtype=bool)] < 0.0)
    assert pairs.sum() / 2 == pytest.approx(chg_dispersion_energy_hartree(numbers, positions))


def test_far_apart_pair_tends_to_undamped_london_c6_over_r6():
    c6, _ = d2_parameters_atomic_units(np.array([17, 17]))
    r = 40.0
    energy = chg_dispersion_energy_hartree([17, 17], np.array([[0, 0, 0], [0, 0, r]]))
    assert energy == pytest.approx(-c6[0] / r**6, rel=1e-9)


def test_damping_removes_the_r6_singularity_at_short_range():
    _, r0 = d2_parameters_atomic_units(np.array([6, 6]))
    c6, _ = d2_parameters_atomic_units(np.array([6]))
    r_vdw = 2 * r0[0]
    for r in (1e-2, 1e-1):
        energy = chg_dispersion_energy_hartree([6, 6], np.array([[0, 0, 0], [0, 0, r]]))
        # f = 1/(1 + a (R/R_r)^-12) ~ R^12/(a R_r^12): E ~ -C6 R^6 / (a R_r^12) -> 0
        assert energy == pytest.approx(-c6[0] * r**6 / (CHG_DAMPING_A * r_vdw**12), rel=1e-6)
    at_contact = chg_dispersion_energy_hartree([6, 6], np.array([[0, 0, 0], [0, 0, r_vdw]]))
    assert at_contact == pytest.approx(-c6[0] / r_vdw**6 / (1 + CHG_DAMPING_A))


def test_distant_fragments_add_up():
    numbers_a, positions_a = _random_molecule(5, 4)
    numbers_b, positions_b = _random_molecule(6, 4)
    positions_b = positions_b + np.array([1e4, 0.0, 0.0])
    together = chg_dispersion_energy_hartree(
        np.concatenate([numbers_a, numbers_b]), np.vstack([positions_a, positions_b])
    )
    apart = chg_dispersion_energy_hartree(numbers_a, positions_a) + chg_dispersion_energy_hartree(
        numbers_b, positions_b
    )
    assert together == pytest.approx(apart, rel=1e-12)


def test_s6_scales_linearly_and_one_atom_has_no_energy():
    numbers, positions = _random_molecule(7)
    assert chg_dispersion_energy_hartree(numbers, positions, s6=0.5) == pytest.approx(
        0.5 * chg_dispersion_energy_hartree(numbers, positions)
    )
    assert chg_dispersion_energy_hartree([6], np.zeros((1, 3))) == 0.0


def test_bad_input_names_the_problem():
    with pytest.raises(ValueError, match=r"atomic number\(s\) \[86\]"):
        chg_dispersion_energy_hartree([86, 1], np.array([[0, 0, 0], [0, 0, 2.0]]))
    with pytest.raises(ValueError, match="share a position"):
        chg_dispersion_energy_hartree([1, 1], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="positions shape"):
        chg_dispersion_energy_hartree([1, 1], np.zeros((3, 3)))
    assert set(GRIMME_D2_C6_R0) == set(range(1, 55))
