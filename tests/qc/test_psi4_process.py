"""One Psi4 process for many jobs: per-job errors stay per job, results come back structured."""

from __future__ import annotations

import numpy as np
import pytest
from qc_support import default_psi4_settings, needs_psi4

from virialff.qc.psi4_process import Psi4Job, run_psi4_jobs

WATER_SYMBOLS = ["O", "H", "H"]
WATER_ANGSTROM = np.array([[0.0, 0.0, 0.1173], [0.0, 0.7572, -0.4692], [0.0, -0.7572, -0.4692]])
SETTINGS = default_psi4_settings(
    memory="500 MB", threads=1,
    options={"scf_type": "df", "e_convergence": 1e-8, "d_convergence": 1e-8})


def water_job(job_id: str, **kwargs) -> Psi4Job:
    return Psi4Job(job_id, WATER_SYMBOLS, WATER_ANGSTROM, method="hf", basis="sto-3g", **kwargs)


@pytest.mark.psi4
@needs_psi4
def test_a_non_converging_scf_fails_alone_and_the_next_job_still_runs():
    results = run_psi4_jobs(
        [water_job("stuck", options={"maxiter": 2}), water_job("fine")], SETTINGS
    )
    stuck, fine = results
    assert not stuck.ok
    assert stuck.error_kind == "scf_not_converged"
    assert "stuck" in stuck.error_message
    assert fine.ok
    assert fine.energy_hartree == pytest.approx(-74.96, abs=0.02)  # HF/STO-3G water
    assert fine.scf_iterations is not None and fine.scf_iterations > 2
    assert fine.atomic_numbers == [8, 1, 1]
    np.testing.assert_allclose(fine.positions_angstrom, WATER_ANGSTROM, atol=1e-10)


@pytest.mark.psi4
@needs_psi4
def test_counterpoise_jobs_return_the_interaction_energy_and_psi4_variables():
    dimer = Psi4Job("dimer", WATER_SYMBOLS * 2, np.vstack([WATER_ANGSTROM, WATER_ANGSTROM + 3.0]),
                    method="hf", basis="sto-3g", fragment_sizes=[3, 3], bsse_type="cp")
    (result,) = run_psi4_jobs([dimer], SETTINGS)
    assert result.ok, result.error_message
    cp = result.variables["COUNTERPOISE CORRECTED INTERACTION ENERGY"]
    assert result.energy_hartree == pytest.approx(cp)
    assert abs(cp) < 0.01  # a weakly bound pair: a few kcal/mol at most


@pytest.mark.psi4
@needs_psi4
def test_a_timeout_fails_every_unfinished_job_with_a_reason():
    slow = default_psi4_settings(memory="500 MB", threads=1, timeout_s=1.0)
    # several seconds each, so neither can finish inside the limit however warm the machine is
    heavy = [
        Psi4Job(job_id, WATER_SYMBOLS, WATER_ANGSTROM, method="wb97x-d", basis="aug-cc-pvtz")
        for job_id in ("a", "b")
    ]
    results = run_psi4_jobs(heavy, slow)
    assert [r.ok for r in results] == [False, False]
    assert all(r.error_kind == "psi4_failed" and "timed out" in r.error_message for r in results)


def test_a_missing_psi4_executable_fails_every_job_without_raising(tmp_path):
    settings = default_psi4_settings(executable=str(tmp_path / "no-psi4"))
    (result,) = run_psi4_jobs([water_job("w")], settings)
    assert not result.ok
    assert result.error_kind == "psi4_failed"
    assert "not found" in result.error_message


def test_job_validation():
    with pytest.raises(ValueError, match="unique"):
        run_psi4_jobs([water_job("w"), water_job("w")], SETTINGS)
    with pytest.raises(ValueError, match="positions shape"):
        Psi4Job("w", ["O"], WATER_ANGSTROM, method="hf", basis="sto-3g").to_json()


@pytest.mark.psi4
@needs_psi4
def test_an_optimisation_returns_relaxed_positions_in_the_same_atom_order_and_lower_energy():
    stretched = np.array([[0.0, 0.0, 0.0], [0.0, 0.0, 0.95]])
    single, optimised = run_psi4_jobs(
        [
            Psi4Job("h2_sp", ["H", "H"], stretched, method="hf", basis="sto-3g"),
            Psi4Job("h2_opt", ["H", "H"], stretched, method="hf", basis="sto-3g", optimize=True),
        ],
        SETTINGS,
    )
    assert single.ok and optimised.ok, optimised.error_message
    bond = np.linalg.norm(optimised.positions_angstrom[1] - optimised.positions_angstrom[0])
    assert bond == pytest.approx(0.712, abs=0.01)  # HF/STO-3G equilibrium H–H distance
    assert optimised.energy_hartree < single.energy_hartree
    assert optimised.atomic_numbers == [1, 1]


@pytest.mark.psi4
@needs_psi4
def test_optimize_geometries_returns_each_molecules_relaxed_positions_and_energy_in_kcal_mol():
    from virialff.qc.psi4_energies import optimize_geometries

    item = {"item_id": "h2", "symbols": ["H", "H"],
            "positions_angstrom": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.95]]}
    ((outcome, positions),) = optimize_geometries([item], SETTINGS, method="hf", basis="sto-3g")
    assert outcome.ok
    assert np.linalg.norm(positions[1] - positions[0]) == pytest.approx(0.712, abs=0.01)
    assert outcome.value_kcal_mol == pytest.approx(outcome.energy_hartree * 627.5094740631)


@pytest.mark.psi4
@needs_psi4
def test_a_killed_psi4_leaves_its_jobs_resumable_one_by_one(tmp_path):
    """A signal that kills Psi4 says nothing about the molecules: no job is failed for it, the
    finished ones stay in the work folder, and a second call runs only the rest."""
    import dataclasses
    import json
    import shutil
    import stat

    from virialff.qc.psi4_process import Psi4Interrupted

    killer = tmp_path / "psi4-killed-after-one-job"
    killer.write_text(f"""#!/bin/bash
{shutil.which("psi4")} "$@" &
child=$!
while kill -0 $child 2>/dev/null; do
  if compgen -G "results/*.json" > /dev/null; then kill -9 $child; kill -9 $$; fi
  sleep 0.05
done
""")
    killer.chmod(killer.stat().st_mode | stat.S_IEXEC)
    jobs = [water_job("first"),
            Psi4Job("second", WATER_SYMBOLS, WATER_ANGSTROM, method="b3lyp", basis="def2-svp")]
    work = tmp_path / "work"
    with pytest.raises(Psi4Interrupted, match="killed by signal 9"):
        run_psi4_jobs(jobs, dataclasses.replace(SETTINGS, executable=str(killer)), work)
    assert len(list((work / "results").glob("*.json"))) == 1
    first, second = run_psi4_jobs(jobs, SETTINGS, work)
    assert first.ok and second.ok
    rerun = json.loads((work / "jobs.json").read_text())["jobs"]
    assert [job["job_id"] for job in rerun] == ["second"]
    # and a third call runs nothing: every result is kept
    (work / "jobs.json").unlink()
    assert [r.energy_hartree for r in run_psi4_jobs(jobs, SETTINGS, work)] == [
        first.energy_hartree, second.energy_hartree]
    assert not (work / "jobs.json").exists()
