"""Specification of ParametrizedSystem: parametrise once, then energies and forces, no networks."""

from __future__ import annotations

import numpy as np
import pytest
from forcefield_support import (
    BASE_PAIRS,
    S66,
    benchmark_complex,
    combine,
    embedded,
    positions,
    random_rotation,
    translated,
    with_positions,
)
from rdkit import Chem

from virialff.errors import MoleculeRejected
from virialff.forcefield.paper_system import (
    DEFAULT_CUTOFF_ANGSTROM,
    EMBEDDING_TYPE_TOLERANCE,
    ParametrizedSystem,
)
from virialff.model.parametrized import assign_atom_types

ENERGY_TOLERANCE_KCAL_MOL = 1e-6


def _water_methanol(separation: float = 3.2) -> Chem.Mol:
    return combine(embedded("O"), translated(embedded("CO"), (separation, 0.0, 0.0)))


def _assert_reproduces_predict(predictor, mol: Chem.Mol) -> ParametrizedSystem:
    reference = predictor.predict(mol)
    system = predictor.parametrize(mol, cutoff_angstrom=None)
    energy, forces = system.energy_and_forces(positions(mol))
    assert abs(energy - reference.energy_kcal_mol) < ENERGY_TOLERANCE_KCAL_MOL
    np.testing.assert_allclose(forces, reference.forces_kcal_mol_angstrom, atol=1e-6, rtol=0)
    np.testing.assert_allclose(system.charges_e, reference.charges_e, atol=1e-12)
    return system


# -- the same energy as Predictor.predict ---------------------------------------------------
def test_molecule_energy_and_forces_equal_predict(predictor, fluoroethanol):
    system = _assert_reproduces_predict(predictor, fluoroethanol)
    assert system.n_fragments == 1 and system.n_atoms == fluoroethanol.GetNumAtoms()
    n = system.n_atoms
    assert system.intra_pair_index.shape == (2, n * (n - 1) // 2)
    assert (system.intra_pair_type > 0).sum() == fluoroethanol.GetNumBonds()


def test_complex_energy_and_forces_equal_predict(predictor):
    ethanol = embedded("CCO")
    mol = combine(
        ethanol,
        translated(embedded("O"), (3.4, 0.5, 0.0)),
        translated(ethanol, (-1.0, 4.2, 0.3)),
    )
    system = _assert_reproduces_predict(predictor, mol)
    assert system.n_fragments == 3
    n_intra = sum(len(f) * (len(f) - 1) // 2 for f in Chem.GetMolFrags(mol))
    assert system.intra_pair_index.shape[1] == n_intra


@pytest.mark.parametrize("path", [S66 / "S66-01.xyz", S66 / "S66-24.xyz", BASE_PAIRS / "A-T.xyz"])
def test_benchmark_dimers_equal_predict_with_and_without_the_default_cutoff(predictor, path):
    mol = benchmark_complex(path)
    system = _assert_reproduces_predict(predictor, mol)
    energy, forces = system.energy_and_forces(positions(mol))
    with_cutoff = predictor.parametrize(mol)  # the default cutoff leaves these complexes intact
    assert with_cutoff.cutoff_angstrom == DEFAULT_CUTOFF_ANGSTROM
    cut_energy, cut_forces = with_cutoff.energy_and_forces(positions(mol))
    assert cut_energy == pytest.approx(energy, abs=1e-9)
    np.testing.assert_allclose(cut_forces, forces, atol=1e-9)


def test_untrained_float32_model_agrees_to_float32_precision(fluoroethanol):
    from virialff.model.predictor import Predictor

    predictor = Predictor.untrained("total", seed=0)
    reference = predictor.predict(fluoroethanol)
    energy, forces = predictor.parametrize(fluoroethanol).energy_and_forces(
        positions(fluoroethanol)
    )
    assert energy == pytest.approx(reference.energy_kcal_mol, abs=1e-4)
    np.testing.assert_allclose(forces, reference.forces_kcal_mol_angstrom, atol=1e-4)


def test_linear_energy_is_a_constant_counting_the_bias_once_per_fragment(predictor):
    water = embedded("O")
    single = predictor.parametrize(water)
    pair = predictor.parametrize(combine(water, translated(water, (50.0, 0, 0))))
    assert pair.linear_energy_kcal_mol == pytest.approx(2 * single.linear_energy_kcal_mol)
    # beyond the cutoff the complex is exactly the sum of its molecules
    e_single, _ = single.energy_and_forces(positions(water))
    e_pair, f_pair = pair.energy_and_forces(
        np.vstack([positions(water), positions(water) + [50.0, 0, 0]])
    )
    assert e_pair == pytest.approx(2 * e_single, abs=1e-9)
    np.testing.assert_allclose(f_pair[3:], f_pair[:3], atol=1e-12)


def test_kinetic_model_gives_the_kinetic_energy_with_the_opposite_pair_sign(fluoroethanol):
    import torch

    from virialff.model.predictor import Predictor

    predictor = Predictor.untrained("kinetic", seed=2).astype(torch.float64)
    system = _assert_reproduces_predict(predictor, fluoroethanol)
    assert system.sign == -1.0 and system.target == "kinetic"


# -- physics invariants ---------------------------------------------------------------------
def test_energy_is_invariant_under_rotation_and_translation(predictor):
    mol = _water_methanol()
    system = predictor.parametrize(mol)
    x = positions(mol)
    energy, forces = system.energy_and_forces(x)
    rotation = random_rotation(4)
    moved_energy, moved_forces = system.energy_and_forces(x @ rotation.T + [7.0, -3.0, 2.0])
    assert moved_energy == pytest.approx(energy, abs=1e-9)
    np.testing.assert_allclose(moved_forces, forces @ rotation.T, atol=1e-9)
    assert np.abs(forces.sum(axis=0)).max() < 1e-9  # no net force on an isolated system


def test_forces_are_minus_the_gradient_across_the_switching_region(predictor):
    """Water–methanol with r_s = 3.5 Å, r_c = 5 Å: many pairs lie inside the switch."""
    mol = _water_methanol(3.0)
    system = predictor.parametrize(mol, cutoff_angstrom=5.0, switch_distance_angstrom=3.5)
    x = positions(mol)
    distances = np.linalg.norm(x[:3, None] - x[None, 3:], axis=-1)
    assert ((distances > 3.5) & (distances < 5.0)).sum() >= 4
    _, forces = system.energy_and_forces(x)
    step = 1e-5
    for atom in range(system.n_atoms):
        for axis in range(3):
            plus, minus = x.copy(), x.copy()
            plus[atom, axis] += step
            minus[atom, axis] -= step
            numeric = -(system.energy_kcal_mol(plus) - system.energy_kcal_mol(minus)) / (2 * step)
            assert forces[atom, axis] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_energy_and_forces_are_continuous_through_the_cutoff(predictor):
    """Pull methanol away from water through r_c: E(d) and dE/dd have no jumps, and E is the
    sum of the molecules' energies once every intermolecular distance exceeds r_c."""
    water, methanol = embedded("O"), embedded("CO")
    direction = np.array([1.0, 0.0, 0.0])

    def closest(d: float) -> float:
        moved = positions(methanol) + d * direction
        return np.linalg.norm(positions(water)[:, None] - moved[None], axis=-1).min()

    start = next(d for d in np.arange(0.0, 10.0, 0.1) if closest(d) > 2.2)
    mol = combine(water, translated(methanol, tuple(start * direction)))
    system = predictor.parametrize(mol, cutoff_angstrom=6.0, switch_distance_angstrom=4.5)
    apart = system.energy_kcal_mol(np.vstack([positions(water), positions(methanol) + 100.0]))
    separations = start + np.linspace(0.0, 8.0, 801)  # 0.01 Å steps
    energies, slopes = [], []
    for d in separations:
        x = np.vstack([positions(water), positions(methanol) + d * direction])
        energy, forces = system.energy_and_forces(x)
        energies.append(energy)
        slopes.append(-(forces[water.GetNumAtoms() :] @ direction).sum())  # dE/dd
    energies, slopes = np.array(energies), np.array(slopes)
    step = separations[1] - separations[0]
    # a jump in E would show as a finite difference far from the analytic slope
    finite_difference = np.diff(energies) / step
    midpoint_slope = 0.5 * (slopes[1:] + slopes[:-1])
    curvature = np.abs(np.diff(slopes)).max() / step
    assert np.abs(finite_difference - midpoint_slope).max() <= curvature * step**2 + 1e-9
    assert np.abs(np.diff(slopes)).max() < 0.5  # no force jump larger than the smooth change
    beyond = [d for d in separations if closest(d) >= 6.0]
    assert beyond, "the scan must leave the cutoff"
    far = separations >= beyond[0]
    np.testing.assert_allclose(energies[far], apart, atol=1e-12)
    np.testing.assert_allclose(slopes[far], 0.0, atol=1e-12)


def test_neighbour_list_follows_moving_molecules(predictor):
    """After small moves (list reused: < skin/2) and large ones (list rebuilt) the energy equals
    that of a freshly parametrised system, which builds its list at the new positions."""
    mol = combine(
        embedded("O"), translated(embedded("CO"), (4.0, 0, 0)), translated(embedded("N"), (0, 5, 0))
    )
    fragments = [np.array(f) for f in Chem.GetMolFrags(mol)]
    system = predictor.parametrize(mol, cutoff_angstrom=6.0)
    x = positions(mol)
    system.energy_and_forces(x)
    moves = [(1, (0.2, 0.1, 0.0)), (2, (0.0, 0.45, 0.0)), (1, (3.0, 0.0, 0.5)), (2, (0, -2.5, 0))]
    rng = np.random.default_rng(3)
    for fragment, shift in moves:
        x = x.copy()
        x[fragments[fragment]] += shift
        x += rng.uniform(-0.02, 0.02, x.shape)
        energy, forces = system.energy_and_forces(x)
        fresh_energy, fresh_forces = system.with_cutoff(6.0).energy_and_forces(x)
        assert energy == pytest.approx(fresh_energy, abs=1e-10)
        np.testing.assert_allclose(forces, fresh_forces, atol=1e-10)


def test_featurisation_equals_graph_from_rdkit(fluoroethanol):
    from virialff.chem.graph import graph_from_rdkit
    from virialff.model.parametrized import molecular_graph

    dimer = benchmark_complex(BASE_PAIRS / "G-C.xyz")
    complex_ = combine(fluoroethanol, translated(embedded("C#N"), (6.0, 0, 0)))
    for mol in (fluoroethanol, dimer, complex_):
        expected, graph = graph_from_rdkit(mol, "x"), molecular_graph(mol, "x")
        for name in ("element_index", "bond_index", "bond_type", "fragment_index"):
            np.testing.assert_array_equal(getattr(graph, name), getattr(expected, name))


# -- atom types -----------------------------------------------------------------------------
def test_identical_molecules_share_atom_types(predictor):
    ethanol = embedded("CCO")
    alone = predictor.parametrize(ethanol)
    renumbered = Chem.RenumberAtoms(ethanol, [8, 3, 0, 5, 2, 7, 1, 6, 4])
    pair = predictor.parametrize(combine(ethanol, translated(renumbered, (5.0, 0, 0))))
    assert pair.n_types == alone.n_types == 6  # CH3, CH2, O, H on C1, H on C2, H on O
    water_box = combine(*[translated(embedded("O"), (3.1 * k, 3.1 * (k % 2), 0)) for k in range(8)])
    assert predictor.parametrize(water_box).n_types == 2


def test_type_table_holds_the_intermolecular_parameters_of_every_pair(predictor):
    mol = _water_methanol()
    prediction = predictor.predict(mol)
    system = predictor.parametrize(mol)
    n_water = 3
    for p, (i, j) in enumerate(prediction.pair_index.T):
        if i < n_water <= j:
            np.testing.assert_allclose(
                system.intermolecular_parameters(i, j), prediction.pair_parameters[p], atol=1e-12
            )


def test_types_group_embeddings_within_the_tolerance_only():
    base = np.array([[0.1, 0.2], [0.5, -0.3]])
    embeddings = np.vstack(
        [base, base + 0.4 * EMBEDDING_TYPE_TOLERANCE, base + 3 * EMBEDDING_TYPE_TOLERANCE]
    )
    elements = np.array([1, 1, 1, 1, 1, 1])
    atom_type, representative = assign_atom_types(embeddings, elements)
    assert atom_type.tolist() == [0, 1, 0, 1, 2, 3]
    assert representative.tolist() == [0, 1, 4, 5]
    other_element = assign_atom_types(embeddings[:2], np.array([1, 6]))[0]
    assert other_element.tolist() == [0, 1]


# -- bad input ------------------------------------------------------------------------------
def test_molecule_without_explicit_hydrogens_is_rejected_naming_the_atoms(predictor):
    heavy = Chem.RemoveHs(embedded("CCO"))
    with pytest.raises(MoleculeRejected, match=r"missing_hydrogens: atoms C1, C2, O3 carry"):
        predictor.parametrize(heavy)


def test_nan_coordinates_are_rejected_naming_the_atom(predictor, fluoroethanol):
    x = positions(fluoroethanol)
    x[4, 1] = np.nan
    with pytest.raises(MoleculeRejected, match=r"nan_value: non-finite coordinates on atom\(s\) 4"):
        predictor.parametrize(with_positions(fluoroethanol, x))
    system = predictor.parametrize(fluoroethanol)
    with pytest.raises(MoleculeRejected, match=r"atom\(s\) 4$"):
        system.energy_and_forces(x)


def test_overlapping_atoms_are_rejected_naming_the_pair(predictor):
    mol = _water_methanol()
    x = positions(mol)
    x[5] = x[1] + [0.2, 0.0, 0.0]  # an atom of methanol onto a hydrogen of water
    with pytest.raises(
        MoleculeRejected, match=r"overlapping_atoms: atom pair\(s\) 1-5 \(0.200 Å\)"
    ):
        predictor.parametrize(with_positions(mol, x))
    system = predictor.parametrize(mol)
    with pytest.raises(MoleculeRejected, match=r"1-5 \(0.200 Å\)"):
        system.energy_and_forces(x)
    inside = positions(mol)
    inside[2] = inside[0] + [0.0, 0.0, 0.3]  # two atoms of one water
    with pytest.raises(MoleculeRejected, match=r"0-2 \(0.300 Å\)"):
        system.energy_and_forces(inside)


def test_every_molecule_of_a_complex_must_be_neutral(predictor):
    ion_pair = combine(embedded("[NH4+]"), translated(embedded("[Cl-]"), (3.0, 0, 0)))
    with pytest.raises(MoleculeRejected, match=r"molecule 1: atoms 0, 1, 2 and 2 more.*charged"):
        predictor.parametrize(ion_pair)


def test_positions_with_another_atom_count_are_rejected(predictor, fluoroethanol):
    system = predictor.parametrize(fluoroethanol)
    n = fluoroethanol.GetNumAtoms()
    with pytest.raises(ValueError, match=f"positions have {n - 1} atoms but .* has {n}"):
        system.energy_and_forces(positions(fluoroethanol)[:-1])
    with pytest.raises(ValueError, match=r"must be \[n_atoms, 3\]"):
        system.energy_and_forces(positions(fluoroethanol)[:, :2])


def test_switch_distance_must_lie_inside_the_cutoff(predictor, fluoroethanol):
    with pytest.raises(ValueError, match="switch distance"):
        predictor.parametrize(fluoroethanol, cutoff_angstrom=5.0, switch_distance_angstrom=6.0)
