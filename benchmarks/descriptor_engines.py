"""Descriptor engines compared: molecules/s of ωB97X-D/def2-SVP K·D by heavy-atom count.

Rows: Psi4 (the worker of :mod:`virialff.qc.psi4_process`, one thread), PySCF on the CPU
(:mod:`virialff.qc.pyscf_engine`, one thread, Psi4-compatible grid and DF) and gpu4pyscf
where CUDA and gpu4pyscf exist (else the row says why it was not measured). Each size is one
drug-like molecule embedded with RDKit (ETKDG + MMFF); the time is the engine's own
per-molecule wall time (SCF + K·D; Psi4's process start-up is reported separately), so
molecules/s = 1 / wall time, and the CPU time the engine used (Psi4: its process, start-up
included; PySCF: this process), which stays meaningful on a shared, loaded machine where wall
time is inflated. The table also gives |E_PySCF − E_Psi4| and the largest |ΔKD_atom| for the
same geometry.

    python benchmarks/descriptor_engines.py                 # 10, 20 and 40 heavy atoms
    python benchmarks/descriptor_engines.py --quick         # 10 heavy atoms only
    python benchmarks/descriptor_engines.py --heavy-atoms 10 20 --engines psi4 pyscf
    python benchmarks/descriptor_engines.py --heavy-atoms 10 20 --engines psi4 --gradient

``--gradient`` adds the row ``psi4+gradient``: the same molecule as one ``psi4.gradient`` job
(SCF, K·D, analytic forces and the dipole from one wavefunction, as the descriptor stage runs
it with ``descriptors.gradient``), in the same Psi4 process right after the energy job, and its
``gradient_energy_cpu_ratio`` (each job's own CPU time, one thread).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from dataclasses import replace  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from virialff.config import default_config  # noqa: E402
from virialff.qc.psi4_process import Psi4Job, Psi4Settings, run_psi4_jobs  # noqa: E402
from virialff.qc.pyscf_engine import (  # noqa: E402
    gpu_unavailable_reason,
    pyscf_settings_from_config,
    run_pyscf_jobs,
)

#: heavy atoms → (name, SMILES); drug-like, with Cl/S where the size allows.
MOLECULES_BY_HEAVY_ATOMS = {
    10: ("2-chlorobenzoic acid", "OC(=O)c1ccccc1Cl"),
    20: ("diclofenac methyl ester", "COC(=O)Cc1ccccc1Nc1c(Cl)cccc1Cl"),
    21: ("chlorpromazine", "CN(C)CCCN1c2ccccc2Sc2ccc(Cl)cc21"),
    33: ("glibenclamide", "COc1ccc(Cl)cc1C(=O)NCCc1ccc(S(=O)(=O)NC(=O)NC2CCCCC2)cc1"),
    40: (
        "telmisartan methyl ester",
        "CCCc1nc2c(C)cc(-c3nc4ccccc4n3C)cc2n1Cc1ccc(-c2ccccc2C(=O)OC)cc1",
    ),
}
ENGINES = ("psi4", "pyscf", "gpu4pyscf")


def molecule_for(heavy_atoms: int) -> tuple[str, list[str], np.ndarray]:
    """(name, symbols [N], positions [N, 3] Å) with exactly ``heavy_atoms`` heavy atoms: a
    table molecule, else a linear alkanol C_(n-1)H_(2n-1)OH."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    name, smiles = MOLECULES_BY_HEAVY_ATOMS.get(
        heavy_atoms, (f"C{heavy_atoms - 1} alkanol", "C" * (heavy_atoms - 1) + "O")
    )
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    if mol.GetNumHeavyAtoms() != heavy_atoms:
        raise ValueError(f"{name} has {mol.GetNumHeavyAtoms()} heavy atoms, not {heavy_atoms}")
    if AllChem.EmbedMolecule(mol, randomSeed=7) != 0:
        raise RuntimeError(f"RDKit could not embed {name}")
    AllChem.MMFFOptimizeMolecule(mol)
    return (
        name,
        [a.GetSymbol() for a in mol.GetAtoms()],
        np.asarray(mol.GetConformer().GetPositions(), dtype=float),
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heavy-atoms", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--quick", action="store_true", help="10 heavy atoms only")
    parser.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    parser.add_argument("--psi4", default="psi4", help="Psi4 executable")
    parser.add_argument("--memory-mb", type=int, default=8000, help="per engine")
    parser.add_argument("--output", type=Path, help="write the measurements as JSON here")
    parser.add_argument("--gradient", action="store_true",
                        help="also time the energy + gradient job of the descriptor stage")
    args = parser.parse_args(argv)
    sizes = [10] if args.quick else args.heavy_atoms

    rows = []
    for heavy in sizes:
        name, symbols, positions = molecule_for(heavy)
        job = Psi4Job(
            job_id=f"h{heavy}",
            symbols=symbols,
            positions_angstrom=positions,
            method="wb97x-d",
            basis="def2-svp",
            kinetic_descriptors=True,
        )
        print(f"\n{heavy} heavy atoms: {name} ({len(symbols)} atoms)", flush=True)
        results: dict = {}
        cpu_s: dict[str, float] = {}
        if "psi4" in args.engines:
            settings = Psi4Settings(
                executable=args.psi4,
                memory=f"{args.memory_mb} MB",
                threads=1,
                timeout_s=None,
                options={
                    "scf_type": "df",
                    "e_convergence": 1e-8,
                    "d_convergence": 1e-8,
                    "maxiter": 100,
                },
            )
            start = time.perf_counter()
            before = _children_cpu_s()
            jobs = [job]
            if args.gradient:
                jobs.append(replace(job, job_id=f"h{heavy}-gradient", gradient=True))
            with tempfile.TemporaryDirectory(prefix="virialff-engine-bench-") as tmp:
                result, *with_gradient = run_psi4_jobs(jobs, settings, workdir=tmp)
            process_s = time.perf_counter() - start
            results["psi4"] = result
            if with_gradient:
                results["psi4+gradient"] = with_gradient[0]
                # each job's own CPU time (the worker's, one thread): on a shared machine the
                # wall times of two jobs run minutes apart are not comparable
                cpu_s["psi4+gradient"] = with_gradient[0].cpu_s
                print(f"  psi4+gradient: {with_gradient[0].wall_s:.1f} s per molecule, CPU "
                      f"{with_gradient[0].cpu_s:.1f} s against {result.cpu_s:.1f} s for the "
                      f"energy (ratio {with_gradient[0].cpu_s / result.cpu_s:.2f}) "
                      f"{with_gradient[0].error_message[:200]}", flush=True)
            cpu_s["psi4"] = _children_cpu_s() - before
            print(
                f"  psi4: {result.wall_s:.1f} s per molecule (process {process_s:.1f} s, "
                f"CPU {cpu_s['psi4']:.1f} s) {result.error_message[:200]}",
                flush=True,
            )
        for engine, device in (("pyscf", "cpu"), ("gpu4pyscf", "gpu")):
            if engine not in args.engines:
                continue
            if device == "gpu" and gpu_unavailable_reason():
                results[engine] = f"not measured: {gpu_unavailable_reason()}"
                print(f"  {engine}: {results[engine]}", flush=True)
                continue
            settings = replace(
                pyscf_settings_from_config(default_config()["descriptors"]),
                memory_mb=args.memory_mb, threads=1, device=device,
            )
            before = time.process_time()
            (result,) = run_pyscf_jobs([job], settings)
            cpu_s[engine] = time.process_time() - before
            results[engine] = result
            print(
                f"  {engine}: {result.wall_s:.1f} s per molecule (CPU {cpu_s[engine]:.1f} s) "
                f"{result.error_message[:200]}",
                flush=True,
            )
        psi4 = results.get("psi4")
        for engine, result in results.items():
            row = {"heavy_atoms": heavy, "atoms": len(symbols), "molecule": name, "engine": engine}
            if isinstance(result, str):
                row["note"] = result
            elif not result.ok:
                row["note"] = f"failed: {result.error_kind}"
            else:
                row.update(
                    wall_s=result.wall_s,
                    molecules_per_s=1.0 / result.wall_s,
                    cpu_s=cpu_s[engine],
                    version=result.engine,
                )
                if engine == "psi4+gradient" and psi4 is not None and psi4.ok:
                    row["gradient_energy_cpu_ratio"] = result.cpu_s / psi4.cpu_s
                    row["energy_job_cpu_s"] = psi4.cpu_s
                    row["delta_e_hartree"] = result.energy_hartree - psi4.energy_hartree
                elif engine != "psi4" and psi4 is not None and not isinstance(psi4, str) and (
                        psi4.ok):
                    row["delta_e_hartree"] = result.energy_hartree - psi4.energy_hartree
                    row["max_delta_kd_atom_hartree"] = float(
                        np.max(
                            np.abs(
                                result.arrays["kd_atom_hartree"] - psi4.arrays["kd_atom_hartree"]
                            )
                        )
                    )
            rows.append(row)

    print(
        f"\n{'heavy':>5s} {'atoms':>5s} {'engine':10s} {'s/molecule':>11s} {'molecules/s':>12s}"
        f" {'CPU s':>8s} {'|ΔE| vs Psi4':>13s} {'max|ΔKD_atom|':>14s}  note"
    )
    for row in rows:
        if "wall_s" in row:
            delta_e = (
                f"{abs(row['delta_e_hartree']):13.1e}" if "delta_e_hartree" in row else f"{'':13s}"
            )
            delta_kd = (
                f"{row['max_delta_kd_atom_hartree']:14.1e}"
                if "max_delta_kd_atom_hartree" in row
                else f"{'':14s}"
            )
            print(
                f"{row['heavy_atoms']:5d} {row['atoms']:5d} {row['engine']:10s} "
                f"{row['wall_s']:11.1f} {row['molecules_per_s']:12.4f} {row['cpu_s']:8.1f} "
                f"{delta_e} {delta_kd}"
                f"  {row.get('version', '')}"
            )
        else:
            print(
                f"{row['heavy_atoms']:5d} {row['atoms']:5d} {row['engine']:10s} "
                f"{'':11s} {'':12s} {'':8s} {'':13s} {'':14s}  {row['note']}"
            )
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
