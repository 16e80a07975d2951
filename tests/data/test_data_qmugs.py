"""QMugs reader on the fixture tree (true QMugs layout and tags): typed tags in Hartree,
filters, reproducible subset, all conformers of a molecule in one split."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict

import numpy as np
import pytest
from data_support import QMUGS_FIXTURE, subset

from virialff.data.qmugs import index_qmugs, read_qmugs_sdf

SDFS = sorted(QMUGS_FIXTURE.glob("structures/CHEMBL*/conf_*.sdf"))
SALT = "CHEMBL1200682"  # sodium oxybate: Na and ions, must be filtered out


def _read(path):  # noqa: ANN001, ANN202
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_fixture_has_the_published_layout():
    assert (QMUGS_FIXTURE / "summary.csv").exists()
    assert len({p.parent.name for p in SDFS}) == 6 and len(SDFS) == 10
    assert {"chembl_id", "conf_id", "smiles", "DFT_TOTAL_ENERGY"} <= set(
        _read(QMUGS_FIXTURE / "summary.csv")[0])


@pytest.mark.parametrize("path", SDFS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_sdf_tags_parsed_with_types_and_units(path):
    conformer = read_qmugs_sdf(path)
    assert conformer.chembl_id == path.parent.name and conformer.conf_id == path.stem
    assert conformer.molecule_id == f"{path.parent.name}_{path.stem.replace('_', '')}"
    n_atoms = conformer.mol.GetNumAtoms()
    assert any(a.GetSymbol() == "H" for a in conformer.mol.GetAtoms())  # hydrogens kept
    # total energies are Hartree: hundreds to thousands of Eh for these molecules
    assert -5000.0 < conformer.dft_total_energy_hartree < -100.0
    assert -100.0 < conformer.gfn2_total_energy_hartree < -5.0
    charges = conformer.dft_mulliken_charges_e
    assert charges.shape == (n_atoms,) and conformer.dft_lowdin_charges_e.shape == (n_atoms,)
    assert abs(charges.sum()) < 1e-3  # neutral overall
    dipole = conformer.dft_dipole_debye
    assert dipole.shape == (4,)
    assert dipole[3] == pytest.approx(np.linalg.norm(dipole[:3]), abs=1e-4)


def test_index_from_summary_equals_index_from_directory_listing(tmp_path):
    with_summary = index_qmugs(QMUGS_FIXTURE)
    shutil.copytree(QMUGS_FIXTURE / "structures", tmp_path / "structures")
    listing = index_qmugs(tmp_path)
    assert list(with_summary) == list(listing)
    for chembl_id in listing:
        assert [r["conf_id"] for r in listing[chembl_id]] == [
            r["conf_id"] for r in with_summary[chembl_id]]
    assert "smiles" in with_summary["CHEMBL985"][0] and "smiles" not in listing["CHEMBL985"][0]


def test_subset_filters_the_salt_and_keeps_conformers_together(qmugs_config, subset_paths):
    result = subset(qmugs_config, subset_paths, n_shards=5)
    rows = _read(subset_paths["molecules_csv"])
    assert SALT not in {r["chembl_id"] for r in rows}
    failed = [r for r in _read(subset_paths["status_csv"]) if r["status"] == "failed"]
    assert [(r["molecule_id"], r["reason"]) for r in failed] == [
        (f"{SALT}_conf00", "unsupported_element")]
    assert f"{SALT}_conf00" in failed[0]["message"] and "Na" in failed[0]["message"]
    assert len(rows) == 9 and result.summary["n_molecules_selected"] == 5
    splits = defaultdict(set)
    for row in rows:
        splits[row["chembl_id"]].add(row["split"])
        assert row["molecule_id"] == f"{row['chembl_id']}_{row['conf_id'].replace('_', '')}"
        assert row["source"] == "qmugs" and row["source_path"].endswith(f"{row['conf_id']}.sdf")
    assert all(len(s) == 1 for s in splits.values())
    assert result.split["group_by"] == "chembl_id"
    assert sorted(result.split["train"] + result.split["val"] + result.split["test"]) == sorted(
        splits)


def test_reference_energies_are_carried_in_hartree(qmugs_config, subset_paths):
    subset(qmugs_config, subset_paths, n_shards=5)
    for row in _read(subset_paths["molecules_csv"]):
        conformer = read_qmugs_sdf(row["source_path"])
        assert float(row["dft_total_energy_hartree"]) == pytest.approx(
            conformer.dft_total_energy_hartree, abs=1e-8)
        assert float(row["gfn2_total_energy_hartree"]) == pytest.approx(
            conformer.gfn2_total_energy_hartree, abs=1e-8)


def test_without_summary_the_sdfs_give_the_same_selection(qmugs_config, subset_paths, tmp_path):
    first = subset(qmugs_config, subset_paths, n_shards=5).rows
    shutil.copytree(QMUGS_FIXTURE / "structures", tmp_path / "tree" / "structures")
    qmugs_config["qmugs"]["root"] = str(tmp_path / "tree")
    second = subset(qmugs_config, subset_paths, n_shards=5).rows
    keys = ("molecule_id", "smiles", "n_heavy_atoms", "split", "shard")
    assert [{k: r[k] for k in keys} for r in first] == [{k: r[k] for k in keys} for r in second]
    for a, b in zip(first, second, strict=True):
        assert float(a["dft_total_energy_hartree"]) == pytest.approx(
            float(b["dft_total_energy_hartree"]), abs=1e-8)


def test_conformers_per_molecule_keeps_the_lowest_conf_ids(qmugs_config, subset_paths):
    qmugs_config["qmugs"]["conformers_per_molecule"] = 1
    rows = subset(qmugs_config, subset_paths, n_shards=3).rows
    assert len(rows) == 5 and {r["conf_id"] for r in rows} == {"conf_00"}


def test_heavy_atom_filter_and_reproducible_random_subset(qmugs_config, subset_paths):
    qmugs_config["filters"]["max_heavy_atoms"] = 5  # drops halothane (7) and fosfomycin (8)
    rows = subset(qmugs_config, subset_paths, n_shards=5).rows
    assert {r["chembl_id"] for r in rows} == {"CHEMBL985", "CHEMBL602", "CHEMBL582"}
    qmugs_config["filters"]["max_heavy_atoms"] = 100
    qmugs_config["subset"]["n_molecules"] = 3
    picks = [{r["chembl_id"] for r in subset(qmugs_config, subset_paths, n_shards=5).rows}
             for _ in range(2)]
    assert picks[0] == picks[1] and len(picks[0]) == 3 and SALT not in picks[0]


def test_exact_split_counts(qmugs_config, subset_paths):
    qmugs_config["split"]["counts"] = {"train": 3, "val": 1, "test": 1}
    result = subset(qmugs_config, subset_paths, n_shards=5)
    assert result.split["counts"] == {"train": 3, "val": 1, "test": 1}


def test_unreadable_sdf_is_recorded_as_bad_sdf(qmugs_config, subset_paths, tmp_path):
    shutil.copytree(QMUGS_FIXTURE / "structures", tmp_path / "tree" / "structures")
    (tmp_path / "tree" / "structures" / "CHEMBL582" / "conf_01.sdf").write_text("garbage\n")
    qmugs_config["qmugs"]["root"] = str(tmp_path / "tree")
    subset(qmugs_config, subset_paths, n_shards=5)
    failed = {r["molecule_id"]: r for r in _read(subset_paths["status_csv"])
              if r["status"] == "failed"}
    assert failed["CHEMBL582_conf01"]["reason"] == "bad_sdf"
    kept = {r["molecule_id"] for r in _read(subset_paths["molecules_csv"])}
    assert {"CHEMBL582_conf00", "CHEMBL582_conf02"} <= kept and "CHEMBL582_conf01" not in kept
