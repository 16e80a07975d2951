"""The versioned cache of expensive results (data/reference): a shard whose input digest is
cached is restored without running Psi4; any change of method, basis, SCF settings or a single
coordinate is a miss; a cached conformer recomputed live by Psi4 matches the cache."""

from __future__ import annotations

import numpy as np
import pytest
from qc_support import REPO, needs_psi4, needs_xtb

import virialff.qc.descriptors as descriptor_stage
from virialff.config import load_config
from virialff.formats.descriptors_npz import read_descriptors_npz
from virialff.formats.geometry_sdf import read_geometry_sdf, write_geometry_sdf
from virialff.formats.reference_cache import (
    find_shard,
    load_shard,
    read_manifest,
    store_shard,
    write_manifest,
)
from virialff.formats.status_table import read_status
from virialff.qc.descriptors import engine_program, run_descriptor_shard, shard_input_digest

REFERENCE = REPO / "data" / "reference"
pytestmark = [pytest.mark.psi4, pytest.mark.xtb, needs_psi4, needs_xtb]


def _no_psi4(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
    raise AssertionError("Psi4 was started although the cache holds the shard")


@pytest.fixture(scope="module")
def cache(tmp_path_factory, geometry_shard, descriptor_shard, config) -> dict:
    """A cache holding the computed water + ethanol shard under its input digest."""
    root = tmp_path_factory.mktemp("cache")
    section = config["descriptors"]
    records = read_geometry_sdf(geometry_shard["sdf"])
    digest = shard_input_digest(records, section["method"], section["basis"], section,
                                engine_program(section), section["gradient"])
    entries, _ = read_descriptors_npz(descriptor_shard["npz"])
    by_id = {r.molecule_id: r for r in records}
    store_shard(root, "shard00000", digest, entries,
                [by_id[e.molecule_id].positions_angstrom for e in entries], section["method"],
                section["basis"], descriptor_shard["status"])
    return {"root": root, "digest": digest, "section": section, "records": records}


def _run(sdf, tmp_path, section, root, **changes):  # noqa: ANN001, ANN003, ANN202
    return run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "d.status.csv",
                                {**section, **changes}, cache_root=root,
                                log_path=tmp_path / "d.log")


def test_a_cache_hit_restores_the_shard_without_running_psi4(cache, geometry_shard,
                                                            descriptor_shard, tmp_path,
                                                            monkeypatch):
    monkeypatch.setattr(descriptor_stage, "run_psi4_jobs", _no_psi4)
    _run(geometry_shard["sdf"], tmp_path, cache["section"], cache["root"])
    restored, _ = read_descriptors_npz(tmp_path / "d.npz")
    computed, _ = read_descriptors_npz(descriptor_shard["npz"])
    assert [e.molecule_id for e in restored] == [e.molecule_id for e in computed]
    for a, b in zip(restored, computed, strict=True):
        assert a.energy_hartree == b.energy_hartree and a.kinetic_hartree == b.kinetic_hartree
        np.testing.assert_array_equal(a.kd_atom_hartree, b.kd_atom_hartree)
        np.testing.assert_array_equal(a.kd_bond_hartree, b.kd_bond_hartree)
    assert [(r.molecule_id, r.status) for r in read_status(tmp_path / "d.status.csv")] == [
        (r.molecule_id, r.status) for r in read_status(descriptor_shard["status"])]
    assert "restored from cached shard shard00000" in (tmp_path / "d.log").read_text()


@pytest.mark.parametrize("change", [{"method": "b3lyp"}, {"basis": "def2-tzvp"},
                                    {"d_convergence": 1e-6}, {"scf_type": "pk"}],
                         ids=lambda c: next(iter(c)))
def test_another_method_basis_or_scf_setting_is_a_miss(cache, geometry_shard, tmp_path,
                                                       monkeypatch, change):
    monkeypatch.setattr(descriptor_stage, "run_psi4_jobs", _no_psi4)
    with pytest.raises(AssertionError, match="Psi4 was started"):
        _run(geometry_shard["sdf"], tmp_path, cache["section"], cache["root"], **change)


def test_an_energy_only_shard_serves_a_forces_config_without_forces(cache, geometry_shard,
                                                                   tmp_path, monkeypatch):
    """The shards cached before forces existed stay valid: an energy-only config restores them
    as they are, and a forces config trains on them without forces instead of recomputing."""
    section = {**cache["section"], "gradient": False}
    root = tmp_path / "energy-only"
    entries = load_shard(cache["root"], "shard00000")[0]
    for entry in entries:
        entry.forces_kcal_mol_angstrom, entry.dipole_debye = None, None
    digest = shard_input_digest(cache["records"], section["method"], section["basis"], section,
                                engine_program(section), False)
    assert digest != cache["digest"]
    by_id = {r.molecule_id: r for r in cache["records"]}
    store_shard(root, "shard00000", digest, entries,
                [by_id[e.molecule_id].positions_angstrom for e in entries], section["method"],
                section["basis"], cache["root"] / "descriptors" / "shard00000.status.csv")
    monkeypatch.setattr(descriptor_stage, "run_psi4_jobs", _no_psi4)
    for gradient in (False, True):
        _run(geometry_shard["sdf"], tmp_path, section, root, gradient=gradient)
        restored, _ = read_descriptors_npz(tmp_path / "d.npz")
        assert [e.has_forces for e in restored] == [False, False]
    assert "energy only): restored from cached shard shard00000" in (
        tmp_path / "d.log").read_text()


def test_a_forces_shard_is_not_served_to_an_energy_only_config(cache, geometry_shard, tmp_path,
                                                               monkeypatch):
    monkeypatch.setattr(descriptor_stage, "run_psi4_jobs", _no_psi4)
    with pytest.raises(AssertionError, match="Psi4 was started"):
        _run(geometry_shard["sdf"], tmp_path, cache["section"], cache["root"], gradient=False)


def test_a_moved_atom_is_a_miss(cache, tmp_path, monkeypatch):
    records = cache["records"]
    water = records[0].mol
    conformer = water.GetConformer()
    x, y, z = conformer.GetAtomPosition(1)
    conformer.SetAtomPosition(1, (x + 0.001, y, z))
    sdf = write_geometry_sdf(tmp_path / "moved.sdf", [water, records[1].mol])
    section = cache["section"]
    moved = read_geometry_sdf(sdf)
    digest = shard_input_digest(moved, section["method"], section["basis"], section,
                                engine_program(section), section["gradient"])
    assert digest != cache["digest"]
    assert find_shard(cache["root"], digest) is None
    monkeypatch.setattr(descriptor_stage, "run_psi4_jobs", _no_psi4)
    with pytest.raises(AssertionError, match="Psi4 was started"):
        _run(sdf, tmp_path, section, cache["root"])


def test_a_corrupt_cache_file_is_refused(cache, tmp_path):
    root = tmp_path / "corrupt"
    (root / "descriptors").mkdir(parents=True)
    for name in ("shard00000.npz", "shard00000.status.csv"):
        (root / "descriptors" / name).write_bytes(
            (cache["root"] / "descriptors" / name).read_bytes())
    manifest = read_manifest(cache["root"])
    manifest["shards"]["shard00000"]["output_digest"] = "0" * 64
    write_manifest(root, manifest)
    with pytest.raises(ValueError, match="do not match the output digest"):
        load_shard(root, "shard00000")


def test_a_committed_reference_conformer_recomputed_live_matches_the_cache(tmp_path):
    """The smallest conformer of the committed cache, recomputed by the installed Psi4 with
    the reference configuration: E and T to 1e-6 Eh, every KD to 1e-6 Eh."""
    manifest = read_manifest(REFERENCE)
    assert manifest["shards"], "data/reference holds no cached shard"
    shard = sorted(manifest["shards"])[0]
    entries, positions, _, _ = load_shard(REFERENCE, shard)
    records = {r.molecule_id: r for r in
               read_geometry_sdf(REFERENCE / "geometries" / f"{shard}.sdf.gz")}
    smallest = min(entries, key=lambda e: e.n_atoms)
    record = records[smallest.molecule_id]
    sdf = write_geometry_sdf(tmp_path / "one.sdf", [record.mol])
    section = load_config(REPO / "config" / "reference.yaml")["descriptors"]
    run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "d.status.csv", section)
    (live,), _ = read_descriptors_npz(tmp_path / "d.npz")
    assert live.energy_hartree == pytest.approx(smallest.energy_hartree, abs=1e-6)
    assert live.kinetic_hartree == pytest.approx(smallest.kinetic_hartree, abs=1e-6)
    np.testing.assert_allclose(live.kd_atom_hartree, smallest.kd_atom_hartree, atol=1e-6)
    np.testing.assert_array_equal(live.bond_index, smallest.bond_index)
    np.testing.assert_allclose(live.kd_bond_hartree, smallest.kd_bond_hartree, atol=1e-6)
    assert live.kd_nonbonded_hartree == pytest.approx(smallest.kd_nonbonded_hartree, abs=1e-6)
