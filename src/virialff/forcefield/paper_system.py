"""A molecule or complex with fixed charges and pair parameters: the paper-form force field.

The networks of the stage-2 model predict charges Q and pair parameters C0..C13 from the
covalent graph alone; geometry enters the energy only through the distances r_ij. So once a
model has parametrised a molecule (:func:`virialff.model.parametrized.parametrize`,
``Predictor.parametrize``), every later energy and force is a sum of pair terms, evaluated by
the pure NumPy functions of :mod:`virialff.forcefield.pair_potential` with analytic
derivatives in float64 — no network call and no torch.

What a :class:`ParametrizedSystem` holds (A atoms, F covalent fragments, T atom types):

- ``charges_e`` [A], exactly the charges ``Predictor.predict`` gives;
- pairs inside one fragment ("intramolecular"): all pairs i < j, with their own parameters
  ``intra_parameters`` [P, 14] (bonded pairs carry no E_LR), as in training;
- pairs between fragments ("intermolecular"): all non-bonded, so their parameters
  feats_net(h_i, h_j, non-covalent) depend only on the two stage-1 embeddings. Atoms whose
  embeddings agree to :data:`EMBEDDING_TYPE_TOLERANCE` (the same chemical environment) share
  a type ``atom_type`` [A]; the parameters are a table ``type_parameters`` [T, T, 14];
- E_lin = wᵀN + n_fragments·b, a constant of the system.

Between fragments a cutoff r_c with a switch from r_s applies (the pair energy, Coulomb
included, is multiplied by :func:`~virialff.forcefield.pair_potential.switching_function`),
with a Verlet neighbour list (skin :data:`NEIGHBOUR_SKIN_ANGSTROM`). Pairs inside a fragment
are always all evaluated. ``cutoff_angstrom=None`` evaluates every intermolecular pair.

Periodic cells. ``box_angstrom`` (three edge lengths of an orthorhombic cell, Å; see
:meth:`ParametrizedSystem.with_box`) makes the system periodic: pairs between molecules are
the minimum images within the cutoff, which needs every edge ≥ 2·r_c so that no pair has two
images within r_c. Pairs inside a molecule are evaluated on the molecule made whole along its
bonds (each bond's minimum image), so atoms may be wrapped into the cell or not, and a
molecule may be longer than half the cell. A molecule must not come within r_c of its own
image (checked at every neighbour-list build; those pairs are not evaluated).

Coulomb in a periodic cell. Here the Coulomb term between molecules is truncated with the
same switch as without a cell: there is no Ewald sum. That is an approximation of the model's
energy, which for a periodic system is the Ewald sum of 332.0637·Q_iQ_j/r over all images
(with a uniform neutralising background where molecules carry net charges). The OpenMM
export (:mod:`virialff.forcefield.paper_openmm`) of a periodic system computes that Ewald sum
with PME, so in a cell the two differ by design in the Coulomb term between molecules; every
other term, and everything without a cell, agrees. The atom-based truncation cuts molecules
at the cutoff sphere, and in a dense cell of polar molecules its Coulomb sum can be far from
the Ewald sum, even in sign (``benchmarks/periodic_electrostatics_paper.py`` prints both):
use the OpenMM export for liquids and crystals; the NumPy periodic cell suits checks of the
short-range terms, dilute systems and models with small charges.

Default cutoff. Truncation must leave the interaction energies of the S66 dimers and the
Watson–Crick base pairs unchanged to 0.01 kcal/mol. Their largest intermolecular distance is
12.01 Å (A–T and G–C; 10.9 Å in S66), so with the switch starting at 12.5 Å (r_c = 14 Å) no
pair of these complexes is touched and the change is exactly zero for every model.
``benchmarks/cutoff_truncation.py`` prints what shorter cutoffs would change. The cutoff is
atom-based: for molecules with sizeable net charges (the paper leaves charge totals free)
a Coulomb tail beyond r_c is simply lost.

Usage::

    system = predictor.parametrize(mol)          # RDKit Mol, explicit H, one conformer
    energy, forces = system.energy_and_forces(positions_angstrom)   # kcal/mol, kcal/mol/Å
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS
from virialff.chem.graph import MIN_INTERATOMIC_DISTANCE_ANGSTROM
from virialff.errors import MoleculeRejected
from virialff.forcefield.pair_potential import (
    WIDTH_EPSILON_ANGSTROM2,
    PairGuards,
    core_energy_and_derivative,
    long_range_energy_and_derivative,
    pair_core_class,
    pair_displacements_angstrom,
    pair_forces_kcal_mol_angstrom,
    pair_strain_derivative_kcal_mol,
    short_range_energy_and_derivative,
    short_range_extent_angstrom,
    stretch_energy_and_derivative,
    switching_function,
)
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

#: intermolecular cutoff (Å); see the module docstring for the choice.
DEFAULT_CUTOFF_ANGSTROM = 14.0
#: the switch starts this far (Å) inside the cutoff: r_s = r_c − 1.5 Å.
DEFAULT_SWITCH_WIDTH_ANGSTROM = 1.5
#: two atoms share a type when max_k |h_ik − h_jk| ≤ this (stage-1 embedding units; the GRU's
#: outputs lie in (−1, 1)). Identical environments give identical embeddings to float
#: round-off (measured: 0 in float32 and float64, also after renumbering atoms); the closest
#: distinct environments measured were 4e-3 apart (16-wide untrained model) and 0.3 (paper
#: size).
EMBEDDING_TYPE_TOLERANCE = 1.0e-5
#: Verlet skin (Å): the list holds pairs within r_c + skin and is rebuilt once an atom has
#: moved more than skin/2 since the last build.
NEIGHBOUR_SKIN_ANGSTROM = 1.0
#: Gaussians of E_SR are skipped for pairs where each is below this (kcal/mol).
NEGLIGIBLE_SHORT_RANGE_KCAL_MOL = 1.0e-14
#: intermolecular pairs evaluated per block, to bound temporary memory (~100 MB).
PAIR_BLOCK = 1 << 18


# -- input checks ------------------------------------------------------------------------------
def atom_list_text(indices: np.ndarray, limit: int = 8) -> str:
    """``"3, 5, 7 and 2 more"``: the first ``limit`` atom indices of ``indices`` for a message."""
    shown = ", ".join(str(int(i)) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def check_positions(positions_angstrom, n_atoms: int, label: str) -> np.ndarray:  # noqa: ANN001
    """Positions as float64 [A, 3]; a clear error for a wrong shape or non-finite values.

    Raises ValueError (wrong atom count or shape) or :class:`MoleculeRejected` ``nan_value``
    naming the atoms. Overlapping atoms are found where distances are computed anyway.
    """
    positions = np.asarray(positions_angstrom, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise ValueError(f"{label}: positions must be [n_atoms, 3] Å, got shape {positions.shape}")
    if positions.shape[0] != n_atoms:
        raise ValueError(
            f"{label}: positions have {positions.shape[0]} atoms but the parametrised topology "
            f"has {n_atoms}"
        )
    finite = np.isfinite(positions).all(axis=1)
    if not finite.all():
        bad = np.flatnonzero(~finite)
        raise MoleculeRejected(
            label, "nan_value", f"non-finite coordinates on atom(s) {atom_list_text(bad)}"
        )
    return positions


def reject_overlapping_pairs(
    label: str, r_angstrom: np.ndarray, first: np.ndarray, second: np.ndarray
) -> None:
    """Raise :class:`MoleculeRejected` ``overlapping_atoms`` naming the pairs (atoms ``first``
    [P], ``second`` [P]) whose distance ``r_angstrom`` [P] is below
    :data:`~virialff.chem.graph.MIN_INTERATOMIC_DISTANCE_ANGSTROM`; nothing otherwise."""
    r = r_angstrom
    close = np.flatnonzero(r < MIN_INTERATOMIC_DISTANCE_ANGSTROM)
    if close.size:
        pairs = ", ".join(f"{int(first[p])}-{int(second[p])} ({r[p]:.3f} Å)" for p in close[:5]) + (
            f" and {close.size - 5} more" if close.size > 5 else ""
        )
        raise MoleculeRejected(
            label,
            "overlapping_atoms",
            f"atom pair(s) {pairs} closer than {MIN_INTERATOMIC_DISTANCE_ANGSTROM} Å",
        )


# -- the parametrised system -------------------------------------------------------------------
@dataclass(eq=False)
class _NeighbourList:
    """Intermolecular pairs within r_c + skin, with their parameters gathered once per build."""

    reference_positions: np.ndarray  # [A, 3] where the list was built
    pair_index: np.ndarray  # [2, L]
    coulomb_products: np.ndarray  # [L] 332.0637·QiQj, kcal·Å/mol
    type_pair: np.ndarray  # [L] flat index ti·T + tj into the type tables
    c6: np.ndarray  # [L] |C0|
    c12: np.ndarray  # [L] |C1|
    short_range_extent: np.ndarray  # [L] Å
    image_shift: np.ndarray | None = None  # [A, 3] Å making each fragment whole (periodic)


@dataclass(eq=False)
class ParametrizedSystem:
    """A molecule or complex with fixed charges and pair parameters (see module docstring).

    Shapes: A atoms, P intramolecular pairs, T atom types. Energies in kcal/mol, positions in
    Å, forces in kcal/mol/Å. Built by :func:`virialff.model.parametrized.parametrize` (or
    ``Predictor.parametrize``); change the cutoff with :meth:`with_cutoff` and the cell with
    :meth:`with_box`.
    """

    name: str
    target: str  # "total" or "kinetic": what energy_and_forces returns
    sign: float  # +1 (total) or −1 (kinetic): sign of the pair sum
    elements: tuple[str, ...]  # [A]
    fragment_index: np.ndarray  # [A] covalent fragment of each atom
    charges_e: np.ndarray  # [A]
    intra_pair_index: np.ndarray  # [2, P], i < j, same fragment
    intra_pair_type: np.ndarray  # [P] 0 non-bonded, 1 + bond type if bonded
    intra_parameters: np.ndarray  # [P, 14] C0..C13
    atom_type: np.ndarray  # [A] intermolecular type
    type_parameters: np.ndarray  # [T, T, 14] C0..C13 of non-covalent pairs between types
    linear_energy_kcal_mol: float  # E_lin = wᵀN + n_fragments·b
    bond_index: np.ndarray  # [2, B] covalent bonds i < j (for MD checks and export)
    cutoff_angstrom: float | None = DEFAULT_CUTOFF_ANGSTROM
    switch_distance_angstrom: float | None = None  # default r_c − 1.5 Å
    skin_angstrom: float = NEIGHBOUR_SKIN_ANGSTROM
    embedding_tolerance: float = EMBEDDING_TYPE_TOLERANCE
    box_angstrom: np.ndarray | None = None  # [3] orthorhombic cell edges; None: not periodic
    guards: PairGuards | None = None  # the repulsive core (C is already bounded)
    _neighbours: _NeighbourList | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.cutoff_angstrom is not None:
            if self.switch_distance_angstrom is None:
                self.switch_distance_angstrom = self.cutoff_angstrom - DEFAULT_SWITCH_WIDTH_ANGSTROM
            if not 0.0 < self.switch_distance_angstrom < self.cutoff_angstrom:
                raise ValueError(
                    f"need 0 < switch distance ({self.switch_distance_angstrom} Å) < cutoff "
                    f"({self.cutoff_angstrom} Å)"
                )
        else:
            self.switch_distance_angstrom = None
        self.box_angstrom = self._checked_box(self.box_angstrom)
        c = self.intra_parameters
        self._intra_amplitudes = np.ascontiguousarray(c[:, 2::2])
        self._intra_widths2 = c[:, 3::2] ** 2 + WIDTH_EPSILON_ANGSTROM2
        self._intra_extent = short_range_extent_angstrom(
            self._intra_amplitudes, self._intra_widths2, NEGLIGIBLE_SHORT_RANGE_KCAL_MOL
        )
        nonbonded = np.flatnonzero(self.intra_pair_type == 0)
        self._intra_lr_pairs = nonbonded
        i, j = self.intra_pair_index[:, nonbonded]
        self._intra_coulomb = COULOMB_KCAL_MOL_ANGSTROM * self.charges_e[i] * self.charges_e[j]
        self._intra_c6 = np.abs(c[nonbonded, 0])
        self._intra_c12 = np.abs(c[nonbonded, 1])
        t = self.type_parameters
        n_types = t.shape[0]
        self._type_amplitudes = t[:, :, 2::2].reshape(n_types * n_types, 6)
        self._type_widths2 = t[:, :, 3::2].reshape(n_types * n_types, 6) ** 2
        self._type_widths2 += WIDTH_EPSILON_ANGSTROM2
        self._type_c6 = np.abs(t[:, :, 0]).reshape(-1)
        self._type_c12 = np.abs(t[:, :, 1]).reshape(-1)
        self._type_extent = short_range_extent_angstrom(
            self._type_amplitudes, self._type_widths2, NEGLIGIBLE_SHORT_RANGE_KCAL_MOL
        )
        # the guards' core: (r_c [P], k_c [P]) of the intramolecular pairs, (r_c, k_c) of pairs
        # between fragments (the non-bonded class), and the stretch wall of the bonds (r_s [P],
        # k_s [P]; k_s = 0 for non-bonded pairs); None without guards
        self.intra_core = self.nonbonded_core = self.intra_stretch = None
        if self.guards is not None:
            hydrogen = np.array([e == "H" for e in self.elements], dtype=np.int64)
            kind = pair_core_class((self.intra_pair_type > 0).astype(np.int64),
                                   hydrogen[self.intra_pair_index[0]],
                                   hydrogen[self.intra_pair_index[1]])
            radius = np.asarray(self.guards.core_radius_angstrom)
            strength = np.asarray(self.guards.core_strength_kcal_mol_angstrom3)
            stretch, stretch_strength = self.guards.stretch_tables()
            element = np.array([SUPPORTED_ELEMENTS.index(e) for e in self.elements])
            ei, ej = element[self.intra_pair_index[0]], element[self.intra_pair_index[1]]
            bonded = self.intra_pair_type > 0
            self.intra_core = (radius[kind], strength[kind])
            self.intra_stretch = (np.where(bonded, stretch[ei, ej], 1e3),
                                  np.where(bonded, stretch_strength[ei, ej], 0.0))
            self.nonbonded_core = (radius[2], strength[2])
        self._neighbours = None

    def _checked_box(self, box) -> np.ndarray | None:  # noqa: ANN001 - array-like or None
        if box is None:
            return None
        box = np.asarray(box, dtype=np.float64).reshape(-1)
        if box.shape != (3,) or not np.isfinite(box).all() or (box <= 0).any():
            raise ValueError(
                f"{self.name}: the periodic cell must be three positive edge lengths (Å) of an "
                f"orthorhombic box, got {np.asarray(box).tolist()}"
            )
        if self.cutoff_angstrom is None:
            raise ValueError(
                f"{self.name}: a periodic cell needs a cutoff (minimum images only); "
                "give cutoff_angstrom"
            )
        if box.min() < 2.0 * self.cutoff_angstrom:
            raise ValueError(
                f"{self.name}: the cell's shortest edge ({box.min():.3f} Å) is shorter than twice "
                f"the cutoff ({self.cutoff_angstrom} Å); only minimum images are evaluated, so "
                f"use a larger cell or a cutoff ≤ {box.min() / 2:.3f} Å"
            )
        return box

    # -- description ---------------------------------------------------------------------
    @property
    def n_atoms(self) -> int:
        return len(self.elements)

    @property
    def n_types(self) -> int:
        return int(self.type_parameters.shape[0])

    @property
    def n_fragments(self) -> int:
        return int(self.fragment_index.max()) + 1 if self.n_atoms else 0

    def with_cutoff(
        self, cutoff_angstrom: float | None, switch_distance_angstrom: float | None = None
    ) -> ParametrizedSystem:
        """The same parameters with another cutoff (``None``: every intermolecular pair)."""
        return self._replaced(
            cutoff_angstrom=cutoff_angstrom, switch_distance_angstrom=switch_distance_angstrom
        )

    def with_box(self, box_angstrom) -> ParametrizedSystem:  # noqa: ANN001 - array-like or None
        """The same parameters in a periodic orthorhombic cell with edges ``box_angstrom`` [3]
        (Å), or without a cell for ``None``. Every edge must be ≥ 2·cutoff. The Coulomb term
        between molecules stays the switched sum truncated at the cutoff, not the Ewald sum of
        the OpenMM export (see the module docstring)."""
        return self._replaced(box_angstrom=box_angstrom)

    def _replaced(self, **changes) -> ParametrizedSystem:  # noqa: ANN003 - dataclass fields
        """A new system with the same parameters and ``changes`` (no neighbour list kept)."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}
        return ParametrizedSystem(**{**fields, **changes})

    def intermolecular_parameters(self, first: int, second: int) -> np.ndarray:
        """C0..C13 [14] of the non-covalent pair of atoms ``first`` and ``second``."""
        return self.type_parameters[self.atom_type[first], self.atom_type[second]]

    # -- evaluation ----------------------------------------------------------------------
    def energy_kcal_mol(self, positions_angstrom) -> float:  # noqa: ANN001 - array-like
        """Energy (kcal/mol) at ``positions_angstrom`` [A, 3] Å."""
        return self.energy_and_forces(positions_angstrom)[0]

    def energy_and_forces(self, positions_angstrom) -> tuple[float, np.ndarray]:  # noqa: ANN001
        """``(energy kcal/mol, forces [A, 3] kcal/mol/Å)`` at ``positions_angstrom`` [A, 3] Å.

        Forces are −∇E, analytic. Raises ValueError for a wrong atom count,
        :class:`MoleculeRejected` (``nan_value``, ``overlapping_atoms``) naming the atoms.
        """
        energy, forces, _ = self._evaluate(positions_angstrom, strain=None)
        return energy, forces

    def energy_forces_and_stress(
        self, positions_angstrom  # noqa: ANN001 - array-like
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """``(energy kcal/mol, forces [A, 3] kcal/mol/Å, stress [3, 3] kcal/mol/Å³)`` of a
        periodic system: stress = (1/V)·∂E/∂ε under a homogeneous strain of atoms and cell
        (the pair virial; E_lin does not depend on the strain). Raises ValueError without a
        cell."""
        if self.box_angstrom is None:
            raise ValueError(f"{self.name}: stress needs a periodic cell (see with_box)")
        strain = np.zeros((3, 3))
        energy, forces, strain = self._evaluate(positions_angstrom, strain=strain)
        return energy, forces, strain / float(np.prod(self.box_angstrom))

    def _evaluate(
        self, positions_angstrom, strain: np.ndarray | None  # noqa: ANN001 - array-like
    ) -> tuple[float, np.ndarray, np.ndarray | None]:
        positions = check_positions(positions_angstrom, self.n_atoms, self.name)
        forces = np.zeros((self.n_atoms, 3))
        whole = positions
        if self.box_angstrom is not None:  # molecules made whole along their bonds
            whole = positions + self._neighbour_list(positions).image_shift
        pair_sum = self._intramolecular(whole, forces, strain)
        pair_sum += self._intermolecular(positions, forces, strain)
        energy = self.linear_energy_kcal_mol + self.sign * pair_sum
        if self.sign != 1.0:
            forces *= self.sign
            if strain is not None:
                strain *= self.sign
        return float(energy), forces, strain

    def _intramolecular(
        self, positions: np.ndarray, forces: np.ndarray, strain: np.ndarray | None = None
    ) -> float:
        index = self.intra_pair_index
        if index.shape[1] == 0:
            return 0.0
        delta, r = pair_displacements_angstrom(positions, index)
        if r.min() < MIN_INTERATOMIC_DISTANCE_ANGSTROM:
            reject_overlapping_pairs(self.name, r, index[0], index[1])
        energy, de_dr = np.zeros_like(r), np.zeros_like(r)
        lr = self._intra_lr_pairs
        energy[lr], de_dr[lr] = long_range_energy_and_derivative(
            r[lr], self._intra_coulomb, self._intra_c6, self._intra_c12
        )
        near = np.flatnonzero(r < self._intra_extent)
        e_sr, d_sr = short_range_energy_and_derivative(
            r[near],
            np.take(self._intra_amplitudes, near, axis=0),
            np.take(self._intra_widths2, near, axis=0),
        )
        energy[near] += e_sr
        de_dr[near] += d_sr
        if self.intra_core is not None:
            e_core, d_core = core_energy_and_derivative(r, *self.intra_core)
            e_wall, d_wall = stretch_energy_and_derivative(r, *self.intra_stretch)
            energy += e_core + e_wall
            de_dr += d_core + d_wall
        forces += pair_forces_kcal_mol_angstrom(delta, r, de_dr, index, self.n_atoms)
        if strain is not None:
            strain += pair_strain_derivative_kcal_mol(delta, r, de_dr)
        return float(energy.sum())

    def _intermolecular(
        self, positions: np.ndarray, forces: np.ndarray, strain: np.ndarray | None = None
    ) -> float:
        """Σ S(r)·E_ij over listed pairs (pairs beyond r_c, still in the skin, get S = 0)."""
        if self.n_fragments < 2:
            return 0.0
        neighbours = self._neighbour_list(positions)
        total = 0.0
        n_listed = neighbours.pair_index.shape[1]
        for start in range(0, n_listed, PAIR_BLOCK):
            block = slice(start, min(start + PAIR_BLOCK, n_listed))
            index = neighbours.pair_index[:, block]
            delta, r = pair_displacements_angstrom(positions, index, self.box_angstrom)
            if r.min() < MIN_INTERATOMIC_DISTANCE_ANGSTROM:
                reject_overlapping_pairs(self.name, r, index[0], index[1])
            energy, de_dr = long_range_energy_and_derivative(
                r, neighbours.coulomb_products[block], neighbours.c6[block], neighbours.c12[block]
            )
            near = np.flatnonzero(r < neighbours.short_range_extent[block])
            if near.size:
                type_pair = neighbours.type_pair[block][near]
                e_sr, d_sr = short_range_energy_and_derivative(
                    r[near],
                    np.take(self._type_amplitudes, type_pair, axis=0),
                    np.take(self._type_widths2, type_pair, axis=0),
                )
                energy[near] += e_sr
                de_dr[near] += d_sr
            if self.nonbonded_core is not None:
                e_core, d_core = core_energy_and_derivative(r, *self.nonbonded_core)
                energy += e_core
                de_dr += d_core
            if self.cutoff_angstrom is not None:
                switch, d_switch = switching_function(
                    r, self.switch_distance_angstrom, self.cutoff_angstrom
                )
                de_dr = de_dr * switch + energy * d_switch
                energy = energy * switch
            total += float(energy.sum())
            forces += pair_forces_kcal_mol_angstrom(delta, r, de_dr, index, self.n_atoms)
            if strain is not None:
                strain += pair_strain_derivative_kcal_mol(delta, r, de_dr)
        return total

    def _neighbour_list(self, positions: np.ndarray) -> _NeighbourList:
        current = self._neighbours
        if current is not None:
            if self.cutoff_angstrom is None:
                return current
            moved = positions - current.reference_positions
            if np.einsum("ak,ak->a", moved, moved).max() <= (0.5 * self.skin_angstrom) ** 2:
                return current
        self._neighbours = self._build_neighbour_list(positions)
        return self._neighbours

    def _build_neighbour_list(self, positions: np.ndarray) -> _NeighbourList:
        image_shift = None
        if self.cutoff_angstrom is None:
            first, second = np.triu_indices(self.n_atoms, k=1)
        else:
            from scipy.spatial import cKDTree

            box = self.box_angstrom
            if box is None:
                tree = cKDTree(positions)
            else:
                wrapped = positions - box * np.floor(positions / box)
                wrapped = np.where(wrapped >= box, wrapped - box, wrapped)  # round-off at L
                tree = cKDTree(wrapped, boxsize=box)
                image_shift = self._whole_molecule_shift(positions)
            pairs = tree.query_pairs(
                self.cutoff_angstrom + self.skin_angstrom, output_type="ndarray"
            )
            first, second = pairs[:, 0], pairs[:, 1]
        between = self.fragment_index[first] != self.fragment_index[second]
        first, second = first[between], second[between]
        type_pair = self.atom_type[first] * self.n_types + self.atom_type[second]
        return _NeighbourList(
            reference_positions=positions.copy(),
            pair_index=np.stack([first, second]).astype(np.int64),
            coulomb_products=COULOMB_KCAL_MOL_ANGSTROM
            * self.charges_e[first]
            * self.charges_e[second],
            type_pair=type_pair,
            c6=self._type_c6[type_pair],
            c12=self._type_c12[type_pair],
            short_range_extent=self._type_extent[type_pair],
            image_shift=image_shift,
        )

    def _bond_tree_levels(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Breadth-first levels of each fragment's bond graph: [(atoms, their parents)], the
        roots (one per fragment) excluded. Computed once."""
        levels = getattr(self, "_tree_levels", None)
        if levels is not None:
            return levels
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import breadth_first_order

        first, second = self.bond_index
        graph = coo_matrix(
            (np.ones(first.size), (first, second)), shape=(self.n_atoms, self.n_atoms)
        ).tocsr()
        depth = np.full(self.n_atoms, -1, dtype=np.int64)
        parent = np.full(self.n_atoms, -1, dtype=np.int64)
        for root in np.unique(self.fragment_index, return_index=True)[1]:
            order, predecessors = breadth_first_order(
                graph, int(root), directed=False, return_predecessors=True
            )
            depth[root] = 0
            for atom in order[1:]:
                parent[atom] = predecessors[atom]
                depth[atom] = depth[parent[atom]] + 1
        levels = [
            (atoms, parent[atoms])
            for d in range(1, int(depth.max()) + 1 if self.n_atoms else 1)
            for atoms in [np.flatnonzero(depth == d)]
        ]
        self._tree_levels = levels
        return levels

    def _whole_molecule_shift(self, positions: np.ndarray) -> np.ndarray:
        """[A, 3] Å to add to ``positions`` so that every fragment is whole (each bond its
        minimum image); raises ValueError when an atom comes within r_c of a periodic image of
        its own molecule (those pairs are not evaluated)."""
        box = self.box_angstrom
        whole = positions.copy()
        for atoms, parents in self._bond_tree_levels():
            bond = positions[atoms] - whole[parents]
            whole[atoms] = whole[parents] + bond - box * np.round(bond / box)
        first, second = self.intra_pair_index
        delta = whole[first] - whole[second]
        image = delta - box * np.round(delta / box)
        distance = np.sqrt(np.einsum("pk,pk->p", image, image))
        # the whole molecule's displacement is not the minimum image: the pair's nearest
        # image belongs to another copy of the molecule, ignored unless beyond the cutoff
        reaching = np.flatnonzero(
            (np.abs(image - delta) > 1e-9).any(axis=1) & (distance < self.cutoff_angstrom)
        )
        if reaching.size:
            pair = reaching[np.argmin(distance[reaching])]
            i, j = int(first[pair]), int(second[pair])
            raise ValueError(
                f"{self.name}: molecule {int(self.fragment_index[i]) + 1} comes within the cutoff "
                f"({self.cutoff_angstrom} Å) of its own periodic image (atom {i} and an image of "
                f"atom {j} {distance[pair]:.2f} Å apart; cell {np.round(box, 3).tolist()} Å); "
                "use a larger cell"
            )
        return whole - positions
