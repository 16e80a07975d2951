"""A method that cannot run degrades cleanly: "not available: <reason>", the rest goes on."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from virialff.config import default_config
from virialff.evaluate.baselines import make_baseline
from virialff.evaluate.baselines.ani import ANI
from virialff.evaluate.interactions import interaction_table, method_status
from virialff.evaluate.metrics import method_entry, write_metrics
from virialff.evaluate.systems import read_xyz_system
from virialff.qc.xtb import xtb_settings_from_config

XTB = xtb_settings_from_config(default_config()["geometry"])

REPO = Path(__file__).resolve().parents[2]
WATER_DIMER = REPO / "data" / "benchmarks" / "s66" / "geometries" / "S66-01.xyz"


def test_missing_xtb_executable_is_reported():

    baseline = make_baseline("gfn2_xtb",
                             xtb_settings=replace(XTB, executable="/nonexistent/bin/xtb"))
    ok, reason = baseline.available()
    assert not ok and "not found" in reason
    table = interaction_table(baseline, [read_xyz_system(WATER_DIMER)])
    assert not table["available"].iloc[0]
    assert table["message"].iloc[0].startswith("not available:")
    assert np.isnan(table["interaction_energy_kcal_mol"].iloc[0])


def test_ani_reports_why_when_it_cannot_run(monkeypatch):
    from virialff.evaluate.baselines import ani as ani_module

    monkeypatch.setattr(ani_module, "resource_dir", lambda: None)  # torchani not installed
    ok, reason = ANI(model="ANI1x").available()
    assert not ok and "TorchANI is not installed" in reason


def test_missing_model_file_is_reported(tmp_path):
    baseline = make_baseline("virialff", model_path=tmp_path / "total.pt")
    ok, reason = baseline.available()
    assert not ok and "not found" in reason


def test_metrics_and_figure_with_an_unavailable_method(tmp_path, monkeypatch):
    from virialff.evaluate.baselines import ani as ani_module
    from virialff.plots.evaluation import draw_s66_methods

    monkeypatch.setattr(ani_module, "resource_dir", lambda: None)  # torchani not installed
    dimer = read_xyz_system(WATER_DIMER, reference_kcal_mol=4.918)
    mmff = interaction_table(make_baseline("mmff94"), [dimer])
    ani = interaction_table(ANI(model="ANI1x"), [dimer])
    available, reason = method_status(ani)
    assert not available and reason.startswith("TorchANI is not installed")
    combined = pd.DataFrame({"system_id": ["S66-01"], "ccsdt_cbs": [4.918], "dft": [5.37],
                             "virialff": [4.0], "gfn2_xtb": [np.nan], "ani1x": [np.nan],
                             "mmff94": mmff["interaction_energy_kcal_mol"].to_numpy()})
    methods = {
        "virialff": method_entry(True, "", combined["virialff"], combined["dft"]),
        "gfn2_xtb": method_entry(False, "xtb executable 'xtb' not found"),
        "ani1x": method_entry(False, "TorchANI is not installed"),
        "mmff94": method_entry(True, "", combined["mmff94"], combined["dft"]),
    }
    methods["dft"] = method_entry(True, "", combined["dft"], combined["ccsdt_cbs"])
    payload = write_metrics(tmp_path / "s66.json", run_name="t", data_scale="demo",
                            benchmark="s66", methods=methods, dft_max_dimers=1)
    on_disk = json.loads((tmp_path / "s66.json").read_text())
    assert on_disk == payload
    assert on_disk["methods"]["ani1x"] == {
        "available": False, "reason": "TorchANI is not installed", "n": 0,
        "mae_kcal_mol": None, "rmse_kcal_mol": None, "max_abs_error_kcal_mol": None,
        "mean_error_kcal_mol": None}
    assert on_disk["n"] == 1 and on_disk["mae_kcal_mol"] == np.float64(1.37).item()
    fig = draw_s66_methods(combined, on_disk)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("not available" in t and "TorchANI" in t for t in texts)
    assert any("not available" in t and "xtb" in t for t in texts)
