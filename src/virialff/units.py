"""Physical constants and unit conversions.

Hartree and Bohr are used only inside the quantum-chemistry layer (:mod:`virialff.qc`);
everything else in virialff works in kcal/mol, Å and elementary charges (e).
"""

from __future__ import annotations

#: kcal/mol per Hartree (CODATA 2018, as used by Psi4 ``psi_hartree2kcalmol``).
HARTREE_TO_KCAL_MOL: float = 627.5094740631
#: Å per Bohr (CODATA 2018).
BOHR_TO_ANGSTROM: float = 0.529177210903
ANGSTROM_TO_BOHR: float = 1.0 / BOHR_TO_ANGSTROM
#: Coulomb constant in kcal·Å/(mol·e²): E = COULOMB_KCAL_MOL_ANGSTROM · q_i q_j / r.
COULOMB_KCAL_MOL_ANGSTROM: float = 332.0637


def hartree_to_kcal_mol(value):  # noqa: ANN001, ANN201 - works on floats and arrays alike
    """Convert an energy from Hartree to kcal/mol."""
    return value * HARTREE_TO_KCAL_MOL


def kcal_mol_to_hartree(value):  # noqa: ANN001, ANN201
    """Convert an energy from kcal/mol to Hartree."""
    return value / HARTREE_TO_KCAL_MOL
