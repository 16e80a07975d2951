"""The bundled demo set: ≥ 60 real, small, neutral closed-shell molecules of the paper's
nine elements, each of F, S, Cl, Br and P in several molecules."""

from __future__ import annotations

import csv
import re
from collections import Counter

import pytest
from data_support import BAD_CSV, DEMO_CSV
from rdkit import Chem

from virialff.chem.elements import SUPPORTED_ELEMENTS


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with open(DEMO_CSV, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def mols(rows) -> list:  # noqa: ANN001
    return [Chem.MolFromSmiles(r["smiles"]) for r in rows]


def test_columns_are_name_smiles_chembl_id():
    with open(DEMO_CSV, newline="") as handle:
        assert next(csv.reader(handle)) == ["name", "smiles", "chembl_id"]


def test_at_least_sixty_molecules_with_unique_names_and_smiles(rows, mols):
    assert len(rows) >= 60
    assert len({r["name"] for r in rows}) == len(rows)
    assert len({Chem.MolToSmiles(m) for m in mols}) == len(rows)


def test_every_smiles_parses(rows, mols):
    assert [r["name"] for r, m in zip(rows, mols, strict=True) if m is None] == []


def test_at_most_nine_heavy_atoms_and_mostly_three_to_seven(mols):
    heavy = [m.GetNumHeavyAtoms() for m in mols]
    assert max(heavy) <= 9
    assert sum(3 <= n <= 7 for n in heavy) >= 0.6 * len(heavy)


def test_neutral_closed_shell_single_molecules(rows, mols):
    for row, mol in zip(rows, mols, strict=True):
        assert Chem.GetFormalCharge(mol) == 0, row["name"]
        assert len(Chem.GetMolFrags(mol)) == 1, row["name"]
        with_h = Chem.AddHs(mol)
        assert sum(a.GetNumRadicalElectrons() for a in with_h.GetAtoms()) == 0, row["name"]
        assert sum(a.GetAtomicNum() for a in with_h.GetAtoms()) % 2 == 0, row["name"]


def test_all_nine_elements_and_several_molecules_with_each_heteroelement(mols):
    per_molecule = [{a.GetSymbol() for a in Chem.AddHs(m).GetAtoms()} for m in mols]
    assert set().union(*per_molecule) == set(SUPPORTED_ELEMENTS)
    counts = Counter(e for elements in per_molecule for e in elements)
    for element in ("F", "S", "Cl", "Br", "P"):
        assert counts[element] >= 5, element


def test_chembl_ids_are_well_formed_or_empty(rows):
    ids = [r["chembl_id"] for r in rows if r["chembl_id"]]
    assert ids, "some demo molecules come from ChEMBL with their id"
    assert all(re.fullmatch(r"CHEMBL\d+", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_bad_molecules_are_kept_out_of_the_demo_set(rows):
    with open(BAD_CSV, newline="") as handle:
        bad = list(csv.DictReader(handle))
    assert {"bad_smiles", "unsupported_element", "charged", "open_shell"} <= {
        b["expected_reason"] for b in bad
    }
    assert not {b["smiles"] for b in bad} & {r["smiles"] for r in rows}
