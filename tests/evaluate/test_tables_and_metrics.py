"""Table 1 and the benchmark metrics from prediction tables (no external programs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from virialff.evaluate.base_pairs_table import build_table01, table01_markdown
from virialff.evaluate.interactions import PREDICTION_COLUMNS, unavailable_table
from virialff.evaluate.metrics import error_stats
from virialff.evaluate.runs import combine_interactions, methods_metrics, smallest_systems
from virialff.evaluate.systems import System


def _system(system_id: str, n_a: int, reference: float) -> System:
    symbols = ["H"] * (2 * n_a)
    positions = np.arange(6 * n_a, dtype=float).reshape(-1, 3)
    return System(system_id, system_id, symbols, positions, [n_a, n_a],
                  reference_kcal_mol=reference)


def _table(method: str, values: dict[str, float]) -> pd.DataFrame:
    rows = [{"system_id": k, "method": method, "available": True, "reason": "", "status": "ok",
             "message": "", "e_complex_kcal_mol": -v, "e_monomer_a_kcal_mol": 0.0,
             "e_monomer_b_kcal_mol": 0.0, "interaction_energy_kcal_mol": v, "wall_s": 0.0}
            for k, v in values.items()]
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))


def test_error_stats():
    stats = error_stats([1.0, 3.0, np.nan], [2.0, 1.0, 5.0])
    assert stats["n"] == 2
    assert stats["mae_kcal_mol"] == pytest.approx(1.5)
    assert stats["rmse_kcal_mol"] == pytest.approx(np.sqrt(2.5))
    assert stats["mean_error_kcal_mol"] == pytest.approx(0.5)


def test_smallest_systems():
    systems = [_system("b", 3, 1.0), _system("a", 3, 1.0), _system("c", 1, 1.0)]
    assert [s.system_id for s in smallest_systems(systems, 2)] == ["c", "a"]


def test_base_pair_metrics_and_table(tmp_path):
    systems = [_system("A-T", 2, 12.4), _system("G-C", 3, 25.4)]
    paths = {}
    _table("virialff", {"A-T": 14.0, "G-C": 30.0}).to_csv(tmp_path / "v.csv", index=False)
    _table("gfn2_xtb", {"A-T": 16.1, "G-C": 29.2}).to_csv(tmp_path / "x.csv", index=False)
    _table("mmff94", {"A-T": 11.7, "G-C": np.nan}).to_csv(tmp_path / "m.csv", index=False)
    _table("gaff2", {"A-T": 12.9, "G-C": 24.1}).to_csv(tmp_path / "g.csv", index=False)
    unavailable_table("ani1x", ["A-T", "G-C"], "TorchANI is not installed").to_csv(
        tmp_path / "a.csv", index=False)
    paths = {"virialff": tmp_path / "v.csv", "gfn2_xtb": tmp_path / "x.csv",
             "ani1x": tmp_path / "a.csv", "mmff94": tmp_path / "m.csv",
             "gaff2": tmp_path / "g.csv"}  # no GB-FFs predictions: "not run"
    combined = combine_interactions(systems, paths, reference_column="reference")
    methods = methods_metrics(combined, paths, "reference")
    assert methods["virialff"]["n"] == 2
    assert methods["virialff"]["mae_kcal_mol"] == pytest.approx((1.6 + 4.6) / 2)
    assert methods["ani1x"]["available"] is False and methods["ani1x"]["n"] == 0
    assert methods["mmff94"]["n"] == 1 and methods["mmff94"]["n_failed"] == 1
    metrics = {"run_name": "t", "data_scale": "demo", "methods": methods}
    table = build_table01(combined, metrics)
    assert list(table.columns) == ["pair", "reference", "virialff", "ani1x", "gfn2_xtb",
                                   "mmff94", "gaff2", "gbffs"]
    assert table.loc[0].tolist() == ["A–T", "12.4", "14.00", "not available", "16.10", "11.70",
                                     "12.90", "not available"]
    assert table.loc[1, "mmff94"] == "failed"
    markdown = table01_markdown(table, metrics, {"citation": "Y. Mo, J. Mol. Model. 12, 665 "
                                                             "(2006)"})
    assert "not available: TorchANI is not installed" in markdown
    assert "| Pair | Reference [a] | this model | ANI-1x | GFN2-xTB | MMFF94 | GAFF2/AM1-BCC | " \
           "GB-FFs |" in markdown
    assert "GB-FFs: not available: not run" in markdown
    assert "J. Mol. Model. 12, 665 (2006)" in markdown
