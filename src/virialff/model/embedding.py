"""Stage 1 (paper section 4.1): an MPNN that embeds atoms, trained on K·D contributions.

Architecture (Gilmer et al. 2017, "edge network" message function + GRU update):

- node input x_i: one-hot element [A, n_elements] → ``h⁰_i = ReLU(W x_i)`` [A, hidden];
- edge input e_ij: one-hot bond type [B, n_bond_types] over the covalent graph only;
- T message-passing steps with shared weights:
  ``m_i = Σ_{j∈N(i)} A(e_ij)·h_j`` (PyG ``NNConv``, sum aggregation as in Gilmer's Eq. 1, plus
  NNConv's root weight), ``h_i ← GRU(ReLU(m_i), h_i)``;
- heads: ``KD̂_atom,i = MLP_atom(h_i)`` (3 linear layers, LeakyReLU, width 160) and
  ``KD̂_pair,ij = MLP_edge((h_i + h_j) ‖ e_ij)`` (4 linear layers, width 199) per covalent bond.

The edge network A(e) is one linear layer from the one-hot bond type to a hidden×hidden matrix;
for one-hot input a deeper edge network has no more freedom (there are only four distinct
bond types). :class:`BondTypeNNConv` evaluates NNConv's message ``h_j·A(e_ij)`` grouped by
bond type, so no [B, hidden, hidden] tensor is ever built (at hidden = 350 NNConv's default
message would need 0.5 MB per directed bond).

Targets are kept O(1): the molecule-level kinetic energy T is predicted as
``T̂ = scale · (Σ_i KD̂_atom,i + Σ_bonds KD̂_pair,ij) + wᵀN + b`` where (w, b) is a least-squares
fit on element counts N over the training split and ``scale`` the standard deviation of the
residual (both stored as buffers, so a saved state dict is self-contained).
"""

from __future__ import annotations

import torch
from torch import nn
from torch_geometric.nn import NNConv

from virialff.chem.graph import N_BOND_TYPES, N_ELEMENTS
from virialff.model.potential import linear_energy_kcal_mol, sum_per_molecule


def mlp(in_width: int, hidden_width: int, out_width: int, n_layers: int) -> nn.Sequential:
    """``n_layers`` linear layers with LeakyReLU between them (none after the last)."""
    layers: list[nn.Module] = []
    width = in_width
    for _ in range(n_layers - 1):
        layers += [nn.Linear(width, hidden_width), nn.LeakyReLU()]
        width = hidden_width
    layers.append(nn.Linear(width, out_width))
    return nn.Sequential(*layers)


class BondTypeNNConv(NNConv):
    """PyG ``NNConv`` whose edge attributes are one-hot bond types.

    The message ``x_j · nn(e_ij)`` is the same as NNConv's; it is computed per bond type
    (``nn`` evaluated on the T one-hot vectors once) instead of materialising a weight matrix
    per edge. Exact for one-hot ``edge_attr`` [B, T].
    """

    def message(self, x_j: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        n_types = edge_attr.shape[-1]
        eye = torch.eye(n_types, dtype=x_j.dtype, device=x_j.device)
        basis = self.nn(eye).view(n_types, self.in_channels_l, self.out_channels)
        edge_type = edge_attr.argmax(-1)
        out = x_j.new_zeros(x_j.shape[0], self.out_channels)
        for kind in range(n_types):
            selected = (edge_type == kind).nonzero(as_tuple=True)[0]
            if selected.numel():
                out = out.index_copy(0, selected, x_j[selected] @ basis[kind])
        return out


class MessagePassingEmbedding(nn.Module):
    """Covalent-graph MPNN.

    ``forward(element_index [A], bond_index [2, B], bond_type [B])`` → embeddings h [A, hidden].
    """

    def __init__(
        self,
        hidden_width: int = 350,
        message_passing_steps: int = 4,
        n_elements: int = N_ELEMENTS,
        n_bond_types: int = N_BOND_TYPES,
        aggregation: str = "add",
    ) -> None:
        super().__init__()
        self.hidden_width = hidden_width
        self.message_passing_steps = message_passing_steps
        self.n_elements = n_elements
        self.n_bond_types = n_bond_types
        self.input = nn.Linear(n_elements, hidden_width)
        edge_network = nn.Linear(n_bond_types, hidden_width * hidden_width)
        nn.init.normal_(edge_network.weight, std=hidden_width**-0.5)
        nn.init.zeros_(edge_network.bias)
        self.conv = BondTypeNNConv(hidden_width, hidden_width, edge_network, aggr=aggregation)
        self.gru = nn.GRUCell(hidden_width, hidden_width)

    def forward(
        self, element_index: torch.Tensor, bond_index: torch.Tensor, bond_type: torch.Tensor
    ) -> torch.Tensor:
        dtype = self.input.weight.dtype
        x = nn.functional.one_hot(element_index, self.n_elements).to(dtype)
        edge_attr = nn.functional.one_hot(bond_type, self.n_bond_types).to(dtype)
        h = torch.relu(self.input(x))
        for _ in range(self.message_passing_steps):
            m = torch.relu(self.conv(h, bond_index, edge_attr))
            h = self.gru(m, h)
        return h

    def embed_batch(self, batch) -> torch.Tensor:  # noqa: ANN001 - GraphBatch
        """Embeddings h [A, hidden] of every atom of a :class:`~virialff.chem.graph.GraphBatch`."""
        return self(batch.element_index, batch.bond_index, batch.bond_type)


class KineticDecompositionModel(nn.Module):
    """Stage-1 model: MPNN + ``MLP_atom`` + ``MLP_edge`` → molecular kinetic energy T (kcal/mol)."""

    def __init__(
        self,
        message_passing_steps: int = 4,
        hidden_width: int = 350,
        atom_head_layers: int = 3,
        atom_head_width: int = 160,
        edge_head_layers: int = 4,
        edge_head_width: int = 199,
        n_elements: int = N_ELEMENTS,
        n_bond_types: int = N_BOND_TYPES,
    ) -> None:
        super().__init__()
        self.mpnn = MessagePassingEmbedding(
            hidden_width, message_passing_steps, n_elements, n_bond_types
        )
        self.n_bond_types = n_bond_types
        self.atom_head = mlp(hidden_width, atom_head_width, 1, atom_head_layers)
        self.edge_head = mlp(hidden_width + n_bond_types, edge_head_width, 1, edge_head_layers)
        self.register_buffer(
            "element_weights_kcal_mol", torch.zeros(n_elements, dtype=torch.float64)
        )
        self.register_buffer("bias_kcal_mol", torch.zeros((), dtype=torch.float64))
        self.register_buffer("scale_kcal_mol", torch.ones((), dtype=torch.float64))

    def forward(self, batch) -> dict[str, torch.Tensor]:  # noqa: ANN001 - GraphBatch
        """Predicted contributions and molecular T.

        Returns ``kd_atom`` [A] and ``kd_bond`` [B/2] (one per undirected bond, in units of
        ``scale_kcal_mol``), ``bond_index`` [2, B/2] and ``kinetic_kcal_mol`` [M].
        """
        h = self.mpnn.embed_batch(batch)
        forward_bonds = batch.bond_index[0] < batch.bond_index[1]
        bond_index = batch.bond_index[:, forward_bonds]
        bond_attr = nn.functional.one_hot(batch.bond_type[forward_bonds], self.n_bond_types)
        kd_atom = self.atom_head(h).squeeze(-1)
        edge_input = torch.cat([h[bond_index[0]] + h[bond_index[1]], bond_attr.to(h.dtype)], -1)
        kd_bond = self.edge_head(edge_input).squeeze(-1)
        n = batch.n_molecules
        residual = sum_per_molecule(kd_atom, batch.atom_molecule, n) + sum_per_molecule(
            kd_bond, batch.bond_molecule[forward_bonds], n
        )
        linear = linear_energy_kcal_mol(
            batch.element_counts.to(self.bias_kcal_mol.dtype),
            self.element_weights_kcal_mol,
            self.bias_kcal_mol,
            batch.n_fragments.to(self.bias_kcal_mol.dtype),
        )
        return {
            "kd_atom": kd_atom,
            "kd_bond": kd_bond,
            "bond_index": bond_index,
            "kinetic_kcal_mol": linear + self.scale_kcal_mol * residual,
        }
