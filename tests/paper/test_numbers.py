"""Number formatting, provenance records and table parsing of virialff.paper."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from virialff.paper.numbers import MissingValueError, Quoter, format_number
from virialff.paper.published import load_published
from virialff.paper.tables import base_pair_values, decimals, normalise_method, normalise_pair


def test_format_number() -> None:
    assert format_number(304331) == "304,331"
    assert format_number(2.2, 1) == "2.2"
    assert format_number(3.14159) == "3.14"
    for bad in (None, float("nan"), float("inf"), "x", True):
        with pytest.raises(MissingValueError):
            format_number(bad)


def test_quoter_records_and_never_prints_nan(tmp_path: Path) -> None:
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "total.json").write_text(json.dumps(
        {"n": 5, "mae_kcal_mol": 1.234, "rmse_kcal_mol": None}))
    q = Quoter(root=tmp_path, results=tmp_path)
    assert q.q("results/metrics/total.json", "mae_kcal_mol") == "1.23"
    assert q.q("results/metrics/total.json", "n") == "5"
    assert q.q("results/metrics/total.json", "rmse_kcal_mol").startswith("not available: ")
    assert q.q("results/metrics/s66.json", "n") == "not available: s66.json was not produced"
    assert [r["text"] for r in q.as_rows()] == ["1.23", "5"]


def test_published_numbers() -> None:
    pub = load_published()
    assert pub["citation"]["doi"] == "10.15407/ujpe71.7.573"
    assert pub["test_mae_kcal_mol"] == {"total": 2.2, "kinetic": 6.1}
    assert pub["s66"]["rmse_kcal_mol"] == 1.7 and pub["conformers"]["rmse_kcal_mol"] == 1.4
    d = pub["dataset"]
    assert d["n_train"] + d["n_val"] + d["n_test"] == d["n_molecules"] == 304331
    assert pub["conformers"]["n_molecules"] == 117 and pub["conformers"]["n_conformers"] == 4253
    bp = pub["base_pairs_kcal_mol"]["methods"]
    assert bp["reference"] == {"A-T": 12.4, "G-C": 25.4}
    assert bp["virialff"] == {"A-T": 14.8, "G-C": 30.5}
    assert bp["ani1x"] == {"A-T": 10.7, "G-C": 17.2}
    assert bp["gfn2_xtb"] == {"A-T": 16.1, "G-C": 29.2}


def test_pair_and_method_names() -> None:
    assert normalise_pair("A–T") == normalise_pair("AT") == normalise_pair("A-T_kcal_mol") == "A-T"
    assert normalise_pair("C–G") == "G-C" and normalise_pair("pair") is None
    assert normalise_method("GFN2-xTB") == "gfn2_xtb" and normalise_method("ANI") == "ani1x"
    assert normalise_method("this model") == "virialff" and normalise_method("mmff94") == "mmff94"
    assert decimals("12.40") == 2 and decimals("7") == 0


@pytest.mark.parametrize("layout", ["pair_rows", "method_rows", "long"])
def test_base_pair_values_any_layout(layout: str) -> None:
    if layout == "pair_rows":
        table = pd.DataFrame({"pair": ["A–T", "G–C"], "reference": ["12.4", "25.4"],
                              "virialff": ["13.71", "27.94"], "ani1x": ["not available"] * 2})
    elif layout == "method_rows":
        table = pd.DataFrame({"method": ["reference", "virialff", "ani1x"],
                              "A-T": [12.4, 13.71, None], "G-C": [25.4, 27.94, None]})
    else:
        table = pd.DataFrame({"method": ["reference", "reference", "virialff", "virialff"],
                              "pair": ["A-T", "G-C", "A-T", "G-C"],
                              "value": [12.4, 25.4, 13.71, 27.94]})
    values = base_pair_values(table)
    assert values["reference"] == {"A-T": 12.4, "G-C": 25.4}
    assert values["virialff"] == {"A-T": 13.71, "G-C": 27.94}
    if "ani1x" in values:
        assert values["ani1x"] == {"A-T": None, "G-C": None}
