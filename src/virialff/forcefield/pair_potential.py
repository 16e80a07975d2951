"""The paper-form pair energy (paper section 4.2) as pure NumPy functions, and its constants.

No torch here: these are what a parametrised system (:mod:`virialff.forcefield.paper_system`)
and its exports evaluate, in float64 with analytic derivatives. The torch forms that training
differentiates are in :mod:`virialff.model.potential` and use the constants defined here.
Units: positions in Å, charges in e, energies in kcal/mol. Shapes: A atoms, P atom pairs.

Pair energy (Eqs. 21-23 of the paper)::

    E_LR(i,j) = 332.0637·Q_i·Q_j/r − |C0|/r⁶ + |C1|/r¹²     (non-bonded pairs; 0 if bonded)
    E_SR(i,j) = Σ_{k=1..6} C_{2k} · exp(−(r − (1.2 + 0.6·(k−1)))² / (C_{2k+1}² + 1e−5))

Lennard-Jones form of C0, C1. The paper's Eq. 27 gives σ = C0/C1, which is dimensionally wrong
(C0 has units kcal/mol·Å⁶, C1 kcal/mol·Å¹²). Matching ``|C1|/r¹² − |C0|/r⁶`` to
``4ε[(σ/r)¹² − (σ/r)⁶]`` gives σ = (C1/C0)^(1/6), ε = C0²/(4·C1) and the minimum at
r_min = 2^(1/6)·σ, which is what :func:`lennard_jones_parameters` returns.

Guards (beyond the paper; off in the paper-faithful model, see :class:`PairGuards`):

- a repulsive core per pair class (bonded X–H, bonded heavy–heavy, non-bonded),
  E_core = k_c·(r_c − r)³ for r < r_c, else exactly 0 (continuous to the second derivative);
- a stretch wall per bonded element pair, the core's mirror image, E_wall = k_s·(r − r_s)³ for
  r > r_s, else exactly 0: a covalent bond stays a bond, as in every classical force field
  (the paper's Gaussians vanish beyond 4.2 Å, so a bond that once stretches past them is free);
- bounded Gaussians, a_k = a_max·tanh(raw/a_max) and w_k = w_min + (w_max − w_min)·σ(raw),
  and a floor on the r⁻¹² coefficient, |C1| = floor + |raw|
  (:func:`virialff.model.potential.bounded_pair_parameters`, applied to the network's output;
  a parametrised system holds the bounded C).

Why NumPy with analytic derivatives: a parametrised system evaluates a molecule many times
with fixed parameters. At these sizes (10²-10⁶ pairs, one thread) NumPy with analytic
derivatives is several times faster than torch with autograd, and float64 keeps sums over 10⁶
pairs exact to well below 1e-6 kcal/mol.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS

#: number of pair parameters C0..C13.
N_PAIR_PARAMETERS = 14
#: centres (Å) of the six Gaussians of E_SR: 1.2 + 0.6·(k−1), k = 1..6.
GAUSSIAN_CENTRES_ANGSTROM: tuple[float, ...] = tuple(1.2 + 0.6 * k for k in range(6))
#: ε of Eq. 22 (Å²), keeps the Gaussian widths away from zero.
WIDTH_EPSILON_ANGSTROM2 = 1.0e-5


#: pair classes of the repulsive core, in the order of :attr:`PairGuards.core_radius_angstrom`.
CORE_CLASSES: tuple[str, ...] = ("bonded_hydrogen", "bonded_heavy", "nonbonded")


@dataclass(frozen=True)
class PairGuards:
    """The guards' numbers, written into every guarded model file.

    ``width_min_angstrom``, ``width_max_angstrom``, ``amplitude_max_kcal_mol``: bounds of the
    Gaussians; ``c12_floor_kcal_mol_angstrom12``: least |C1|; ``core_radius_angstrom`` and
    ``core_strength_kcal_mol_angstrom3``: r_c and k_c per :data:`CORE_CLASSES`;
    ``stretch_radius_angstrom`` and ``stretch_strength_kcal_mol_angstrom3``: r_s and k_s of a
    bond between elements a and b at index ``a·n + b`` (n =
    :data:`virialff.chem.elements.N_ELEMENTS`, both orders), for bonded pairs only (molecules
    may part).
    """

    width_min_angstrom: float
    width_max_angstrom: float
    amplitude_max_kcal_mol: float
    c12_floor_kcal_mol_angstrom12: float
    core_radius_angstrom: tuple[float, float, float]
    core_strength_kcal_mol_angstrom3: tuple[float, float, float]
    stretch_radius_angstrom: tuple[float, ...] = ()
    stretch_strength_kcal_mol_angstrom3: tuple[float, ...] = ()

    def stretch_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """r_s [n, n] (Å) and k_s [n, n] (kcal/mol/Å³) by element index of a bond; no wall
        (r_s = 1e3 Å, k_s = 0) in guards without one."""
        n = len(SUPPORTED_ELEMENTS)
        if not self.stretch_radius_angstrom:
            return np.full((n, n), 1e3), np.zeros((n, n))
        return (np.asarray(self.stretch_radius_angstrom, dtype=float).reshape(n, n),
                np.asarray(self.stretch_strength_kcal_mol_angstrom3, dtype=float).reshape(n, n))

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict) -> PairGuards:
        """The guards of a model file's ``config["potential"]["guards"]`` (other keys there,
        such as the distances they were chosen from, are records only)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: tuple(float(x) for x in v) if isinstance(v, list | tuple) else float(v)
                      for k, v in values.items() if k in names})


def guards_from_distances(shortest_angstrom: dict[str, float], width_min_angstrom: float,
                          width_max_angstrom: float, amplitude_max_kcal_mol: float,
                          core_margin: float, core_wall_kcal_mol: float,
                          c12_floor_at_shortest_kcal_mol: float,
                          longest_bond_angstrom: dict[str, float] | None = None) -> PairGuards:
    """Guards chosen from the shortest distance of each pair class and the longest length of
    each kind of bond in the training data.

    ``shortest_angstrom``: class (:data:`CORE_CLASSES`) → distance (Å). The core of a class
    starts at r_c = ``core_margin`` × its shortest distance, so no training energy changes, and
    reaches ``core_wall_kcal_mol`` at 0.8·r_c: k_c = wall / (0.2·r_c)³. ``longest_bond_angstrom``:
    ``"C-H"`` (elements in :data:`SUPPORTED_ELEMENTS` order) → the longest such bond, and the
    bonded classes ``bonded_hydrogen``/``bonded_heavy`` for element pairs the data lack; the
    stretch wall of a bond starts at r_s = its longest length / ``core_margin`` and reaches the
    same wall at 1.2·r_s: k_s = wall / (0.2·r_s)³ (no wall without ``longest_bond_angstrom``).
    The r⁻¹² floor is the coefficient worth ``c12_floor_at_shortest_kcal_mol`` at the shortest
    non-bonded distance.
    """
    radii = tuple(core_margin * float(shortest_angstrom[c]) for c in CORE_CLASSES)
    strengths = tuple(core_wall_kcal_mol / (0.2 * r) ** 3 for r in radii)
    floor = c12_floor_at_shortest_kcal_mol * float(shortest_angstrom["nonbonded"]) ** 12
    stretch: list[float] = []
    if longest_bond_angstrom is not None:
        for first in SUPPORTED_ELEMENTS:
            for second in SUPPORTED_ELEMENTS:
                key = bond_key(first, second)
                fallback = "bonded_hydrogen" if "H" in (first, second) else "bonded_heavy"
                stretch.append(float(longest_bond_angstrom.get(
                    key, longest_bond_angstrom[fallback])) / core_margin)
    return PairGuards(float(width_min_angstrom), float(width_max_angstrom),
                      float(amplitude_max_kcal_mol), floor, radii, strengths, tuple(stretch),
                      tuple(core_wall_kcal_mol / (0.2 * r) ** 3 for r in stretch))


def bond_key(first: str, second: str) -> str:
    """``"C-H"``: a bond's two elements in :data:`SUPPORTED_ELEMENTS` order."""
    a, b = sorted((first, second), key=SUPPORTED_ELEMENTS.index)
    return f"{a}-{b}"


def pair_core_class(pair_bonded, hydrogen_first, hydrogen_second):  # noqa: ANN001, ANN201
    """Index into :data:`CORE_CLASSES` of every pair [P] (NumPy arrays or tensors alike):
    0 bonded with a hydrogen, 1 bonded heavy–heavy, 2 non-bonded."""
    with_hydrogen = hydrogen_first | hydrogen_second
    return 2 - pair_bonded * (1 + with_hydrogen)



def core_energy_and_derivative(
    r_angstrom: np.ndarray, radius_angstrom: np.ndarray, strength_kcal_mol_angstrom3: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy float64 E_core [P] (kcal/mol) and dE_core/dr [P] (kcal/mol/Å)."""
    depth = np.maximum(radius_angstrom - r_angstrom, 0.0)
    return strength_kcal_mol_angstrom3 * depth**3, -3.0 * strength_kcal_mol_angstrom3 * depth**2


def stretch_energy_and_derivative(
    r_angstrom: np.ndarray, radius_angstrom: np.ndarray, strength_kcal_mol_angstrom3: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """NumPy float64 E_wall [P] (kcal/mol) and dE_wall/dr [P] (kcal/mol/Å)."""
    excess = np.maximum(r_angstrom - radius_angstrom, 0.0)
    return strength_kcal_mol_angstrom3 * excess**3, 3.0 * strength_kcal_mol_angstrom3 * excess**2


def lennard_jones_parameters(c0, c1):  # noqa: ANN001, ANN201 - tensors or arrays
    """σ (Å), ε (kcal/mol) and r_min (Å) of ``|C1|/r¹² − |C0|/r⁶``.

    σ = (|C1|/|C0|)^(1/6), ε = C0²/(4·|C1|), r_min = 2^(1/6)·σ. (The paper's Eq. 27, σ = C0/C1,
    is dimensionally wrong; see the module docstring.) Works on floats, NumPy arrays and tensors.
    """
    c0, c1 = abs(c0), abs(c1)
    sigma = (c1 / c0) ** (1.0 / 6.0)
    epsilon = c0**2 / (4.0 * c1)
    r_min = 2.0 ** (1.0 / 6.0) * sigma
    return sigma, epsilon, r_min


def short_range_energy_and_derivative(
    r_angstrom: np.ndarray, amplitudes_kcal_mol: np.ndarray, widths2_angstrom2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """E_SR (Eq. 22) and dE_SR/dr of every pair.

    Args:
        r_angstrom: [P] distances (Å).
        amplitudes_kcal_mol: [P, 6] C2, C4, ..., C12 (kcal/mol).
        widths2_angstrom2: [P, 6] C3² + ε, C5² + ε, ..., C13² + ε (Å²), ε =
            :data:`WIDTH_EPSILON_ANGSTROM2`.

    Returns:
        ``(e, de_dr)``: [P] kcal/mol and [P] kcal/mol/Å.
    """
    offset = r_angstrom[:, None] - np.asarray(GAUSSIAN_CENTRES_ANGSTROM)
    scaled = offset / widths2_angstrom2
    # exp(< −700) < 1e-304 but lands in the denormal range, where arithmetic is ~100× slower
    terms = amplitudes_kcal_mol * np.exp(np.maximum(-offset * scaled, -700.0))
    return terms.sum(axis=1), -2.0 * (terms * scaled).sum(axis=1)


def long_range_energy_and_derivative(
    r_angstrom: np.ndarray,
    coulomb_products_kcal_angstrom_mol: np.ndarray,
    c6_kcal_angstrom6_mol: np.ndarray,
    c12_kcal_angstrom12_mol: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """E_LR (Eq. 21) of non-bonded pairs, 332.0637·Q_iQ_j/r − |C0|/r⁶ + |C1|/r¹², and dE_LR/dr.

    Args:
        r_angstrom: [P] distances (Å).
        coulomb_products_kcal_angstrom_mol: [P] 332.0637·Q_i·Q_j (kcal·Å/mol).
        c6_kcal_angstrom6_mol: [P] |C0|.
        c12_kcal_angstrom12_mol: [P] |C1|.

    Returns:
        ``(e, de_dr)``: [P] kcal/mol and [P] kcal/mol/Å.
    """
    inverse = 1.0 / r_angstrom
    coulomb = coulomb_products_kcal_angstrom_mol * inverse
    inverse6 = inverse**3
    inverse6 *= inverse6
    dispersion = c6_kcal_angstrom6_mol * inverse6
    repulsion = c12_kcal_angstrom12_mol * inverse6 * inverse6
    energy = coulomb - dispersion + repulsion
    return energy, (-coulomb + 6.0 * dispersion - 12.0 * repulsion) * inverse


def switching_function(
    r_angstrom: np.ndarray, switch_distance_angstrom: float, cutoff_angstrom: float
) -> tuple[np.ndarray, np.ndarray]:
    """Switch S(r) [P] and dS/dr [P] (1/Å) that takes a pair energy smoothly to 0 at the cutoff.

    S = 1 for r ≤ r_s, S = 1 − 10x³ + 15x⁴ − 6x⁵ with x = (r − r_s)/(r_c − r_s) between, and
    S = 0 for r ≥ r_c. S, dS/dr and d²S/dr² are continuous at r_s and r_c, so a switched energy
    S·E has continuous forces. This is the polynomial OpenMM applies when a nonbonded force has
    ``setUseSwitchingFunction(True)`` (OpenMM user guide, "Cutoffs and switching functions"),
    so an exported system has the same energy.
    """
    if not 0.0 < switch_distance_angstrom < cutoff_angstrom:
        raise ValueError(
            f"need 0 < switch distance ({switch_distance_angstrom} Å) < cutoff "
            f"({cutoff_angstrom} Å)"
        )
    width = cutoff_angstrom - switch_distance_angstrom
    x = np.clip((r_angstrom - switch_distance_angstrom) / width, 0.0, 1.0)
    x2 = x * x
    switch = 1.0 + x2 * x * (-10.0 + x * (15.0 - 6.0 * x))
    derivative = x2 * (-30.0 + x * (60.0 - 30.0 * x)) / width
    return switch, derivative


def short_range_extent_angstrom(
    amplitudes_kcal_mol: np.ndarray,
    widths2_angstrom2: np.ndarray,
    negligible_kcal_mol: float = 1.0e-14,
) -> np.ndarray:
    """Distance (Å) beyond which every Gaussian of E_SR is smaller than ``negligible_kcal_mol``.

    ``amplitudes_kcal_mol`` and ``widths2_angstrom2`` are [..., 6] (as in
    :func:`short_range_energy_and_derivative`); returns [...]. Gaussian k drops below the bound
    for r > c_k + √(w_k·ln(|a_k|/bound)); the extent is the largest of these over k.
    """
    ratio = np.abs(amplitudes_kcal_mol) / negligible_kcal_mol
    reach = np.sqrt(widths2_angstrom2 * np.log(np.maximum(ratio, 1.0)))
    return (np.asarray(GAUSSIAN_CENTRES_ANGSTROM) + reach).max(axis=-1)


def pair_displacements_angstrom(
    positions_angstrom: np.ndarray,
    pair_index: np.ndarray,
    box_angstrom: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Displacements x_i − x_j as [3, P] (component-major) and distances r [P] (Å).

    ``positions_angstrom`` [A, 3], ``pair_index`` [2, P]. ``box_angstrom`` [3]: edge lengths
    of an orthorhombic periodic cell; each displacement is then its minimum image
    (x_i − x_j − L·round((x_i − x_j)/L) per axis), so atoms may be wrapped into the cell or
    not. Gathering each Cartesian component as a 1-D array is several times faster than
    gathering rows of [A, 3].
    """
    coordinates = np.ascontiguousarray(positions_angstrom.T)
    first, second = pair_index
    delta = np.empty((3, first.shape[0]))
    for axis in range(3):
        np.subtract(
            np.take(coordinates[axis], first), np.take(coordinates[axis], second), out=delta[axis]
        )
        if box_angstrom is not None:
            length = float(box_angstrom[axis])
            delta[axis] -= length * np.round(delta[axis] / length)
    return delta, np.sqrt(np.einsum("kp,kp->p", delta, delta))


def pair_strain_derivative_kcal_mol(
    delta_angstrom: np.ndarray, r_angstrom: np.ndarray, de_dr_kcal_mol_angstrom: np.ndarray
) -> np.ndarray:
    """∂E/∂ε [3, 3] (kcal/mol) of E = Σ_p E_p(r_p) under a homogeneous strain x → (1 + ε)·x.

    W_ab = Σ_p (dE_p/dr_p / r_p)·δ_a·δ_b with δ = x_i − x_j [3, P] (the virial; symmetric);
    the stress of a periodic cell of volume V is W/V. Arguments as in
    :func:`pair_forces_kcal_mol_angstrom`.
    """
    weighted = delta_angstrom * (de_dr_kcal_mol_angstrom / r_angstrom)
    return weighted @ delta_angstrom.T


def pair_forces_kcal_mol_angstrom(
    delta_angstrom: np.ndarray,
    r_angstrom: np.ndarray,
    de_dr_kcal_mol_angstrom: np.ndarray,
    pair_index: np.ndarray,
    n_atoms: int,
) -> np.ndarray:
    """Forces −∂E/∂x_a [A, 3] (kcal/mol/Å) of a sum of pair energies E = Σ_p E_p(r_p).

    Args:
        delta_angstrom: [3, P] x_i − x_j of every pair (i, j) = ``pair_index[:, p]``
            (component-major, as :func:`pair_displacements_angstrom` returns it).
        r_angstrom: [P] |x_i − x_j|.
        de_dr_kcal_mol_angstrom: [P] dE_p/dr_p.
        pair_index: [2, P] atom indices.
        n_atoms: A.
    """
    scale = -de_dr_kcal_mol_angstrom / r_angstrom  # force on i = scale·(x_i − x_j)
    forces = np.empty((n_atoms, 3))
    for axis in range(3):
        component = delta_angstrom[axis] * scale
        forces[:, axis] = np.bincount(pair_index[0], component, minlength=n_atoms)
        forces[:, axis] -= np.bincount(pair_index[1], component, minlength=n_atoms)
    return forces
