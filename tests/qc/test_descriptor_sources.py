"""The descriptor stage with its other engine and source, end to end through
`run_descriptor_shard`: PySCF instead of Psi4, and K·D from a stored Psi4 wavefunction file
(QMugs publishes them) instead of an SCF. Both give the Psi4 numbers."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from psi4_reference import REFERENCE_MOLECULES, psi4_reference
from qc_support import REPO, needs_psi4

from virialff.chem.rdkit_mol import mol_from_positions
from virialff.config import load_config
from virialff.formats.descriptors_npz import read_descriptors_npz
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.formats.status_table import read_status
from virialff.qc.descriptors import run_descriptor_shard

pytestmark = [pytest.mark.psi4, needs_psi4]


def _water_sdf(path, **properties):  # noqa: ANN001, ANN003, ANN202
    symbols, positions = REFERENCE_MOLECULES["water"]
    mol = mol_from_positions(symbols, positions)
    mol.SetProp("molecule_id", "CHEMBL1098659_conf00")
    for key, value in properties.items():
        mol.SetProp(key, str(value))
    return write_geometry_sdf(path, [mol])


def _section(**changes) -> dict:  # noqa: ANN003
    section = load_config(REPO / "config.yaml")["descriptors"]
    return {**section, "memory": "1 GB", **changes}


def test_k_d_from_a_stored_wavefunction_equals_the_live_scf(tmp_path):
    live = psi4_reference()["water"]
    folder = tmp_path / "wavefunctions" / "CHEMBL1098659"
    folder.mkdir(parents=True)
    shutil.copyfile(live.wavefunction_path, folder / "conf_00.npy")
    sdf = _water_sdf(tmp_path / "g.sdf", chembl_id="CHEMBL1098659", conf_id="conf_00",
                     dft_total_energy_hartree=f"{live.energy_hartree:.12f}")
    run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "s.csv",
                         _section(source="wavefunction", wavefunction_root=str(tmp_path),
                                  psi4_executable="/nonexistent/psi4"))
    (entry,), _ = read_descriptors_npz(tmp_path / "d.npz")
    assert entry.kinetic_hartree == pytest.approx(live.kinetic_hartree, abs=1e-10)
    np.testing.assert_allclose(entry.kd_atom_hartree, live.arrays["kd_atom_hartree"],
                               atol=1e-10)
    assert entry.energy_hartree == pytest.approx(live.energy_hartree, abs=1e-10)
    assert "wavefunction" in entry.engine


def test_a_missing_wavefunction_fails_that_molecule_with_its_reason(tmp_path):
    sdf = _water_sdf(tmp_path / "g.sdf", chembl_id="CHEMBL1", conf_id="conf_03",
                     dft_total_energy_hartree="-76.3")
    table = run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "s.csv",
                                 _section(source="wavefunction", wavefunction_root=str(tmp_path)))
    (record,) = read_status(tmp_path / "s.csv")
    assert (record.status, record.reason) == ("failed", "missing_input")
    assert "CHEMBL1/conf_03.npy" in record.message and table.ok_ids == []


def test_the_pyscf_engine_gives_the_psi4_descriptors(tmp_path):
    pytest.importorskip("pyscf")
    live = psi4_reference()["water"]
    sdf = _water_sdf(tmp_path / "g.sdf")
    run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "s.csv", _section(engine="pyscf"))
    (entry,), _ = read_descriptors_npz(tmp_path / "d.npz")
    assert entry.engine.startswith("pyscf ")
    assert entry.energy_hartree == pytest.approx(live.energy_hartree, abs=1e-5)
    np.testing.assert_allclose(entry.kd_atom_hartree, live.arrays["kd_atom_hartree"], atol=1e-4)
