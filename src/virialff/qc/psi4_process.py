"""Run many Psi4 calculations in ONE external Psi4 process and read back structured results.

Why a process and not ``import psi4``: Psi4 ships its own Python (Debian: the system
``/usr/bin/python3``; conda: the env's interpreter), which is generally not the interpreter that
runs the workflow. The ``psi4`` executable is the one entry point every install has, so we start::

    psi4 -k -n THREADS -s SCRATCH -i input.py -o output.dat

``-k`` skips the Psithon preprocessor, so ``input.py`` is plain Python run inside Psi4's
interpreter (``-k``, ``-n``, ``-s``, ``-i``, ``-o`` exist in Psi4 1.3.2 (Debian) and in the
conda-forge 1.4-1.9 builds). The input imports a worker (:mod:`virialff.qc._psi4_worker`, copied
into the work folder) that loops over the jobs, catches every per-job exception, and writes
``results/<k>.json`` (+ ``<k>.npz`` for arrays) as each job ends. A shard therefore survives one
non-converging molecule, and a timeout keeps everything finished before it.

``psi4_executable`` may contain arguments (split with :func:`shlex.split`), e.g.
``"conda run -n psi4 psi4"``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from virialff.errors import MoleculeRejected

WORKER_PATH = Path(__file__).with_name("_psi4_worker.py")
WORKER_MODULE = "virialff_psi4_worker"

#: Psi4 error kinds (``Psi4Result.error_kind``) are rejection reasons of virialff.errors.REASONS.
ERROR_KINDS = ("scf_not_converged", "psi4_failed", "nan_value")


@dataclass
class Psi4Job:
    """One Psi4 energy calculation.

    ``symbols`` [N] element symbols, ``positions_angstrom`` [N, 3]. For complexes give
    ``fragment_sizes`` (atoms per fragment, in order; their sum is N) and optionally
    ``bsse_type="cp"`` for a counterpoise-corrected interaction energy (Psi4's nbody driver;
    ``energy_hartree`` is then what ``psi4.energy(..., bsse_type=...)`` returns, the interaction
    energy, and every Psi4 variable is in ``Psi4Result.variables``).
    ``kinetic_descriptors=True`` computes T = Tr(D K) and the K·D partition (needs no bsse).
    ``optimize=True`` runs Psi4's geometry optimiser first; ``energy_hartree`` is then the energy
    at the optimised geometry and ``Psi4Result.positions_angstrom`` the optimised positions
    (same atom order and frame: no_reorient, no_com).
    ``gradient=True`` runs ``psi4.gradient`` instead of ``psi4.energy``: the same SCF then
    also gives ``Psi4Result.arrays["gradient_hartree_per_bohr"]`` [N, 3] and
    ``Psi4Result.dipole_debye`` [3] (with ``kinetic_descriptors``, K·D from that wavefunction).
    ``options`` are per-job Psi4 options that override the shared ones.
    """

    job_id: str
    symbols: Sequence[str]
    positions_angstrom: Any
    method: str
    basis: str
    charge: int = 0
    multiplicity: int = 1
    fragment_sizes: Sequence[int] | None = None
    fragment_charges: Sequence[int] | None = None
    fragment_multiplicities: Sequence[int] | None = None
    bsse_type: str | None = None
    kinetic_descriptors: bool = False
    save_wavefunction: bool = False
    optimize: bool = False
    gradient: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        positions = np.asarray(self.positions_angstrom, dtype=float)
        if positions.shape != (len(self.symbols), 3):
            raise ValueError(
                f"job {self.job_id}: positions shape {positions.shape}, "
                f"expected ({len(self.symbols)}, 3)"
            )
        if self.fragment_sizes is not None and sum(self.fragment_sizes) != len(self.symbols):
            raise ValueError(f"job {self.job_id}: fragment sizes do not add up to the atom count")
        return {
            "job_id": str(self.job_id),
            "symbols": [str(s) for s in self.symbols],
            "positions_angstrom": positions.tolist(),
            "method": self.method,
            "basis": self.basis,
            "charge": int(self.charge),
            "multiplicity": int(self.multiplicity),
            "fragment_sizes": list(self.fragment_sizes) if self.fragment_sizes else None,
            "fragment_charges": list(self.fragment_charges) if self.fragment_charges else None,
            "fragment_multiplicities": (
                list(self.fragment_multiplicities) if self.fragment_multiplicities else None
            ),
            "bsse_type": self.bsse_type,
            "kinetic_descriptors": bool(self.kinetic_descriptors),
            "save_wavefunction": bool(self.save_wavefunction),
            "optimize": bool(self.optimize),
            "gradient": bool(self.gradient),
            "options": dict(self.options),
        }


@dataclass
class Psi4Settings:
    """Process-wide settings: executable, memory (Psi4 string, e.g. ``"4 GB"``), threads,
    timeout for the whole process (s, ``None``: no limit) and shared Psi4 options."""

    executable: str
    memory: str
    threads: int
    timeout_s: float | None
    options: dict[str, Any]


@dataclass
class Psi4Result:
    """Outcome of one :class:`Psi4Job`.

    ``energy_hartree``: what ``psi4.energy`` returned. ``kinetic_hartree``: Tr(D K).
    ``arrays``: ``kd_atom_hartree`` [N], ``kd_pair_hartree`` [N(N-1)/2] (numpy.triu_indices(N, 1)
    order, both orders summed) for kinetic-descriptor jobs. ``atomic_numbers`` [N] and
    ``positions_angstrom`` [N, 3] are the molecule as Psi4 read it back. ``error_kind`` is empty
    on success, else one of :data:`ERROR_KINDS`.
    """

    job_id: str
    ok: bool
    energy_hartree: float | None = None
    kinetic_hartree: float | None = None
    scf_iterations: int | None = None
    wall_s: float = 0.0
    error_kind: str = ""
    error_message: str = ""
    variables: dict[str, float] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    atomic_numbers: list[int] | None = None
    positions_angstrom: np.ndarray | None = None
    sum_rule_residual_hartree: float | None = None
    n_electrons_from_density: float | None = None
    one_electron_residual_hartree: float | None = None
    engine: str = ""
    wavefunction_path: Path | None = None
    dipole_debye: np.ndarray | None = None
    cpu_s: float | None = None

    def raise_if_failed(self) -> None:
        """Raise :class:`MoleculeRejected` with the matching reason when the job failed."""
        if not self.ok:
            raise MoleculeRejected(self.job_id, self.error_kind or "psi4_failed",
                                   self.error_message or "psi4 failed")


class Psi4Interrupted(RuntimeError):
    """The Psi4 process was killed by a signal (or never started) before every job ended.

    Not a property of any molecule: the finished jobs' results stay in the work folder, and
    running the same jobs with the same ``workdir`` again computes only the rest."""


def job_result_name(job: Psi4Job, settings: Psi4Settings) -> str:
    """Name of ``job``'s result files in a work folder: a digest of the job and of the shared
    options, so a kept result is reused only for exactly the same calculation."""
    payload = {"job": job.to_json(), "options": settings.options}
    text = json.dumps(payload, sort_keys=True, default=str)
    return "job-" + hashlib.sha256(text.encode()).hexdigest()[:24]


def psi4_settings_from_config(section: Mapping[str, Any]) -> Psi4Settings:
    """:class:`Psi4Settings` from a ``descriptors:`` config section (every key required: the
    schema fills the defaults; execution keys arrive from the rule's threads and resources).

    Shared Psi4 options: ``scf_type``, ``maxiter``, ``e_convergence``, ``d_convergence``.
    """
    return Psi4Settings(
        executable=str(section["psi4_executable"]),
        memory=str(section["memory"]),
        threads=int(section["threads"]),
        timeout_s=section["timeout_s"],
        options={k: section[k] for k in ("scf_type", "maxiter", "e_convergence",
                                         "d_convergence")},
    )


def psi4_command(executable: str, input_path: Path, output_path: Path, threads: int,
                 scratch: Path) -> list[str]:
    """Command line that runs ``input_path`` as plain Python inside Psi4's interpreter."""
    return [*shlex.split(executable), "-k", "-n", str(int(threads)), "-s", str(scratch),
            "-i", str(input_path), "-o", str(output_path)]


_INPUT_TEMPLATE = """\
# Generated by virialff.qc.psi4_process: plain Python, run with `psi4 -k`.
import sys
sys.path.insert(0, {workdir!r})
import {module}
{module}.main({jobs!r}, {results!r})
"""


def _tail(path: Path, n_chars: int = 3000) -> str:
    try:
        return path.read_text(errors="replace")[-n_chars:]
    except OSError:
        return ""


def run_psi4_jobs(
    jobs: Sequence[Psi4Job],
    settings: Psi4Settings,
    workdir: Path | str | None = None,
    log_path: Path | str | None = None,
) -> list[Psi4Result]:
    """Run ``jobs`` in one Psi4 process; return one :class:`Psi4Result` per job, in order.

    ``workdir``: where input, Psi4 output, scratch and per-job results go (kept when given;
    a temporary folder, deleted afterwards, when ``None``). A kept work folder makes the call
    resumable: a job whose result is already there (same job, same options:
    :func:`job_result_name`) is not run again. ``log_path``: Psi4's output file and the
    process's stdout/stderr are appended there. Never raises for a failed job: a job without a
    result after a crash or timeout comes back ``ok=False`` with ``error_kind="psi4_failed"``
    and the tail of Psi4's output. Raises :class:`Psi4Interrupted` when the process was killed
    by a signal, which says nothing about the molecules.
    """
    if not jobs:
        return []
    ids = [job.job_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError("job ids must be unique")
    temporary = workdir is None
    work = Path(tempfile.mkdtemp(prefix="virialff-psi4-")) if temporary else Path(workdir)
    try:
        return _run(jobs, settings, work.resolve(), log_path)
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)


def _run(jobs: Sequence[Psi4Job], settings: Psi4Settings, work: Path,
         log_path: Path | str | None) -> list[Psi4Result]:
    work.mkdir(parents=True, exist_ok=True)
    results_dir = work / "results"
    scratch = work / "scratch"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    results_dir.mkdir(exist_ok=True)
    names = [job_result_name(job, settings) for job in jobs]
    pending = [(job, name) for job, name in zip(jobs, names, strict=True)
               if not (results_dir / f"{name}.json").exists()]
    note, tail = (_run_process(pending, settings, work, results_dir, scratch, log_path)
                  if pending else ("", ""))
    return [_read_result(job, name, results_dir, note, tail)
            for job, name in zip(jobs, names, strict=True)]


def _run_process(pending: Sequence[tuple[Psi4Job, str]], settings: Psi4Settings, work: Path,
                 results_dir: Path, scratch: Path, log_path: Path | str | None
                 ) -> tuple[str, str]:
    """Run the ``(job, result name)`` pairs in one Psi4 process; returns what went wrong with
    the process ("" if nothing) and the tail of its output, for the jobs it did not finish.
    Those are not stored (a rerun retries them), and :class:`Psi4Interrupted` is raised when
    a signal killed the process."""
    shutil.copyfile(WORKER_PATH, work / f"{WORKER_MODULE}.py")
    jobs_path = work / "jobs.json"
    payload = {
        "settings": {"memory": settings.memory, "threads": settings.threads,
                     "options": settings.options},
        "jobs": [{**job.to_json(), "result_name": name} for job, name in pending],
    }
    jobs_path.write_text(json.dumps(payload, indent=1))
    input_path = work / "input.py"
    input_path.write_text(_INPUT_TEMPLATE.format(
        workdir=str(work), module=WORKER_MODULE, jobs=str(jobs_path), results=str(results_dir)))
    output_path = work / "output.dat"
    command = psi4_command(settings.executable, input_path, output_path, settings.threads, scratch)
    env = dict(os.environ)
    # Psi4 reads threads from -n; these keep BLAS from oversubscribing on top of that.
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(settings.threads)
    env["PSI_SCRATCH"] = str(scratch)
    # The workflow's PYTHONPATH points at src/ for the workflow's Python; Psi4's interpreter
    # must not pick up packages built for another Python version.
    env.pop("PYTHONPATH", None)
    start = time.perf_counter()
    process_note = ""
    try:
        completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                   timeout=settings.timeout_s)
        stdout, stderr, returncode = completed.stdout, completed.stderr, completed.returncode
    except subprocess.TimeoutExpired as expired:
        stdout = _decode(expired.stdout)
        stderr = _decode(expired.stderr)
        returncode = None
        process_note = f"psi4 process timed out after {settings.timeout_s} s"
    except FileNotFoundError:
        stdout, stderr, returncode = "", "", None
        process_note = f"psi4 executable {settings.executable!r} not found"
    elapsed = time.perf_counter() - start
    if returncode not in (0, None):
        process_note = f"psi4 process exited with status {returncode}"
    if log_path is not None:
        with open(log_path, "a") as log:
            log.write(f"$ {shlex.join(command)}\n")
            log.write(f"# {elapsed:.1f} s, exit status {returncode} {process_note}\n")
            log.write(stdout)
            log.write(stderr)
            log.write("\n# ---- psi4 output.dat ----\n")
            log.write(_tail(output_path, 10**7))
    unfinished = [name for _, name in pending if not (results_dir / f"{name}.json").exists()]
    if unfinished and returncode is not None and returncode < 0:
        raise Psi4Interrupted(
            f"psi4 process killed by signal {-returncode} with {len(unfinished)} of "
            f"{len(pending)} jobs unfinished; the finished ones are kept in {results_dir}")
    return process_note, stderr or _tail(output_path)


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def _read_result(job: Psi4Job, name: str, results_dir: Path, process_note: str,
                 tail: str) -> Psi4Result:
    path = results_dir / f"{name}.json"
    if not path.exists():
        note = process_note or "psi4 process ended before this job"
        return Psi4Result(
            job_id=job.job_id, ok=False, error_kind="psi4_failed",
            error_message=f"{note}; no result for {job.job_id}. Output tail: {tail[-1500:]}",
        )
    raw = json.loads(path.read_text())
    arrays: dict[str, np.ndarray] = {}
    npz = results_dir / f"{name}.npz"
    if raw.get("arrays") and npz.exists():
        with np.load(npz) as data:
            arrays = {key: data[key] for key in data.files}
    positions = raw.get("positions_angstrom")
    error_kind = raw.get("error_kind") or ""
    if error_kind and error_kind not in ERROR_KINDS:
        error_kind = "psi4_failed"
    wfn_path = results_dir / f"{name}.wfn.npy"
    result = Psi4Result(
        job_id=job.job_id,
        ok=bool(raw.get("ok")),
        energy_hartree=raw.get("energy_hartree"),
        kinetic_hartree=raw.get("kinetic_hartree"),
        scf_iterations=raw.get("scf_iterations"),
        wall_s=float(raw.get("wall_s", 0.0)),
        error_kind=error_kind,
        error_message=raw.get("error_message", ""),
        variables=raw.get("variables") or {},
        arrays=arrays,
        atomic_numbers=raw.get("atomic_numbers"),
        positions_angstrom=np.asarray(positions, dtype=float) if positions else None,
        sum_rule_residual_hartree=raw.get("sum_rule_residual_hartree"),
        n_electrons_from_density=raw.get("n_electrons_from_density"),
        one_electron_residual_hartree=raw.get("one_electron_residual_hartree"),
        engine=str(raw.get("engine", "")),
        wavefunction_path=wfn_path if wfn_path.exists() else None,
        dipole_debye=(np.asarray(raw["dipole_debye"], dtype=float)
                      if raw.get("dipole_debye") is not None else None),
        cpu_s=raw.get("cpu_s"),
    )
    if result.ok and result.energy_hartree is not None and not math.isfinite(result.energy_hartree):
        result.ok, result.error_kind = False, "nan_value"
        result.error_message = f"non-finite energy for {job.job_id}"
    if not result.ok and job.job_id not in result.error_message:
        result.error_message = f"{job.job_id}: {result.error_message}"
    return result
