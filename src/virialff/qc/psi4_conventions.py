"""Psi4 1.3.2's conventions that another program must follow to reproduce its numbers: the
Bohr radius it converts geometries with, its DFT grid (radii, radial map, orientation) and its
order of spherical-harmonic AOs. Used by the PySCF engine and by the reader of stored Psi4
wavefunctions (:mod:`virialff.qc.pyscf_engine`, :mod:`virialff.qc.wavefunction`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from virialff.qc.dispersion import GRIMME_D2_C6_R0

#: Psi4 1.3.2's Bohr radius in Å (CODATA 2014); Psi4 converts Å input with it.
PSI4_BOHR_ANGSTROM = 0.52917721067
#: Psi4 1.3.2 grid radius for elements beyond its table (Z > 54).
PSI4_DEFAULT_GRID_RADIUS = 1.881


def psi4_grid_radius(atomic_number: int) -> float:
    """Psi4 1.3.2's per-element radius (dimensionless ξ of the radial map, and the Becke size
    adjustment radius): the D2 R0 value for H..Xe, 1.881 beyond."""
    entry = GRIMME_D2_C6_R0.get(int(atomic_number))
    return entry[1] if entry is not None else PSI4_DEFAULT_GRID_RADIUS


def psi4_grid_radii_table(max_atomic_number: int = 118) -> np.ndarray:
    """[max_atomic_number + 1] radii indexed by Z (index 0 unused), for PySCF's
    ``Grids.atomic_radii``."""
    return np.array([1.0] + [psi4_grid_radius(z) for z in range(1, max_atomic_number + 1)])


def treutler_m4_radial_grid(
    n_points: int, atomic_number: int, *_args: Any, **_kwargs: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Treutler–Ahlrichs M4 radial grid (α = 0.6) scaled by :func:`psi4_grid_radius`.

    r(x) = ξ/ln 2 · (1 + x)^0.6 · ln(2 / (1 − x)) on the Chebyshev (second kind) nodes
    x_i = cos(iπ/(n+1)), i = 1..n; ``dr`` [n] is the quadrature weight of ∫ f(r) dr. Returns
    ``(r, dr)`` in Bohr, r ascending. The signature is PySCF's ``Grids.radi_method``.
    """
    xi = psi4_grid_radius(atomic_number)
    index = np.arange(1, n_points + 1)
    theta = index * np.pi / (n_points + 1)
    x = np.cos(theta)
    scale = xi / math.log(2.0)
    log_term = np.log(2.0 / (1.0 - x))
    r = scale * (1.0 + x) ** 0.6 * log_term
    dr_dx = scale * (1.0 + x) ** 0.6 * (0.6 / (1.0 + x) * log_term + 1.0 / (1.0 - x))
    weight = np.pi / (n_points + 1) * np.sin(theta) * dr_dx
    return r[::-1].copy(), weight[::-1].copy()


def psi4_standard_orientation(
    atomic_numbers: Sequence[int], positions_bohr: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(oriented, axes, centre)``: positions [N, 3] (Bohr) in the frame Psi4 orients its
    atomic grids in, the frame's axes [3, 3] (columns) and origin [3] (Bohr), so that
    ``positions_bohr = oriented @ axes.T + centre``.

    The frame: origin at the centre of nuclear charge, axes along the eigenvectors of
    Σ_A Z_A (r_A − c)(r_A − c)^T. A Lebedev grid is symmetric under axis permutations and
    sign changes, so neither the eigenvector order nor their signs matter.
    """
    z = np.asarray(atomic_numbers, dtype=float)
    positions = np.asarray(positions_bohr, dtype=float)
    centre = (z[:, None] * positions).sum(axis=0) / z.sum()
    shifted = positions - centre
    moment = np.einsum("a,ai,aj->ij", z, shifted, shifted)
    _, axes = np.linalg.eigh(moment)
    return shifted @ axes, axes, centre


def psi4_ao_order(mol) -> np.ndarray:  # noqa: ANN001 - pyscf Mole
    """[nao] index array: AO k of Psi4's order is AO ``order[k]`` of PySCF's order, so a Psi4
    matrix equals ``pyscf_matrix[np.ix_(order, order)]``.

    Both programs list atoms, then shells in basis-file order. Within a spherical shell Psi4
    orders m = 0, +1, −1, +2, −2, ... (p: z, x, y); PySCF orders m = −l..+l (p: x, y, z).
    Both use unit-normalised real solid harmonics with the same signs (checked against
    Psi4's overlap matrix in ``tests/qc/test_wavefunction.py``). Cartesian shells are refused.
    """
    if mol.cart:
        raise ValueError("only spherical-harmonic (puream) basis sets are supported")
    order: list[int] = []
    ao_loc = mol.ao_loc_nr()
    for shell in range(mol.nbas):
        angular = int(mol.bas_angular(shell))
        start = int(ao_loc[shell])
        if angular == 1:
            within = [2, 0, 1]
        else:
            within = [angular]
            for m in range(1, angular + 1):
                within += [angular + m, angular - m]
        width = 2 * angular + 1
        for contraction in range(int(mol.bas_nctr(shell))):
            base = start + contraction * width
            order += [base + k for k in within]
    return np.asarray(order, dtype=int)


