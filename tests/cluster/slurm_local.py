"""A throw-away single-node SLURM cluster on this machine, for tests/cluster/.

Debian's slurm-wlm 22.05 and munge run without systemd when started by hand in the
foreground (``-D`` / ``-F``), so every daemon is a child process whose id we hold and stop.

Facts this module relies on (checked on Debian 12):

- The Snakemake SLURM plugin clears ``SLURM_CONF`` before it calls ``srun``, so the
  configuration has to sit at the default path ``/etc/slurm/slurm.conf``. A file already
  there that we did not write is never touched: the caller is told to skip.
- ``proctrack/linuxproc`` + ``task/none`` need neither cgroups nor systemd.
- ``SlurmdParameters=config_overrides`` lets the node advertise more memory and CPUs than the
  machine has, so the real profile's requests (20-64 GB, 8 CPUs) are schedulable on a small
  test machine; the test jobs themselves use little.
- Without accounting (no slurmdbd) ``sacct`` is useless, so Snakemake must be told
  ``--slurm-status-command squeue``, and ``MinJobAge`` must be long enough (the plugin wants
  >= 120 s) for ``squeue`` to still show finished jobs.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

SLURM_CONF = Path("/etc/slurm/slurm.conf")
MARKER = "# written by virialff tests/cluster (safe to delete)"
PARTITION = "debug"
NODE = "localhost"
DAEMONS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "sinfo", "srun", "scontrol")
APT_PACKAGES = ("slurm-wlm", "munge")
SLURM_PORTS = (6817, 6818)  # slurmctld, slurmd defaults
# One local cluster at a time on this machine, whichever pytest session asks for it.
LOCK_PATH = Path("/tmp/virialff-slurm-test.lock")


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class MachineLock:
    """An exclusive flock on LOCK_PATH, so two test sessions never share the daemons."""

    def __init__(self) -> None:
        self.handle = None

    def acquire(self, timeout_s: float) -> bool:
        self.handle = open(LOCK_PATH, "w")  # noqa: SIM115 - held until release()
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    self.handle.close()
                    self.handle = None
                    return False
                time.sleep(2)

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def missing_programs() -> list[str]:
    return [name for name in DAEMONS if shutil.which(name) is None]


def reason_to_skip() -> str | None:
    """Why a local SLURM cannot be started here, or None if it can (maybe after apt)."""
    if os.environ.get("VIRIALFF_SKIP_CLUSTER_TESTS"):
        return "VIRIALFF_SKIP_CLUSTER_TESTS is set"
    if not Path("/etc/debian_version").exists():
        return "needs a Debian-like system (slurm-wlm and munge from apt)"
    if os.geteuid() != 0:
        return "needs root: writes /etc/slurm/slurm.conf and starts slurmctld, slurmd, munged"
    if SLURM_CONF.exists() and MARKER not in SLURM_CONF.read_text(errors="replace"):
        return f"{SLURM_CONF} exists and was not written by this test; not touching a real cluster"
    if missing_programs() and shutil.which("apt-get") is None:
        return f"SLURM programs missing ({', '.join(missing_programs())}) and no apt-get"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        if not missing_programs():
            return "munge is installed but there is no 'munge' user"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')"
    return None


def install_if_missing(log: Path) -> str | None:
    """apt-get install slurm-wlm and munge when a program is missing; None on success."""
    if not missing_programs():
        return None
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    with open(log, "a") as handle:
        # `apt-get update` once, right before the install that needs it.
        for command in (
            ["apt-get", "update", "-qq"],
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *APT_PACKAGES],
        ):
            try:
                done = subprocess.run(
                    command, stdout=handle, stderr=subprocess.STDOUT, env=env, timeout=600
                )
            except subprocess.TimeoutExpired:
                return f"{' '.join(command[:2])} took more than 10 minutes (see {log})"
            if done.returncode != 0:
                return f"{' '.join(command[:2])} failed, exit {done.returncode} (see {log})"
    if missing_programs():
        return f"still missing after apt-get install: {', '.join(missing_programs())}"
    return None


def _memory_mb() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 4096


@dataclass
class LocalSlurm:
    """One slurmctld + slurmd (+ munged if none is running), all children of this process."""

    workdir: Path
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    previous_conf: str | None = None
    cpus: int = 0
    memory_mb: int = 0

    @property
    def ctld_log(self) -> Path:
        return self.workdir / "slurmctld.log"

    @property
    def slurmd_log(self) -> Path:
        return self.workdir / "slurmd.log"

    def write_conf(self) -> None:
        # Advertise at least 8 CPUs and 128 GB (config_overrides): the slurm profile asks
        # for up to 8 CPUs and 64 GB per job, and we test that profile as users get it.
        self.cpus = max(os.cpu_count() or 1, 8)
        self.memory_mb = max(_memory_mb(), 131072)
        state = self.workdir / "state"
        spool = self.workdir / "spool"
        state.mkdir(parents=True, exist_ok=True)
        spool.mkdir(parents=True, exist_ok=True)
        text = f"""{MARKER}
ClusterName=virialfftest
SlurmctldHost={NODE}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={state}
SlurmdSpoolDir={spool}
SlurmctldPidFile={self.workdir / "slurmctld.pid"}
SlurmdPidFile={self.workdir / "slurmd.pid"}
SlurmctldLogFile={self.ctld_log}
SlurmdLogFile={self.slurmd_log}
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdParameters=config_overrides
NodeName={NODE} CPUs={self.cpus} RealMemory={self.memory_mb} State=UNKNOWN
PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP
"""
        SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if SLURM_CONF.exists():
            self.previous_conf = SLURM_CONF.read_text()
        SLURM_CONF.write_text(text)

    def _start(self, name: str, command: list[str], **kwargs) -> None:
        log = open(self.workdir / f"{name}.stdout", "w")  # noqa: SIM115 - closed by the child
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, **kwargs
        )

    def _munge_running(self) -> bool:
        return shutil.which("munge") is not None and (
            subprocess.run(
                "munge -n | unmunge", shell=True, capture_output=True, timeout=20
            ).returncode
            == 0
        )

    def start(self, timeout_s: float = 90) -> None:
        busy = [port for port in SLURM_PORTS if port_in_use(port)]
        if busy:
            # Someone else's slurmctld/slurmd (or one left behind by a killed run): we do
            # not stop processes we did not start.
            raise RuntimeError(f"port(s) {busy} already in use; is another SLURM running?")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.write_conf()
        if not self._munge_running():
            key = Path("/etc/munge/munge.key")
            if not key.exists():
                subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True)
                shutil.chown(key, "munge", "munge")
                key.chmod(0o400)
            run_dir = Path("/run/munge")
            run_dir.mkdir(parents=True, exist_ok=True)
            shutil.chown(run_dir, "munge", "munge")
            # munged refuses to run as root with a key root does not own; run it as the
            # munge user, in the foreground, so the pid we hold is munged itself.
            self._start("munged", ["munged", "--foreground"], user="munge", group="munge")
            self._wait(self._munge_running, 20, "munged did not answer")
        self._start("slurmctld", ["slurmctld", "-D", "-i"])
        self._wait(lambda: self._ok(["scontrol", "ping"]), 30, "slurmctld did not answer")
        self._start("slurmd", ["slurmd", "-D", "-N", NODE])
        self._wait(self.node_idle, timeout_s, "node did not become idle")

    def _ok(self, command: list[str]) -> bool:
        try:
            return subprocess.run(command, capture_output=True, timeout=10).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def node_idle(self) -> bool:
        try:
            out = subprocess.run(
                ["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=10
            ).stdout
        except subprocess.TimeoutExpired:
            return False
        return "idle" in out

    def _wait(self, condition, timeout_s: float, message: str) -> None:  # noqa: ANN001
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for name, proc in self.processes.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {proc.returncode}: {self.tail()}")
            if condition():
                return
            time.sleep(1)
        raise RuntimeError(f"{message} within {timeout_s:.0f} s: {self.tail()}")

    def tail(self, lines: int = 30) -> str:
        parts = []
        for log in (self.ctld_log, self.slurmd_log, *self.workdir.glob("*.stdout")):
            if log.exists():
                text = log.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(parts)

    def submitted_job_ids(self) -> list[int]:
        """Job ids slurmctld accepted from sbatch, read from its log (no accounting here)."""
        ids = []
        if self.ctld_log.exists():
            for line in self.ctld_log.read_text(errors="replace").splitlines():
                if "_slurm_rpc_submit_batch_job" in line and "JobId=" in line:
                    ids.append(int(line.split("JobId=")[1].split()[0]))
        return ids

    def stop(self) -> None:
        """Stop, by process id, every daemon this object started; restore slurm.conf."""
        # Reverse start order: slurmd, then slurmctld, then munged (they need munge to exit).
        for name in reversed(list(self.processes)):
            proc = self.processes[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self.processes.clear()
        if self.previous_conf is not None:
            SLURM_CONF.write_text(self.previous_conf)
        elif SLURM_CONF.exists() and MARKER in SLURM_CONF.read_text(errors="replace"):
            SLURM_CONF.unlink()
