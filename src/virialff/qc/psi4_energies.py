"""DFT reference energies for the benchmarks: counterpoise-corrected interaction energies and
single points, run through :mod:`virialff.qc.psi4_process` (one Psi4 process per chunk of jobs).

Counterpoise correction (Boys & Bernardi, Mol. Phys. 19, 553 (1970)) uses Psi4's nbody driver
(``psi4.energy(method, bsse_type="cp")``), which returns E_AB − E_A − E_B with both monomers in
the dimer basis (Hartree, negative = bound). :func:`cp_interaction_energies` turns that into this
package's convention, ``E_int = E_A + E_B − E_AB`` in kcal/mol (positive = bound).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.qc.psi4_process import Psi4Job, Psi4Result, Psi4Settings, run_psi4_jobs
from virialff.units import HARTREE_TO_KCAL_MOL

DEFAULT_METHOD = "wb97x-d"
DEFAULT_BASIS = "def2-svp"


@dataclass
class EnergyOutcome:
    """Result of one benchmark Psi4 calculation.

    ``value_kcal_mol`` is the interaction energy (positive = bound) for a CP job, the total
    energy for a single point; NaN when ``ok`` is false (``reason`` one of
    :data:`virialff.errors.REASONS`, ``message`` names the system and the cause).
    """

    item_id: str
    ok: bool
    value_kcal_mol: float
    wall_s: float
    reason: str = ""
    message: str = ""
    energy_hartree: float | None = None


def settings_from_config(section: Mapping[str, Any]) -> Psi4Settings:
    """:class:`Psi4Settings` from the ``descriptors:`` section (program, memory, threads, SCF)."""
    from virialff.qc.psi4_process import psi4_settings_from_config

    return psi4_settings_from_config(section)


def _chunks(items: Sequence, size: int) -> list[Sequence]:
    size = max(1, int(size))
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run_chunked(jobs: list[Psi4Job], settings: Psi4Settings, chunk_size: int,
                 workdir: Path | str | None, log_path: Path | str | None) -> list[Psi4Result]:
    results: list[Psi4Result] = []
    for index, chunk in enumerate(_chunks(jobs, chunk_size)):
        work = None if workdir is None else Path(workdir) / f"chunk{index:03d}"
        results += run_psi4_jobs(list(chunk), settings, workdir=work, log_path=log_path)
    return results


def cp_interaction_energies(
    items: Sequence[Mapping[str, Any]],
    settings: Psi4Settings,
    *,
    method: str = DEFAULT_METHOD,
    basis: str = DEFAULT_BASIS,
    chunk_size: int = 8,
    workdir: Path | str | None = None,
    log_path: Path | str | None = None,
) -> list[EnergyOutcome]:
    """Counterpoise-corrected interaction energies of complexes.

    Args:
        items: dicts with ``item_id``, ``symbols`` [A], ``positions_angstrom`` [A, 3],
            ``fragment_sizes`` [F], optional ``fragment_charges`` [F].
        settings: Psi4 process settings.
        chunk_size: complexes per Psi4 process.

    Returns:
        One :class:`EnergyOutcome` per item, ``value_kcal_mol = E_A + E_B − E_AB`` (> 0 bound).
    """
    jobs = [
        Psi4Job(job_id=str(it["item_id"]), symbols=list(it["symbols"]),
                positions_angstrom=np.asarray(it["positions_angstrom"], dtype=float),
                method=method, basis=basis, fragment_sizes=list(it["fragment_sizes"]),
                fragment_charges=list(it.get("fragment_charges") or [0] * len(
                    it["fragment_sizes"])),
                bsse_type="cp")
        for it in items
    ]
    outcomes = []
    for result in _run_chunked(jobs, settings, chunk_size, workdir, log_path):
        if result.ok:
            bind = result.variables.get("COUNTERPOISE CORRECTED INTERACTION ENERGY",
                                        result.energy_hartree)
            outcomes.append(EnergyOutcome(result.job_id, True, -float(bind) * HARTREE_TO_KCAL_MOL,
                                          result.wall_s, energy_hartree=float(bind)))
        else:
            outcomes.append(EnergyOutcome(result.job_id, False, float("nan"), result.wall_s,
                                          result.error_kind or "psi4_failed",
                                          result.error_message))
    return outcomes


def _molecule_jobs(
    items: Sequence[Mapping[str, Any]], method: str, basis: str, optimize: bool = False
) -> list[Psi4Job]:
    return [
        Psi4Job(job_id=str(it["item_id"]), symbols=list(it["symbols"]),
                positions_angstrom=np.asarray(it["positions_angstrom"], dtype=float),
                method=method, basis=basis, charge=int(it.get("charge", 0)), optimize=optimize)
        for it in items
    ]


def _total_energy_outcome(result) -> EnergyOutcome:  # noqa: ANN001 - Psi4Result
    if result.ok:
        return EnergyOutcome(result.job_id, True,
                             float(result.energy_hartree) * HARTREE_TO_KCAL_MOL, result.wall_s,
                             energy_hartree=float(result.energy_hartree))
    return EnergyOutcome(result.job_id, False, float("nan"), result.wall_s,
                         result.error_kind or "psi4_failed", result.error_message)


def single_point_energies(
    items: Sequence[Mapping[str, Any]],
    settings: Psi4Settings,
    *,
    method: str = DEFAULT_METHOD,
    basis: str = DEFAULT_BASIS,
    chunk_size: int = 50,
    workdir: Path | str | None = None,
    log_path: Path | str | None = None,
) -> list[EnergyOutcome]:
    """Total energies (kcal/mol) of molecules given as dicts with ``item_id``, ``symbols`` [A],
    ``positions_angstrom`` [A, 3] and optional ``charge``."""
    jobs = _molecule_jobs(items, method, basis)
    return [
        _total_energy_outcome(result)
        for result in _run_chunked(jobs, settings, chunk_size, workdir, log_path)
    ]


def optimize_geometries(
    items: Sequence[Mapping[str, Any]],
    settings: Psi4Settings,
    *,
    method: str = DEFAULT_METHOD,
    basis: str = DEFAULT_BASIS,
    chunk_size: int = 20,
    workdir: Path | str | None = None,
    log_path: Path | str | None = None,
) -> list[tuple[EnergyOutcome, np.ndarray | None]]:
    """DFT geometry optimisations; returns (outcome with the final total energy, positions [A, 3]).

    Positions keep the input atom order and frame (Psi4 ``optimize`` with no_reorient, no_com).
    """
    jobs = _molecule_jobs(items, method, basis, optimize=True)
    return [
        (_total_energy_outcome(result), result.positions_angstrom if result.ok else None)
        for result in _run_chunked(jobs, settings, chunk_size, workdir, log_path)
    ]
