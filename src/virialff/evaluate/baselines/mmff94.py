"""MMFF94 (RDKit) energies, including every interaction between fragments of a complex.

RDKit's ``MMFFGetMoleculeForceField`` leaves out all interactions between fragments unless
``ignoreInterfragInteractions=False`` is passed: with the default every dimer interaction
energy would silently be zero. This module always passes it.
"""

from __future__ import annotations

import numpy as np

from virialff.evaluate.baselines.base import Baseline

KEY = "mmff94"


class MMFF94(Baseline):
    """MMFF94 total energies (kcal/mol) via RDKit.

    Args:
        variant: ``"MMFF94"`` or ``"MMFF94s"``.
        nonbonded_threshold_angstrom: RDKit's non-bonded cut-off (large: no cut-off).
    """

    key = KEY

    def __init__(self, variant: str = "MMFF94", nonbonded_threshold_angstrom: float = 1000.0):
        super().__init__()
        self.variant = variant
        self.nonbonded_threshold_angstrom = nonbonded_threshold_angstrom

    def available(self) -> tuple[bool, str]:
        try:
            from rdkit.Chem import rdForceFieldHelpers  # noqa: F401
        except ImportError as error:
            return False, f"RDKit not importable ({error})"
        return True, ""

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        from rdkit import Chem
        from rdkit.Chem import rdForceFieldHelpers

        mol = Chem.Mol(mol)
        props = rdForceFieldHelpers.MMFFGetMoleculeProperties(mol, mmffVariant=self.variant)
        if props is None:
            raise ValueError("MMFF94 has no parameters for an atom type in this molecule")
        field = rdForceFieldHelpers.MMFFGetMoleculeForceField(
            mol, props, nonBondedThresh=float(self.nonbonded_threshold_angstrom),
            ignoreInterfragInteractions=False,
        )
        if field is None:
            raise ValueError("RDKit could not set up the MMFF94 force field")
        return float(field.CalcEnergy())


_DEFAULT = MMFF94()


def available() -> tuple[bool, str]:
    """Whether RDKit's MMFF94 can run (always, where RDKit imports)."""
    return _DEFAULT.available()


def energies(mols: list) -> np.ndarray:
    """[M] MMFF94 total energies in kcal/mol (NaN where MMFF94 has no parameters)."""
    return _DEFAULT.energies(mols)
