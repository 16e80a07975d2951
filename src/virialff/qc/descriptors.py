"""Descriptor stage: E, forces and K·D descriptors (:mod:`virialff.qc.kd`) for one shard of
geometries, from Psi4, PySCF or stored Psi4 wavefunctions, or restored from the cache.

Basis functions map to atoms through Psi4's ``basisset().function_to_center``. All molecules of
a shard run in ONE Psi4 process (:mod:`virialff.qc.psi4_process`). The shard is written in the
format of :mod:`virialff.formats.descriptors_npz` (KD of the bonded pairs of the geometry's
graph plus the non-bonded remainder) with a status table.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from virialff.chem.elements import ATOMIC_NUMBERS
from virialff.errors import MoleculeRejected
from virialff.formats.descriptors_npz import (
    MoleculeDescriptors,
    check_descriptors,
    from_pair_matrix,
    write_descriptors_npz,
)
from virialff.formats.geometry_sdf import GeometryRecord, read_geometry_sdf
from virialff.formats.reference_cache import CachedMolecule, find_shard, input_digest, load_shard
from virialff.formats.status_table import StatusTable, read_status
from virialff.qc.kd import (
    GEOMETRY_TOLERANCE_ANGSTROM,
    ONE_ELECTRON_REFERENCE_D_CONVERGENCE,
    density_failure,
    one_electron_tolerance_hartree,
)
from virialff.qc.psi4_process import (
    Psi4Job,
    Psi4Result,
    psi4_settings_from_config,
    run_psi4_jobs,
)
from virialff.units import BOHR_TO_ANGSTROM, HARTREE_TO_KCAL_MOL

STAGE = "descriptors"


def check_result(result: Psi4Result, symbols: Sequence[str], positions_angstrom: np.ndarray,
                 molecule_id: str,
                 d_convergence: float = ONE_ELECTRON_REFERENCE_D_CONVERGENCE) -> None:
    """Reject a Psi4 result that failed, is non-finite, breaks the sum rule or moved atoms
    (``d_convergence``: the SCF density convergence the result was computed with)."""
    result.raise_if_failed()
    if result.energy_hartree is None or not math.isfinite(result.energy_hartree):
        raise MoleculeRejected(molecule_id, "nan_value", f"energy {result.energy_hartree}")
    n_atoms = len(symbols)
    kd_atom = result.arrays.get("kd_atom_hartree")
    kd_pair = result.arrays.get("kd_pair_hartree")
    if kd_atom is not None and kd_pair is not None and (
            kd_atom.shape != (n_atoms,) or kd_pair.shape != (n_atoms * (n_atoms - 1) // 2,)):
        raise MoleculeRejected(molecule_id, "psi4_failed",
                               f"descriptor shapes {kd_atom.shape}, {kd_pair.shape} "
                               f"do not match {n_atoms} atoms")
    kind, message = density_failure(
        result.kinetic_hartree, kd_atom, kd_pair, result.n_electrons_from_density,
        sum(ATOMIC_NUMBERS[s] for s in symbols), result.one_electron_residual_hartree,
        one_electron_tolerance_hartree(result.variables.get("ONE-ELECTRON ENERGY"),
                                       d_convergence))
    if kind:
        raise MoleculeRejected(molecule_id, "nan_value" if kind == "nan_value" else "psi4_failed",
                               message)
    expected_z = [ATOMIC_NUMBERS.get(s) for s in symbols]
    if result.atomic_numbers is not None and list(result.atomic_numbers) != expected_z:
        raise MoleculeRejected(molecule_id, "psi4_failed", "Psi4 changed the atom order")
    if result.positions_angstrom is not None:
        shift = float(np.max(np.abs(result.positions_angstrom - positions_angstrom)))
        if shift > GEOMETRY_TOLERANCE_ANGSTROM:
            raise MoleculeRejected(molecule_id, "psi4_failed",
                                   f"Psi4 moved the atoms by up to {shift:.2e} Å")


def descriptor_jobs(records: Sequence[GeometryRecord], method: str,
                    basis: str, gradient: bool = False) -> list[Psi4Job]:
    """One kinetic-descriptor :class:`Psi4Job` per usable geometry record (``gradient``: the
    same SCF also gives forces and the dipole)."""
    return [
        Psi4Job(job_id=r.molecule_id, symbols=r.symbols, positions_angstrom=r.positions_angstrom,
                method=method, basis=basis, charge=r.charge, kinetic_descriptors=True,
                gradient=gradient)
        for r in records
    ]


def result_forces(result: Psi4Result, n_atoms: int, molecule_id: str) -> np.ndarray | None:
    """Forces −∇E [A, 3] (kcal/mol/Å) of a result that carries a gradient, else ``None``;
    ``MoleculeRejected`` for a gradient of the wrong shape or with non-finite values."""
    gradient = result.arrays.get("gradient_hartree_per_bohr")
    if gradient is None:
        return None
    gradient = np.asarray(gradient, dtype=np.float64)
    if gradient.shape != (n_atoms, 3):
        raise MoleculeRejected(molecule_id, "psi4_failed",
                               f"gradient of shape {gradient.shape} for {n_atoms} atoms", STAGE)
    if not np.all(np.isfinite(gradient)):
        raise MoleculeRejected(molecule_id, "nan_value", "non-finite gradient", STAGE)
    return -gradient * (HARTREE_TO_KCAL_MOL / BOHR_TO_ANGSTROM)


def result_descriptors(record: GeometryRecord, result: Psi4Result,
                       d_convergence: float = ONE_ELECTRON_REFERENCE_D_CONVERGENCE
                       ) -> MoleculeDescriptors:
    """Checked descriptors of one molecule from its Psi4 result; ``MoleculeRejected`` with the
    reason when the result fails a check (:func:`check_result`,
    :func:`virialff.formats.descriptors_npz.check_descriptors`)."""
    check_result(result, record.symbols, record.positions_angstrom, record.molecule_id,
                 d_convergence)
    entry = from_pair_matrix(
        record.molecule_id, result.engine, result.energy_hartree, result.kinetic_hartree,
        [a.GetAtomicNum() for a in record.mol.GetAtoms()], result.arrays["kd_atom_hartree"],
        result.arrays["kd_pair_hartree"], record.bonds, result.scf_iterations or -1,
        result.wall_s, result_forces(result, len(record.symbols), record.molecule_id),
        result.dipole_debye)
    reason, message = check_descriptors(entry)
    if reason:
        raise MoleculeRejected(record.molecule_id, reason, message, STAGE)
    return entry


def psi4_program(executable: str) -> str:
    """``"psi4 <version>"`` of the Psi4 that ``executable`` starts (``psi4 --version``), or
    ``"psi4 unknown"`` when it cannot be asked."""
    import shlex
    import subprocess

    try:
        done = subprocess.run([*shlex.split(executable), "--version"], capture_output=True,
                              text=True, timeout=120)
        version = done.stdout.strip().splitlines()[-1].strip() if done.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired, IndexError):
        version = ""
    return f"psi4 {version or 'unknown'}"


def shard_input_digest(records: Sequence[GeometryRecord], method: str, basis: str,
                       scf_options: Mapping[str, Any], program: str,
                       gradient: bool = False) -> str:
    """:func:`virialff.formats.reference_cache.input_digest` of a geometry shard's usable
    records (unusable records are failures whatever the cache holds)."""
    return input_digest([
        CachedMolecule(r.molecule_id, tuple(a.GetAtomicNum() for a in r.mol.GetAtoms()),
                       r.charge, tuple(tuple(int(v) for v in b) for b in r.bonds),
                       r.positions_angstrom)
        for r in records if not r.error], method, basis, scf_options, program, gradient)


def restore_from_cache(cache_root: Path | str, digest: str, records: Sequence[GeometryRecord],
                       output_npz: Path | str, output_status: Path | str,
                       table: StatusTable) -> str | None:
    """Write the shard from the cache when it holds ``digest``; returns the cached shard's
    name, or ``None`` on a miss."""
    shard = find_shard(cache_root, digest)
    if shard is None:
        return None
    entries, _, entry, status_path = load_shard(cache_root, shard)
    usable = {r.molecule_id for r in records if not r.error}
    cached = {r.molecule_id: r for r in read_status(status_path)}
    if set(cached) != usable:
        raise ValueError(f"cache shard {shard} of {cache_root} matches the input digest but "
                         "lists other molecules; the cache manifest is corrupt")
    table.records.extend(cached[r.molecule_id] for r in records if not r.error)
    write_descriptors_npz(output_npz, entries, entry["method"], entry["basis"])
    return shard


def engine_results(records: Sequence[GeometryRecord], section: Mapping[str, Any],
                   log_path: Path | str | None = None,
                   workdir: Path | str | None = None) -> list[Psi4Result | MoleculeRejected]:
    """One result (or the rejection) per usable record, from the configured engine and source.

    ``section``: the complete ``descriptors`` section. ``source: scf`` runs ``engine`` (Psi4
    in one process for the shard, or PySCF in this process); ``source: wavefunction`` reads
    each conformer's stored Psi4 wavefunction (``wavefunction_pattern`` with ``root``,
    ``chembl_id``, ``conf``, ``molecule_id``) and takes E from the SDF's QMugs energy.
    """
    method, basis = str(section["method"]), str(section["basis"])
    if section["source"] == "wavefunction":
        from virialff.qc.wavefunction import descriptors_from_wavefunctions, wavefunction_path

        paths = []
        for record in records:
            props = record.properties
            conf = props.get("conf_id", "0").removeprefix("conf_").removeprefix("conf")
            paths.append(wavefunction_path(
                section["wavefunction_pattern"], root=section["wavefunction_root"],
                chembl_id=props.get("chembl_id", ""), conf=int(conf or 0),
                molecule_id=record.molecule_id))
        energies = [float(r.properties["dft_total_energy_hartree"])
                    if "dft_total_energy_hartree" in r.properties else None for r in records]
        return descriptors_from_wavefunctions(records, paths, energies, basis)
    jobs = descriptor_jobs(records, method, basis, bool(section["gradient"]))
    if section["engine"] == "pyscf":
        from virialff.qc.pyscf_engine import pyscf_settings_from_config, run_pyscf_jobs

        return list(run_pyscf_jobs(jobs, pyscf_settings_from_config(section)))
    settings = psi4_settings_from_config(section)
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="virialff-psi4-") as tmp:
            return list(run_psi4_jobs(jobs, settings, workdir=tmp, log_path=log_path))
    return list(run_psi4_jobs(jobs, settings, workdir=workdir, log_path=log_path))


def engine_program(section: Mapping[str, Any]) -> str:
    """Program and version that produce the descriptors (enters the cache digest)."""
    if section["engine"] == "pyscf":
        from virialff.qc.pyscf_engine import pyscf_version

        return f"pyscf {pyscf_version()} ({section['pyscf']['device']})"
    return psi4_program(section["psi4_executable"])


def run_descriptor_shard(
    geometry_sdf: Path | str,
    output_npz: Path | str,
    output_status: Path | str,
    section: Mapping[str, Any],
    cache_root: Path | str | None = None,
    log_path: Path | str | None = None,
    workdir: Path | str | None = None,
) -> StatusTable:
    """Compute E, T and K·D for every molecule of a geometry SDF, or restore them from the
    cache of expensive results.

    ``section``: the complete ``descriptors`` config section (level of theory, SCF settings,
    engine, source, and the execution settings: executable, memory, threads, timeout);
    ``cache_root``: a cache folder (:mod:`virialff.formats.reference_cache`) or ``None``
    (only SCF results are cached). Writes ``output_npz`` (converged molecules only) and
    ``output_status`` (every molecule). ``workdir`` keeps Psi4's files.
    """
    method, basis = str(section["method"]), str(section["basis"])
    records = read_geometry_sdf(geometry_sdf)
    table = StatusTable(STAGE)
    usable = []
    for record in records:
        if record.error:
            table.failed(record.molecule_id, "bad_sdf",
                         f"molecule {record.molecule_id}: bad_sdf: {record.error}")
        else:
            usable.append(record)
    if cache_root is not None and usable and section["source"] == "scf":
        program = engine_program(section)
        scf = {k: section[k] for k in ("scf_type", "e_convergence", "d_convergence")}
        # With gradients on, a shard cached without them still serves (its molecules train on
        # energies alone) rather than being computed twice; the other way round never.
        shard = None
        for gradient in dict.fromkeys((bool(section["gradient"]), False)):
            digest = shard_input_digest(records, method, basis, scf, program, gradient)
            shard = restore_from_cache(cache_root, digest, records, output_npz, output_status,
                                       table)
            if log_path is not None:
                with open(log_path, "a") as log:
                    log.write(f"# cache {cache_root}: input digest {digest} ({program}, "
                              f"{'energy and forces' if gradient else 'energy only'}): "
                              + (f"restored from cached shard {shard}\n" if shard
                                 else "miss\n"))
            if shard is not None:
                break
        if shard is not None:
            table.write(output_status)
            table.append_to_log(log_path)
            return table
    results = engine_results(usable, section, log_path, workdir) if usable else []
    entries = []
    for record, result in zip(usable, results, strict=True):
        if isinstance(result, MoleculeRejected):
            table.rejected(result)
            continue
        try:
            entry = result_descriptors(record, result, float(section["d_convergence"]))
        except MoleculeRejected as error:
            table.rejected(error, result.wall_s)
            continue
        entries.append(entry)
        forces = (f", |Σ F| = {np.linalg.norm(entry.forces_kcal_mol_angstrom.sum(axis=0)):.1e} "
                  "kcal/mol/Å" if entry.has_forces else "")
        table.ok(record.molecule_id, result.wall_s,
                 f"T/-E = {entry.kinetic_hartree / -entry.energy_hartree:.4f}, "
                 f"{entry.scf_iterations} SCF iterations, {entry.engine}{forces}")
    write_descriptors_npz(output_npz, entries, method, basis)
    table.write(output_status)
    table.append_to_log(log_path)
    return table
