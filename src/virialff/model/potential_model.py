"""Stage 2 (paper section 4.2): networks that predict charges and pair parameters.

``charge_net(h_i) → Q_i`` and ``feats_net(h_i, h_j, e_ij) → C0..C13`` for every atom pair, from
stage-1 embeddings h (frozen when pretrained) and the pair type e_ij (one-hot: non-covalent or
one of four bond types). The energy is then computed by the pure functions of
:mod:`virialff.model.potential`; geometry enters only through r_ij.

Symmetry. The paper feeds ``[h_i ‖ h_j ‖ e_ij]`` to feats_net, which depends on the atom order.
Here the first layer of feats_net is the symmetric form
``z_ij = A h_i + A h_j + (B h_i) ⊙ (B h_j) + E e_ij`` (a sum plus a Hadamard product of
per-atom projections), followed by LeakyReLU and the remaining linear layers. It costs O(A)
matrix products plus O(P) element-wise work for the first layer, and the predicted energy is
invariant to atom renumbering.

Physics priors kept outside the networks: optionally (``neutral_charges``, off by default as in
the paper, whose Fig. 12 shows the free totals) charges are shifted so each covalent fragment is
neutral; the Gaussian widths C3..C13 start near 0.5 Å (bias of the last layer); the linear
reference E_lin = wᵀN + n_fragments·b is a least-squares fit stored as buffers (b counted once
per covalent fragment, so that it cancels in interaction energies; see
:func:`virialff.model.potential.linear_energy_kcal_mol`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.chem.graph import N_ELEMENTS, N_PAIR_TYPES
from virialff.config_keys import EMBEDDING_KEYS
from virialff.forcefield.pair_potential import N_PAIR_PARAMETERS, PairGuards, pair_core_class
from virialff.model.embedding import MessagePassingEmbedding, mlp
from virialff.model.potential import (
    bounded_pair_parameters,
    core_energy_kcal_mol,
    linear_energy_kcal_mol,
    molecule_energy_kcal_mol,
    neutralise_charges,
    pair_distances_angstrom,
    pair_energy_kcal_mol,
    raw_width_for,
    stretch_energy_kcal_mol,
)

TARGETS: tuple[str, ...] = ("total", "kinetic")
#: dataset key of each target, kcal/mol.
TARGET_KEYS: dict[str, str] = {"total": "energy_kcal_mol", "kinetic": "kinetic_kcal_mol"}
#: sign of the pair sum: E = E_lin + ΣE_ij, T = T_lin − ΣE_ij.
TARGET_SIGNS: dict[str, float] = {"total": 1.0, "kinetic": -1.0}
#: initial Gaussian width (Å) of the short-range terms.
INITIAL_WIDTH_ANGSTROM = 0.5
HYDROGEN_INDEX = SUPPORTED_ELEMENTS.index("H")


def fragment_labels(bond_index: torch.Tensor, n_atoms: int) -> torch.Tensor:
    """Connected component of every atom in the covalent graph, LongTensor [A] (CPU, SciPy)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    edges = bond_index.detach().cpu().numpy()
    graph = coo_matrix(
        (np.ones(edges.shape[1], dtype=np.int8), (edges[0], edges[1])), shape=(n_atoms, n_atoms)
    )
    _, labels = connected_components(graph, directed=False)
    return torch.as_tensor(labels, dtype=torch.long)


class SymmetricPairNet(nn.Module):
    """feats_net: embeddings [A, H], pair_index [2, P], pair_type [P] → C [P, 14].

    Symmetric in (i, j) by construction (see module docstring). With ``guards`` the output is
    bounded (:func:`virialff.model.potential.bounded_pair_parameters`).
    """

    def __init__(
        self, embedding_width: int, width: int, n_layers: int, n_pair_types: int = N_PAIR_TYPES,
        guards: PairGuards | None = None,
    ) -> None:
        super().__init__()
        self.n_pair_types = n_pair_types
        self.guards = guards
        self.linear = nn.Linear(embedding_width, width)
        self.bilinear = nn.Linear(embedding_width, width, bias=False)
        self.pair_type = nn.Linear(n_pair_types, width, bias=False)
        self.rest = mlp(width, width, N_PAIR_PARAMETERS, max(n_layers - 1, 1))
        last = self.rest[-1]
        nn.init.normal_(last.weight, std=0.01 / width**0.5)
        with torch.no_grad():
            last.bias.zero_()
            last.bias[3::2] = raw_width_for(INITIAL_WIDTH_ANGSTROM, guards)

    def add_pair_type(self, like: int) -> int:
        """Append a pair type whose parameters start equal to those of type ``like`` (so the
        network's outputs do not change until it is trained); returns its index."""
        old = self.pair_type
        grown = nn.Linear(self.n_pair_types + 1, old.out_features, bias=False).to(
            dtype=old.weight.dtype, device=old.weight.device)
        with torch.no_grad():
            grown.weight[:, : self.n_pair_types] = old.weight
            grown.weight[:, self.n_pair_types] = old.weight[:, like]
        self.pair_type = grown
        self.n_pair_types += 1
        return self.n_pair_types - 1

    def forward(
        self, h: torch.Tensor, pair_index: torch.Tensor, pair_type: torch.Tensor
    ) -> torch.Tensor:
        a = self.linear(h)
        b = self.bilinear(h)
        i, j = pair_index
        e = nn.functional.one_hot(pair_type, self.n_pair_types).to(h.dtype)
        z = a[i] + a[j] + b[i] * b[j] + self.pair_type(e)
        return bounded_pair_parameters(self.rest(nn.functional.leaky_relu(z)), self.guards)


class PotentialModel(nn.Module):
    """Embedding network + charge_net + feats_net → energy (kcal/mol) of molecules and complexes."""

    def __init__(
        self,
        embedding: MessagePassingEmbedding,
        target: str = "total",
        charge_net_layers: int = 3,
        charge_net_width: int = 128,
        feats_net_layers: int = 3,
        feats_net_width: int = 256,
        freeze_embedding: bool = True,
        neutral_charges: bool = False,
        guards: PairGuards | None = None,
        intermolecular_pair_class: bool = False,
    ) -> None:
        super().__init__()
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {target!r}")
        self.target = target
        self.embedding = embedding
        self.freeze_embedding = freeze_embedding
        self.neutral_charges = neutral_charges
        if freeze_embedding:
            self.embedding.requires_grad_(False)
        width = embedding.hidden_width
        self.charge_net = mlp(width, charge_net_width, 1, charge_net_layers)
        nn.init.normal_(self.charge_net[-1].weight, std=0.01 / charge_net_width**0.5)
        nn.init.zeros_(self.charge_net[-1].bias)
        self.guards = guards
        self.feats_net = SymmetricPairNet(width, feats_net_width, feats_net_layers,
                                          guards=guards)
        #: the pair type feats_net sees for pairs between covalent fragments: the non-covalent
        #: type 0, as in the paper, or a class of their own (:meth:`add_intermolecular_pair_class`)
        self.intermolecular_pair_type = 0
        if intermolecular_pair_class:
            self.add_intermolecular_pair_class()
        # float64: the reference energy is ~1e5 kcal/mol, beyond float32's 0.01 kcal/mol resolution
        self.register_buffer(
            "element_weights_kcal_mol", torch.zeros(N_ELEMENTS, dtype=torch.float64)
        )
        self.register_buffer("bias_kcal_mol", torch.zeros((), dtype=torch.float64))
        self.sign = TARGET_SIGNS[target]

    def core_energy(self, positions: torch.Tensor, batch, bonded: torch.Tensor  # noqa: ANN001
                    ) -> torch.Tensor:
        """The guards' repulsive core of every pair of ``batch`` and the stretch wall of every
        bond, [P] kcal/mol."""
        hydrogen = batch.element_index == HYDROGEN_INDEX
        i, j = batch.pair_index
        kind = pair_core_class(bonded.long(), hydrogen[i].long(), hydrogen[j].long())
        core_radius, core_strength, radius, strength = self._guard_tables(positions)
        r = pair_distances_angstrom(positions, batch.pair_index)
        core = core_energy_kcal_mol(r, core_radius[kind], core_strength[kind])
        ei, ej = batch.element_index[i], batch.element_index[j]
        wall = stretch_energy_kcal_mol(r, radius[ei, ej], strength[ei, ej])
        return core + torch.where(bonded, wall, torch.zeros_like(wall))

    def _guard_tables(self, like: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """The guards' core r_c, k_c [3] and stretch r_s, k_s [n, n] as tensors of ``like``'s
        dtype and device, made once per dtype and device (a training step would otherwise copy
        them to the device on every batch)."""
        key = (like.dtype, like.device)
        cache = self.__dict__.setdefault("_guard_table_cache", {})
        if key not in cache:
            guards = self.guards
            cache[key] = tuple(
                torch.as_tensor(np.asarray(values), dtype=like.dtype, device=like.device)
                for values in (guards.core_radius_angstrom,
                               guards.core_strength_kcal_mol_angstrom3,
                               *guards.stretch_tables()))
        return cache[key]

    @property
    def intermolecular_pair_class(self) -> bool:
        return self.intermolecular_pair_type != 0

    def add_intermolecular_pair_class(self) -> None:
        """Give pairs between covalent fragments a pair type of their own, starting from the
        parameters of the non-covalent type (every energy is unchanged until training moves
        it); intramolecular non-bonded pairs keep type 0."""
        if not self.intermolecular_pair_class:
            self.intermolecular_pair_type = self.feats_net.add_pair_type(like=0)

    def pair_classes(self, pair_index: torch.Tensor, pair_type: torch.Tensor,
                     fragment: torch.Tensor) -> torch.Tensor:
        """The feats_net pair type of every pair [P]: ``pair_type``, with pairs between
        covalent fragments (labels ``fragment`` [A]) moved to the intermolecular class."""
        if not self.intermolecular_pair_class:
            return pair_type
        between = fragment[pair_index[0]] != fragment[pair_index[1]]
        return torch.where(between, torch.full_like(pair_type, self.intermolecular_pair_type),
                           pair_type)

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def embed(self, batch) -> torch.Tensor:  # noqa: ANN001 - GraphBatch
        """Embeddings h [A, hidden]; without gradients when the embedding is frozen."""
        if self.freeze_embedding:
            with torch.no_grad():
                return self.embedding.embed_batch(batch)
        return self.embedding.embed_batch(batch)

    def parameters_from_embeddings(
        self,
        h: torch.Tensor,
        batch,
        fragment: torch.Tensor,  # noqa: ANN001
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Charges Q [A] (e; neutral per fragment if ``neutral_charges``) and C [P, 14]."""
        charges = self.charges_from_embeddings(h, fragment)
        kinds = self.pair_classes(batch.pair_index, batch.pair_type, fragment)
        params = self.feats_net(h, batch.pair_index, kinds)
        return charges, params

    def charges_from_embeddings(self, h: torch.Tensor, fragment: torch.Tensor) -> torch.Tensor:
        """Charges Q [A] (e) from embeddings h [A, hidden]; neutral per covalent fragment
        (labels ``fragment`` [A]) if ``neutral_charges``."""
        charges = self.charge_net(h).squeeze(-1)
        if self.neutral_charges:
            groups, group_index = torch.unique(fragment, return_inverse=True)
            charges = neutralise_charges(charges, group_index, int(groups.shape[0]))
        return charges

    def forward(
        self,
        batch,  # noqa: ANN001 - GraphBatch
        positions_angstrom: torch.Tensor | None = None,
        h: torch.Tensor | None = None,
        fragment: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Energies of a batch.

        Args:
            batch: :class:`~virialff.chem.graph.GraphBatch`.
            positions_angstrom: [A, 3]; defaults to ``batch.positions_angstrom``.
            h: precomputed embeddings [A, hidden] (frozen stage 1), or None to compute them.
            fragment: [A] covalent-fragment labels; computed from the bonds when None.

        Returns:
            dict with ``energy_kcal_mol`` [M] (the target: total or kinetic energy; float64
            unless the model was cast to another dtype),
            ``charges_e`` [A], ``pair_parameters`` [P, 14], ``pair_energy_kcal_mol`` [P].
        """
        positions = batch.positions_angstrom if positions_angstrom is None else positions_angstrom
        positions = positions.to(self.charge_net[0].weight.dtype)  # e.g. a float64 dataset
        if h is None:
            h = self.embed(batch)
        if fragment is None:
            fragment = fragment_labels(batch.bond_index, positions.shape[0]).to(positions.device)
        charges, params = self.parameters_from_embeddings(h.to(positions.dtype), batch, fragment)
        bonded = batch.pair_type > 0
        pair_energy = pair_energy_kcal_mol(positions, batch.pair_index, bonded, charges, params)
        if self.guards is not None:
            pair_energy = pair_energy + self.core_energy(positions, batch, bonded)
        linear = linear_energy_kcal_mol(
            batch.element_counts.to(self.element_weights_kcal_mol.dtype),
            self.element_weights_kcal_mol,
            self.bias_kcal_mol,
            batch.n_fragments.to(self.element_weights_kcal_mol.dtype),
        )
        energy = molecule_energy_kcal_mol(pair_energy, batch.pair_molecule, linear, self.sign)
        return {
            "energy_kcal_mol": energy,
            "charges_e": charges,
            "pair_parameters": params,
            "pair_energy_kcal_mol": pair_energy,
        }


#: small sizes for :meth:`virialff.model.predictor.Predictor.untrained` and tests.
SMALL_MODEL_CONFIG: dict = {
    "embedding": {
        "message_passing_steps": 2,
        "hidden_width": 16,
        "atom_head_layers": 2,
        "atom_head_width": 16,
        "edge_head_layers": 2,
        "edge_head_width": 16,
    },
    "potential": {
        "charge_net_layers": 2,
        "charge_net_width": 16,
        "feats_net_layers": 2,
        "feats_net_width": 16,
        "neutral_charges": False,
    },
}

def embedding_model_kwargs(section: dict) -> dict:
    """Keyword arguments of :class:`KineticDecompositionModel` from a config section."""
    return {k: int(section[k]) for k in EMBEDDING_KEYS}


def build_potential_model(
    model_config: dict, target: str, pretrained_embeddings: bool = True
) -> PotentialModel:
    """A :class:`PotentialModel` from ``{"embedding": {...}, "potential": {...}}`` sizes."""
    emb = model_config["embedding"]
    pot = model_config["potential"]
    embedding = MessagePassingEmbedding(int(emb["hidden_width"]), int(emb["message_passing_steps"]))
    return PotentialModel(
        embedding,
        target=target,
        charge_net_layers=int(pot["charge_net_layers"]),
        charge_net_width=int(pot["charge_net_width"]),
        feats_net_layers=int(pot["feats_net_layers"]),
        feats_net_width=int(pot["feats_net_width"]),
        freeze_embedding=pretrained_embeddings,
        neutral_charges=bool(pot.get("neutral_charges", False)),
        guards=PairGuards.from_dict(pot["guards"]) if pot.get("guards") else None,
        intermolecular_pair_class=bool(pot.get("intermolecular_pair_class", False)),
    )


def potential_model_from_payload(payload: dict, source: str = "model file") -> PotentialModel:
    """The :class:`PotentialModel` of a checked stage-2 model-file payload
    (:func:`virialff.formats.model_file.read_model_file`); ``ValueError`` naming ``source``
    when its configuration or weights do not fit together."""
    config = payload["config"]
    try:
        model = build_potential_model(
            config, payload["target"], bool(config.get("pretrained_embeddings", True))
        )
        weight = payload["state_dict"].get("charge_net.0.weight")
        if weight is not None and weight.dtype == torch.float64:  # the force-trained models
            model = model.double()
        model.load_state_dict(payload["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        cause = " ".join(str(error).split())[:200]
        raise ValueError(f"{source}: the model's configuration and weights do not fit "
                         f"({type(error).__name__}: {cause})") from None
    return model
