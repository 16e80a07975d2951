"""GB-FFs (Chen 2023, thesis ch. 4): GAFF2-form parameters predicted from the frozen stage-1
atom embeddings of the paper's model.

The stage-1 MPNN (:class:`virialff.model.embedding.MessagePassingEmbedding`) gives an embedding
h_i [H] per atom. Each term of the Amber form gets a term embedding from linear maps of its
atoms' embeddings that are symmetric by construction (Eqs. 4.5-4.9; no bond embeddings)::

    bond (i, j)             z = W_r h_i + W_r h_j
    angle (i, j, k), j      z = (W_θ1 h_i + W_θ1 h_k) + W_θ2 h_j
    proper (i, j, k, l)     z = W_φ[h_i ‖ h_j] + W_φ[h_l ‖ h_k]
    improper (i, j, k, l)   z = W_ϕ1 h_k + W_ϕ2 (h_i + h_j + h_l)    (k the centre)
    atom i (VdW)            z = W_VdW h_i

followed by a small MLP per kind (SiLU activations, see :class:`GBFFsModel`). The sums are
formed so that they are bit-for-bit the same when a term is read in reverse (two-term sums
commute in IEEE arithmetic; the improper's three outer atoms are summed in sorted order).

Outputs (units of :mod:`virialff.formats.amber_parameters`), as offsets around typical
GAFF2 values so the networks start near a sensible force field:

- bond: K_r = 100·softplus(a + softplus⁻¹(3.5)) kcal/mol/Å², r_eq = 1.3 Å + b;
- angle: K_θ = 10·softplus(a + softplus⁻¹(6.5)) kcal/mol/rad², θ_eq = 1.95 rad + b;
- proper torsion: k_n = V_n/2 (kcal/mol) for n = 1..4 with the fixed phases γ = 0 (odd n)
  and π (even n), E = Σ_n k_n (1 + cos(nφ − γ_n)); exactly 0 for a path whose central bond
  has a linear (sp) atom (:func:`linear_atoms`), as in GAFF2 (X-c1-X, X-n1-X): φ is undefined
  when three atoms are collinear and the force of any k ≠ 0 grows without bound as they
  approach it;
- improper: one k (= V_2/2) per centre with three neighbours, n = 2, γ = π;
- VdW: ε_i = 0.1·exp(a) kcal/mol, σ_i = 2.5·exp(b) Å (σ in OpenMM's convention);
- charges by bond-wise charge transfer: t_ij = g(h_i, h_j) − g(h_j, h_i) for every bond
  (antisymmetric), q_i = formal_i + Σ_{j bonded} t_ji, so Σ q_i is the formal charge in exact
  arithmetic (to rounding in floating point).

The regression targets of training are scaled as in the thesis (K_r/100, K_θ/10, q·10) and
beyond it r_eq·10, θ_eq·3 and ε·10: :data:`PARAMETER_SCALES`, :func:`scaled_parameters`.

Term lists come from :func:`virialff.chem.valence_terms.valence_terms` (:class:`ValenceTable`
for a data set, :class:`ValenceBatch` for a batch). :class:`GBFFsPredictor` loads a model file
and turns an RDKit molecule into :class:`~virialff.formats.amber_parameters.AmberFormParameters`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from virialff.chem.elements import ATOMIC_NUMBERS, SUPPORTED_ELEMENTS, UnsupportedElementError
from virialff.chem.graph import BOND_TYPES, check_explicit_hydrogens
from virialff.chem.valence_terms import valence_terms
from virialff.errors import MoleculeRejected
from virialff.formats.amber_parameters import AMBER_SCEE, AMBER_SCNB, AmberFormParameters
from virialff.formats.model_file import read_model_file, write_model_file
from virialff.model.amber_energy import AmberTensors, nonbonded_pairs
from virialff.model.device import select_device
from virialff.model.embedding import MessagePassingEmbedding

#: model-file ``kind`` and ``target`` of a GB-FFs model.
GBFFS_KIND = "gbffs"
GBFFS_TARGET = "gaff2_parameters"
#: GB-FFs head format (the layout of ``config["gbffs"]`` and of the head's weights).
GBFFS_HEAD_VERSION = 1
#: ``training.gbffs`` keys that shape the head (stored in the model file).
GBFFS_HEAD_KEYS: tuple[str, ...] = ("hidden_width", "head_layers")
#: periodicities of the predicted proper torsions, and their fixed phases (rad).
TORSION_PERIODICITIES: tuple[int, ...] = (1, 2, 3, 4)
TORSION_PHASES_RAD: tuple[float, ...] = tuple(0.0 if n % 2 else math.pi for n in
                                              TORSION_PERIODICITIES)
IMPROPER_PERIODICITY = 2
IMPROPER_PHASE_RAD = math.pi
#: GAFF2-typical values the outputs are offsets around (see the module docstring).
TYPICAL_BOND_K_SCALED = 3.5  # K_r/100
TYPICAL_BOND_R0_ANGSTROM = 1.3
TYPICAL_ANGLE_K_SCALED = 6.5  # K_θ/10
TYPICAL_ANGLE_THETA0_RAD = 1.95
TYPICAL_EPSILON_KCAL_MOL = 0.1
TYPICAL_SIGMA_ANGSTROM = 2.5
#: charge transfer is predicted in units of 0.1 e (the scaled charge q·10).
TRANSFER_UNIT_E = 0.1
#: factor by which each predicted parameter is multiplied in the regression losses (thesis
#: section 4.2: K_r/100, K_θ/10, charges·10). Beyond the thesis, so that a unit of each scaled
#: error means about as much force: r_eq·10 (a 0.1 Å error in r_eq costs ~70 kcal/mol/Å at
#: K_r = 350, as much as a 100% error in K_r at a 0.1 Å stretch), θ_eq·3 and ε·10 (ε is O(1)).
PARAMETER_SCALES: dict[str, float] = {
    "bond_k": 0.01, "bond_r0_angstrom": 10.0, "angle_k": 0.1, "angle_theta0_rad": 3.0,
    "torsion_k_kcal_mol": 1.0, "improper_k_kcal_mol": 1.0, "charges_e": 10.0,
    "epsilon_kcal_mol": 10.0, "sigma_angstrom": 1.0,
}


#: the modules of each parameter kind's generator and head. With frozen embeddings each kind's
#: parameters (and their per-term energies) depend on its modules only, so each kind can keep
#: its own best-validation epoch in the parameter steps.
HEAD_MODULES: dict[str, tuple[str, ...]] = {
    "bond": ("w_bond", "bond_head"),
    "angle": ("w_angle_outer", "w_angle_centre", "angle_head"),
    "torsion": ("w_proper", "proper_head"),
    "improper": ("w_improper_centre", "w_improper_outer", "improper_head"),
    "charge": ("transfer_in", "transfer_head"),
    "vdw": ("w_vdw", "vdw_head"),
}


def _inverse_softplus(value: float) -> float:
    return value + math.log(-math.expm1(-value))


# -- term lists ---------------------------------------------------------------------------
@dataclass
class ValenceBatch:
    """Terms of M molecules with batch-global atom indices (A atoms in molecule order).

    ``bonds`` [B, 2], ``angles`` [G, 3], ``propers`` [T, 4] with ``proper_free`` [T] (False:
    a central sp atom, k_n = 0), ``impropers`` [I, 4] (third atom the centre), ``pairs`` [P, 2]
    non-bonded with ``pair_is14`` [P]; each ``*_owner`` is the
    molecule (0..M−1) of a row; ``formal_charge_e`` [A]; ``atom_ptr`` [M + 1].
    """

    n_molecules: int
    atom_ptr: torch.Tensor
    atom_owner: torch.Tensor
    formal_charge_e: torch.Tensor
    bonds: torch.Tensor
    bond_owner: torch.Tensor
    angles: torch.Tensor
    angle_owner: torch.Tensor
    propers: torch.Tensor
    proper_owner: torch.Tensor
    proper_free: torch.Tensor
    impropers: torch.Tensor
    improper_owner: torch.Tensor
    pairs: torch.Tensor
    pair_is14: torch.Tensor
    pair_owner: torch.Tensor

    def to(self, device: str | torch.device) -> ValenceBatch:
        return ValenceBatch(**{f.name: (getattr(self, f.name).to(device)
                                        if isinstance(getattr(self, f.name), torch.Tensor)
                                        else getattr(self, f.name)) for f in fields(self)})


#: the blocks of a :class:`ValenceTable` and their index widths.
_TERM_BLOCKS: dict[str, int] = {"bonds": 2, "angles": 3, "propers": 4, "impropers": 4,
                                "pairs": 2}


def linear_atoms(n_atoms: int, bonds: np.ndarray, bond_type: np.ndarray) -> np.ndarray:
    """[A] bool: atoms with two neighbours and a triple bond or two double bonds (sp centres;
    ``bonds`` [B, 2] each bond once, ``bond_type`` [B] indices of :data:`BOND_TYPES`)."""
    bonds = np.asarray(bonds, dtype=np.int64).reshape(-1, 2)
    bond_type = np.asarray(bond_type, dtype=np.int64).reshape(-1)
    degree = np.bincount(bonds.reshape(-1), minlength=n_atoms)
    triple = np.zeros(n_atoms, dtype=np.int64)
    double = np.zeros(n_atoms, dtype=np.int64)
    for column in (0, 1):
        np.add.at(triple, bonds[:, column], bond_type == BOND_TYPES.index("TRIPLE"))
        np.add.at(double, bonds[:, column], bond_type == BOND_TYPES.index("DOUBLE"))
    return (degree == 2) & ((triple >= 1) | (double == 2))


def _ranges(ptr: torch.Tensor, selected: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Flat rows of the ``selected`` molecules' items, their owner (0..len−1), new offsets."""
    starts, ends = ptr[selected], ptr[selected + 1]
    sizes = ends - starts
    new_ptr = torch.zeros(len(selected) + 1, dtype=torch.long)
    new_ptr[1:] = torch.cumsum(sizes, 0)
    owner = torch.repeat_interleave(torch.arange(len(selected)), sizes)
    rows = starts[owner] + torch.arange(int(new_ptr[-1])) - new_ptr[owner]
    return rows, owner, new_ptr


class ValenceTable:
    """The valence terms and non-bonded pairs of every molecule of a data set, computed once.

    Indices are molecule-local; :meth:`select` cuts a :class:`ValenceBatch` whose atoms are
    those of the selected molecules in the selected order (as
    :func:`virialff.chem.graph.select_molecules` lays them out).
    """

    def __init__(self, molecules: Sequence[tuple[int, np.ndarray, np.ndarray, np.ndarray]]
                 ) -> None:
        """``molecules``: ``(n_atoms, bond_index [B, 2], formal_charge_e [A], linear [A] bool)``
        per molecule (``linear``: :func:`linear_atoms`)."""
        blocks: dict[str, list[np.ndarray]] = {name: [] for name in _TERM_BLOCKS}
        is14, formal, n_atoms, free = [], [], [], []
        for n, bond_index, charges, linear in molecules:
            terms = valence_terms(np.asarray(bond_index).reshape(-1, 2), n)
            linear = np.asarray(linear, dtype=bool).reshape(n)
            free.append(~(linear[terms.propers[:, 1]] | linear[terms.propers[:, 2]]))
            pairs, pair14 = nonbonded_pairs(n, terms.bonds, terms.pairs14)
            for name, array in (("bonds", terms.bonds), ("angles", terms.angles),
                                ("propers", terms.propers), ("impropers", terms.impropers),
                                ("pairs", pairs)):
                blocks[name].append(array)
            is14.append(pair14)
            formal.append(np.asarray(charges, dtype=np.float64).reshape(n))
            n_atoms.append(n)
        self.n_molecules = len(n_atoms)
        self.atom_ptr = torch.as_tensor(np.concatenate([[0], np.cumsum(n_atoms)]),
                                        dtype=torch.long)
        self.formal_charge_e = torch.as_tensor(np.concatenate(formal) if formal else
                                               np.zeros(0), dtype=torch.float64)
        self.index: dict[str, torch.Tensor] = {}
        self.ptr: dict[str, torch.Tensor] = {}
        for name, width in _TERM_BLOCKS.items():
            arrays = blocks[name]
            self.index[name] = torch.as_tensor(
                np.concatenate(arrays) if arrays else np.zeros((0, width)),
                dtype=torch.long).reshape(-1, width)
            self.ptr[name] = torch.as_tensor(
                np.concatenate([[0], np.cumsum([a.shape[0] for a in arrays])]), dtype=torch.long)
        self.pair_is14 = torch.as_tensor(np.concatenate(is14) if is14 else np.zeros(0, bool),
                                         dtype=torch.bool)
        self.proper_free = torch.as_tensor(np.concatenate(free) if free else np.zeros(0, bool),
                                           dtype=torch.bool)

    def select(self, selected: torch.Tensor | Sequence[int]) -> ValenceBatch:
        """The terms of molecules ``selected`` with batch-global atom indices."""
        selected = torch.as_tensor(selected, dtype=torch.long).cpu()
        atoms, atom_owner, atom_ptr = _ranges(self.atom_ptr, selected)
        values: dict = {}
        for name in _TERM_BLOCKS:
            rows, owner, _ = _ranges(self.ptr[name], selected)
            values[name] = self.index[name][rows] + atom_ptr[owner].unsqueeze(1)
            values[f"{name[:-1]}_owner"] = owner
            if name == "pairs":
                values["pair_is14"] = self.pair_is14[rows]
            if name == "propers":
                values["proper_free"] = self.proper_free[rows]
        return ValenceBatch(n_molecules=len(selected), atom_ptr=atom_ptr, atom_owner=atom_owner,
                            formal_charge_e=self.formal_charge_e[atoms], **values)

    def rows(self, block: str, selected: torch.Tensor | Sequence[int]) -> torch.Tensor:
        """Rows of ``block`` (``bonds``, ..., ``atoms``) that :meth:`select` takes, in its order
        (for gathering per-term targets stored in the table's order)."""
        selected = torch.as_tensor(selected, dtype=torch.long).cpu()
        ptr = self.atom_ptr if block == "atoms" else self.ptr[block]
        return _ranges(ptr, selected)[0]


# -- the network --------------------------------------------------------------------------
def _head(in_width: int, width: int, out_width: int, n_layers: int) -> nn.Sequential:
    """SiLU, then ``n_layers`` linear layers with SiLU between them; the last one starts small
    so that every output starts near its GAFF2-typical offset."""
    layers: list[nn.Module] = [nn.SiLU()]
    size = in_width
    for _ in range(n_layers - 1):
        layers += [nn.Linear(size, width), nn.SiLU()]
        size = width
    last = nn.Linear(size, out_width)
    with torch.no_grad():
        last.weight.mul_(0.1)
        last.bias.zero_()
    layers.append(last)
    return nn.Sequential(*layers)


class GBFFsModel(nn.Module):
    """Stage-1 MPNN (``embedding``) + the GB-FFs head (module docstring).

    ``forward(h [A, H], terms: ValenceBatch)`` → dict of predicted parameters: ``bond_k``,
    ``bond_r0_angstrom`` [B]; ``angle_k``, ``angle_theta0_rad`` [G]; ``torsion_k_kcal_mol``
    [T, 4] (n = 1..4); ``improper_k_kcal_mol`` [I]; ``charges_e``, ``epsilon_kcal_mol``,
    ``sigma_angstrom`` [A]; ``transfer_scaled`` [B] (t of each bond i→j of ``terms.bonds``, in
    units of :data:`TRANSFER_UNIT_E`). ``embed(element_index, bond_index [2, B], bond_type)``
    runs the MPNN.

    Activation: SiLU, smooth (the thesis found non-smooth units hurt convergence) and without
    the dead units of ReLU or the saturation of softplus at large negative inputs.
    """

    def __init__(self, embedding: MessagePassingEmbedding, hidden_width: int = 64,
                 head_layers: int = 2) -> None:
        super().__init__()
        self.embedding = embedding
        self.hidden_width = int(hidden_width)
        self.head_layers = int(head_layers)
        h, d, n = embedding.hidden_width, self.hidden_width, self.head_layers

        def linear(width: int) -> nn.Linear:
            return nn.Linear(width, d, bias=False)

        self.w_bond = linear(h)
        self.w_angle_outer, self.w_angle_centre = linear(h), linear(h)
        self.w_proper = linear(2 * h)
        self.w_improper_centre, self.w_improper_outer = linear(h), linear(h)
        self.w_vdw = linear(h)
        self.bond_head = _head(d, d, 2, n)
        self.angle_head = _head(d, d, 2, n)
        self.proper_head = _head(d, d, len(TORSION_PERIODICITIES), n)
        self.improper_head = _head(d, d, 1, n)
        self.vdw_head = _head(d, d, 2, n)
        self.transfer_in = linear(2 * h)
        self.transfer_head = _head(d, d, 1, n)
        self.bond_k_offset = _inverse_softplus(TYPICAL_BOND_K_SCALED)
        self.angle_k_offset = _inverse_softplus(TYPICAL_ANGLE_K_SCALED)

    def embed(self, element_index: torch.Tensor, bond_index: torch.Tensor,
              bond_type: torch.Tensor) -> torch.Tensor:
        """Stage-1 atom embeddings h [A, H] (``bond_index`` [2, B] both directions)."""
        return self.embedding(element_index, bond_index, bond_type)

    def head_parameters(self) -> list[nn.Parameter]:
        """The head's weights (everything but the stage-1 MPNN)."""
        return [p for name, p in self.named_parameters() if not name.startswith("embedding.")]

    def forward(self, h: torch.Tensor, terms: ValenceBatch) -> dict[str, torch.Tensor]:
        out: dict[str, torch.Tensor] = {}
        b = terms.bonds
        z = self.w_bond(h[b[:, 0]]) + self.w_bond(h[b[:, 1]])
        raw = self.bond_head(z)
        out["bond_k"] = 100.0 * nn.functional.softplus(raw[:, 0] + self.bond_k_offset)
        out["bond_r0_angstrom"] = TYPICAL_BOND_R0_ANGSTROM + raw[:, 1]

        a = terms.angles
        z = (self.w_angle_outer(h[a[:, 0]]) + self.w_angle_outer(h[a[:, 2]])) + \
            self.w_angle_centre(h[a[:, 1]])
        raw = self.angle_head(z)
        out["angle_k"] = 10.0 * nn.functional.softplus(raw[:, 0] + self.angle_k_offset)
        out["angle_theta0_rad"] = TYPICAL_ANGLE_THETA0_RAD + raw[:, 1]

        t = terms.propers
        z = self.w_proper(torch.cat([h[t[:, 0]], h[t[:, 1]]], -1)) + \
            self.w_proper(torch.cat([h[t[:, 3]], h[t[:, 2]]], -1))
        free = terms.proper_free.to(device=z.device, dtype=z.dtype).unsqueeze(1)
        out["torsion_k_kcal_mol"] = self.proper_head(z) * free

        m = terms.impropers
        outer = torch.stack([h[m[:, 0]], h[m[:, 1]], h[m[:, 3]]], 1)
        outer = torch.sort(outer, dim=1).values.sum(1)  # the same sum in any order
        z = self.w_improper_centre(h[m[:, 2]]) + self.w_improper_outer(outer)
        out["improper_k_kcal_mol"] = self.improper_head(z).squeeze(-1)

        out.update(self.nonbonded_parameters(h, b, terms.formal_charge_e))
        return out

    def nonbonded_parameters(self, h: torch.Tensor, bonds: torch.Tensor,
                             formal_charge_e: torch.Tensor) -> dict[str, torch.Tensor]:
        """The parameters that act between molecules, from the charge-transfer and VdW heads
        only: ``charges_e``, ``epsilon_kcal_mol``, ``sigma_angstrom`` [A] and
        ``transfer_scaled`` [B] (``h`` [A, H], ``bonds`` [B, 2] each bond once,
        ``formal_charge_e`` [A])."""
        out: dict[str, torch.Tensor] = {}
        b = bonds
        raw = self.vdw_head(self.w_vdw(h))
        out["epsilon_kcal_mol"] = TYPICAL_EPSILON_KCAL_MOL * torch.exp(raw[:, 0])
        out["sigma_angstrom"] = TYPICAL_SIGMA_ANGSTROM * torch.exp(raw[:, 1])

        forward = self.transfer_head(self.transfer_in(torch.cat([h[b[:, 0]], h[b[:, 1]]], -1)))
        backward = self.transfer_head(self.transfer_in(torch.cat([h[b[:, 1]], h[b[:, 0]]], -1)))
        transfer = (forward - backward).squeeze(-1)  # t_ij: from i to j, scaled units
        flow = h.new_zeros(h.shape[0]).index_add(0, b[:, 1], transfer).index_add(
            0, b[:, 0], -transfer)
        out["transfer_scaled"] = transfer
        out["charges_e"] = formal_charge_e.to(h.dtype) + TRANSFER_UNIT_E * flow
        return out


def scaled_parameters(parameters: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Every parameter of :data:`PARAMETER_SCALES` multiplied by its scale (regression units)."""
    return {k: parameters[k] * scale for k, scale in PARAMETER_SCALES.items() if k in parameters}


def predicted_amber_tensors(terms: ValenceBatch, parameters: dict[str, torch.Tensor],
                            scee: float = AMBER_SCEE, scnb: float = AMBER_SCNB) -> AmberTensors:
    """The predicted parameters of a batch as :class:`AmberTensors` (torsion rows path-major:
    row 4·t + (n − 1) is periodicity n of path t), for :func:`amber_energy_terms`."""
    dtype = parameters["charges_e"].dtype
    device = parameters["charges_e"].device
    n_t = len(TORSION_PERIODICITIES)
    t = terms.propers
    periodicity = torch.as_tensor(TORSION_PERIODICITIES, device=device).repeat(t.shape[0])
    phase = torch.as_tensor(TORSION_PHASES_RAD, dtype=dtype, device=device).repeat(t.shape[0])
    n_i = terms.impropers.shape[0]
    is14 = terms.pair_is14.to(device)
    one = torch.ones(is14.shape, dtype=dtype, device=device)
    return AmberTensors(
        n_molecules=terms.n_molecules,
        charges_e=parameters["charges_e"], sigma_angstrom=parameters["sigma_angstrom"],
        epsilon_kcal_mol=parameters["epsilon_kcal_mol"], atom_owner=terms.atom_owner,
        bond_index=terms.bonds, bond_k=parameters["bond_k"],
        bond_r0_angstrom=parameters["bond_r0_angstrom"], bond_owner=terms.bond_owner,
        angle_index=terms.angles, angle_k=parameters["angle_k"],
        angle_theta0_rad=parameters["angle_theta0_rad"], angle_owner=terms.angle_owner,
        torsion_index=t.repeat_interleave(n_t, 0), torsion_periodicity=periodicity,
        torsion_phase_rad=phase, torsion_k_kcal_mol=parameters["torsion_k_kcal_mol"].reshape(-1),
        torsion_owner=terms.proper_owner.repeat_interleave(n_t),
        improper_index=terms.impropers,
        improper_periodicity=torch.full((n_i,), IMPROPER_PERIODICITY, device=device),
        improper_phase_rad=torch.full((n_i,), IMPROPER_PHASE_RAD, dtype=dtype, device=device),
        improper_k_kcal_mol=parameters["improper_k_kcal_mol"], improper_owner=terms.improper_owner,
        pair_index=terms.pairs, pair_scale_coulomb=torch.where(is14, one / scee, one),
        pair_scale_lj=torch.where(is14, one / scnb, one), pair_owner=terms.pair_owner,
    )


# -- featurisation of RDKit molecules -----------------------------------------------------
@dataclass
class MoleculeGraph:
    """What GB-FFs needs of one molecule: ``element_index`` [A], ``atomic_numbers`` [A],
    ``bond_index`` [2, B] (both directions, for the MPNN), ``bond_type`` [B], ``bonds`` [B/2, 2]
    (i < j), ``formal_charge_e`` [A], ``linear`` [A] (:func:`linear_atoms`)."""

    element_index: np.ndarray
    atomic_numbers: np.ndarray
    bond_index: np.ndarray
    bond_type: np.ndarray
    bonds: np.ndarray
    formal_charge_e: np.ndarray
    linear: np.ndarray


def molecule_graph(mol, molecule_id: str) -> MoleculeGraph:  # noqa: ANN001 - rdkit Mol
    """Featurise an RDKit molecule with explicit hydrogens (charged molecules allowed).

    Raises ``ValueError`` naming the molecule for implicit hydrogens, an element outside
    :data:`SUPPORTED_ELEMENTS` or a bond type outside :data:`BOND_TYPES`.
    """
    try:
        check_explicit_hydrogens(mol, molecule_id)
    except MoleculeRejected as error:
        raise ValueError(f"cannot parametrise {molecule_id}: {error.reason}: {error.detail}"
                         ) from None
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    bad = sorted(set(symbols) - set(SUPPORTED_ELEMENTS))
    if bad:
        raise ValueError(f"cannot parametrise {molecule_id}: "
                         f"{UnsupportedElementError.__name__}: element(s) {', '.join(bad)} not "
                         f"in {', '.join(SUPPORTED_ELEMENTS)}")
    begin, end, kinds, bonds, single_kinds = [], [], [], [], []
    for bond in mol.GetBonds():
        name = str(bond.GetBondType()).split(".")[-1]
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        if name not in BOND_TYPES:
            raise ValueError(f"cannot parametrise {molecule_id}: bond {i}-{j} is of RDKit type "
                             f"{name}; GB-FFs knows {', '.join(BOND_TYPES)} only")
        kind = BOND_TYPES.index(name)
        begin += [i, j]
        end += [j, i]
        kinds += [kind, kind]
        bonds.append(sorted((i, j)))
        single_kinds.append(kind)
    bond_pairs = np.array(bonds, dtype=np.int64).reshape(-1, 2)
    return MoleculeGraph(
        element_index=np.array([SUPPORTED_ELEMENTS.index(s) for s in symbols], dtype=np.int64),
        atomic_numbers=np.array([ATOMIC_NUMBERS[s] for s in symbols], dtype=np.int64),
        bond_index=np.array([begin, end], dtype=np.int64).reshape(2, -1),
        bond_type=np.array(kinds, dtype=np.int64),
        bonds=bond_pairs,
        formal_charge_e=np.array([a.GetFormalCharge() for a in mol.GetAtoms()], dtype=float),
        linear=linear_atoms(len(symbols), bond_pairs, np.array(single_kinds, dtype=np.int64)),
    )


# -- model files --------------------------------------------------------------------------
def gbffs_payload(model: GBFFsModel, config: dict, **extra: object) -> dict:
    """The model-file dict of a GB-FFs model (:mod:`virialff.formats.model_file`'s layout,
    ``kind`` :data:`GBFFS_KIND`): ``config`` holds ``embedding`` (the stage-1 network sizes),
    ``gbffs`` (the head: :data:`GBFFS_HEAD_KEYS` and ``head_version``) and ``training``;
    ``state_dict`` holds the MPNN (``embedding.*``, as trained in stage 1 or fine-tuned) and
    the head. ``extra``: ``embedding_source`` ({path, sha256, state_digest} of the stage-1
    file), ``split``, ``inputs``, ``metrics``, ...
    """
    from virialff.formats.model_file import model_payload

    return model_payload(model, config, kind=GBFFS_KIND, target=GBFFS_TARGET, **extra)


def build_gbffs_model(config: dict) -> GBFFsModel:
    """An untrained :class:`GBFFsModel` from ``{"embedding": {...}, "gbffs": {...}}`` sizes."""
    emb, head = config["embedding"], config["gbffs"]
    embedding = MessagePassingEmbedding(int(emb["hidden_width"]),
                                        int(emb["message_passing_steps"]))
    return GBFFsModel(embedding, int(head["hidden_width"]), int(head["head_layers"]))


def gbffs_model_from_file(path: str | Path) -> tuple[GBFFsModel, dict]:
    """``(model, payload without the weights)`` of a GB-FFs model file; ``ValueError`` naming the
    file for another kind or head version (:func:`read_model_file` checks the rest)."""
    payload = read_model_file(path)
    if payload["kind"] != GBFFS_KIND:
        raise ValueError(f"{path} is a '{payload['kind']}' model, not a GB-FFs model "
                         "(results/models/gbffs.pt)")
    version = payload["config"].get("gbffs", {}).get("head_version")
    if version != GBFFS_HEAD_VERSION:
        raise ValueError(f"{path} holds GB-FFs head version {version!r}; this virialff reads "
                         f"version {GBFFS_HEAD_VERSION}: retrain it (snakemake reruns train_gbffs)")
    model = build_gbffs_model(payload["config"])
    dtype = next(iter(payload["state_dict"].values())).dtype
    model = model.to(dtype)
    model.load_state_dict(payload["state_dict"])
    metadata = {k: v for k, v in payload.items() if k != "state_dict"}
    metadata["path"] = str(path)
    return model, metadata


class GBFFsPredictor:
    """A trained GB-FFs model ready to parametrise molecules.

    Usage::

        predictor = GBFFsPredictor.load("results/models/gbffs.pt")
        parameters = predictor.amber_parameters(mol, "ethanol")   # AmberFormParameters
    """

    def __init__(self, model: GBFFsModel, metadata: dict,
                 device: str | torch.device | None = "cpu") -> None:
        self.device = select_device(device)
        self.model = model.to(self.device).eval()
        self.metadata = metadata
        self.dtype = next(self.model.parameters()).dtype

    @classmethod
    def load(cls, path: str | Path, device: str | torch.device | None = "cpu"
             ) -> GBFFsPredictor:
        """Load a GB-FFs model file (``results/models/gbffs.pt``)."""
        model, metadata = gbffs_model_from_file(path)
        return cls(model, metadata, device)

    def astype(self, dtype: torch.dtype) -> GBFFsPredictor:
        """Cast the model (e.g. to float64); returns self."""
        self.model = self.model.to(dtype)
        self.dtype = dtype
        return self

    def save(self, path: str | Path) -> Path:
        """Write this predictor's model as a model file."""
        payload = {k: v for k, v in self.metadata.items() if k not in ("path", "state_digest")}
        payload["state_dict"] = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
        return write_model_file(path, payload)

    def predict_tensors(self, mol, molecule_id: str  # noqa: ANN001 - rdkit Mol
                        ) -> tuple[MoleculeGraph, ValenceBatch, dict[str, torch.Tensor]]:
        """The featurised molecule, its terms and the predicted parameter tensors."""
        graph = molecule_graph(mol, molecule_id)
        n = graph.element_index.shape[0]
        table = ValenceTable([(n, graph.bonds, graph.formal_charge_e, graph.linear)])
        terms = table.select([0]).to(self.device)
        with torch.no_grad():
            h = self.model.embed(torch.as_tensor(graph.element_index, device=self.device),
                                 torch.as_tensor(graph.bond_index, device=self.device),
                                 torch.as_tensor(graph.bond_type, device=self.device))
            out = self.model(h, terms)
        return graph, terms, out

    def amber_parameters(self, mol, molecule_id: str  # noqa: ANN001 - rdkit Mol
                         ) -> AmberFormParameters:
        """GB-FFs parameters of an RDKit molecule with explicit hydrogens (atom order kept).

        ``atom_types`` are empty strings; the torsions are one row per periodicity n = 1..4 of
        every proper path (γ = 0 for odd n, π for even n), the impropers one row per atom with
        three neighbours (n = 2, γ = π, that atom third). ``ValueError`` names the molecule when
        it cannot be featurised.
        """
        graph, terms, out = self.predict_tensors(mol, molecule_id)
        values = {k: v.detach().cpu().double().numpy() for k, v in out.items()}
        n = graph.element_index.shape[0]
        n_t = len(TORSION_PERIODICITIES)
        propers = terms.propers.cpu().numpy()
        impropers = terms.impropers.cpu().numpy()
        pairs14 = valence_terms(graph.bonds, n).pairs14
        parameters = AmberFormParameters(
            molecule_id=molecule_id,
            atomic_numbers=graph.atomic_numbers,
            atom_types=np.array([""] * n, dtype=str),
            charges_e=values["charges_e"],
            sigma_angstrom=values["sigma_angstrom"],
            epsilon_kcal_mol=values["epsilon_kcal_mol"],
            bond_index=terms.bonds.cpu().numpy(),
            bond_k=values["bond_k"],
            bond_r0_angstrom=values["bond_r0_angstrom"],
            angle_index=terms.angles.cpu().numpy(),
            angle_k=values["angle_k"],
            angle_theta0_rad=values["angle_theta0_rad"],
            torsion_index=np.repeat(propers, n_t, axis=0).reshape(-1, 4),
            torsion_periodicity=np.tile(np.array(TORSION_PERIODICITIES), len(propers)),
            torsion_phase_rad=np.tile(np.array(TORSION_PHASES_RAD), len(propers)),
            torsion_k_kcal_mol=values["torsion_k_kcal_mol"].reshape(-1),
            improper_index=impropers.reshape(-1, 4),
            improper_periodicity=np.full(len(impropers), IMPROPER_PERIODICITY, dtype=np.int64),
            improper_phase_rad=np.full(len(impropers), IMPROPER_PHASE_RAD),
            improper_k_kcal_mol=values["improper_k_kcal_mol"].reshape(-1),
            pair14_index=pairs14,
            formal_charge=int(round(float(graph.formal_charge_e.sum()))),
        )
        parameters.check()
        return parameters

    def amber_parameters_many(self, mols: Sequence, molecule_ids: Sequence[str]
                              ) -> list[AmberFormParameters]:
        """:meth:`amber_parameters` of each molecule."""
        return [self.amber_parameters(m, i) for m, i in zip(mols, molecule_ids, strict=True)]


def untrained_gbffs_model(embedding_config: dict, hidden_width: int = 16, head_layers: int = 2,
                          seed: int = 0) -> tuple[GBFFsModel, dict]:
    """A randomly initialised model and its config (for tests and examples)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    config = {"embedding": dict(embedding_config),
              "gbffs": {"hidden_width": hidden_width, "head_layers": head_layers,
                        "head_version": GBFFS_HEAD_VERSION}}
    model = build_gbffs_model(config)
    torch.random.set_rng_state(state)
    return model, config

