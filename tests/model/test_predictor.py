"""Specification of the prediction API: symmetry, forces, complexes, readers and errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from model_support import embedded
from rdkit import Chem
from rdkit.Geometry import Point3D

import virialff
from virialff.model.predictor import Prediction, Predictor, read_xyz


def _with_positions(mol: Chem.Mol, positions: np.ndarray) -> Chem.Mol:
    copy = Chem.Mol(mol)
    conformer = copy.GetConformer()
    for i, (x, y, z) in enumerate(positions):
        conformer.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    return copy


def _random_rotation(seed: int) -> np.ndarray:
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def test_prediction_fields_have_documented_shapes(predictor, fluoroethanol):
    p = predictor.predict(fluoroethanol)
    n = fluoroethanol.GetNumAtoms()
    assert isinstance(p, Prediction) and isinstance(p.energy_kcal_mol, float)
    assert p.forces_kcal_mol_angstrom.shape == (n, 3)
    assert p.charges_e.shape == (n,)
    assert p.pair_index.shape == (2, n * (n - 1) // 2)
    assert p.pair_bonded.dtype == bool and p.pair_bonded.sum() == fluoroethanol.GetNumBonds()
    assert p.pair_parameters.shape == (n * (n - 1) // 2, 14)
    assert p.elements[:3] == ["O", "C", "C"]
    assert predictor.target == "total" and predictor.metadata["kind"] == "potential"


def test_energy_is_invariant_under_translation_and_rotation(predictor, fluoroethanol):
    reference = predictor.predict(fluoroethanol)
    positions = fluoroethanol.GetConformer().GetPositions()
    rotation = _random_rotation(1)
    moved = _with_positions(fluoroethanol, positions @ rotation.T + np.array([3.0, -7.0, 11.0]))
    p = predictor.predict(moved)
    assert p.energy_kcal_mol == pytest.approx(reference.energy_kcal_mol, rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(
        p.forces_kcal_mol_angstrom, reference.forces_kcal_mol_angstrom @ rotation.T, atol=1e-8
    )


def test_energy_is_invariant_under_atom_renumbering(predictor, fluoroethanol):
    reference = predictor.predict(fluoroethanol)
    order = np.random.default_rng(2).permutation(fluoroethanol.GetNumAtoms()).tolist()
    renumbered = Chem.RenumberAtoms(fluoroethanol, order)
    p = predictor.predict(renumbered)
    assert p.energy_kcal_mol == pytest.approx(reference.energy_kcal_mol, rel=1e-10, abs=1e-8)
    np.testing.assert_allclose(
        p.forces_kcal_mol_angstrom, reference.forces_kcal_mol_angstrom[order], atol=1e-8
    )
    np.testing.assert_allclose(p.charges_e, reference.charges_e[order], atol=1e-12)


def test_forces_are_minus_the_gradient_by_central_differences(predictor, fluoroethanol):
    p = predictor.predict(fluoroethanol)
    positions = fluoroethanol.GetConformer().GetPositions()
    step = 1e-5
    for atom, axis in [(0, 0), (2, 1), (4, 2), (10, 0)]:
        plus, minus = positions.copy(), positions.copy()
        plus[atom, axis] += step
        minus[atom, axis] -= step
        e_plus, e_minus = predictor.energies_kcal_mol(
            [_with_positions(fluoroethanol, plus), _with_positions(fluoroethanol, minus)]
        )
        numeric = -(e_plus - e_minus) / (2 * step)
        assert p.forces_kcal_mol_angstrom[atom, axis] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_batched_predictions_equal_single_predictions(predictor, fluoroethanol):
    water = embedded("O")
    many = predictor.predict_many([fluoroethanol, water])
    energies = predictor.energies_kcal_mol([fluoroethanol, water])
    for mol, p, e in zip([fluoroethanol, water], many, energies, strict=True):
        single = predictor.predict(mol)
        assert p.energy_kcal_mol == pytest.approx(single.energy_kcal_mol, rel=1e-12)
        assert e == pytest.approx(single.energy_kcal_mol, rel=1e-12)
        np.testing.assert_allclose(p.forces_kcal_mol_angstrom, single.forces_kcal_mol_angstrom)


def test_charges_are_free_by_default_and_neutral_per_fragment_on_request(fluoroethanol):
    import copy

    from virialff.model.potential_model import SMALL_MODEL_CONFIG

    config = copy.deepcopy(SMALL_MODEL_CONFIG)
    free = Predictor.untrained(model_config=config, seed=3).predict(fluoroethanol)
    assert abs(free.charges_e.sum()) > 1e-9  # the paper leaves the molecular total free
    config["potential"]["neutral_charges"] = True
    neutral_model = Predictor.untrained(model_config=config, seed=3)
    water, methanol = embedded("O"), embedded("CO")
    shifted = _with_positions(methanol, methanol.GetConformer().GetPositions() + [3.5, 0, 0])
    charges = neutral_model.predict(Chem.CombineMols(water, shifted)).charges_e
    n_water = water.GetNumAtoms()
    assert abs(charges[:n_water].sum()) < 1e-9 and abs(charges[n_water:].sum()) < 1e-9


def test_complex_pairs_across_fragments_are_non_bonded(predictor):
    water, methanol = embedded("O"), embedded("CO")
    shifted = _with_positions(methanol, methanol.GetConformer().GetPositions() + [3.5, 0, 0])
    dimer = Chem.CombineMols(water, shifted)
    p = predictor.predict(dimer)
    n_water = water.GetNumAtoms()
    across = (p.pair_index[0] < n_water) & (p.pair_index[1] >= n_water)
    assert across.sum() == n_water * methanol.GetNumAtoms()
    assert not p.pair_bonded[across].any()
    # parameters of each fragment come from its own covalent graph
    alone = predictor.predict(water)
    np.testing.assert_allclose(p.charges_e[:n_water], alone.charges_e, atol=1e-12)
    # far apart, the dimer energy is the sum of the monomers (all pair terms decay)
    far = Chem.CombineMols(
        water, _with_positions(methanol, methanol.GetConformer().GetPositions() + [500.0, 0, 0])
    )
    far_prediction = predictor.predict(far)
    methanol_alone = predictor.predict(methanol)
    e_sum = alone.energy_kcal_mol + methanol_alone.energy_kcal_mol
    # what survives at 500 Å is the Coulomb energy of the two fragments' net charges
    from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

    monopoles = COULOMB_KCAL_MOL_ANGSTROM * alone.charges_e.sum() * methanol_alone.charges_e.sum()
    expected = e_sum + monopoles / 500.0
    assert far_prediction.energy_kcal_mol == pytest.approx(expected, abs=1e-2)


@pytest.mark.parametrize(
    ("smiles", "message"),
    [("[SiH4]", "unsupported_element"), ("C[NH3+]", "charged")],
)
def test_unsupported_molecules_raise_clean_value_errors(predictor, smiles, message):
    with pytest.raises(ValueError, match=message):
        predictor.predict(embedded(smiles))


def test_overlapping_atoms_raise_a_value_error(predictor):
    mol = embedded("CO")
    positions = mol.GetConformer().GetPositions()
    positions[1] = positions[0] + [0.3, 0.0, 0.0]
    with pytest.raises(ValueError, match="overlapping_atoms"):
        predictor.predict(_with_positions(mol, positions))


def test_xyz_input_perceives_bonds(predictor, tmp_path, fluoroethanol):
    path = tmp_path / "mol.xyz"
    path.write_text(Chem.MolToXYZBlock(fluoroethanol) + Chem.MolToXYZBlock(embedded("O")))
    mols = read_xyz(path)
    assert len(mols) == 2 and mols[0].GetNumBonds() == fluoroethanol.GetNumBonds()
    from_xyz = predictor.predict_xyz(path)
    direct = predictor.predict(fluoroethanol)
    # XYZ keeps 6 decimals of the coordinates
    assert from_xyz[0].energy_kcal_mol == pytest.approx(direct.energy_kcal_mol, rel=1e-5)


def test_saved_model_round_trips_through_load_model(predictor, fluoroethanol, tmp_path):
    path = tmp_path / "model.pt"
    predictor.save(path)
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == "virialff-model" and payload["kind"] == "potential"
    loaded = virialff.load_model(path, device="cpu").astype(torch.float64)
    assert loaded.predict(fluoroethanol).energy_kcal_mol == pytest.approx(
        predictor.predict(fluoroethanol).energy_kcal_mol, rel=1e-12
    )


def test_untrained_is_reproducible_and_rejects_unknown_targets():
    a = Predictor.untrained("kinetic", seed=1).model.state_dict()
    b = Predictor.untrained("kinetic", seed=1).model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="target"):
        Predictor.untrained("enthalpy")
