"""Run the workflow through a real (single-node) SLURM with profiles/slurm.

What is tested is what a cluster user runs: ``snakemake --profile profiles/slurm`` with the
executor plugin submitting every job with ``sbatch``. Only the site-specific entries of the
profile are changed (partition, account, GPUs: this node has none); memory, runtime, threads,
retries, latency and the plugin options come from the profile file itself.

Needs root, Debian's slurm-wlm and munge (installed with apt-get when missing) and the
snakemake-executor-plugin-slurm package; skips with the reason otherwise. Every daemon the
test starts is stopped by its process id at the end, and /etc/slurm/slurm.conf is put back.
Set VIRIALFF_SKIP_CLUSTER_TESTS=1 to skip it on purpose.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from slurm_local import (  # noqa: E402
    PARTITION,
    LocalSlurm,
    MachineLock,
    install_if_missing,
    port_in_use,
    reason_to_skip,
)

# Budget: ~1 min for the profile check, ~5-6 min for the workflow on 2 busy cores.
pytestmark = [pytest.mark.cluster, pytest.mark.slow, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROFILE = REPO / "profiles" / "slurm" / "config.v8+.yaml"
# Files and folders a run needs; results/, .snakemake/ and the venv stay behind.
WORKFLOW_PARTS = ("Snakefile", "config.yaml", "config", "rules", "scripts", "src", "schemas",
                  "envs", "profiles", "data", "paper", "report", "tests/cluster")
SITE_KEYS = ("gpu", "gres", "gpu_model", "cpus_per_gpu")


def site_profile(target: Path) -> Path:
    """Copy profiles/slurm, swapping its site placeholders for this one-node cluster."""
    profile = yaml.safe_load(PROFILE.read_text())
    defaults = profile["default-resources"]
    defaults["slurm_partition"] = PARTITION
    defaults.pop("slurm_account", None)  # no accounting here; --slurm-no-account below
    for resources in profile.get("set-resources", {}).values():
        if "slurm_partition" in resources:
            resources["slurm_partition"] = PARTITION
        for key in SITE_KEYS:  # this node has no GPU
            resources.pop(key, None)
    target.mkdir(parents=True, exist_ok=True)
    (target / "config.v8+.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return target


def snakemake_on_slurm(workdir: Path, profile: Path, *args: str, timeout: float = 420):
    command = [
        SNAKEMAKE,
        "--profile", str(profile),
        # No slurmdbd on the test node: ask squeue, not sacct; no account to charge.
        "--slurm-status-command", "squeue",
        "--slurm-no-account",
        # The plugin waits 40 s before its first status check (then +10 s per check that
        # finds nothing finished); jobs here take seconds, so start polling early.
        "--slurm-init-seconds-before-status-checks", "2",
        # A failure should fail the test now, not after two resubmissions.
        "--retries", "0",
        *args,
    ]
    env = dict(os.environ)
    env.pop("SLURM_CONF", None)
    try:
        return subprocess.run(
            command, cwd=workdir, capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired as expired:
        # Report like a failed run, with what Snakemake had printed so far.
        def text(data):  # noqa: ANN001, ANN202 - bytes, str or None
            return data.decode(errors="replace") if isinstance(data, bytes) else (data or "")

        return subprocess.CompletedProcess(
            command, -9, text(expired.stdout), text(expired.stderr) + f"\nTIMEOUT {timeout} s"
        )


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    why = reason_to_skip()
    if why:
        pytest.skip(why)
    lock = MachineLock()
    if not lock.acquire(timeout_s=600):
        pytest.skip("another test session held the local SLURM for 10 minutes")
    try:
        why = reason_to_skip()  # again: the session we waited for may have changed things
        if why:
            pytest.skip(why)
        if port_in_use(6817):
            pytest.skip("port 6817 is in use: a slurmctld this test did not start is running")
        workdir = tmp_path_factory.mktemp("slurm")
        why = install_if_missing(workdir / "apt.log")
        if why:
            pytest.skip(why)
        cluster = LocalSlurm(workdir)
        try:
            cluster.start()
        except Exception as error:  # the daemons' logs are the useful part of the message
            cluster.stop()
            pytest.fail(f"could not start a local SLURM: {error}")
        yield cluster
        cluster.stop()
    finally:
        lock.release()


def _explain(done, cluster: LocalSlurm) -> str:
    return (
        f"exit {done.returncode}\n--- stdout\n{done.stdout[-4000:]}\n--- stderr\n"
        f"{done.stderr[-8000:]}\n{cluster.tail()}"
    )


def test_profile_submits_jobs_through_slurm(slurm, tmp_path):
    """The profile as written (resources, threads, expressions) is accepted by sbatch."""
    (tmp_path / "Snakefile").write_text(
        """
rule all:
    input: expand("out/{s}.txt", s=["a", "b"]), "model.txt"

rule descriptors:
    output: "out/{s}.txt"
    threads: 2
    shell: "echo $SLURM_JOB_ID $SLURM_CPUS_PER_TASK > {output}"

rule train_potential:
    input: expand("out/{s}.txt", s=["a", "b"])
    output: "model.txt"
    shell: "cat {input} > {output}; echo $SLURM_JOB_ID >> {output}"
"""
    )
    before = set(slurm.submitted_job_ids())
    profile = site_profile(tmp_path / "site-profile")
    done = snakemake_on_slurm(tmp_path, profile, timeout=240)
    assert done.returncode == 0, _explain(done, slurm)

    lines = [line.split() for line in (tmp_path / "model.txt").read_text().splitlines()]
    # Each shard ran inside a SLURM job with the rule's threads as --cpus-per-task.
    assert [fields[1] for fields in lines[:2]] == ["2", "2"]
    job_ids = {int(fields[0]) for fields in lines}
    assert len(job_ids) == 3
    assert job_ids <= set(slurm.submitted_job_ids()) - before
    # The plugin's per-job logs (kept by slurm-keep-successful-logs in the profile).
    assert list((tmp_path / ".snakemake" / "slurm_logs").glob("rule_descriptors/*/*.log"))


def test_workflow_trains_through_slurm(slurm, tmp_path):
    """Three small molecules from SMILES to a trained model, every job an sbatch job."""
    work = tmp_path / "virialff"
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(
                source, work / part, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        elif source.exists():
            (work / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / part)
    profile = site_profile(tmp_path / "site-profile")
    # total.pt needs subset -> geometry -> descriptors -> assemble_dataset ->
    # train_embedding -> train_potential: six sbatch jobs one after the other. (kinetic.pt
    # would only add a job running beside that one, on the same two cores.)
    targets = ["results/models/total.pt"]
    config = ["--configfile", "tests/cluster/config.yaml"]

    before = set(slurm.submitted_job_ids())
    started = time.monotonic()
    # Targets before --configfile, which takes every following word as a config file.
    done = snakemake_on_slurm(work, profile, *targets, *config, timeout=600)
    wall = time.monotonic() - started
    assert done.returncode == 0, _explain(done, slurm)
    print(f"workflow through SLURM: {wall:.0f} s")

    for target in targets:
        assert (work / target).stat().st_size > 0, target
    descriptors = list((work / "results" / "descriptors").glob("shard*.npz"))
    assert len(descriptors) == 1, descriptors
    # All three molecules went through Psi4 (a silent failure would leave the model untrained).
    with open(descriptors[0].with_suffix(".status.csv"), newline="") as handle:
        statuses = {row["molecule_id"]: row["status"] for row in csv.DictReader(handle)}
    assert sorted(statuses.values()) == ["ok", "ok", "ok"], statuses

    submitted = set(slurm.submitted_job_ids()) - before
    logs = work / ".snakemake" / "slurm_logs"
    rules_run = {path.name.removeprefix("rule_") for path in logs.glob("rule_*")}
    # Descriptors and both training stages were sbatch jobs, not local ones.
    assert {"descriptors", "train_embedding", "train_potential"} <= rules_run, rules_run
    assert len(submitted) >= 5, sorted(submitted)
