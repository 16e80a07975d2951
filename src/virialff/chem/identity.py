"""Molecule identity: one stereo-insensitive canonical key for deduplication.

Two records are the same molecule when their keys are equal. The key is RDKit's canonical
SMILES of the heavy-atom graph with stereochemistry and isotopes removed, so enantiomers,
cis/trans isomers and differently written SMILES of one compound share a key, while tautomers
(different hydrogen positions, hence different covalent graphs and different DFT energies)
do not. Used to merge duplicates before splitting, and to keep benchmark molecules out of
training.
"""

from __future__ import annotations

from typing import Any


def canonical_key(molecule: Any) -> str:
    """Stereo-insensitive canonical key of an RDKit ``Mol`` or a SMILES string.

    Raises ``ValueError`` when a SMILES string cannot be parsed.
    """
    from rdkit import Chem, RDLogger

    if isinstance(molecule, str):
        RDLogger.DisableLog("rdApp.*")
        try:
            mol = Chem.MolFromSmiles(molecule)
        finally:
            RDLogger.EnableLog("rdApp.*")
        if mol is None:
            raise ValueError(f"RDKit cannot parse SMILES {molecule!r}")
    else:
        mol = Chem.Mol(molecule)
    mol = Chem.RemoveHs(mol, sanitize=False)
    Chem.RemoveStereochemistry(mol)
    for atom in mol.GetAtoms():
        atom.SetIsotope(0)
    return Chem.MolToSmiles(mol, isomericSmiles=False, canonical=True)
