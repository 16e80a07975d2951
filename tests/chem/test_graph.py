"""Specification of molecular graphs and vectorised batching (virialff.chem.graph)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem

from virialff.chem.graph import (
    N_ELEMENTS,
    collate,
    graph_from_rdkit,
    select_molecules,
)
from virialff.errors import MoleculeRejected


def embedded(smiles: str, seed: int = 7) -> Chem.Mol:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    return mol


@pytest.fixture(scope="module")
def three_graphs():
    smiles = {"ethanol": "CCO", "water": "O", "chlorobenzene": "Clc1ccccc1"}
    return [
        graph_from_rdkit(embedded(s), name, targets={"energy_kcal_mol": float(i)})
        for i, (name, s) in enumerate(smiles.items())
    ]


def test_atom_order_is_rdkit_order_and_bonds_are_directed_both_ways():
    mol = embedded("CCO")
    graph = graph_from_rdkit(mol, "ethanol")
    assert [a.GetSymbol() for a in mol.GetAtoms()][:3] == ["C", "C", "O"]
    assert graph.element_index.tolist()[:3] == [1, 1, 3]
    assert graph.bond_index.shape == (2, 2 * mol.GetNumBonds())
    forward = {tuple(p) for p in graph.bond_index.T.tolist()}
    assert all((j, i) in forward for i, j in forward)
    np.testing.assert_allclose(graph.positions_angstrom, mol.GetConformer().GetPositions())


def test_every_pair_appears_once_and_bonded_pairs_carry_their_bond_type():
    graph = graph_from_rdkit(embedded("C=O"), "formaldehyde")
    pair_index, pair_type = graph.pairs()
    n = graph.n_atoms
    assert pair_index.shape[1] == n * (n - 1) // 2
    assert np.all(pair_index[0] < pair_index[1])
    carbon_oxygen = np.flatnonzero((pair_index[0] == 0) & (pair_index[1] == 1))
    assert pair_type[carbon_oxygen].tolist() == [2]  # 1 + DOUBLE
    assert (pair_type > 0).sum() == 3  # C=O and two C-H


def test_a_complex_has_no_bonded_pair_between_its_fragments():
    dimer = Chem.CombineMols(embedded("O"), embedded("O", seed=3))
    conformer = dimer.GetConformer()
    for atom in range(3, 6):
        position = conformer.GetAtomPosition(atom)
        conformer.SetAtomPosition(atom, (position.x + 3.0, position.y, position.z))
    graph = graph_from_rdkit(dimer, "water_dimer")
    pair_index, pair_type = graph.pairs()
    across = graph.fragment_index[pair_index[0]] != graph.fragment_index[pair_index[1]]
    assert across.sum() == 9
    assert np.all(pair_type[across] == 0)


@pytest.mark.parametrize(
    ("smiles", "reason"),
    [
        ("[Na+].[Cl-]", "unsupported_element"),
        ("C[NH3+]", "charged"),
        ("[CH3]", "open_shell"),
        ("C[Si](C)(C)C", "unsupported_element"),
    ],
)
def test_unusable_molecules_are_rejected_with_a_reason_naming_the_molecule(smiles, reason):
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=1)
    with pytest.raises(MoleculeRejected) as caught:
        graph_from_rdkit(mol, "mol_x")
    assert caught.value.reason == reason
    assert "mol_x" in str(caught.value)


@pytest.mark.parametrize("smiles", ["NCCS", "NC(N)=N", "CC(=O)NO", "O", "CCO"])
def test_closed_shell_molecules_pass_with_or_without_explicit_hydrogens(smiles):
    from virialff.chem.graph import check_neutral_closed_shell

    check_neutral_closed_shell(Chem.MolFromSmiles(smiles), "m")
    check_neutral_closed_shell(Chem.AddHs(Chem.MolFromSmiles(smiles)), "m")


def test_overlapping_atoms_and_nan_coordinates_are_rejected():
    mol = embedded("CO")
    conformer = mol.GetConformer()
    conformer.SetAtomPosition(1, conformer.GetAtomPosition(0))
    with pytest.raises(MoleculeRejected, match="overlapping_atoms"):
        graph_from_rdkit(mol, "methanol")
    conformer.SetAtomPosition(1, (float("nan"), 0.0, 0.0))
    with pytest.raises(MoleculeRejected, match="nan_value"):
        graph_from_rdkit(mol, "methanol")


def test_collate_concatenates_with_offsets(three_graphs):
    batch = collate(three_graphs)
    sizes = [g.n_atoms for g in three_graphs]
    assert batch.atom_ptr.tolist() == [0, *np.cumsum(sizes).tolist()]
    assert batch.element_counts.shape == (3, N_ELEMENTS)
    assert batch.element_counts.sum(1).tolist() == sizes
    for m in range(3):
        atoms = slice(int(batch.atom_ptr[m]), int(batch.atom_ptr[m + 1]))
        assert torch.all(batch.atom_molecule[atoms] == m)
        bonds = batch.bond_index[:, batch.bond_molecule == m]
        assert bonds.min() >= atoms.start and bonds.max() < atoms.stop
        pairs = batch.pair_index[:, batch.pair_molecule == m]
        assert pairs.min() >= atoms.start and pairs.max() < atoms.stop
    assert batch.molecule_targets["energy_kcal_mol"].tolist() == [0.0, 1.0, 2.0]


def test_select_molecules_equals_collating_the_selection_directly(three_graphs):
    batch = collate(three_graphs)
    chosen = [2, 0]
    selected = select_molecules(batch, torch.tensor(chosen))
    direct = collate([three_graphs[i] for i in chosen])
    for name in ("element_index", "positions_angstrom", "atom_molecule", "bond_index",
                 "bond_type", "pair_index", "pair_type", "pair_molecule", "atom_ptr",
                 "bond_ptr", "pair_ptr", "element_counts"):
        assert torch.equal(getattr(selected, name), getattr(direct, name)), name
    assert selected.molecule_ids == ["chlorobenzene", "ethanol"]
    assert torch.equal(
        selected.molecule_targets["energy_kcal_mol"], direct.molecule_targets["energy_kcal_mol"]
    )


def test_batch_survives_a_weights_only_round_trip(tmp_path, three_graphs):
    from virialff.chem.graph import GraphBatch

    batch = collate(three_graphs)
    torch.save(batch.state_dict(), tmp_path / "batch.pt")
    restored = GraphBatch.from_state_dict(torch.load(tmp_path / "batch.pt", weights_only=True))
    assert torch.equal(restored.pair_index, batch.pair_index)
    assert restored.molecule_ids == batch.molecule_ids


def test_pairs_derived_per_batch_equal_the_pairs_of_each_graph():
    """A data set is stored without pairs; the pairs derived for any batch are those of every
    molecule's own graph (i < j, row-major, bonded pairs typed), in the same order."""
    import torch
    from synthetic_data import synthetic_molecules

    from virialff.chem.graph import collate, graph_from_rdkit, molecule_pairs, select_molecules

    graphs = [graph_from_rdkit(m, m.GetProp("_Name")) for m in synthetic_molecules(12)]
    batch = collate(graphs)
    offsets = np.cumsum([0] + [g.n_atoms for g in graphs])
    expected_index = np.concatenate([g.pairs()[0] + o for g, o in zip(graphs, offsets,
                                                                        strict=False)], axis=1)
    expected_type = np.concatenate([g.pairs()[1] for g in graphs])
    np.testing.assert_array_equal(batch.pair_index.numpy(), expected_index)
    np.testing.assert_array_equal(batch.pair_type.numpy(), expected_type)
    pair_index, pair_type, _, _ = molecule_pairs(batch.atom_ptr, batch.bond_index,
                                                 batch.bond_type)
    assert torch.equal(pair_index, batch.pair_index) and torch.equal(pair_type, batch.pair_type)
    stored = batch.without_pairs()
    assert stored.pair_index is None
    for chosen in ([5, 0, 11], [3], list(range(12))):
        direct, derived = select_molecules(batch, chosen), select_molecules(stored, chosen)
        for name in ("pair_index", "pair_type", "pair_molecule", "pair_ptr"):
            assert torch.equal(getattr(direct, name), getattr(derived, name)), name
