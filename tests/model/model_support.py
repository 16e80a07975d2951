"""Helpers for the model tests: RDKit molecules with one conformer."""

from __future__ import annotations

from rdkit import Chem
from rdkit.Chem import AllChem


def embedded(smiles: str, seed: int = 11, name: str | None = None) -> Chem.Mol:
    """RDKit molecule with explicit hydrogens and one ETKDG conformer."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    assert AllChem.EmbedMolecule(mol, params) == 0
    mol.SetProp("_Name", name or smiles)
    return mol
