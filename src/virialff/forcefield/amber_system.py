"""The Amber-form (GAFF2-form) energy in NumPy: pure term functions and a multi-molecule system.

The energy is the one :mod:`virialff.formats.amber_parameters` defines (kcal/mol, Å, e, rad)::

    E = Σ_bonds k (r − r0)² + Σ_angles k (θ − θ0)² + Σ_torsions k (1 + cos(n φ − γ))
      + Σ_impropers k (1 + cos(n ϕ − γ))
      + Σ_pairs [s_LJ 4ε_ij((σ_ij/r)¹² − (σ_ij/r)⁶) + s_C · 332.0637 · q_i q_j / r]

with ε_ij = √(ε_i ε_j), σ_ij = (σ_i + σ_j)/2; within a molecule the pairs are every i < j that
is not 1-2 or 1-3, with s_C = 1/scee and s_LJ = 1/scnb for the 1-4 pairs and 1 otherwise;
between molecules every pair counts in full. No cutoff and no periodic images (O(A²) pairs).

The Coulomb constant is :data:`virialff.units.COULOMB_KCAL_MOL_ANGSTROM` (332.0637 kcal·Å/mol/e²),
Amber's documented value; OpenMM's (138.935457644 kJ·nm/mol/e², from CODATA 2018) is larger by a
relative 4.0e-8 (``tests/forcefield/test_amber_form.py`` computes the difference), far below
every tolerance used against OpenMM. (Amber's own programs store charges × 18.2223, i.e. use
18.2223² = 332.0522.)

Shapes: A atoms, B bonds, G angles, T torsion (or improper) rows, P pairs. Every term function
returns ``(energy per term [rows] kcal/mol, forces [A, 3] kcal/mol/Å)``, the forces being
−∇ of the sum of the returned energies, so a differentiable twin (the torch functions of
:mod:`virialff.model.amber_energy`) can be checked term by term against these.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import numpy as np

from virialff.chem.valence_terms import valence_terms
from virialff.formats.amber_parameters import AmberFormParameters
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

#: below this squared norm (Å², Å⁴) a vector or cross product counts as zero: a straight angle
#: or a collinear dihedral, whose gradient direction is undefined; there the force is zero.
_TINY = 1.0e-24

#: names of :meth:`AmberFormSystem.energy_terms`, in order.
TERM_NAMES: tuple[str, ...] = ("bond", "angle", "torsion", "improper", "lennard_jones",
                               "coulomb")


def _scatter(n_atoms: int, index: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Σ of ``vectors`` [R, 3] onto atoms ``index`` [R]: [n_atoms, 3]."""
    out = np.empty((n_atoms, 3))
    for axis in range(3):
        out[:, axis] = np.bincount(index, weights=vectors[:, axis], minlength=n_atoms)
    return out


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", a, b)


def bond_energy(positions: np.ndarray, index: np.ndarray, k: np.ndarray,
                r0_angstrom: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k (r − r0)² per bond [B] and the forces [A, 3].

    ``positions`` [A, 3] Å, ``index`` [B, 2], ``k`` [B] kcal/mol/Å², ``r0_angstrom`` [B].
    """
    positions = np.asarray(positions, dtype=float)
    index = np.asarray(index, dtype=np.int64).reshape(-1, 2)
    delta = positions[index[:, 1]] - positions[index[:, 0]]
    r = np.sqrt(_dot(delta, delta))
    stretch = r - r0_angstrom
    energy = k * stretch**2
    # dE/dx_j = 2k (r − r0) d/r
    grad_j = (2.0 * k * stretch / np.where(r > 0, r, 1.0))[:, None] * delta
    forces = _scatter(len(positions), index[:, 0], grad_j) - _scatter(len(positions),
                                                                      index[:, 1], grad_j)
    return energy, forces


def bond_angles(positions: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Angle i-j-k at the centre j [G] (rad, 0..π) for ``index`` [G, 3]."""
    positions = np.asarray(positions, dtype=float)
    index = np.asarray(index, dtype=np.int64).reshape(-1, 3)
    u = positions[index[:, 0]] - positions[index[:, 1]]
    v = positions[index[:, 2]] - positions[index[:, 1]]
    return np.arctan2(np.linalg.norm(np.cross(u, v), axis=1), _dot(u, v))


def angle_energy(positions: np.ndarray, index: np.ndarray, k: np.ndarray,
                 theta0_rad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """k (θ − θ0)² per angle [G] and the forces [A, 3].

    ``index`` [G, 3] with the centre in the middle, ``k`` [G] kcal/mol/rad², ``theta0_rad`` [G].
    """
    positions = np.asarray(positions, dtype=float)
    index = np.asarray(index, dtype=np.int64).reshape(-1, 3)
    u = positions[index[:, 0]] - positions[index[:, 1]]
    v = positions[index[:, 2]] - positions[index[:, 1]]
    ru, rv = np.sqrt(_dot(u, u)), np.sqrt(_dot(v, v))
    sin_theta = np.linalg.norm(np.cross(u, v), axis=1) / (ru * rv)
    cos_theta = _dot(u, v) / (ru * rv)
    theta = np.arctan2(sin_theta, cos_theta)
    energy = k * (theta - theta0_rad) ** 2
    # dθ/du = (cosθ u/|u| − v/|v|) / (|u| sinθ); at sinθ = 0 the numerator vanishes too
    safe = np.where(sin_theta**2 > _TINY, sin_theta, 1.0)
    scale = np.where(sin_theta**2 > _TINY, 2.0 * k * (theta - theta0_rad) / safe, 0.0)
    grad_i = (scale / ru)[:, None] * (cos_theta[:, None] * u / ru[:, None] - v / rv[:, None])
    grad_k = (scale / rv)[:, None] * (cos_theta[:, None] * v / rv[:, None] - u / ru[:, None])
    n = len(positions)
    forces = -(_scatter(n, index[:, 0], grad_i) + _scatter(n, index[:, 2], grad_k)
               - _scatter(n, index[:, 1], grad_i + grad_k))
    return energy, forces


def dihedral_angles(positions: np.ndarray, index: np.ndarray) -> np.ndarray:
    """IUPAC dihedral i-j-k-l [T] (rad, −π..π; 0 cis, ±π trans) for ``index`` [T, 4].

    φ = atan2(|b2| b1·(b2 × b3), (b1 × b2)·(b2 × b3)), b1 = x_j − x_i, b2 = x_k − x_j,
    b3 = x_l − x_k; 0 where i-j-k or j-k-l is collinear.
    """
    return _dihedral(np.asarray(positions, dtype=float),
                     np.asarray(index, dtype=np.int64).reshape(-1, 4))[0]


def _dihedral(positions: np.ndarray, index: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """φ [T] and dφ/dx of the four atoms ([T, 3] each)."""
    b1 = positions[index[:, 1]] - positions[index[:, 0]]
    b2 = positions[index[:, 2]] - positions[index[:, 1]]
    b3 = positions[index[:, 3]] - positions[index[:, 2]]
    n1, n2 = np.cross(b1, b2), np.cross(b2, b3)
    n1_sq, n2_sq = _dot(n1, n1), _dot(n2, n2)
    b2_norm = np.sqrt(_dot(b2, b2))
    ok = (n1_sq > _TINY) & (n2_sq > _TINY)
    phi = np.where(ok, np.arctan2(b2_norm * _dot(b1, n2), _dot(n1, n2)), 0.0)
    # Blondel & Karplus (J. Comput. Chem. 17, 1132 (1996)), with the sign of the IUPAC φ
    n1_sq, n2_sq = np.where(ok, n1_sq, 1.0), np.where(ok, n2_sq, 1.0)
    b2_safe = np.where(ok, b2_norm, 1.0)
    g0 = np.where(ok, -b2_norm / n1_sq, 0.0)[:, None] * n1
    g3 = np.where(ok, b2_norm / n2_sq, 0.0)[:, None] * n2
    f12 = (_dot(b1, b2) / b2_safe**2)[:, None]
    f32 = (_dot(b3, b2) / b2_safe**2)[:, None]
    g1 = -g0 - f12 * g0 + f32 * g3
    g2 = -g3 + f12 * g0 - f32 * g3
    return phi, g0, g1, g2, g3


def torsion_energy(positions: np.ndarray, index: np.ndarray, k: np.ndarray,
                   periodicity: np.ndarray, phase_rad: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """k (1 + cos(n φ − γ)) per row [T] and the forces [A, 3], for proper torsions and for
    impropers alike (for an improper the third atom is the centre).

    ``index`` [T, 4], ``k`` [T] kcal/mol, ``periodicity`` [T] (n), ``phase_rad`` [T] (γ).
    """
    positions = np.asarray(positions, dtype=float)
    index = np.asarray(index, dtype=np.int64).reshape(-1, 4)
    n = np.asarray(periodicity, dtype=float)
    phi, *grads = _dihedral(positions, index)
    angle = n * phi - phase_rad
    energy = k * (1.0 + np.cos(angle))
    d_energy = -k * n * np.sin(angle)
    forces = np.zeros((len(positions), 3))
    for column, grad in enumerate(grads):
        forces -= _scatter(len(positions), index[:, column], d_energy[:, None] * grad)
    return energy, forces


def nonbonded_energy(positions: np.ndarray, pair_index: np.ndarray, charges_e: np.ndarray,
                     sigma_angstrom: np.ndarray, epsilon_kcal_mol: np.ndarray,
                     lj_scale: np.ndarray, coulomb_scale: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lennard-Jones [P] and Coulomb [P] energies of the pairs, and their forces [A, 3].

    ``pair_index`` [P, 2]; per atom ``charges_e`` [A], ``sigma_angstrom`` [A] (σ where the pair
    energy is zero), ``epsilon_kcal_mol`` [A] (Lorentz–Berthelot combination); per pair
    ``lj_scale`` [P] and ``coulomb_scale`` [P] (1, or 1/scnb and 1/scee for 1-4 pairs).
    """
    positions = np.asarray(positions, dtype=float)
    pair_index = np.asarray(pair_index, dtype=np.int64).reshape(-1, 2)
    i, j = pair_index[:, 0], pair_index[:, 1]
    sigma = 0.5 * (np.asarray(sigma_angstrom)[i] + np.asarray(sigma_angstrom)[j])
    epsilon = np.sqrt(np.asarray(epsilon_kcal_mol)[i] * np.asarray(epsilon_kcal_mol)[j])
    qq = np.asarray(charges_e)[i] * np.asarray(charges_e)[j]
    return _pair_energy(positions, pair_index, lj_scale * 4.0 * epsilon, sigma**6,
                        coulomb_scale * COULOMB_KCAL_MOL_ANGSTROM * qq)


def _pair_energy(positions: np.ndarray, pair_index: np.ndarray, four_epsilon: np.ndarray,
                 sigma6: np.ndarray, coulomb_qq: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LJ [P], Coulomb [P] and forces [A, 3] with per-pair s·4ε, σ⁶ and s·332.0637·q_i q_j."""
    delta = positions[pair_index[:, 1]] - positions[pair_index[:, 0]]
    r2 = _dot(delta, delta)
    inv_r2 = 1.0 / r2
    s6 = sigma6 * inv_r2**3
    lj = four_epsilon * (s6 * s6 - s6)
    coulomb = coulomb_qq * np.sqrt(inv_r2)
    # (dE/dr)/r for both terms
    d_over_r = (four_epsilon * (-12.0 * s6 * s6 + 6.0 * s6) - coulomb) * inv_r2
    grad_j = d_over_r[:, None] * delta
    n = len(positions)
    forces = _scatter(n, pair_index[:, 0], grad_j) - _scatter(n, pair_index[:, 1], grad_j)
    return lj, coulomb, forces


def molecule_pairs(parameters: AmberFormParameters) -> tuple[np.ndarray, np.ndarray]:
    """The non-bonded pairs of one molecule: ``(pair_index [P, 2] with i < j, is14 [P] bool)``:
    every pair that is not 1-2 or 1-3, with its 1-4 pairs (``pair14_index``) marked."""
    n = parameters.n_atoms
    excluded = valence_terms(parameters.bond_index, n).excluded_pairs
    first, second = np.triu_indices(n, k=1)
    keys = first * n + second
    if excluded.size:
        keys = np.setdiff1d(keys, excluded[:, 0] * n + excluded[:, 1])
    p14 = np.sort(np.asarray(parameters.pair14_index, dtype=np.int64).reshape(-1, 2), axis=1)
    is14 = np.isin(keys, p14[:, 0] * n + p14[:, 1])
    return np.stack([keys // n, keys % n], axis=1).astype(np.int64).reshape(-1, 2), is14


class AmberFormSystem:
    """Several molecules as one non-periodic system without cutoff (see the module docstring).

    Atoms are the molecules' atoms concatenated in order. The call signature of
    :meth:`energy_and_forces` is that of the paper form's ``ParametrizedSystem``, so the ASE
    calculator (:class:`virialff.ase.VirialFFCalculator` with ``system=``) drives it.
    """

    #: what the energy is (the ASE calculator accepts only total-energy systems).
    target = "total"
    #: not periodic.
    box_angstrom = None

    def __init__(self, parameters: Sequence[AmberFormParameters], name: str | None = None
                 ) -> None:
        parameters = list(parameters)
        if not parameters:
            raise ValueError("AmberFormSystem needs at least one molecule")
        for molecule in parameters:
            molecule.check()
        self.parameters = parameters
        self.name = name or "+".join(m.molecule_id for m in parameters)
        sizes = [m.n_atoms for m in parameters]
        offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.offsets = offsets

        def joined(attribute: str, shift: bool = False) -> np.ndarray:
            parts = [np.asarray(getattr(m, attribute)) + (offsets[n] if shift else 0)
                     for n, m in enumerate(parameters)]
            return np.concatenate(parts)

        self.atomic_numbers = joined("atomic_numbers").astype(np.int64)
        self.charges_e = joined("charges_e").astype(float)
        self.sigma_angstrom = joined("sigma_angstrom").astype(float)
        self.epsilon_kcal_mol = joined("epsilon_kcal_mol").astype(float)
        self.bond_index, self.bond_k = joined("bond_index", True), joined("bond_k")
        self.bond_r0_angstrom = joined("bond_r0_angstrom")
        self.angle_index, self.angle_k = joined("angle_index", True), joined("angle_k")
        self.angle_theta0_rad = joined("angle_theta0_rad")
        self.torsion = (joined("torsion_index", True), joined("torsion_k_kcal_mol"),
                        joined("torsion_periodicity"), joined("torsion_phase_rad"))
        self.improper = (joined("improper_index", True), joined("improper_k_kcal_mol"),
                         joined("improper_periodicity"), joined("improper_phase_rad"))

        pairs, lj_scale, coulomb_scale = [], [], []
        for n, molecule in enumerate(parameters):
            index, is14 = molecule_pairs(molecule)
            pairs.append(index + offsets[n])
            lj_scale.append(np.where(is14, 1.0 / molecule.scnb, 1.0))
            coulomb_scale.append(np.where(is14, 1.0 / molecule.scee, 1.0))
        if len(parameters) > 1:  # every pair of atoms of different molecules, in full
            owner = np.repeat(np.arange(len(parameters)), sizes)
            first, second = np.triu_indices(int(offsets[-1]), k=1)
            between = owner[first] != owner[second]
            pairs.append(np.stack([first[between], second[between]], axis=1))
            lj_scale.append(np.ones(int(between.sum())))
            coulomb_scale.append(np.ones(int(between.sum())))
        self.pair_index = np.concatenate(pairs).astype(np.int64).reshape(-1, 2)
        self.pair_lj_scale = np.concatenate(lj_scale)
        self.pair_coulomb_scale = np.concatenate(coulomb_scale)
        i, j = self.pair_index[:, 0], self.pair_index[:, 1]
        self._four_epsilon = self.pair_lj_scale * 4.0 * np.sqrt(self.epsilon_kcal_mol[i]
                                                                 * self.epsilon_kcal_mol[j])
        self._sigma6 = (0.5 * (self.sigma_angstrom[i] + self.sigma_angstrom[j])) ** 6
        self._coulomb_qq = (self.pair_coulomb_scale * COULOMB_KCAL_MOL_ANGSTROM
                            * self.charges_e[i] * self.charges_e[j])

    @property
    def n_atoms(self) -> int:
        return int(self.atomic_numbers.shape[0])

    @cached_property
    def elements(self) -> tuple[str, ...]:
        """Element symbols of the atoms, in order."""
        from rdkit import Chem

        table = Chem.GetPeriodicTable()
        return tuple(table.GetElementSymbol(int(z)) for z in self.atomic_numbers)

    def with_box(self, edges_angstrom: Sequence[float] | None) -> AmberFormSystem:
        """This system without a box; there is no periodic NumPy engine (use
        :func:`virialff.forcefield.amber_openmm.to_openmm_system` with a box)."""
        if edges_angstrom is None:
            return self
        raise ValueError(f"{self.name}: AmberFormSystem is not periodic; use "
                         "virialff.forcefield.amber_openmm.to_openmm_system(..., box_angstrom)")

    def _positions(self, positions_angstrom: np.ndarray) -> np.ndarray:
        positions = np.asarray(positions_angstrom, dtype=np.float64)
        if positions.shape != (self.n_atoms, 3):
            raise ValueError(f"{self.name}: positions have shape {positions.shape}, expected "
                             f"({self.n_atoms}, 3)")
        return positions

    def _terms(self, positions: np.ndarray) -> tuple[dict[str, float], np.ndarray]:
        bond, f_bond = bond_energy(positions, self.bond_index, self.bond_k,
                                   self.bond_r0_angstrom)
        angle, f_angle = angle_energy(positions, self.angle_index, self.angle_k,
                                      self.angle_theta0_rad)
        torsion, f_torsion = torsion_energy(positions, *self.torsion)
        improper, f_improper = torsion_energy(positions, *self.improper)
        lj, coulomb, f_pairs = _pair_energy(positions, self.pair_index, self._four_epsilon,
                                            self._sigma6, self._coulomb_qq)
        terms = {"bond": float(bond.sum()), "angle": float(angle.sum()),
                 "torsion": float(torsion.sum()), "improper": float(improper.sum()),
                 "lennard_jones": float(lj.sum()), "coulomb": float(coulomb.sum())}
        return terms, f_bond + f_angle + f_torsion + f_improper + f_pairs

    def energy_terms(self, positions_angstrom: np.ndarray) -> dict[str, float]:
        """Energy of each term (kcal/mol; keys :data:`TERM_NAMES`; 1-4 pairs, scaled, are in
        ``lennard_jones`` and ``coulomb``) at ``positions_angstrom`` [A, 3]."""
        return self._terms(self._positions(positions_angstrom))[0]

    def energy_and_forces(self, positions_angstrom: np.ndarray) -> tuple[float, np.ndarray]:
        """``(E kcal/mol, F = −∇E [A, 3] kcal/mol/Å)`` at ``positions_angstrom`` [A, 3]."""
        terms, forces = self._terms(self._positions(positions_angstrom))
        return float(sum(terms.values())), forces
