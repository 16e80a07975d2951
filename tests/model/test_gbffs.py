"""Specification of GB-FFs' head (virialff.model.gbffs) and of the torch Amber-form energy
(virialff.model.amber_energy): symmetric term parameters, exact charge conservation,
permutation equivariance, forces that are −∇E, and the NumPy reference's energies."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from model_support import embedded
from rdkit import Chem

from virialff.formats.amber_parameters import AMBER_SCEE, AMBER_SCNB
from virialff.model import amber_energy as ae
from virialff.model.gbffs import (
    GBFFsPredictor,
    ValenceTable,
    predicted_amber_tensors,
    untrained_gbffs_model,
)
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

SMILES = {
    "acetamide": "CC(=O)N",  # impropers at the carbonyl C and at N
    "fluoroethanol_pyridine": "OCC(F)c1ccncc1",
    "acetate": "CC(=O)[O-]",
    "methylammonium": "C[NH3+]",
}


@pytest.fixture(scope="module")
def predictor() -> GBFFsPredictor:
    """Untrained float64 head on a small random MPNN, with last layers large enough that every
    parameter differs between terms (so that a symmetry test can fail)."""
    model, config = untrained_gbffs_model(SMALL_MODEL_CONFIG["embedding"], hidden_width=16,
                                          seed=4)
    generator = torch.Generator().manual_seed(9)
    with torch.no_grad():
        for head in (model.bond_head, model.angle_head, model.proper_head, model.improper_head,
                     model.vdw_head, model.transfer_head):
            head[-1].weight.copy_(0.3 * torch.randn(head[-1].weight.shape, generator=generator))
    return GBFFsPredictor(model, {"config": config}).astype(torch.float64)


def _terms_and_h(predictor: GBFFsPredictor, mol: Chem.Mol):
    graph, terms, _ = predictor.predict_tensors(mol, "m")
    with torch.no_grad():
        h = predictor.model.embed(torch.as_tensor(graph.element_index),
                                  torch.as_tensor(graph.bond_index),
                                  torch.as_tensor(graph.bond_type))
    return terms, h


def _run(predictor: GBFFsPredictor, h: torch.Tensor, terms) -> dict:
    with torch.no_grad():
        return predictor.model(h, terms)


# -- symmetry --------------------------------------------------------------------------------
def test_a_term_read_in_reverse_gets_bit_identical_parameters(predictor):
    mol = embedded(SMILES["fluoroethanol_pyridine"])
    terms, h = _terms_and_h(predictor, mol)
    out = _run(predictor, h, terms)
    permuted = replace(terms, bonds=terms.bonds.flip(1), angles=terms.angles.flip(1),
                       propers=terms.propers.flip(1),
                       impropers=terms.impropers[:, [3, 0, 2, 1]])
    again = _run(predictor, h, permuted)
    for key in ("bond_k", "bond_r0_angstrom", "angle_k", "angle_theta0_rad",
                "torsion_k_kcal_mol", "improper_k_kcal_mol", "charges_e"):
        assert torch.equal(out[key], again[key]), key
    # the predictions do differ from term to term: the test above could have failed
    assert out["bond_k"].std() > 1e-3 and out["torsion_k_kcal_mol"].std() > 1e-3
    # reading a bond backwards turns its charge transfer around, and nothing else
    assert torch.equal(again["transfer_scaled"], -out["transfer_scaled"])


def test_every_order_of_an_impropers_outer_atoms_gives_the_same_constant(predictor):
    terms, h = _terms_and_h(predictor, embedded(SMILES["acetamide"]))
    assert terms.impropers.shape[0] == 2
    reference = _run(predictor, h, terms)["improper_k_kcal_mol"]
    for order in ([0, 1, 2, 3], [1, 0, 2, 3], [3, 1, 2, 0], [1, 3, 2, 0], [3, 0, 2, 1]):
        again = _run(predictor, h, replace(terms, impropers=terms.impropers[:, order]))
        assert torch.equal(again["improper_k_kcal_mol"], reference)


@pytest.mark.parametrize("name, formal", [("fluoroethanol_pyridine", 0), ("acetate", -1),
                                          ("methylammonium", 1)])
def test_the_charges_add_up_to_the_formal_charge(predictor, name, formal):
    parameters = predictor.amber_parameters(embedded(SMILES[name]), name)
    assert parameters.formal_charge == formal
    assert abs(parameters.charges_e.sum() - formal) < 1e-12
    assert np.abs(parameters.charges_e - np.round(parameters.charges_e)).max() > 1e-3


def test_renumbering_the_atoms_renumbers_the_parameters(predictor):
    mol = embedded(SMILES["fluoroethanol_pyridine"])
    order = np.random.default_rng(3).permutation(mol.GetNumAtoms()).tolist()
    renumbered = Chem.RenumberAtoms(mol, order)  # new atom i is old atom order[i]
    old = predictor.amber_parameters(mol, "a")
    new = predictor.amber_parameters(renumbered, "b")
    to_old = np.asarray(order)
    for column in ("charges_e", "sigma_angstrom", "epsilon_kcal_mol"):
        np.testing.assert_allclose(getattr(new, column), getattr(old, column)[to_old],
                                   rtol=0, atol=1e-10)

    def table(p, prefix, canonical):
        index = to_old[getattr(p, f"{prefix}_index")] if p is new else getattr(p, f"{prefix}_index")
        return {canonical(tuple(row)): i for i, row in enumerate(index.tolist())}

    def sort2(t):
        return tuple(sorted(t))

    def path(t):
        return min(t, t[::-1])

    for prefix, canonical, columns in (
            ("bond", sort2, ("bond_k", "bond_r0_angstrom")),
            ("angle", lambda t: (min(t[0], t[2]), t[1], max(t[0], t[2])),
             ("angle_k", "angle_theta0_rad")),
            ("improper", lambda t: (t[2], *sorted((t[0], t[1], t[3]))), ("improper_k_kcal_mol",))):
        rows_old, rows_new = table(old, prefix, canonical), table(new, prefix, canonical)
        assert set(rows_old) == set(rows_new)
        for key, i in rows_old.items():
            for column in columns:
                assert abs(getattr(new, column)[rows_new[key]] - getattr(old, column)[i]) < 1e-10
    # torsions: one row per path and periodicity
    old_rows = {(path(tuple(r)), n): k for r, n, k in zip(
        old.torsion_index.tolist(), old.torsion_periodicity, old.torsion_k_kcal_mol, strict=True)}
    new_rows = {(path(tuple(to_old[r].tolist())), n): k for r, n, k in zip(
        new.torsion_index, new.torsion_periodicity, new.torsion_k_kcal_mol, strict=True)}
    assert set(old_rows) == set(new_rows)
    assert max(abs(new_rows[k] - v) for k, v in old_rows.items()) < 1e-10


def test_torsions_about_a_linear_atom_are_exactly_zero(predictor):
    """GAFF2's X-c1-X and X-n1-X: φ is undefined at a straight angle, so any other constant
    would give forces without bound as the three atoms line up."""
    parameters = predictor.amber_parameters(embedded("CC#N"), "acetonitrile")
    linear = {1, 2}
    paths = parameters.torsion_index
    through = np.array([p[1] in linear or p[2] in linear for p in paths.tolist()])
    assert through.all()  # every path of acetonitrile crosses the C≡N carbon
    assert (parameters.torsion_k_kcal_mol == 0).all()
    other = predictor.amber_parameters(embedded("CC=CC#N"), "crotononitrile")
    crossing = np.array([p[1] in (3, 4) or p[2] in (3, 4) for p in other.torsion_index.tolist()])
    assert (other.torsion_k_kcal_mol[crossing] == 0).all()
    assert (other.torsion_k_kcal_mol[~crossing] != 0).all()


def test_predicted_parameters_are_a_complete_amber_form_set(predictor):
    parameters = predictor.amber_parameters(embedded(SMILES["acetamide"]), "acetamide")
    parameters.check()
    n_paths = len(parameters.torsion_index) // 4
    assert parameters.torsion_periodicity.tolist() == [1, 2, 3, 4] * n_paths
    np.testing.assert_allclose(parameters.torsion_phase_rad, [0, math.pi, 0, math.pi] * n_paths)
    assert (parameters.improper_periodicity == 2).all()
    np.testing.assert_allclose(parameters.improper_phase_rad, math.pi)
    assert set(parameters.improper_index[:, 2].tolist()) == {1, 3}  # carbonyl C and N
    assert (parameters.atom_types == "").all()
    assert (parameters.sigma_angstrom > 0).all() and (parameters.epsilon_kcal_mol > 0).all()
    assert (parameters.bond_k > 0).all() and (parameters.angle_k > 0).all()


def test_a_saved_model_loads_to_the_same_parameters(predictor, tmp_path):
    from virialff.model.gbffs import gbffs_payload

    mol = embedded(SMILES["acetamide"])
    payload = gbffs_payload(predictor.model, predictor.metadata["config"])
    metadata = {k: v for k, v in payload.items() if k != "state_dict"}
    GBFFsPredictor(predictor.model, metadata).save(tmp_path / "gbffs.pt")
    loaded = GBFFsPredictor.load(tmp_path / "gbffs.pt")
    assert loaded.metadata["kind"] == "gbffs" and loaded.dtype == torch.float64
    a, b = predictor.amber_parameters(mol, "x"), loaded.amber_parameters(mol, "x")
    for column in ("charges_e", "bond_k", "torsion_k_kcal_mol", "improper_k_kcal_mol"):
        np.testing.assert_array_equal(getattr(a, column), getattr(b, column))


def test_another_model_file_is_refused_naming_it(tmp_path):
    from virialff.formats.model_file import model_payload, write_model_file
    from virialff.model.embedding import KineticDecompositionModel

    path = tmp_path / "embedding.pt"
    model = KineticDecompositionModel(**SMALL_MODEL_CONFIG["embedding"])
    write_model_file(path, model_payload(model, {}, kind="embedding", target="kd"))
    with pytest.raises(ValueError, match=r"embedding\.pt is a 'embedding' model, not a GB-FFs"):
        GBFFsPredictor.load(path)


def test_a_model_file_of_an_unknown_kind_is_refused_naming_it(predictor, tmp_path):
    from virialff.formats.model_file import read_model_file, write_model_file
    from virialff.model.gbffs import gbffs_payload

    path = tmp_path / "future.pt"
    payload = gbffs_payload(predictor.model, predictor.metadata["config"])
    write_model_file(path, {**payload, "kind": "gbffs-v9"})
    with pytest.raises(ValueError, match=r"future\.pt holds a model of kind 'gbffs-v9'"):
        read_model_file(path)


def test_unsupported_input_is_named(predictor):
    with pytest.raises(ValueError, match="iodo.*element"):
        predictor.amber_parameters(embedded("CI"), "iodo")
    with pytest.raises(ValueError, match="noH.*missing_hydrogens"):
        predictor.amber_parameters(Chem.MolFromSmiles("CCO"), "noH")


# -- the torch energy -------------------------------------------------------------------------
def _tensor(values) -> torch.Tensor:
    return torch.as_tensor(np.asarray(values, dtype=float))


def test_term_energies_by_hand():
    x = _tensor([[0, 0, 0], [1.5, 0, 0], [1.5, 2.0, 0], [1.5, 2.0, 1.0]])
    bond = ae.bond_energy_kcal_mol(x, torch.tensor([[0, 1]]), _tensor([300.0]), _tensor([1.4]))
    assert bond.item() == pytest.approx(300 * 0.1**2, abs=1e-12)
    angle = ae.angle_energy_kcal_mol(x, torch.tensor([[0, 1, 2]]), _tensor([50.0]),
                                     _tensor([math.radians(100)]))
    assert angle.item() == pytest.approx(50 * math.radians(10) ** 2, abs=1e-12)
    # dihedral 0-1-2-3: looking down 1→2 (+y), the front bond (−x) turns clockwise by 90° onto
    # the back bond (+z): +90° by IUPAC
    phi = ae.dihedral_angles_rad(x, torch.tensor([[0, 1, 2, 3]]))
    assert phi.item() == pytest.approx(math.pi / 2, abs=1e-12)
    cis = _tensor([[1, 0, 0], [0, 0, 0], [0, 1, 0], [1, 1, 0]])
    trans = _tensor([[1, 0, 0], [0, 0, 0], [0, 1, 0], [-1, 1, 0]])
    assert ae.dihedral_angles_rad(cis, torch.tensor([[0, 1, 2, 3]])).item() == pytest.approx(0)
    assert abs(ae.dihedral_angles_rad(trans, torch.tensor([[0, 1, 2, 3]])).item()) == \
        pytest.approx(math.pi)
    torsion = ae.torsion_energy_kcal_mol(trans, torch.tensor([[0, 1, 2, 3]] * 2),
                                         _tensor([1.0, 2.0]), torch.tensor([1, 2]),
                                         _tensor([0.0, math.pi]))
    np.testing.assert_allclose(torsion.numpy(), [0.0, 0.0], atol=1e-12)


def test_lennard_jones_and_coulomb_by_hand():
    sigma, epsilon = _tensor([3.0, 3.4]), _tensor([0.1, 0.4])
    sigma_ij, epsilon_ij = 3.2, math.sqrt(0.04)
    pair = torch.tensor([[0, 1]])
    for r, expected in ((sigma_ij, 0.0), (2 ** (1 / 6) * sigma_ij, -epsilon_ij)):
        x = _tensor([[0, 0, 0], [r, 0, 0]])
        lj = ae.lennard_jones_energy_kcal_mol(x, pair, sigma, epsilon, _tensor([1.0]))
        assert lj.item() == pytest.approx(expected, abs=1e-12)
        scaled = ae.lennard_jones_energy_kcal_mol(x, pair, sigma, epsilon, _tensor([0.5]))
        assert scaled.item() == pytest.approx(expected / 2, abs=1e-12)
    x = _tensor([[0, 0, 0], [2.0, 0, 0]])
    coulomb = ae.coulomb_energy_kcal_mol(x, pair, _tensor([0.5, -0.25]), _tensor([1 / 1.2]))
    assert coulomb.item() == pytest.approx(COULOMB_KCAL_MOL_ANGSTROM * -0.125 / 2.0 / 1.2)


def test_the_nonbonded_pairs_leave_out_1_2_and_1_3_and_mark_1_4():
    # butane's carbons 0-1-2-3 with no hydrogens: 1-4 is the only non-bonded pair
    pairs, is14 = ae.nonbonded_pairs(4, np.array([[0, 1], [1, 2], [2, 3]]), np.array([[3, 0]]))
    assert pairs.tolist() == [[0, 3]] and is14.tolist() == [True]
    # cyclopropane's carbons: every pair is 1-2
    pairs, _ = ae.nonbonded_pairs(3, np.array([[0, 1], [1, 2], [0, 2]]), np.zeros((0, 2)))
    assert pairs.shape == (0, 2)


def test_forces_are_minus_the_gradient(predictor):
    """Autograd forces of the predicted force field against central differences."""
    mol = embedded(SMILES["fluoroethanol_pyridine"])
    _, terms, out = predictor.predict_tensors(mol, "m")
    params = predicted_amber_tensors(terms, out)
    x = torch.as_tensor(mol.GetConformer().GetPositions())
    _, forces = ae.amber_energy_and_forces(x, params)
    step = 1e-5
    numeric = torch.zeros_like(x)
    for atom in range(x.shape[0]):
        for axis in range(3):
            plus, minus = x.clone(), x.clone()
            plus[atom, axis] += step
            minus[atom, axis] -= step
            numeric[atom, axis] = -(ae.amber_energy_terms(plus, params)["total"]
                                    - ae.amber_energy_terms(minus, params)["total"]).sum() / (
                                        2 * step)
    assert forces.abs().max() > 1.0
    torch.testing.assert_close(forces, numeric, rtol=0, atol=2e-5)


def test_a_straight_angle_and_a_collinear_dihedral_have_finite_forces():
    x = _tensor([[0, 0, 0], [1.2, 0, 0], [2.4, 0, 0], [3.0, 1.0, 0]])
    x.requires_grad_(True)
    energy = (ae.angle_energy_kcal_mol(x, torch.tensor([[0, 1, 2]]), _tensor([50.0]),
                                       _tensor([2.0]))
              + ae.torsion_energy_kcal_mol(x, torch.tensor([[0, 1, 2, 3]]), _tensor([1.0]),
                                           torch.tensor([3]), _tensor([0.0]))).sum()
    (gradient,) = torch.autograd.grad(energy, x)
    assert torch.isfinite(gradient).all()


def test_batched_energies_are_those_of_each_molecule_alone(predictor):
    mols = [embedded(SMILES["acetamide"]), embedded(SMILES["acetate"])]
    alone = []
    for mol in mols:
        parameters = predictor.amber_parameters(mol, "m")
        x = torch.as_tensor(mol.GetConformer().GetPositions())
        alone.append(float(ae.amber_energy_terms(x, ae.amber_tensors([parameters]))["total"][0]))
    both = ae.amber_tensors([predictor.amber_parameters(m, "m") for m in mols])
    x = torch.as_tensor(np.concatenate([m.GetConformer().GetPositions() for m in mols]))
    total = ae.amber_energy_terms(x, both)["total"]
    np.testing.assert_allclose(total.numpy(), alone, rtol=0, atol=1e-10)


def test_predicted_tensors_and_the_amber_form_parameters_give_one_energy(predictor):
    mol = embedded(SMILES["acetamide"])
    _, terms, out = predictor.predict_tensors(mol, "m")
    x = torch.as_tensor(mol.GetConformer().GetPositions())
    direct = ae.amber_energy_terms(x, predicted_amber_tensors(terms, out))
    via_file_form = ae.amber_energy_terms(
        x, ae.amber_tensors([predictor.amber_parameters(mol, "m")]))
    for name in ae.TERM_NAMES:
        assert float(direct[f"{name}_molecule"]) == pytest.approx(
            float(via_file_form[f"{name}_molecule"]), abs=1e-10)


def test_torch_energy_equals_the_numpy_reference(predictor):
    """Term by term and the forces, float64, on predicted parameters of a charged and a
    neutral molecule (the 1-4 scaling 1/1.2 and 1/2 included)."""
    amber_system = pytest.importorskip("virialff.forcefield.amber_system")
    for name in ("fluoroethanol_pyridine", "acetate"):
        mol = embedded(SMILES[name])
        parameters = predictor.amber_parameters(mol, name)
        assert (parameters.scee, parameters.scnb) == (AMBER_SCEE, AMBER_SCNB)
        x = mol.GetConformer().GetPositions()
        reference = amber_system.AmberFormSystem([parameters])
        terms = reference.energy_terms(x)
        ours = ae.amber_energy_terms(torch.as_tensor(x), ae.amber_tensors([parameters]))
        names = {"lj": "lennard_jones"}
        for term in ae.TERM_NAMES:
            assert float(ours[f"{term}_molecule"][0]) == pytest.approx(
                terms[names.get(term, term)], abs=1e-10), term
        energy, forces = reference.energy_and_forces(x)
        our_energy, our_forces = ae.amber_energy_and_forces(torch.as_tensor(x),
                                                            ae.amber_tensors([parameters]))
        assert float(our_energy[0]) == pytest.approx(energy, abs=1e-10)
        np.testing.assert_allclose(our_forces.numpy(), forces, rtol=0, atol=1e-10)


def test_valence_table_batches_shift_indices_to_the_batch(predictor):
    mols = [embedded(SMILES["acetamide"]), embedded(SMILES["acetate"])]
    from virialff.model.gbffs import molecule_graph

    graphs = [molecule_graph(m, str(i)) for i, m in enumerate(mols)]
    table = ValenceTable([(g.element_index.shape[0], g.bonds, g.formal_charge_e, g.linear)
                          for g in graphs])
    batch = table.select([1, 0])  # acetate first
    n_acetate = mols[1].GetNumAtoms()
    assert batch.atom_ptr.tolist() == [0, n_acetate, n_acetate + mols[0].GetNumAtoms()]
    first = batch.bonds[batch.bond_owner == 0]
    second = batch.bonds[batch.bond_owner == 1]
    assert first.max() < n_acetate <= second.min()
    assert batch.formal_charge_e.sum().item() == -1
