"""How long Snakemake takes to plan a QMugs-scale run: wall time, peak memory, job count.

    python scripts/make_synthetic_qmugs.py /tmp/qmugs-synthetic          # once, 300k molecules
    python benchmarks/dag_dry_run.py --qmugs-root /tmp/qmugs-synthetic

runs ``snakemake -n`` on config/paper.yaml with ``qmugs.root`` pointed at the given tree and
reports the figures and writes them as JSON (default results/benchmarks/dag_dry_run.json).
The target is <= 30 s: a DAG of one job per molecule (300k jobs) took 370 s and 4 GB here,
which is why the workflow shards. Exit status 1 when the dry run fails or exceeds --budget-s.

Peak memory is the largest resident set of the snakemake process (getrusage of waited-for
children, Linux ru_maxrss in KiB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def count_jobs(stdout: str) -> tuple[int | None, dict[str, int]]:
    """Total and per-rule job counts from the "Job stats" table of a dry run."""
    per_rule: dict[str, int] = {}
    total = None
    in_table = False
    for line in stdout.splitlines():
        if line.startswith("Job stats:"):
            in_table, per_rule, total = True, {}, None
            continue
        if not in_table:
            continue
        match = re.match(r"^(\S+)\s+(\d+)$", line.strip())
        if match:
            name, count = match.group(1), int(match.group(2))
            if name == "total":
                total = count
                in_table = False
            else:
                per_rule[name] = count
    return total, per_rule


def run(args: argparse.Namespace) -> dict:
    snakemake = args.snakemake or str(Path(sys.executable).with_name("snakemake"))
    root = Path(args.qmugs_root).resolve()
    if not (root / "summary.csv").exists():
        raise SystemExit(
            f"{root}/summary.csv not found; make one with "
            f"python scripts/make_synthetic_qmugs.py {root}"
        )
    # qmugs.root goes in through a second config file: Snakemake merges config files key by
    # key, whereas `--config qmugs={...}` reads nested values as strings ('1' for 1), which
    # the schema rejects.
    scratch = tempfile.TemporaryDirectory(prefix="dag_dry_run_")
    override = Path(scratch.name) / "qmugs_root.yaml"
    override.write_text(json.dumps({"qmugs": {"root": str(root),
                                              "conformers_per_molecule": args.conformers}}))
    command = [
        snakemake, "-n", "--cores", "1",
        "--configfile", str(REPO / args.configfile), str(override),
        # A dry run changes nothing, so it needs no lock (and may run beside a real run).
        "--nolock",
        *args.targets,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    with scratch:
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak_kib = after.ru_maxrss
    # CPU seconds as well as wall: on a shared machine wall time includes waiting for a core.
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    total, per_rule = count_jobs(done.stdout)
    with open(root / "summary.csv") as handle:
        n_molecules = sum(1 for _ in handle) - 1
    return {
        "command": " ".join(command),
        "returncode": done.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        # ru_maxrss only grows; if an earlier child was bigger the figure is an upper bound.
        "peak_rss_mb": round(peak_kib / 1024, 1),
        "jobs": total,
        "jobs_per_rule": per_rule,
        "qmugs_root": str(root),
        "summary_rows": n_molecules,
        "configfile": args.configfile,
        "budget_s": args.budget_s,
        "within_budget": done.returncode == 0 and wall <= args.budget_s,
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "output_tail": (done.stdout[-1500:] + done.stderr[-1500:]) if done.returncode else "",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--qmugs-root", default="/tmp/qmugs-synthetic",
                        help="QMugs-format tree (scripts/make_synthetic_qmugs.py writes one)")
    parser.add_argument("--configfile", default="config/paper.yaml")
    parser.add_argument("--conformers", type=int, default=1,
                        help="qmugs.conformers_per_molecule for the run (paper: 1)")
    parser.add_argument("--output", default="results/benchmarks/dag_dry_run.json")
    parser.add_argument("--budget-s", type=float, default=30.0)
    parser.add_argument("--snakemake", help="snakemake executable (default: next to python)")
    parser.add_argument("targets", nargs="*", help="targets (default: the `all` rule)")
    args = parser.parse_args(argv)

    report = run(args)
    print(f"snakemake -n over {report['summary_rows']} QMugs rows: "
          f"{report['jobs']} jobs, {report['wall_s']} s wall ({report['cpu_s']} s CPU), "
          f"peak {report['peak_rss_mb']} MB "
          f"(budget {args.budget_s:g} s: {'ok' if report['within_budget'] else 'EXCEEDED'})")
    for rule, count in sorted(report["jobs_per_rule"].items(), key=lambda kv: -kv[1]):
        print(f"  {rule:<28} {count}")
    if report["returncode"]:
        print(f"dry run failed (exit {report['returncode']}):\n{report['output_tail']}",
              file=sys.stderr)
    output = Path(args.output)
    if not output.is_absolute():
        output = REPO / output
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {output}")
    return 0 if report["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main())
