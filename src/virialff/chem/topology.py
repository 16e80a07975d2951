"""Covalent topology of a geometry: bonds perceived from distances, compared with a graph.

After a GFN2-xTB optimisation or MD run the atoms may no longer be bonded as the input graph
says (a proton moves from N to O in a zwitterion, a ring opens). Such a geometry belongs to
another molecule and must not be paired with the input graph. Bonds are perceived with RDKit's
``rdDetermineBonds.DetermineConnectivity`` (covalent radii; the van der Waals-type Hueckel
option off).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def perceived_bonds(symbols: Sequence[str], positions_angstrom: Any,
                    charge: int = 0) -> set[tuple[int, int]]:
    """Bonds ``(i, j)``, ``i < j``, perceived from ``positions_angstrom`` [N, 3] Å."""
    from virialff.chem.rdkit_mol import mol_from_positions

    mol = mol_from_positions(symbols, positions_angstrom, charge, bond_orders=False)
    return {tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))) for b in mol.GetBonds()}


def graph_bonds(mol) -> set[tuple[int, int]]:  # noqa: ANN001 - rdkit Mol
    """Bonds ``(i, j)``, ``i < j``, of an RDKit Mol's graph."""
    return {tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx()))) for b in mol.GetBonds()}


def topology_changes(mol, positions_angstrom: Any) -> str:  # noqa: ANN001 - rdkit Mol
    """Empty when the bonds perceived at ``positions_angstrom`` [N, 3] Å are the bonds of
    ``mol`` (explicit H); else a one-line description naming every broken and formed bond
    with its atoms and length, e.g. ``bond N1-H5 broken (1.83 Å); bond O4-H5 formed (0.99 Å)``.
    """
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    positions = np.asarray(positions_angstrom, dtype=float)
    charge = sum(a.GetFormalCharge() for a in mol.GetAtoms())
    expected = graph_bonds(mol)
    found = perceived_bonds(symbols, positions, charge)

    def describe(pair: tuple[int, int], what: str) -> str:
        i, j = pair
        length = float(np.linalg.norm(positions[i] - positions[j]))
        return f"bond {symbols[i]}{i + 1}-{symbols[j]}{j + 1} {what} ({length:.2f} Å)"

    parts = [describe(p, "broken") for p in sorted(expected - found)]
    parts += [describe(p, "formed") for p in sorted(found - expected)]
    return "; ".join(parts)
