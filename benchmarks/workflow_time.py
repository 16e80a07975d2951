"""Wall time of a finished workflow run, from Snakemake's per-job benchmark files.

Every rule writes ``results/logs/<rule>/<wildcards>.benchmark.tsv`` (Snakemake ``benchmark:``).
This sums the measured seconds per rule and per stage, so the README's run-time figure is a
measurement, not a guess. With ``--cores 2`` most demo jobs run one at a time (Psi4 and
training take both cores), so the sum is close to the wall time of ``make run``.

    python benchmarks/workflow_time.py [--logs results/logs] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

#: rule-name prefixes → stage shown in the README
STAGES: dict[str, tuple[str, ...]] = {
    "data": ("subset", "assemble_dataset", "summarise_run"),
    "GFN2-xTB geometries": ("geometry",),
    "Psi4 K·D descriptors": ("descriptors",),
    "training": ("train_", "evaluate_model"),
    "S66": ("s66_",),
    "base pairs": ("base_pairs_",),
    "conformers": ("conformer",),
    "parameter physics": ("predicted_parameters",),
    "figures, tables, paper": ("plot_fig", "make_table", "paper"),
}


def stage_of(rule: str) -> str:
    for stage, prefixes in STAGES.items():
        if any(rule.startswith(prefix) for prefix in prefixes):
            return stage
    return "other"


def collect(logs: Path) -> dict[str, float]:
    """Seconds per rule, summed over all of its jobs (first row of each benchmark file)."""
    per_rule: dict[str, float] = defaultdict(float)
    for path in sorted(logs.rglob("*.benchmark.tsv")):
        rule = path.relative_to(logs).parts[0]
        with path.open() as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        if rows:
            per_rule[rule] += float(rows[0]["s"])
    return dict(per_rule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=Path, default=Path("results/logs"))
    parser.add_argument(
        "--output", type=Path, default=Path("results/benchmarks/workflow_time.json")
    )
    args = parser.parse_args()
    per_rule = collect(args.logs)
    if not per_rule:
        raise SystemExit(f"no *.benchmark.tsv under {args.logs}: run the workflow first")
    per_stage: dict[str, float] = defaultdict(float)
    for rule, seconds in per_rule.items():
        per_stage[stage_of(rule)] += seconds
    total = sum(per_rule.values())
    print(f"{'stage':<26} {'minutes':>8}")
    for stage, seconds in sorted(per_stage.items(), key=lambda item: -item[1]):
        print(f"{stage:<26} {seconds / 60:8.1f}")
    print(f"{'total (sum of jobs)':<26} {total / 60:8.1f}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(
        {"total_s": total, "per_stage_s": per_stage, "per_rule_s": per_rule}, indent=2
    ))


if __name__ == "__main__":
    main()
