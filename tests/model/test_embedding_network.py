"""Specification of the stage-1 MPNN and the stage-2 pair network."""

from __future__ import annotations

import torch
from torch_geometric.nn import NNConv

from virialff.chem.graph import collate, graph_from_rdkit
from virialff.model.embedding import BondTypeNNConv, KineticDecompositionModel
from virialff.model.potential_model import SymmetricPairNet


def test_bond_type_nnconv_equals_pyg_nnconv_on_one_hot_edges():
    torch.manual_seed(0)
    width, n_types = 6, 4
    edge_network = torch.nn.Sequential(
        torch.nn.Linear(n_types, 8), torch.nn.ReLU(), torch.nn.Linear(8, width * width)
    )
    fast = BondTypeNNConv(width, width, edge_network, aggr="add")
    reference = NNConv(width, width, edge_network, aggr="add")
    reference.load_state_dict(fast.state_dict())
    x = torch.randn(5, width)
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4, 2, 0], [1, 0, 2, 1, 4, 3, 0, 2]])
    kinds = torch.tensor([0, 0, 3, 3, 1, 1, 2, 2])
    edge_attr = torch.nn.functional.one_hot(kinds, n_types).float()
    torch.testing.assert_close(fast(x, edge_index, edge_attr), reference(x, edge_index, edge_attr))


def test_kinetic_model_predicts_one_energy_per_molecule_with_bond_contributions():
    from model_support import embedded

    mols = [embedded("CCO"), embedded("c1ccccc1")]
    batch = collate([graph_from_rdkit(m, str(i)) for i, m in enumerate(mols)])
    model = KineticDecompositionModel(
        message_passing_steps=2, hidden_width=12, atom_head_width=8, edge_head_width=8
    )
    out = model(batch)
    assert out["kinetic_kcal_mol"].shape == (2,)
    assert out["kd_atom"].shape == (batch.element_index.shape[0],)
    n_bonds = sum(m.GetNumBonds() for m in mols)
    assert out["kd_bond"].shape == (n_bonds,)  # one per undirected covalent bond


def test_pair_network_is_symmetric_in_its_two_atoms():
    torch.manual_seed(1)
    net = SymmetricPairNet(embedding_width=10, width=16, n_layers=3)
    h = torch.randn(4, 10)
    pairs = torch.tensor([[0, 1, 2], [3, 2, 0]])
    kinds = torch.tensor([0, 2, 4])
    torch.testing.assert_close(net(h, pairs, kinds), net(h, pairs.flip(0), kinds))
    assert net(h, pairs, kinds).shape == (3, 14)
