"""One real Psi4 run shared by ``test_wavefunction.py`` and ``test_pyscf_engine.py``.

Water, ethanol and methanesulfenyl chloride (CH3SCl: S and Cl) at ωB97X-D/def2-SVP with
density fitting and the convergence of ``config.yaml`` (e/d_convergence 1e-8), in ONE Psi4
process through :func:`virialff.qc.psi4_process.run_psi4_jobs`, with K·D computed live by the
worker, the analytic gradient and dipole from the same SCF (``gradient=True``), and each
wavefunction written by ``wfn.to_file`` (``save_wavefunction=True``).
The run happens on first use and is cached for the test session.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

import numpy as np

from virialff.qc.psi4_process import Psi4Job, Psi4Result, Psi4Settings, run_psi4_jobs

#: name → (symbols, positions [N, 3] Å); RDKit ETKDG + MMFF geometries rounded to 1e-4 Å.
REFERENCE_MOLECULES: dict[str, tuple[list[str], np.ndarray]] = {
    "water": (
        ["O", "H", "H"],
        np.array([[0.0073, 0.3977, 0.0000], [-0.7670, -0.1849, 0.0000], [0.7597, -0.2129, 0.0000]]),
    ),
    "ethanol": (
        ["C", "C", "O", "H", "H", "H", "H", "H", "H"],
        np.array(
            [
                [-0.8544, 0.2235, 0.2418],
                [0.3871, -0.3585, -0.4015],
                [1.5316, 0.3843, -0.0073],
                [-1.7476, -0.3278, -0.0651],
                [-0.9749, 1.2758, -0.0359],
                [-0.7771, 0.1892, 1.3335],
                [0.5283, -1.4032, -0.1080],
                [0.3103, -0.3138, -1.4917],
                [1.5966, 0.3305, 0.9614],
            ]
        ),
    ),
    "methanesulfenyl_chloride": (
        ["C", "S", "Cl", "H", "H", "H"],
        np.array(
            [
                [-0.5711, -0.0295, -0.0225],
                [0.8573, 1.0578, -0.2216],
                [2.3319, -0.2792, 0.1924],
                [-0.6108, -0.4252, 0.9960],
                [-1.4868, 0.5364, -0.2129],
                [-0.5204, -0.8603, -0.7314],
            ]
        ),
    ),
}

PSI4_SETTINGS = Psi4Settings(
    executable="psi4",
    memory="1 GB",
    threads=1,
    timeout_s=900,
    options={"scf_type": "df", "maxiter": 100, "e_convergence": 1e-8, "d_convergence": 1e-8},
)


@functools.cache
def psi4_reference() -> dict[str, Psi4Result]:
    """name → :class:`Psi4Result` with live K·D and ``wavefunction_path`` (the ``.npy``)."""
    workdir = Path(tempfile.mkdtemp(prefix="virialff-psi4-reference-"))
    atexit.register(shutil.rmtree, workdir, ignore_errors=True)
    jobs = [
        Psi4Job(
            job_id=name,
            symbols=symbols,
            positions_angstrom=positions,
            method="wb97x-d",
            basis="def2-svp",
            kinetic_descriptors=True,
            save_wavefunction=True,
            gradient=True,
        )
        for name, (symbols, positions) in REFERENCE_MOLECULES.items()
    ]
    results = run_psi4_jobs(jobs, PSI4_SETTINGS, workdir=workdir)
    for result in results:
        result.raise_if_failed()
    return {result.job_id: result for result in results}
