"""Chai–Head-Gordon (CHG) damped atom–atom dispersion, the "-D" of ωB97X-D.

Units: positions in **Bohr**, energies in **Hartree** (this is QC-layer code; the Å/kcal/mol
boundary is elsewhere).

Formula (J.-D. Chai and M. Head-Gordon, Phys. Chem. Chem. Phys. 10, 6615 (2008), eq. 6-7)::

    E_disp = -s6 · Σ_{i<j} C6_ij / R_ij^6 · 1 / (1 + a · (R_ij / R_r)^-12)
    C6_ij  = sqrt(C6_i · C6_j)                 (geometric mean)
    R_r    = R0_i + R0_j                       (sum of the atomic van der Waals radii)

with a = 6.0 and s6 = 1.0, and C6_i, R0_i from Grimme's DFT-D2 table (S. Grimme,
J. Comput. Chem. 27, 1787 (2006), Table 1: C6 in J nm^6 mol^-1, R0 in Å).

This is the definition Psi4 uses for ``wb97x-d`` (Psi4 1.3.2: ``procrouting/dft/
libxc_functionals.py`` pairs ``HYB_GGA_XC_WB97X_D`` with dispersion type ``chg``, s6 = 1.0; its
``libdisp`` builds "-CHG" as d = 6.0, D2 C6 with geometric mean, D2 radii, damping
1 / (1 + d (R/R_r)^-12), coordinates in Bohr). The unit conversions below are the ones Psi4's
libdisp tables were made with, so the energies agree with Psi4's "DISPERSION CORRECTION ENERGY"
to round-off (``tests/qc/test_dispersion.py``, ``tests/qc/test_pyscf_engine.py``).
"""

from __future__ import annotations

import numpy as np

#: Damping steepness a of Chai & Head-Gordon (2008).
CHG_DAMPING_A = 6.0
#: Global scaling s6 of ωB97X-D.
WB97X_D_S6 = 1.0

#: J nm^6 mol^-1 → Hartree Bohr^6: the ratio of Psi4 libdisp's tabulated D2 C6 (atomic units)
#: to Grimme's published values (its header quotes 17.34525495; the table is built with this).
C6_JOULE_NM6_PER_MOL_TO_HARTREE_BOHR6 = 17.345252698873
#: Å → Bohr for the D2 radii, the factor of Psi4's libdisp tables (an older Bohr radius than
#: the CODATA 2014 one Psi4 uses for geometries; kept so the radii match Psi4 exactly).
D2_RADIUS_ANGSTROM_TO_BOHR = 1.889725989

#: Grimme D2 (2006, Table 1) per element: Z → (C6 [J nm^6 mol^-1], R0 [Å]), H..Xe.
GRIMME_D2_C6_R0: dict[int, tuple[float, float]] = {
    1: (0.14, 1.001),
    2: (0.08, 1.012),
    3: (1.61, 0.825),
    4: (1.61, 1.408),
    5: (3.13, 1.485),
    6: (1.75, 1.452),
    7: (1.23, 1.397),
    8: (0.70, 1.342),
    9: (0.75, 1.287),
    10: (0.63, 1.243),
    11: (5.71, 1.144),
    12: (5.71, 1.364),
    13: (10.79, 1.639),
    14: (9.23, 1.716),
    15: (7.84, 1.705),
    16: (5.57, 1.683),
    17: (5.07, 1.639),
    18: (4.61, 1.595),
    19: (10.80, 1.485),
    20: (10.80, 1.474),
    **{z: (10.80, 1.562) for z in range(21, 31)},  # Sc-Zn
    31: (16.99, 1.650),
    32: (17.10, 1.727),
    33: (16.37, 1.760),
    34: (12.64, 1.771),
    35: (12.47, 1.749),
    36: (12.01, 1.727),
    37: (24.67, 1.628),
    38: (24.67, 1.606),
    **{z: (24.67, 1.639) for z in range(39, 49)},  # Y-Cd
    49: (37.32, 1.672),
    50: (38.71, 1.804),
    51: (38.44, 1.881),
    52: (31.74, 1.892),
    53: (31.50, 1.892),
    54: (29.99, 1.881),
}


def d2_parameters_atomic_units(atomic_numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-atom D2 ``C6`` [N] (Hartree Bohr^6) and ``R0`` [N] (Bohr) for ``atomic_numbers`` [N].

    Raises ValueError naming the element when it has no D2 parameters (Z > 54 or Z < 1).
    """
    z = np.asarray(atomic_numbers, dtype=int)
    missing = sorted({int(v) for v in z.ravel() if int(v) not in GRIMME_D2_C6_R0})
    if missing:
        raise ValueError(f"no Grimme D2 dispersion parameters for atomic number(s) {missing}")
    table = np.array([GRIMME_D2_C6_R0[int(v)] for v in z.ravel()], dtype=float).reshape(-1, 2)
    return (
        table[:, 0] * C6_JOULE_NM6_PER_MOL_TO_HARTREE_BOHR6,
        table[:, 1] * D2_RADIUS_ANGSTROM_TO_BOHR,
    )


def chg_pair_energies_hartree(
    atomic_numbers: np.ndarray,
    positions_bohr: np.ndarray,
    s6: float = WB97X_D_S6,
    damping_a: float = CHG_DAMPING_A,
) -> np.ndarray:
    """CHG dispersion energy of every atom pair: [N, N] symmetric (Hartree), zero diagonal.

    ``atomic_numbers`` [N]; ``positions_bohr`` [N, 3]. Half the sum of the matrix is the total.
    Coincident atoms raise ValueError (R = 0 has no meaning here).
    """
    z = np.asarray(atomic_numbers, dtype=int)
    positions = np.asarray(positions_bohr, dtype=float)
    if positions.shape != (z.size, 3):
        raise ValueError(f"positions shape {positions.shape}, expected ({z.size}, 3)")
    c6, r0 = d2_parameters_atomic_units(z)
    distance = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)
    off_diagonal = ~np.eye(z.size, dtype=bool)
    if np.any(distance[off_diagonal] == 0.0):
        raise ValueError("two atoms share a position: the dispersion energy is undefined")
    r = np.where(off_diagonal, distance, 1.0)
    c6_pair = np.sqrt(np.outer(c6, c6))
    r_vdw = r0[:, None] + r0[None, :]
    damping = 1.0 / (1.0 + damping_a * (r / r_vdw) ** -12)
    return np.where(off_diagonal, -s6 * c6_pair / r**6 * damping, 0.0)


def chg_dispersion_energy_hartree(
    atomic_numbers: np.ndarray,
    positions_bohr: np.ndarray,
    s6: float = WB97X_D_S6,
    damping_a: float = CHG_DAMPING_A,
) -> float:
    """Total CHG dispersion energy (Hartree) of atoms ``atomic_numbers`` [N] at
    ``positions_bohr`` [N, 3]; ωB97X-D's "-D" term with the defaults."""
    pairs = chg_pair_energies_hartree(atomic_numbers, positions_bohr, s6, damping_a)
    return float(np.sum(np.triu(pairs, 1)))


def chg_dispersion_gradient_hartree_per_bohr(
    atomic_numbers: np.ndarray,
    positions_bohr: np.ndarray,
    s6: float = WB97X_D_S6,
    damping_a: float = CHG_DAMPING_A,
) -> np.ndarray:
    """Analytic gradient [N, 3] (Hartree/Bohr) of :func:`chg_dispersion_energy_hartree`.

    Per pair, with x = (R / R_r)^-12 and f = 1 / (1 + a x):
    dE/dR = s6 · C6 / R^7 · f · (6 − 12 a x f).
    """
    z = np.asarray(atomic_numbers, dtype=int)
    positions = np.asarray(positions_bohr, dtype=float)
    pairs = chg_pair_energies_hartree(z, positions, s6, damping_a)  # validates the input
    c6, r0 = d2_parameters_atomic_units(z)
    delta = positions[:, None, :] - positions[None, :, :]
    off_diagonal = ~np.eye(z.size, dtype=bool)
    r = np.where(off_diagonal, np.linalg.norm(delta, axis=-1), 1.0)
    x = (r / (r0[:, None] + r0[None, :])) ** -12
    damping = 1.0 / (1.0 + damping_a * x)
    # pairs = −s6 C6 f / R^6, so dE/dR = pairs · (−6 + 12 a x f) / R
    d_energy_d_r = np.where(off_diagonal, pairs * (-6.0 + 12.0 * damping_a * x * damping) / r,
                            0.0)
    return np.sum((d_energy_d_r / r)[:, :, None] * delta, axis=1)
