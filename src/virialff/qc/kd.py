"""The K·D layer: the partition of the kinetic energy, its tolerances and the one acceptance
check of a density. A leaf of :mod:`virialff.qc`: every engine (the Psi4 worker's results,
PySCF, stored Psi4 wavefunctions) reports its matrices and residuals and is judged here.

For the converged density D = Dα + Dβ and the AO kinetic-energy matrix K (paper section 2)::

    KD_atom[i]    = Σ_{μ,ν ∈ i} K_μν D_μν
    KD_pair[i,j]  = Σ_{μ∈i, ν∈j} K_μν D_μν + Σ_{μ∈j, ν∈i} K_μν D_μν      (i < j)
    T = Tr(D K)   = Σ_i KD_atom[i] + Σ_{i<j} KD_pair[i,j]

The Psi4 worker (:mod:`virialff.qc._psi4_worker`) runs inside Psi4's own interpreter and
cannot import this module; it computes the same partition and reports the residuals, which
:func:`density_failure` then checks like any engine's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from virialff.formats.descriptors_npz import SUM_RULE_TOLERANCE_HARTREE

__all__ = [
    "ELECTRON_COUNT_TOLERANCE",
    "GEOMETRY_TOLERANCE_ANGSTROM",
    "ONE_ELECTRON_REFERENCE_D_CONVERGENCE",
    "ONE_ELECTRON_RELATIVE_TOLERANCE",
    "ONE_ELECTRON_TOLERANCE_HARTREE",
    "SUM_RULE_TOLERANCE_HARTREE",
    "density_failure",
    "kd_partition",
    "one_electron_tolerance_hartree",
]

#: An engine's read-back geometry must equal the input to this (Å): no reorientation, no
#: reordering.
GEOMETRY_TOLERANCE_ANGSTROM = 1e-6
#: |Tr(D (K + V)) − the SCF's one-electron energy| above this (Hartree) means D and K do not
#: live in the same basis, or D is not the converged density (seen: 1.3e-7 Eh for water at
#: d_convergence 1e-8; a basis mismatch gives errors of order 1 Eh).
ONE_ELECTRON_TOLERANCE_HARTREE = 1e-5
#: ... or this fraction of |ONE-ELECTRON ENERGY| when larger: Psi4 reports the one-electron
#: energy of the last SCF iteration's density, so the residual is first order in the final
#: density change times the core Hamiltonian, which grows with the nuclear charges (seen:
#: 1.2e-5 Eh for halothane, CF3CHClBr, whose one-electron energy is thousands of Eh).
ONE_ELECTRON_RELATIVE_TOLERANCE = 1e-8
#: ... both at this SCF d_convergence; a looser d_convergence loosens them in proportion (seen:
#: 1.4e-5 to 9.7e-5 Eh for water, methane and ethanol at d_convergence 1e-6).
ONE_ELECTRON_REFERENCE_D_CONVERGENCE = 1e-8
#: |Tr(D S) − N_electrons| above this rejects the density.
ELECTRON_COUNT_TOLERANCE = 1e-6


def kd_partition(
    kinetic: np.ndarray, density: np.ndarray, function_to_atom: Sequence[int], n_atoms: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Partition Tr(D K) over atoms and atom pairs.

    ``kinetic``, ``density``: [nbf, nbf] symmetric AO matrices (Hartree; D = Dα + Dβ);
    ``function_to_atom``: [nbf] atom index of each basis function. Returns ``kd_atom`` [A],
    ``kd_pair`` [A(A-1)/2] in ``numpy.triu_indices(A, 1)`` order (both orders summed) and T.
    """
    centre = np.asarray(function_to_atom, dtype=int)
    onehot = np.zeros((centre.size, n_atoms))
    onehot[np.arange(centre.size), centre] = 1.0
    block = onehot.T @ (np.asarray(kinetic) * np.asarray(density)) @ onehot
    first, second = np.triu_indices(n_atoms, 1)
    return np.diag(block).copy(), block[first, second] + block[second, first], float(
        np.sum(np.asarray(kinetic) * np.asarray(density))
    )


def one_electron_tolerance_hartree(one_electron_energy_hartree: float | None,
                                   d_convergence: float = ONE_ELECTRON_REFERENCE_D_CONVERGENCE
                                   ) -> float:
    """Largest accepted |Tr(D (K + V)) − ONE-ELECTRON ENERGY| (Eh) for a molecule whose SCF
    one-electron energy is ``one_electron_energy_hartree`` (None: the absolute floor),
    converged to ``d_convergence`` (the SCF's density convergence; tighter than the reference
    value does not tighten the check)."""
    looser = max(1.0, float(d_convergence) / ONE_ELECTRON_REFERENCE_D_CONVERGENCE)
    if one_electron_energy_hartree is None or not math.isfinite(one_electron_energy_hartree):
        return ONE_ELECTRON_TOLERANCE_HARTREE * looser
    return looser * max(ONE_ELECTRON_TOLERANCE_HARTREE,
                        ONE_ELECTRON_RELATIVE_TOLERANCE * abs(one_electron_energy_hartree))


def density_failure(
    kinetic_hartree: float | None,
    kd_atom_hartree: np.ndarray | None,
    kd_pair_hartree: np.ndarray | None,
    n_electrons_from_density: float | None,
    n_electrons: int,
    one_electron_residual_hartree: float | None,
    one_electron_tolerance: float | None,
) -> tuple[str, str]:
    """The one acceptance check of a K·D result: ``("", "")`` when it passes, else
    ``(kind, message)`` with kind ``nan_value`` (a non-finite T or K·D) or ``inconsistent``
    (the engine maps it to its own rejection reason) and a one-line message.

    Checks, in order: T and K·D are present and finite; Σ KD_atom + Σ KD_pair = T to
    :data:`SUM_RULE_TOLERANCE_HARTREE`; Tr(D S) = N_electrons to
    :data:`ELECTRON_COUNT_TOLERANCE`; and, unless ``one_electron_tolerance`` is None,
    |Tr(D (K + V)) − the SCF's one-electron energy| ≤ ``one_electron_tolerance``
    (:func:`one_electron_tolerance_hartree`): D is the converged density in K's basis.
    """
    if kinetic_hartree is None or kd_atom_hartree is None or kd_pair_hartree is None:
        return "inconsistent", "no K·D descriptors"
    kd_atom, kd_pair = np.asarray(kd_atom_hartree), np.asarray(kd_pair_hartree)
    if not (math.isfinite(kinetic_hartree) and np.all(np.isfinite(kd_atom))
            and np.all(np.isfinite(kd_pair))):
        return "nan_value", "non-finite kinetic energy or K·D descriptor"
    residual = float(kd_atom.sum() + kd_pair.sum() - kinetic_hartree)
    if not abs(residual) <= SUM_RULE_TOLERANCE_HARTREE:
        return "inconsistent", (f"sum rule broken: Σ KD_atom + Σ KD_pair − T = {residual:.3e} Eh "
                                f"(tolerance {SUM_RULE_TOLERANCE_HARTREE:g} Eh)")
    if n_electrons_from_density is None or not (
            abs(n_electrons_from_density - n_electrons) <= ELECTRON_COUNT_TOLERANCE):
        return "inconsistent", (f"Tr(D S) = {n_electrons_from_density} electrons, expected "
                                f"{n_electrons}: D is not the density in K's AO basis")
    if one_electron_tolerance is not None and (
            one_electron_residual_hartree is None
            or not abs(one_electron_residual_hartree) <= one_electron_tolerance):
        return "inconsistent", (f"Tr(D (K + V)) − the SCF's one-electron energy = "
                                f"{one_electron_residual_hartree} Eh (tolerance "
                                f"{one_electron_tolerance:.3g} Eh): not the converged density")
    return "", ""
