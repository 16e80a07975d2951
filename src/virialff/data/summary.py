"""Run summary: how many molecules passed, and how many failed at which stage and why.

Reads every status table of the run (``subset``, ``geometry``, ``descriptors``, ``dataset``)
plus ``subset.summary.json`` and writes ``results/dataset/summary.json`` and ``summary.md``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STAGE_ORDER: tuple[str, ...] = ("subset", "geometry", "descriptors", "dataset")
#: At most this many failures are listed one by one in summary.md (all are in summary.json).
MAX_LISTED_FAILURES = 200


def summarise_run(
    status_tables: dict[str, Iterable[str | Path]],
    subset_summary_json: str | Path,
    molecules_csv: str | Path,
    descriptors_csv: str | Path,
    run_name: str,
    data_scale: str,
) -> dict[str, Any]:
    """Counts per stage (seen, ok, failed, failures by reason) and the list of failures."""
    import csv

    from virialff.formats.status_table import FAILED, SKIPPED, read_status_tables

    subset = json.loads(Path(subset_summary_json).read_text())
    stages: dict[str, dict[str, Any]] = {}
    failures: list[dict[str, str]] = []
    skipped_list: list[dict[str, str]] = []
    order = [s for s in STAGE_ORDER if s in status_tables]
    order += sorted(set(status_tables) - set(STAGE_ORDER))
    for stage in order:
        records = read_status_tables(p for p in status_tables[stage] if Path(p).exists())
        failed = [r for r in records if r.status == FAILED]
        skipped = [r for r in records if r.status == SKIPPED]
        stages[stage] = {
            "n_seen": len(records),
            "n_ok": len(records) - len(failed) - len(skipped),
            "n_failed": len(failed),
            "n_skipped": len(skipped),
            "failed_by_reason": dict(sorted(Counter(r.reason for r in failed).items())),
            "skipped_by_reason": dict(sorted(Counter(r.reason for r in skipped).items())),
            "wall_s": round(sum(r.wall_s for r in records), 3),
        }
        failures += [{"molecule_id": r.molecule_id, "stage": stage, "reason": r.reason,
                      "message": r.message} for r in failed]
        skipped_list += [{"molecule_id": r.molecule_id, "stage": stage, "reason": r.reason,
                          "message": r.message} for r in skipped]
    with open(molecules_csv, newline="") as handle:
        n_selected = sum(1 for _ in csv.DictReader(handle))
    with open(descriptors_csv, newline="") as handle:
        in_dataset = [row["split"] for row in csv.DictReader(handle)]
    reasons = Counter(f["reason"] for f in failures)
    return {
        "run_name": run_name,
        "data_scale": data_scale,
        "source": subset.get("source", ""),
        "n_molecules_seen": subset.get("n_molecules_seen"),
        "n_molecules_outside_heavy_atom_range": subset.get("n_molecules_outside_heavy_atom_range"),
        "n_selected": n_selected,
        "n_in_dataset": len(in_dataset),
        "n_failed": len(failures),
        "in_dataset_by_split": {s: in_dataset.count(s) for s in ("train", "val", "test")},
        "failed_by_reason": dict(sorted(reasons.items())),
        "n_skipped": len(skipped_list),
        "skipped_by_reason": dict(sorted(Counter(s["reason"] for s in skipped_list).items())),
        "stages": stages,
        "failures": failures,
        "skipped": skipped_list,
    }


def _listing(title: str, entries: list[dict[str, str]]) -> list[str]:
    """Markdown lines of a table of molecules (at most MAX_LISTED_FAILURES rows)."""
    if not entries:
        return []
    lines = ["", f"## {title}", "", "| molecule | stage | reason | message |",
             "|---|---|---|---|"]
    for entry in entries[:MAX_LISTED_FAILURES]:
        message = entry["message"].replace("|", "\\|")
        lines.append(f"| {entry['molecule_id']} | {entry['stage']} | {entry['reason']} "
                     f"| {message} |")
    extra = len(entries) - MAX_LISTED_FAILURES
    if extra > 0:
        lines.append(f"\n… and {extra} more (see summary.json).")
    return lines


def summary_markdown(summary: dict[str, Any]) -> str:
    """The summary as a short Markdown report."""
    lines = [
        f"# Run summary: {summary['run_name']} ({summary['data_scale']})",
        "",
        f"- source: {summary['source']}; molecules examined: {summary['n_molecules_seen']}, "
        f"outside the heavy-atom range: {summary['n_molecules_outside_heavy_atom_range']}",
        f"- selected (rows of molecules.csv): {summary['n_selected']}",
        f"- in the data set: {summary['n_in_dataset']} "
        + "(" + ", ".join(f"{k} {v}" for k, v in summary["in_dataset_by_split"].items()) + ")",
        f"- failed: {summary['n_failed']}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in summary["failed_by_reason"].items()) + ")"
           if summary["failed_by_reason"] else ""),
        f"- skipped on purpose: {summary['n_skipped']}"
        + (" (" + ", ".join(f"{k} {v}" for k, v in summary["skipped_by_reason"].items()) + ")"
           if summary["skipped_by_reason"] else ""),
        "",
        "| stage | seen | ok | failed | skipped | failures by reason | wall s |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for stage, s in summary["stages"].items():
        reasons = ", ".join(f"{k} {v}" for k, v in s["failed_by_reason"].items()) or "—"
        lines.append(f"| {stage} | {s['n_seen']} | {s['n_ok']} | {s['n_failed']} "
                     f"| {s['n_skipped']} | {reasons} | {s['wall_s']:.1f} |")
    for title, key in (("Failures", "failures"), ("Skipped on purpose", "skipped")):
        lines += _listing(title, summary[key])
    return "\n".join(lines) + "\n"


def write_summary(summary: dict[str, Any], json_path: str | Path, md_path: str | Path) -> str:
    """Write ``summary.json`` and ``summary.md``; return the Markdown text."""
    Path(json_path).parent.mkdir(parents=True, exist_ok=True)
    Path(json_path).write_text(json.dumps(summary, indent=1) + "\n")
    text = summary_markdown(summary)
    Path(md_path).write_text(text)
    return text
