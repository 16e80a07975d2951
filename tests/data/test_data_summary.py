"""The run summary counts, per stage, what passed and what failed and why."""

from __future__ import annotations

import json

from virialff.data.summary import summarise_run, write_summary
from virialff.formats.status_table import StatusTable


def test_summary_counts_every_stage_and_lists_failures(tmp_path):
    subset = StatusTable("subset")
    subset.failed("demo_000", "bad_smiles", "molecule demo_000: bad_smiles: 'x': cannot parse")
    for i in (1, 2, 3):
        subset.ok(f"demo_{i:03d}")
    subset.skipped("demo_004", "outside_size_range", "molecule demo_004: 12 heavy atoms")
    subset.skipped("demo_005", "duplicate", "molecule demo_005: duplicate of demo_001")
    geometry = StatusTable("geometry")
    geometry.ok("demo_001")
    geometry.ok("demo_002")
    geometry.failed("demo_003", "xtb_failed", "molecule demo_003: xtb crashed", wall_s=2.5)
    descriptors = StatusTable("descriptors")
    descriptors.ok("demo_001")
    descriptors.failed("demo_002", "scf_not_converged", "molecule demo_002: SCF diverged")
    dataset = StatusTable("dataset")
    dataset.ok("demo_001")
    (tmp_path / "subset.summary.json").write_text(json.dumps(
        {"source": "demo", "n_molecules_seen": 4, "n_molecules_outside_heavy_atom_range": 0}))
    (tmp_path / "molecules.csv").write_text(
        "molecule_id,split\ndemo_001,train\ndemo_002,train\ndemo_003,test\n")
    (tmp_path / "descriptors.csv").write_text("molecule_id,split\ndemo_001,train\n")
    summary = summarise_run(
        {"subset": [subset.write(tmp_path / "s.csv")],
         "geometry": [geometry.write(tmp_path / "g.csv"), tmp_path / "absent.csv"],
         "descriptors": [descriptors.write(tmp_path / "d.csv")],
         "dataset": [dataset.write(tmp_path / "ds.csv")]},
        tmp_path / "subset.summary.json", tmp_path / "molecules.csv",
        tmp_path / "descriptors.csv", run_name="demo", data_scale="demo",
    )
    assert summary["n_selected"] == 3 and summary["n_in_dataset"] == 1
    assert summary["n_failed"] == 3
    assert summary["failed_by_reason"] == {"bad_smiles": 1, "scf_not_converged": 1,
                                           "xtb_failed": 1}
    assert list(summary["stages"]) == ["subset", "geometry", "descriptors", "dataset"]
    assert summary["stages"]["geometry"] == {"n_seen": 3, "n_ok": 2, "n_failed": 1,
                                             "n_skipped": 0,
                                             "failed_by_reason": {"xtb_failed": 1},
                                             "skipped_by_reason": {}, "wall_s": 2.5}
    assert summary["stages"]["subset"]["n_ok"] == 3
    assert summary["skipped_by_reason"] == {"duplicate": 1, "outside_size_range": 1}
    assert summary["in_dataset_by_split"] == {"train": 1, "val": 0, "test": 0}
    text = write_summary(summary, tmp_path / "summary.json", tmp_path / "summary.md")
    assert "demo_003" in text and "xtb_failed" in text
    assert "demo_004" in text and "outside_size_range" in text  # named, not only counted
    assert json.loads((tmp_path / "summary.json").read_text())["n_failed"] == 3
