"""RDKit molecules from coordinates: bond perception, conformer replacement, complexes.

Positions are in Å everywhere; atom order is always the input order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def mol_from_positions(symbols: Sequence[str], positions_angstrom: Any, charge: int = 0,
                       bond_orders: bool = True):  # noqa: ANN201 - rdkit Mol
    """RDKit Mol (explicit H, one conformer) with bonds perceived from the geometry.

    ``bond_orders``: ``rdDetermineBonds.DetermineBonds`` (connectivity and bond orders, for
    the net ``charge``; the Mol is sanitised) or only ``DetermineConnectivity`` (covalent
    radii; single bonds, not sanitised). Raises ``ValueError`` when RDKit cannot read the
    structure or assign bond orders.
    """
    import numpy as np
    from rdkit import Chem
    from rdkit.Chem import rdDetermineBonds
    from rdkit.Geometry import Point3D

    positions = np.asarray(positions_angstrom, dtype=float)
    if positions.shape != (len(symbols), 3):
        raise ValueError(f"positions shape {positions.shape} does not match {len(symbols)} atoms")
    editable = Chem.RWMol()
    try:
        for symbol in symbols:
            editable.AddAtom(Chem.Atom(str(symbol)))
    except RuntimeError:
        raise ValueError("RDKit could not read the structure (unknown element symbol?)") from None
    conformer = Chem.Conformer(len(symbols))
    for index, (x, y, z) in enumerate(positions):
        conformer.SetAtomPosition(index, Point3D(float(x), float(y), float(z)))
    editable.AddConformer(conformer, assignId=True)
    mol = editable.GetMol()
    try:
        if bond_orders:
            rdDetermineBonds.DetermineBonds(mol, charge=int(charge))
            Chem.SanitizeMol(mol)
        else:
            rdDetermineBonds.DetermineConnectivity(mol, charge=int(charge))
    except Exception as error:  # noqa: BLE001 - RDKit raises several unrelated types here
        raise ValueError(f"bond perception failed: {error}") from None
    return mol


def with_positions(mol, positions_angstrom: Any):  # noqa: ANN001, ANN201 - rdkit Mol
    """Copy of ``mol`` whose only conformer has ``positions_angstrom`` [A, 3]."""
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    out = Chem.Mol(mol)
    out.RemoveAllConformers()
    conformer = Chem.Conformer(out.GetNumAtoms())
    for i, (x, y, z) in enumerate(np.asarray(positions_angstrom, dtype=float).reshape(-1, 3)):
        conformer.SetAtomPosition(i, Point3D(float(x), float(y), float(z)))
    conformer.Set3D(True)
    out.AddConformer(conformer, assignId=True)
    return out


def combine_mols(mols: Sequence[Any]):  # noqa: ANN201 - rdkit Mol
    """One Mol of several fragments (atom order = fragment order), keeping conformers."""
    from rdkit import Chem

    out = mols[0]
    for mol in mols[1:]:
        out = Chem.CombineMols(out, mol)
    out = Chem.Mol(out)
    Chem.SanitizeMol(out)  # CombineMols leaves ring information uninitialised
    return out
