"""The subset step: bad inputs are recorded with a reason and a message naming the molecule;
the demo run is split by molecule and cut into consecutive shards within the DAG's bound."""

from __future__ import annotations

import csv
import json
import math

import pytest
from data_support import BAD_CSV, bound, subset

from virialff.errors import REASONS
from virialff.formats.molecules_csv import COLUMNS as MOLECULE_COLUMNS


def _read(path):  # noqa: ANN001, ANN202
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def bad_run(demo_config, subset_paths):  # noqa: ANN001, ANN201
    demo_config["demo"]["molecules_csv"] = str(BAD_CSV)
    subset(demo_config, subset_paths, n_shards=1)
    return subset_paths


def test_every_bad_input_is_rejected_with_its_reason_and_named(bad_run):
    expected = _read(BAD_CSV)
    status = _read(bad_run["status_csv"])
    assert len(status) == len(expected)
    for index, (row, record) in enumerate(zip(expected, status, strict=True)):
        assert record["molecule_id"] == f"demo_{index:03d}"
        assert record["stage"] == "subset"
        assert record["status"] == "failed"
        assert record["reason"] == row["expected_reason"]
        assert record["reason"] in REASONS
        assert record["molecule_id"] in record["message"]
        assert row["name"] in record["message"]


def test_rejected_molecules_never_reach_molecules_csv(bad_run):
    assert _read(bad_run["molecules_csv"]) == []
    summary = json.loads(bad_run["summary_json"].read_text())
    assert summary["n_molecules_rejected"] == len(_read(BAD_CSV))
    assert summary["rejected_by_reason"]["bad_smiles"] == 2


def test_good_and_bad_rows_mixed(demo_config, subset_paths, tmp_path):
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        "name,smiles,chembl_id\nethanol,CCO,\nbroken,C1CC(,\nacetate,CC(=O)[O-],\n"
        "nitromethane,C[N+](=O)[O-],\nglycine zwitterion,[NH3+]CC(=O)[O-],\n"
    )
    demo_config["demo"]["molecules_csv"] = str(mixed)
    subset(demo_config, subset_paths, n_shards=1)
    status = {r["molecule_id"]: r for r in _read(subset_paths["status_csv"])}
    assert [status[f"demo_{i:03d}"]["status"] for i in range(5)] == [
        "ok", "failed", "failed", "ok", "ok"]
    kept = _read(subset_paths["molecules_csv"])
    assert [r["molecule_id"] for r in kept] == ["demo_000", "demo_003", "demo_004"]


def test_heavy_atom_range_filters_without_failing(demo_config, subset_paths):
    demo_config["filters"]["min_heavy_atoms"] = 5
    demo_config["filters"]["max_heavy_atoms"] = 6
    result = subset(demo_config, subset_paths, n_shards=8)
    assert all(5 <= int(r["n_heavy_atoms"]) <= 6 for r in result.rows)
    assert result.summary["n_molecules_outside_heavy_atom_range"] == 64 - len(result.rows)
    assert result.status.failed_ids == []
    status = {r["molecule_id"]: r for r in _read(subset_paths["status_csv"])}
    assert len(status) == 64  # every input row is named in the status table
    kept = {r["molecule_id"] for r in result.rows}
    for molecule_id, record in status.items():
        if molecule_id in kept:
            assert record["status"] == "ok"
        else:
            assert (record["status"], record["reason"]) == ("skipped", "outside_size_range")
            assert molecule_id in record["message"] and "heavy atoms" in record["message"]


def test_duplicates_are_merged_before_the_split(demo_config, subset_paths, tmp_path):
    """The same molecule twice (another SMILES spelling, another stereo label) is kept once;
    the others are listed as duplicates of it, so it cannot be in two splits."""
    table = tmp_path / "dupes.csv"
    table.write_text(
        "name,smiles,chembl_id\n"
        "ethanol,CCO,CHEMBL545\n"
        "ethanol again,CCO,CHEMBL545\n"
        "ethanol written backwards,OCC,\n"
        "L-alanine,C[C@H](N)C(=O)O,\n"
        "D-alanine,C[C@@H](N)C(=O)O,\n"
        "acetone,CC(C)=O,\n"
    )
    demo_config["demo"]["molecules_csv"] = str(table)
    result = subset(demo_config, subset_paths, n_shards=1)
    assert [r["molecule_id"] for r in result.rows] == ["demo_000", "demo_003", "demo_005"]
    status = {r["molecule_id"]: r for r in _read(subset_paths["status_csv"])}
    for duplicate, original in [("demo_001", "demo_000"), ("demo_002", "demo_000"),
                                ("demo_004", "demo_003")]:
        record = status[duplicate]
        assert (record["status"], record["reason"]) == ("skipped", "duplicate")
        assert f"duplicate of {original}" in record["message"]
    assert result.summary["n_duplicates"] == 3
    assert len({r["canonical_key"] for r in result.rows}) == 3


def test_demo_run_columns_split_and_shards(demo_config, subset_paths):
    n_shards = math.ceil(bound(demo_config) / 8)
    subset(demo_config, subset_paths, n_shards=n_shards)
    rows = _read(subset_paths["molecules_csv"])
    with open(subset_paths["molecules_csv"]) as handle:
        assert next(csv.reader(handle)) == list(MOLECULE_COLUMNS)
    assert len(rows) == 64
    assert all(r["source"] == "demo" and r["molecule_id"].startswith("demo_") for r in rows)
    # shard k holds rows k*S .. (k+1)*S - 1, and every shard index is below the DAG's count
    assert [r["shard"] for r in rows] == [f"shard{i // 8:05d}" for i in range(64)]
    assert int(rows[-1]["shard"][5:]) < n_shards
    split = json.loads(subset_paths["split_json"].read_text())
    assert {"seed", "counts", "train", "val", "test"} <= set(split)
    assert split["counts"] == {"train": 48, "val": 4, "test": 12}
    for name in ("train", "val", "test"):
        assert sorted(r["molecule_id"] for r in rows if r["split"] == name) == split[name]


def test_subset_is_reproducible_and_seed_dependent(demo_config, subset_paths, tmp_path):
    demo_config["subset"]["n_molecules"] = 20
    first = subset(demo_config, subset_paths, n_shards=3)
    again = subset(demo_config, subset_paths, n_shards=3)
    assert first.rows == again.rows and len(first.rows) == 20
    demo_config["seed"] += 1
    other = subset(demo_config, subset_paths, n_shards=3)
    assert {r["molecule_id"] for r in other.rows} != {r["molecule_id"] for r in first.rows}


def test_more_rows_than_the_dag_bound_is_an_error(demo_config, subset_paths):
    with pytest.raises(RuntimeError, match="shards"):
        subset(demo_config, subset_paths, n_shards=2)


def test_shard_bound_for_demo_and_qmugs(demo_config, qmugs_config):
    assert bound(demo_config) == 64
    demo_config["subset"]["n_molecules"] = 10
    assert bound(demo_config) == 10
    qmugs_config["subset"]["n_molecules"] = None
    # fixture: 6 molecules with 1, 2, 3, 1, 2, 1 conformers
    assert bound(qmugs_config) == 10
    qmugs_config["qmugs"]["conformers_per_molecule"] = 1
    assert bound(qmugs_config) == 6
    qmugs_config["subset"]["n_molecules"] = 4
    assert bound(qmugs_config) == 4
    qmugs_config["qmugs"]["root"] = "/nonexistent/qmugs"
    assert bound(qmugs_config) == 4  # no download needed for a dry run
