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


def _one_line_error(capsys) -> str:  # noqa: ANN001
    """The one error line on stderr (beside it only the note saying which model is used)."""
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if not line.startswith("virialff: using model")]
    assert len(errors) == 1 and errors[0].startswith("virialff: error: "), err
    return errors[0]


def _corrupt_copies(model_path: Path, folder: Path) -> dict[str, Path]:
    data = model_path.read_bytes()
    text = folder / "notes.txt"
    text.write_text("this is a text file, not a model\n")
    truncated = folder / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    flipped = folder / "flipped.pt"
    middle = bytearray(data)
    # flip one bit in every 4 KiB page of the second half: inside the zip's tensor data
    for position in range(len(middle) // 2, len(middle) - 64, 4096):
        middle[position] ^= 0x10
    flipped.write_bytes(bytes(middle))
    return {"text file": text, "truncated": truncated, "bit-flipped": flipped}


@pytest.mark.parametrize("kind", ["text file", "truncated", "bit-flipped"])
def test_an_unusable_model_file_is_one_line_naming_it_with_exit_code_2(model_path, tmp_path,
                                                                      capsys, kind):
    bad = _corrupt_copies(model_path, tmp_path)[kind]
    assert main(["predict", "--model", str(bad), "--input", str(ETHANOL)]) == 2
    assert str(bad) in _one_line_error(capsys)


@pytest.mark.parametrize("kind", ["text file", "truncated", "bit-flipped"])
def test_load_model_raises_a_clear_value_error_for_an_unusable_file(model_path, tmp_path, kind):
    import virialff

    bad = _corrupt_copies(model_path, tmp_path)[kind]
    with pytest.raises(ValueError, match=str(bad)):
        virialff.load_model(bad)


@pytest.mark.parametrize(("device", "message"), [("banana", "invalid device 'banana'"),
                                                 ("cuda:7", "CUDA")])
def test_an_invalid_or_unavailable_device_is_one_line_with_exit_code_2(model_path, capsys,
                                                                      device, message):
    import torch

    if device.startswith("cuda") and torch.cuda.device_count() > 7:
        pytest.skip("this machine has eight GPUs")
    code = main(["predict", "--model", str(model_path), "--input", str(ETHANOL),
                 "--device", device])
    assert code == 2
    assert message in _one_line_error(capsys)


def test_an_sdf_without_explicit_hydrogens_is_refused_with_how_to_add_them(model_path, tmp_path,
                                                                          capsys):
    from rdkit import Chem

    heavy = Chem.RemoveHs(Chem.MolFromMolFile(str(ETHANOL), removeHs=False))
    path = tmp_path / "no_h.sdf"
    Chem.MolToMolFile(heavy, str(path))
    assert main(["predict", "--model", str(model_path), "--input", str(path)]) == 2
    err = _one_line_error(capsys)
    assert str(path) in err and "missing_hydrogens" in err
    assert "Chem.AddHs(mol, addCoords=True)" in err


# -- GAFF2-form exports --------------------------------------------------------------------
def _ethanol_water_sdf(path: Path) -> Path:
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mols = []
    for smiles, shift in (("CCO", 0.0), ("O", 4.0)):
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        AllChem.EmbedMolecule(mol, randomSeed=3)
        conformer = mol.GetConformer()
        for atom in range(mol.GetNumAtoms()):
            p = conformer.GetAtomPosition(atom)
            conformer.SetAtomPosition(atom, (p.x + shift, p.y, p.z))
        mols.append(mol)
    writer = Chem.SDWriter(str(path))
    writer.write(Chem.CombineMols(*mols))
    writer.close()
    return path


@pytest.fixture(scope="module")
def gbffs_model_path(tmp_path_factory) -> Path:
    from virialff.model.gbffs import GBFFsPredictor, gbffs_payload, untrained_gbffs_model
    from virialff.model.potential_model import SMALL_MODEL_CONFIG

    model, config = untrained_gbffs_model(SMALL_MODEL_CONFIG["embedding"], hidden_width=16,
                                          seed=4)
    payload = gbffs_payload(model, config)
    path = tmp_path_factory.mktemp("gbffs") / "gbffs.pt"
    GBFFsPredictor(model, {k: v for k, v in payload.items() if k != "state_dict"}).save(path)
    return path


def _openmm_energy(system, positions_angstrom) -> float:  # noqa: ANN001
    import openmm

    context = openmm.Context(system, openmm.VerletIntegrator(0.001),
                             openmm.Platform.getPlatformByName("Reference"))
    context.setPositions(positions_angstrom * 0.1)
    state = context.getState(getEnergy=True)
    return state.getPotentialEnergy().value_in_unit(openmm.unit.kilocalorie_per_mole)


@pytest.mark.parametrize("force_field", ["gaff2", "gbffs"])
def test_amber_gromacs_and_openmm_exports_give_one_energy(force_field, gbffs_model_path,
                                                          tmp_path):
    """The prmtop (read by OpenMM), the GROMACS files (read back by ParmEd) and the OpenMM XML
    of an ethanol–water complex: the same energy as the force field's own OpenMM system (the
    prmtop and XML to 1e-6, the .top to its printed precision)."""
    import openmm
    import parmed
    from openmm import app

    from virialff.cli import amber_form_parameters
    from virialff.forcefield.amber_openmm import to_openmm_system

    sdf = _ethanol_water_sdf(tmp_path / "complex.sdf")
    model = ["--model", str(gbffs_model_path)] if force_field == "gbffs" else []
    parameters, x = amber_form_parameters(str(sdf), force_field, str(gbffs_model_path))
    reference = _openmm_energy(to_openmm_system(parameters), x)
    common = [str(sdf), "--force-field", force_field, *model]
    assert main(["export-amber", *common, "-o", str(tmp_path / "amber")]) == 0
    assert main(["export-gromacs", *common, "-o", str(tmp_path / "gmx")]) == 0
    assert main(["export-openmm", *common, "-o", str(tmp_path / "system.xml")]) == 0
    prmtop = app.AmberPrmtopFile(str(tmp_path / "amber.prmtop"))
    from_prmtop = _openmm_energy(prmtop.createSystem(nonbondedMethod=app.NoCutoff), x)
    gromacs = parmed.load_file(str(tmp_path / "gmx.top"), xyz=str(tmp_path / "gmx.gro"))
    from_gromacs = _openmm_energy(gromacs.createSystem(nonbondedMethod=app.NoCutoff), x)
    xml = openmm.XmlSerializer.deserialize((tmp_path / "system.xml").read_text())
    assert len(parameters) == 2
    assert from_prmtop == pytest.approx(reference, rel=1e-6, abs=1e-6)
    # ParmEd prints GROMACS parameters with a fixed number of decimals (GAFF2's short numbers
    # survive exactly; a network's do not): the .top holds them to about 3e-5 relative
    assert from_gromacs == pytest.approx(reference, rel=1e-4)
    assert _openmm_energy(xml, x) == pytest.approx(reference, rel=1e-9, abs=1e-9)


def test_a_gaff2_form_export_without_what_it_needs_is_one_line_with_exit_code_2(tmp_path,
                                                                                capsys):
    sdf = _ethanol_water_sdf(tmp_path / "complex.sdf")
    assert main(["export-amber", str(sdf), "--force-field", "gbffs", "-o",
                 str(tmp_path / "x")]) == 2
    assert "needs --model" in _one_line_error(capsys)
