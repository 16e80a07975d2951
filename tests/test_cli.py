"""Specification of the ``virialff predict`` command (README example on examples/ethanol.sdf)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from virialff.cli import main
from virialff.model.predictor import Predictor

REPO = Path(__file__).resolve().parents[1]
ETHANOL = REPO / "examples" / "ethanol.sdf"


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "total.pt"
    Predictor.untrained("total", seed=0).save(path)
    return path


def test_readme_example_writes_json_with_energy_forces_charges_and_pair_parameters(
    model_path, tmp_path
):
    out = tmp_path / "out.json"
    assert (
        main(["predict", "--model", str(model_path), "--input", str(ETHANOL), "--output", str(out)])
        == 0
    )
    result = json.loads(out.read_text())
    assert result["target"] == "total" and result["units"]["energy"] == "kcal/mol"
    (molecule,) = result["molecules"]
    assert molecule["name"] == "ethanol"
    assert isinstance(molecule["energy_kcal_mol"], float)
    assert len(molecule["forces_kcal_mol_angstrom"]) == 9 and len(molecule["charges_e"]) == 9
    assert len(molecule["pair_parameters"]) == 36 and len(molecule["pair_parameters"][0]) == 14
    assert sum(molecule["pair_bonded"]) == 8


def test_csv_output_has_one_row_per_atom(model_path, tmp_path):
    out = tmp_path / "out.csv"
    assert (
        main(["predict", "--model", str(model_path), "--input", str(ETHANOL), "--output", str(out)])
        == 0
    )
    table = pd.read_csv(out)
    assert len(table) == 9 and table["element"].tolist()[:3] == ["C", "C", "O"]
    assert {"energy_kcal_mol", "fx_kcal_mol_angstrom", "charge_e"} <= set(table.columns)


def test_xyz_input_and_console_script(model_path, tmp_path):
    from rdkit import Chem

    xyz = tmp_path / "ethanol.xyz"
    xyz.write_text(Chem.MolToXYZBlock(Chem.MolFromMolFile(str(ETHANOL), removeHs=False)))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "virialff.cli",
            "predict",
            "--model",
            str(model_path),
            "--input",
            str(xyz),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["molecules"]) == 1


@pytest.mark.parametrize(
    ("body", "suffix", "message"),
    [
        (None, ".sdf", "does not exist"),
        ("1\nsilicon\nSi 0 0 0\n", ".xyz", "Si"),
        ("", ".pdb", "unsupported input format"),
    ],
)
def test_errors_exit_with_code_2_and_a_message(model_path, tmp_path, capsys, body, suffix, message):
    path = tmp_path / f"input{suffix}"
    if body is not None:
        path.write_text(body)
    assert main(["predict", "--model", str(model_path), "--input", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_a_missing_model_exits_with_code_2(tmp_path, capsys):
    assert main(["predict", "--model", str(tmp_path / "none.pt"), "--input", str(ETHANOL)]) == 2
    assert "does not exist" in capsys.readouterr().err
