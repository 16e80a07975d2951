"""The bundled S66 / base-pair files are exactly what scripts/extract_reference_sets.py makes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
DATABASES = Path("/usr/share/psi4/databases")
BUNDLED = REPO / "data" / "benchmarks"


def _load_script():
    spec = importlib.util.spec_from_file_location(
        "extract_reference_sets", REPO / "scripts" / "extract_reference_sets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not (DATABASES / "S66.py").exists(), reason="no Psi4 database modules")
def test_extraction_reproduces_bundled_files(tmp_path):
    script = _load_script()
    assert script.main(["--databases", str(DATABASES), "--out", str(tmp_path)]) == 0
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert len(generated) == 66 + 1 + 2 + 1
    for rel in generated:
        assert (BUNDLED / rel).read_text() == (tmp_path / rel).read_text(), rel


def test_bundled_s66_contents_and_sign():
    table = pd.read_csv(BUNDLED / "s66" / "s66.csv")
    assert len(table) == 66 and table["system_id"].is_unique
    # E_int = E_A + E_B - E_AB > 0 for every S66 dimer; the Psi4 module's BIND is its negative.
    assert (table["interaction_energy_kcal_mol"] > 0).all()
    assert (table["interaction_energy_kcal_mol"] == -table["psi4_bind_kcal_mol"]).all()
    water = table.set_index("system_id").loc["S66-01"]
    assert water["name"] == "Water Dimer" and water["interaction_energy_kcal_mol"] == 4.918
    assert table["interaction_energy_kcal_mol"].max() == pytest.approx(19.491)
    assert table["interaction_energy_kcal_mol"].mean() == pytest.approx(5.467, abs=1e-3)


def test_bundled_base_pairs_are_watson_crick():
    from virialff.evaluate.systems import read_xyz_system, system_mols

    table = pd.read_csv(BUNDLED / "base_pairs" / "base_pairs.csv").set_index("system_id")
    assert list(table.index) == ["A-T", "G-C"]
    assert table.loc["A-T", "source_system"] == "JSCH-3"
    assert table.loc["G-C", "source_system"] == "JSCH-1"
    from rdkit import Chem

    smiles = {}
    for key in ("A-T", "G-C"):
        mols = system_mols(read_xyz_system(BUNDLED / "base_pairs" / f"{key}.xyz"))
        smiles[key] = sorted(Chem.MolToSmiles(Chem.RemoveHs(m)) for m in mols.monomers)
    adenine = Chem.CanonSmiles("Nc1ncnc2[nH]cnc12")
    thymine = Chem.CanonSmiles("Cc1c[nH]c(=O)[nH]c1=O")
    guanine = Chem.CanonSmiles("Nc1nc2[nH]cnc2c(=O)[nH]1")
    cytosine = Chem.CanonSmiles("Nc1cc[nH]c(=O)n1")
    assert smiles["A-T"] == sorted([adenine, thymine])
    assert smiles["G-C"] == sorted([guanine, cytosine])


def test_reference_yaml_is_cited():
    import yaml

    refs = yaml.safe_load((REPO / "data" / "references" / "mo2006_base_pairs.yaml").read_text())
    assert "J. Mol. Model. 12, 665 (2006)" in refs["citation"]
    assert set(refs["base_pairs"]) == {"A-T", "G-C"}
    assert all(v["interaction_energy_kcal_mol"] > 0 for v in refs["base_pairs"].values())
