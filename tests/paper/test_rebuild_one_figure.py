"""Deleting one figure re-runs only that figure's rule and the paper (dry run, real Snakefile).

The fixture results tree stands in for a finished run; ``--allowed-rules`` keeps the DAG to the
figure rules and the paper rule, so upstream stages (which have no outputs in the fixture) are
never considered, and ``--rerun-triggers mtime`` judges by file times only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from paper_fixtures import FIGURE_FILES, make_results_tree

from virialff.paper.build import REPO_ROOT

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

SNAKEMAKE = Path(sys.executable).with_name("snakemake")
FIGURE_RULES = ("plot_fig04", "plot_fig13")


def workdir(tmp: Path) -> Path:
    """A working directory with the config, the demo list, the notebook and a finished run."""
    shutil.copy(REPO_ROOT / "config.yaml", tmp / "config.yaml")
    (tmp / "data" / "demo").mkdir(parents=True)
    demo = REPO_ROOT / "data" / "demo" / "molecules.csv"
    if demo.exists():
        shutil.copy(demo, tmp / "data" / "demo" / "molecules.csv")
    else:
        (tmp / "data" / "demo" / "molecules.csv").write_text("name,smiles\nethanol,CCO\n")
    shutil.copytree(REPO_ROOT / "data" / "published", tmp / "data" / "published")
    (tmp / "paper").mkdir()
    shutil.copy(REPO_ROOT / "paper" / "paper.py", tmp / "paper" / "paper.py")
    old = time.time() - 7200
    for path in tmp.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))
    make_results_tree(tmp / "results", with_paper=True)
    return tmp


def planned_jobs(tmp: Path) -> dict[str, int]:
    """Rule → job count of a dry run of Figs. 4 and 13 and the paper (all final targets).

    The other figures' rules live in other rule files and need upstream results the fixture
    does not have, so the dry run is restricted to the rules of ``rules/figures.smk`` and
    ``rules/paper.smk``; their figures stand in the fixture as finished files.
    """
    targets = [f"results/figures/{FIGURE_FILES[n]}" for n in (4, 13)]
    targets += ["results/paper/paper.html", "results/paper/paper.ipynb"]
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT / "src"))
    proc = subprocess.run(
        [str(SNAKEMAKE), "-s", str(REPO_ROOT / "Snakefile"), "--directory", str(tmp),
         *targets, "-n", "--cores", "1", "--workflow-profile", "none",
         "--rerun-triggers", "mtime", "--allowed-rules", *FIGURE_RULES, "paper"],
        capture_output=True, text=True, env=env, timeout=110,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    if "Nothing to be done" in out:
        return {}
    stats = out.split("Job stats:", 1)[1]
    jobs = {}
    for line in stats.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match or match.group(1) == "total":
            break
        jobs[match.group(1)] = int(match.group(2))
    return jobs


@pytest.mark.parametrize(
    ("figure", "rule"),
    [("fig13_pair_potentials.png", "plot_fig13"), ("fig04_architecture.png", "plot_fig04")],
)
def test_deleting_a_figure_reruns_only_it_and_the_paper(tmp_path: Path, figure: str,
                                                         rule: str) -> None:
    tmp = workdir(tmp_path)
    (tmp / "results" / "figures" / figure).unlink()
    assert planned_jobs(tmp) == {rule: 1, "paper": 1}
