"""Geometry stage: a shard of molecules.csv → GFN2-xTB SDF + status table."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from qc_support import DEMO_ROWS, demo_row, needs_xtb, write_molecules_csv
from rdkit import Chem

from virialff.formats.geometry_sdf import read_geometry_sdf
from virialff.formats.status_table import read_status
from virialff.qc.geometry import run_geometry_shard
from virialff.qc.xtb import xtb_settings_from_config


def read_geometries(path):  # noqa: ANN001, ANN201
    return [record.mol for record in read_geometry_sdf(path)]


def _run(csv_path, shard, tmp_path, geometry, seed=0):  # noqa: ANN001, ANN202
    return run_geometry_shard(csv_path, shard, tmp_path / "g.sdf", tmp_path / "g.status.csv",
                              xtb_settings_from_config(geometry), geometry["reoptimize_qmugs"],
                              geometry["embed_max_attempts"], seed)

pytestmark = [pytest.mark.xtb, needs_xtb]


def test_every_molecule_of_the_shard_gets_one_status_row_with_its_reason(geometry_shard):
    records = {r.molecule_id: r for r in read_status(geometry_shard["status"])}
    expected = {mid: reason for mid, _, _, shard, reason in DEMO_ROWS if shard == "shard00000"}
    assert set(records) == set(expected)  # demo_006 belongs to shard00001
    for molecule_id, reason in expected.items():
        record = records[molecule_id]
        assert record.stage == "geometry"
        assert record.status == ("failed" if reason else "ok")
        assert record.reason == reason
        if reason:
            assert molecule_id in record.message


def test_the_sdf_holds_the_ok_molecules_with_explicit_h_ids_and_xtb_energies(geometry_shard):
    mols = read_geometries(geometry_shard["sdf"])
    assert [m.GetProp("molecule_id") for m in mols] == ["demo_000", "demo_001"]
    assert [m.GetProp("_Name") for m in mols] == ["demo_000", "demo_001"]
    water, ethanol = mols
    assert [a.GetSymbol() for a in water.GetAtoms()] == ["O", "H", "H"]
    # atom order is Chem.AddHs(Chem.MolFromSmiles("CCO")), unchanged by xtb
    reference = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    assert [a.GetSymbol() for a in ethanol.GetAtoms()] == [
        a.GetSymbol() for a in reference.GetAtoms()
    ]
    assert float(water.GetProp("xtb_energy_hartree")) == pytest.approx(-5.0705, abs=2e-3)
    assert float(ethanol.GetProp("xtb_energy_hartree")) == pytest.approx(-11.394, abs=5e-3)
    positions = ethanol.GetConformer().GetPositions()
    assert 1.35 < np.linalg.norm(positions[1] - positions[2]) < 1.50  # C1-O2


def test_an_empty_shard_writes_empty_outputs(tmp_path, molecules_csv, config):
    table = _run(molecules_csv, "shard00099", tmp_path, config["geometry"])
    assert table.records == []
    assert (tmp_path / "g.sdf").read_text() == ""
    assert read_status(tmp_path / "g.status.csv") == []
    assert read_geometries(tmp_path / "g.sdf") == []


def test_an_xtb_failure_is_recorded_and_the_shard_goes_on(tmp_path, config):
    # A fake xtb that fails for one molecule (its id is the XYZ comment line) and runs the real
    # program for the others.
    real = shutil.which("xtb")
    fake = tmp_path / "xtb"
    fake.write_text(
        "#!/bin/sh\n"
        "if grep -q demo_001 coord.xyz; then\n"
        "  echo 'fake xtb: abnormal termination of xtb' >&2; exit 1\n"
        "fi\n"
        f'exec "{real}" "$@"\n'
    )
    fake.chmod(0o755)
    rows = [demo_row("demo_000", "water", "O", "shard00000"),
            demo_row("demo_001", "ethanol", "CCO", "shard00000"),
            demo_row("demo_002", "methane", "C", "shard00000")]
    csv_path = write_molecules_csv(tmp_path / "molecules.csv", rows)
    geometry = {**config["geometry"], "xtb_executable": str(fake)}
    _run(csv_path, "shard00000", tmp_path, geometry)
    records = {r.molecule_id: r for r in read_status(tmp_path / "g.status.csv")}
    assert records["demo_001"].status == "failed"
    assert records["demo_001"].reason == "xtb_failed"
    assert "demo_001" in records["demo_001"].message
    assert "abnormal termination" in records["demo_001"].message
    assert records["demo_000"].status == records["demo_002"].status == "ok"
    ids = [m.GetProp("molecule_id") for m in read_geometries(tmp_path / "g.sdf")]
    assert ids == ["demo_000", "demo_002"]


def test_qmugs_geometries_pass_through_unchanged(tmp_path, geometry_shard, config):
    # Stand-in for a QMugs conformer SDF: our own GFN2-xTB ethanol with QMugs' property name.
    ethanol = read_geometries(geometry_shard["sdf"])[1]
    qmugs = Chem.Mol(ethanol)
    for key in list(qmugs.GetPropNames()):
        qmugs.ClearProp(key)
    qmugs.SetProp("GFN2:TOTAL_ENERGY", "-11.3940001")
    sdf = tmp_path / "conf_00.sdf"
    with Chem.SDWriter(str(sdf)) as writer:
        writer.write(qmugs)
    row = {"molecule_id": "CHEMBL545_conf00", "smiles": "CCO", "chembl_id": "CHEMBL545",
           "conf_id": "0", "split": "train", "shard": "shard00000", "source": "qmugs",
           "source_path": str(sdf)}
    missing = {**row, "molecule_id": "CHEMBL1_conf00", "source_path": str(tmp_path / "none.sdf")}
    csv_path = write_molecules_csv(tmp_path / "molecules.csv", [row, missing])
    _run(csv_path, "shard00000", tmp_path, config["geometry"])
    (passed,) = read_geometries(tmp_path / "g.sdf")
    assert passed.GetProp("molecule_id") == "CHEMBL545_conf00"
    assert float(passed.GetProp("xtb_energy_hartree")) == pytest.approx(-11.3940001)
    np.testing.assert_allclose(passed.GetConformer().GetPositions(),
                               ethanol.GetConformer().GetPositions(), atol=1e-4)
    records = {r.molecule_id: r for r in read_status(tmp_path / "g.status.csv")}
    assert records["CHEMBL1_conf00"].reason == "missing_input"


def test_a_proton_that_moves_in_the_optimisation_fails_the_molecule(tmp_path, config):
    """Glycine as a zwitterion: GFN2-xTB in the gas phase moves the proton from N to O. The
    geometry then belongs to neutral glycine, not to the input graph: topology_changed, with
    the atoms named, and nothing written for it."""
    rows = [demo_row("demo_000", "glycine zwitterion", "[NH3+]CC(=O)[O-]", "shard00000"),
            demo_row("demo_001", "water", "O", "shard00000")]
    csv_path = write_molecules_csv(tmp_path / "molecules.csv", rows)
    _run(csv_path, "shard00000", tmp_path, config["geometry"])
    records = {r.molecule_id: r for r in read_status(tmp_path / "g.status.csv")}
    zwitterion = records["demo_000"]
    assert (zwitterion.status, zwitterion.reason) == ("failed", "topology_changed")
    assert "bond N1-H" in zwitterion.message and "broken" in zwitterion.message
    assert "bond O" in zwitterion.message and "formed" in zwitterion.message
    assert records["demo_001"].status == "ok"
    assert [m.GetProp("molecule_id") for m in read_geometries(tmp_path / "g.sdf")] == ["demo_001"]
