"""Per-molecule status tables (``*.status.csv``), shared by every per-molecule stage.

One row per molecule a stage saw, with the columns of ``docs/data-formats.md``::

    molecule_id, stage, status, reason, message, wall_s

``status`` is ``ok``, ``failed`` (the molecule could not be processed) or ``skipped`` (left
out on purpose: a duplicate of another input row, or outside the configured size range);
``reason`` is empty for ``ok`` and one of :data:`virialff.errors.REASONS` otherwise. Format
version :data:`FORMAT_VERSION`; :func:`read_status` checks the columns. Typical use::

    table = StatusTable("geometry")
    for molecule_id in ids:
        with table.track(molecule_id):
            work(molecule_id)          # raise MoleculeRejected to record a failure
    table.write("results/geometries/shard00000.status.csv")

``track`` records ``ok`` when the block finishes, ``failed`` with the reason when it raises
:class:`~virialff.errors.MoleculeRejected`, and swallows only that exception, so the loop goes
on with the next molecule. Any other exception propagates (it is a bug, not a bad molecule).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from virialff.errors import REASONS, MoleculeRejected

STATUS_COLUMNS: tuple[str, ...] = ("molecule_id", "stage", "status", "reason", "message", "wall_s")
FORMAT_VERSION = 2
OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
STATUSES: tuple[str, ...] = (OK, FAILED, SKIPPED)


@dataclass
class StatusRecord:
    """One row of a status table."""

    molecule_id: str
    stage: str
    status: str
    reason: str = ""
    message: str = ""
    wall_s: float = 0.0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.reason and self.reason not in REASONS:
            raise ValueError(f"unknown reason {self.reason!r}; add it to virialff.errors.REASONS")
        if self.status != OK and not self.reason:
            raise ValueError(f"{self.status} molecule {self.molecule_id} needs a reason")
        self.wall_s = float(self.wall_s)


class StatusTable:
    """Collects :class:`StatusRecord` rows for one stage and writes them as CSV."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.records: list[StatusRecord] = []

    def ok(self, molecule_id: str, wall_s: float = 0.0, message: str = "") -> StatusRecord:
        """Record a molecule that passed this stage."""
        record = StatusRecord(molecule_id, self.stage, OK, "", message, wall_s)
        self.records.append(record)
        return record

    def failed(
        self, molecule_id: str, reason: str, message: str, wall_s: float = 0.0
    ) -> StatusRecord:
        """Record a molecule that failed; ``message`` should name the molecule and the cause."""
        record = StatusRecord(molecule_id, self.stage, FAILED, reason, message, wall_s)
        self.records.append(record)
        return record

    def skipped(
        self, molecule_id: str, reason: str, message: str, wall_s: float = 0.0
    ) -> StatusRecord:
        """Record a molecule left out on purpose (duplicate, outside the size range)."""
        record = StatusRecord(molecule_id, self.stage, SKIPPED, reason, message, wall_s)
        self.records.append(record)
        return record

    def rejected(self, error: MoleculeRejected, wall_s: float = 0.0) -> StatusRecord:
        """Record a :class:`MoleculeRejected` (its message already names molecule and reason)."""
        return self.failed(error.molecule_id, error.reason, str(error), wall_s)

    @contextmanager
    def track(self, molecule_id: str, message: str = "") -> Iterator[None]:
        """Time a block; record ``ok`` on success, ``failed`` on :class:`MoleculeRejected`."""
        start = time.perf_counter()
        try:
            yield
        except MoleculeRejected as error:
            self.rejected(error, time.perf_counter() - start)
        else:
            self.ok(molecule_id, time.perf_counter() - start, message)

    @property
    def ok_ids(self) -> list[str]:
        """Ids of molecules recorded ``ok``, in recording order."""
        return [r.molecule_id for r in self.records if r.status == OK]

    @property
    def failed_ids(self) -> list[str]:
        """Ids of molecules recorded ``failed``, in recording order."""
        return [r.molecule_id for r in self.records if r.status == FAILED]

    def write(self, path: Path | str) -> Path:
        """Write the table (header only when empty); creates parent folders."""
        return write_status(self.records, path)

    def append_to_log(self, log_path: Path | str | None, heading: str = "") -> None:
        """Append an ok/failed count and one line per molecule to a rule's log (if any)."""
        if log_path is None:
            return
        prefix = f"{heading}: " if heading else ""
        with open(log_path, "a") as log:
            log.write(f"# {prefix}{len(self.ok_ids)} ok, {len(self.failed_ids)} failed\n")
            for record in self.records:
                log.write(f"#   {record.molecule_id} {record.status} {record.reason} "
                          f"{record.wall_s:.1f} s {record.message}\n")


def write_status(records: Iterable[StatusRecord], path: Path | str) -> Path:
    """Write status records to ``path`` as CSV with :data:`STATUS_COLUMNS`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(STATUS_COLUMNS))
        writer.writeheader()
        for record in records:
            row = asdict(record)
            row["message"] = " ".join(str(row["message"]).split())  # one line per molecule
            row["wall_s"] = f"{record.wall_s:.3f}"
            writer.writerow(row)
    return path


def read_status(path: Path | str) -> list[StatusRecord]:
    """Read a status table written by :func:`write_status`."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = set(STATUS_COLUMNS) - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: status table lacks column(s) {', '.join(sorted(missing))}")
        names = {f.name for f in fields(StatusRecord)}
        return [
            StatusRecord(**{k: (v if v is not None else "") for k, v in row.items() if k in names})
            for row in reader
        ]


def read_status_tables(paths: Iterable[Path | str]) -> list[StatusRecord]:
    """Concatenate several status tables (e.g. every shard of a stage)."""
    records: list[StatusRecord] = []
    for path in paths:
        records.extend(read_status(path))
    return records


def count_by_reason(records: Iterable[StatusRecord]) -> dict[str, int]:
    """Number of molecules per outcome: ``{"ok": n, "<reason>": n, ...}`` (for summaries)."""
    counts: dict[str, int] = {}
    for record in records:
        key = OK if record.status == OK else record.reason
        counts[key] = counts.get(key, 0) + 1
    return counts
