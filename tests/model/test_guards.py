"""The guards of the force-trained model: a repulsive core per pair class and bounded pair
parameters. The core is exactly zero where training data lie and smooth to the second
derivative; the bounds hold for any network output."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from virialff.forcefield.pair_potential import (
    CORE_CLASSES,
    PairGuards,
    core_energy_and_derivative,
    guards_from_distances,
    pair_core_class,
)
from virialff.model.potential import bounded_pair_parameters, core_energy_kcal_mol

SHORTEST = {"bonded_hydrogen": 0.93, "bonded_heavy": 1.15, "nonbonded": 1.45}
LONGEST = {"bonded_hydrogen": 1.16, "bonded_heavy": 1.95, "H-C": 1.12, "C-O": 1.45}


def guards() -> PairGuards:
    return guards_from_distances(SHORTEST, width_min_angstrom=0.1, width_max_angstrom=1.2,
                                 amplitude_max_kcal_mol=500.0, core_margin=0.95,
                                 core_wall_kcal_mol=100.0, c12_floor_at_shortest_kcal_mol=1.0,
                                 longest_bond_angstrom=LONGEST)


def test_each_core_starts_below_the_shortest_training_distance_of_its_class():
    chosen = guards()
    for name, radius, strength in zip(CORE_CLASSES, chosen.core_radius_angstrom,
                                      chosen.core_strength_kcal_mol_angstrom3, strict=True):
        assert radius == pytest.approx(0.95 * SHORTEST[name])
        energy, _ = core_energy_and_derivative(np.array([SHORTEST[name], 0.8 * radius]),
                                               np.full(2, radius), np.full(2, strength))
        assert energy[0] == 0.0  # no training energy changes
        assert energy[1] == pytest.approx(100.0)  # 100 kT at 500 K: no thermal pair gets there
    # the r⁻¹² floor is worth 1 kcal/mol at the shortest non-bonded distance
    assert chosen.c12_floor_kcal_mol_angstrom12 / 1.45**12 == pytest.approx(1.0)


def test_the_core_is_smooth_to_the_second_derivative_and_zero_beyond_its_radius():
    r = np.linspace(0.5, 1.5, 100001)
    energy, slope = core_energy_and_derivative(r, np.full_like(r, 1.0), np.full_like(r, 50.0))
    assert np.all(energy[r >= 1.0] == 0.0) and np.all(slope[r >= 1.0] == 0.0)
    assert np.all(np.diff(energy) <= 0.0)  # repulsive everywhere inside
    step = r[1] - r[0]
    np.testing.assert_allclose(np.gradient(energy, step)[1:-1], slope[1:-1], atol=1e-6)
    curvature = np.gradient(slope, step)
    # the second derivative 6k(r_c − r) goes to 0 at r_c: no jump across it
    near = np.abs(r - 1.0) < 1e-3
    assert np.abs(curvature[near]).max() < 6 * 50.0 * 2e-3
    torch_energy = core_energy_kcal_mol(torch.as_tensor(r), torch.tensor(1.0), torch.tensor(50.0))
    np.testing.assert_allclose(torch_energy.numpy(), energy, rtol=1e-12, atol=0)


def test_pair_classes_split_bonds_to_hydrogen_bonds_between_heavy_atoms_and_the_rest():
    bonded = np.array([1, 1, 1, 0, 0])
    first_h = np.array([1, 0, 0, 1, 0])
    second_h = np.array([0, 1, 0, 1, 0])
    assert pair_core_class(bonded, first_h, second_h).tolist() == [0, 0, 1, 2, 2]


def test_bounds_hold_for_any_network_output():
    chosen = guards()
    raw = 1e4 * torch.randn(1000, 14, generator=torch.Generator().manual_seed(0))
    c = bounded_pair_parameters(raw, chosen)
    assert torch.all(c[:, 1].abs() >= chosen.c12_floor_kcal_mol_angstrom12)
    assert torch.all(c[:, 2::2].abs() <= chosen.amplitude_max_kcal_mol)
    assert torch.all((c[:, 3::2] >= 0.1) & (c[:, 3::2] <= 1.2))
    torch.testing.assert_close(c[:, 0], raw[:, 0])  # C0 is not bounded
    assert bounded_pair_parameters(raw, None) is raw


def test_guards_round_trip_through_the_model_file_dictionary():
    chosen = guards()
    assert PairGuards.from_dict(chosen.to_dict()) == chosen


def test_a_guarded_model_does_not_let_a_bonded_hydrogen_collapse_onto_its_carbon():
    from virialff.model.potential_model import SMALL_MODEL_CONFIG
    from virialff.model.predictor import Predictor

    config = {**SMALL_MODEL_CONFIG,
              "potential": {**SMALL_MODEL_CONFIG["potential"], "guards": guards().to_dict()}}
    plain = Predictor.untrained("total", seed=4).astype(torch.float64)
    guarded = Predictor.untrained("total", model_config=config, seed=4).astype(torch.float64)
    from rdkit import Chem
    from rdkit.Chem import AllChem

    methane = Chem.AddHs(Chem.MolFromSmiles("C"))
    AllChem.EmbedMolecule(methane, randomSeed=1)
    x = methane.GetConformer().GetPositions()
    squeezed = x.copy()
    squeezed[1] = x[0] + 0.5 * (x[1] - x[0])  # C–H from ~1.09 Å to ~0.55 Å
    rise = {}
    for name, predictor in (("plain", plain), ("guarded", guarded)):
        system = predictor.parametrize(methane)
        rise[name] = system.energy_kcal_mol(squeezed) - system.energy_kcal_mol(x)
    # k_c (r_c − r)³ = 1.8e4 · (0.88 − 0.55)³ ≈ 630 kcal/mol, 600 kT at 500 K
    assert rise["guarded"] - rise["plain"] > 500.0


def test_each_kind_of_bond_has_a_stretch_wall_beyond_its_longest_training_length():
    """C–H ("H-C": elements in table order) and C–O bonds get walls from their own longest
    lengths; a bond the data lack takes its class's (here O–H: bonded X–H; C–Cl: bonded
    heavy–heavy)."""
    from virialff.chem.elements import SUPPORTED_ELEMENTS
    from virialff.forcefield.pair_potential import stretch_energy_and_derivative

    radius, strength = guards().stretch_tables()
    index = SUPPORTED_ELEMENTS.index
    for (a, b), longest in ((("C", "H"), 1.12), (("O", "C"), 1.45), (("O", "H"), 1.16),
                            (("C", "Cl"), 1.95)):
        start, k = radius[index(a), index(b)], strength[index(a), index(b)]
        assert start == radius[index(b), index(a)] == pytest.approx(longest / 0.95)
        energy, _ = stretch_energy_and_derivative(np.array([longest, 1.2 * start]),
                                                  np.full(2, start), np.full(2, k))
        assert energy[0] == 0.0 and energy[1] == pytest.approx(100.0)
    r = np.linspace(1.0, 3.0, 20001)
    energy, slope = stretch_energy_and_derivative(r, np.full_like(r, 2.0), np.full_like(r, 50.0))
    assert np.all(energy[r <= 2.0] == 0.0) and np.all(np.diff(energy) >= 0.0)
    np.testing.assert_allclose(np.gradient(energy, r[1] - r[0])[1:-1], slope[1:-1], atol=1e-5)


def test_a_guarded_model_holds_a_stretched_bond_and_lets_molecules_part():
    from virialff.model.potential_model import SMALL_MODEL_CONFIG
    from virialff.model.predictor import Predictor

    config = {**SMALL_MODEL_CONFIG,
              "potential": {**SMALL_MODEL_CONFIG["potential"], "guards": guards().to_dict()}}
    guarded = Predictor.untrained("total", model_config=config, seed=4).astype(torch.float64)
    plain = Predictor.untrained("total", seed=4).astype(torch.float64)
    from rdkit import Chem
    from rdkit.Chem import AllChem

    methane = Chem.AddHs(Chem.MolFromSmiles("C"))
    AllChem.EmbedMolecule(methane, randomSeed=1)
    x = methane.GetConformer().GetPositions()
    stretched = x.copy()
    stretched[1] = x[0] + 1.6 * (x[1] - x[0])  # C–H from ~1.09 to ~1.75 Å
    rise = {name: p.parametrize(methane).energy_kcal_mol(stretched)
            - p.parametrize(methane).energy_kcal_mol(x)
            for name, p in (("plain", plain), ("guarded", guarded))}
    assert rise["guarded"] - rise["plain"] > 100.0
