"""A bond type the featuriser has no feature for is refused, never read as a single bond."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import AllChem

from virialff.chem.graph import BOND_TYPES, graph_from_rdkit
from virialff.errors import MoleculeRejected


def _embedded(mol: Chem.Mol) -> Chem.Mol:
    mol = Chem.AddHs(mol)
    assert AllChem.EmbedMolecule(mol, randomSeed=7) == 0
    return mol


def test_dative_bond_is_refused_with_the_bond_named():
    # trimethylamine N-oxide written with a dative N->O bond
    mol = _embedded(Chem.MolFromSmiles("CN(C)(C)->[O]"))
    with pytest.raises(MoleculeRejected) as caught:
        graph_from_rdkit(mol, "tmao_dative")
    error = caught.value
    assert error.reason == "unsupported_bond"
    assert "DATIVE" in error.detail and "N-O" in error.detail
    assert str(error).startswith("molecule tmao_dative")


def test_quadruple_bond_is_refused():
    mol = Chem.RWMol(_embedded(Chem.MolFromSmiles("CC")))
    mol.GetBondBetweenAtoms(0, 1).SetBondType(Chem.BondType.QUADRUPLE)
    with pytest.raises(MoleculeRejected, match="QUADRUPLE") as caught:
        graph_from_rdkit(mol.GetMol(), "c2_quadruple")
    assert caught.value.reason == "unsupported_bond"


def test_known_bond_types_keep_their_own_feature():
    mol = _embedded(Chem.MolFromSmiles("N#CC=Cc1ccccc1"))  # cinnamonitrile
    graph = graph_from_rdkit(mol, "cinnamonitrile")
    kinds = {BOND_TYPES[k] for k in graph.bond_type}
    assert kinds == {"SINGLE", "DOUBLE", "TRIPLE", "AROMATIC"}
