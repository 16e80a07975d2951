"""Status tables: one row per molecule, reasons from virialff.errors.REASONS."""

from __future__ import annotations

import pytest

from virialff.errors import MoleculeRejected
from virialff.formats.status_table import (
    STATUS_COLUMNS,
    StatusTable,
    count_by_reason,
    read_status,
    write_status,
)


def test_track_records_ok_and_rejected_molecules_and_the_loop_goes_on(tmp_path):
    table = StatusTable("geometry")
    for molecule_id in ["demo_000", "demo_001", "demo_002"]:
        with table.track(molecule_id):
            if molecule_id == "demo_001":
                raise MoleculeRejected(molecule_id, "bad_smiles", "RDKit cannot parse 'C1CC'")
    assert table.ok_ids == ["demo_000", "demo_002"]
    assert table.failed_ids == ["demo_001"]

    path = table.write(tmp_path / "shard.status.csv")
    header = path.read_text().splitlines()[0]
    assert header == ",".join(STATUS_COLUMNS)
    records = read_status(path)
    assert [r.status for r in records] == ["ok", "failed", "ok"]
    failed = records[1]
    assert failed.stage == "geometry"
    assert failed.reason == "bad_smiles"
    assert "demo_001" in failed.message and "C1CC" in failed.message
    assert failed.wall_s >= 0.0


def test_other_exceptions_are_bugs_and_propagate():
    table = StatusTable("geometry")
    with pytest.raises(KeyError), table.track("demo_000"):
        raise KeyError("smiles")
    assert table.records == []


def test_unknown_reasons_and_failures_without_reason_are_refused():
    table = StatusTable("descriptors")
    with pytest.raises(ValueError, match="unknown reason"):
        table.failed("demo_000", "cosmic_ray", "bit flip")
    with pytest.raises(ValueError, match="needs a reason"):
        table.failed("demo_000", "", "no reason")


def test_an_empty_table_is_a_header_only_file(tmp_path):
    path = write_status([], tmp_path / "empty.status.csv")
    assert path.read_text().strip() == ",".join(STATUS_COLUMNS)
    assert read_status(path) == []


def test_multiline_messages_stay_on_one_csv_row(tmp_path):
    table = StatusTable("geometry")
    table.failed("demo_000", "xtb_failed", "xtb exited\nwith status 1\n  abnormal termination")
    path = table.write(tmp_path / "s.csv")
    assert len(path.read_text().strip().splitlines()) == 2
    assert read_status(path)[0].message == "xtb exited with status 1 abnormal termination"


def test_count_by_reason_summarises_a_stage(tmp_path):
    table = StatusTable("descriptors")
    table.ok("a")
    table.ok("b")
    table.failed("c", "scf_not_converged", "molecule c: SCF did not converge in 100 iterations")
    assert count_by_reason(table.records) == {"ok": 2, "scf_not_converged": 1}


def test_a_status_table_appends_its_counts_and_one_line_per_molecule_to_a_log(tmp_path):
    table = StatusTable("geometry")
    table.ok("m1", 0.5)
    table.failed("m2", "xtb_failed", "xtb exited with status 1", 0.1)
    log = tmp_path / "rule.log"
    log.write_text("earlier lines\n")
    table.append_to_log(log, "shard00000")
    lines = log.read_text().splitlines()
    assert lines[0] == "earlier lines"
    assert lines[1] == "# shard00000: 1 ok, 1 failed"
    assert "m2 failed xtb_failed" in lines[3] and "xtb exited with status 1" in lines[3]
    table.append_to_log(None)  # no log: nothing to do, no error
