"""Runs inside the Psi4 process: loops over a job list, one result file per job.

This file is executed by ``psi4 -k`` (Psi4's own interpreter with the preprocessor skipped), so
it imports only the standard library, NumPy and ``psi4`` -- never ``virialff``, whose
dependencies Psi4's Python need not have. :mod:`virialff.qc.psi4_process` copies it next to the
job list and starts it as the input file.

Every job is wrapped in ``try/except``: a failed SCF writes an error result and the loop goes on.
Each result is written as soon as the job ends, so results survive a later crash or timeout.
"""

import contextlib
import json
import math
import os
import sys
import time
import traceback

import numpy as np
import psi4

BOHR_TO_ANGSTROM = 0.529177210903


def _geometry_string(job):
    symbols = job["symbols"]
    positions = job["positions_angstrom"]
    sizes = job.get("fragment_sizes") or [len(symbols)]
    charges = job.get("fragment_charges") or (
        [job.get("charge", 0)] if len(sizes) == 1 else [0] * len(sizes)
    )
    multiplicities = job.get("fragment_multiplicities") or (
        [job.get("multiplicity", 1)] if len(sizes) == 1 else [1] * len(sizes)
    )
    lines = []
    start = 0
    for index, size in enumerate(sizes):
        if index:
            lines.append("--")
        lines.append(f"{charges[index]} {multiplicities[index]}")
        for atom in range(start, start + size):
            x, y, z = positions[atom]
            lines.append(f"{symbols[atom]} {x:.12f} {y:.12f} {z:.12f}")
        start += size
    # Psi4 would otherwise move, rotate and (with symmetry) reorder the atoms.
    lines += ["units angstrom", "symmetry c1", "no_reorient", "no_com"]
    return "\n".join(lines)


def _scalar_variables():
    getter = getattr(psi4.core, "scalar_variables", None) or psi4.core.variables
    out = {}
    for key, value in getter().items():
        with contextlib.suppress(TypeError, ValueError):
            out[str(key)] = float(value)
    return out


def _classify(error):
    names = [cls.__name__ for cls in type(error).__mro__]
    if "ConvergenceError" in names or "SCFConvergenceError" in names:
        return "scf_not_converged"
    return "psi4_failed"


def _kinetic_descriptors(wfn):
    """T = Tr(D K), KD_atom [A], KD_pair [A(A-1)/2] (triu order, both orders summed)."""
    basis = wfn.basisset()
    mints = psi4.core.MintsHelper(basis)
    kinetic = np.asarray(mints.ao_kinetic())
    overlap = np.asarray(mints.ao_overlap())
    potential = np.asarray(mints.ao_potential())
    # Da_subset("AO") transforms from the SO basis; with c1 symmetry it equals Da().
    density = np.asarray(wfn.Da_subset("AO")) + np.asarray(wfn.Db_subset("AO"))
    n_atoms = wfn.molecule().natom()
    centre = np.array([basis.function_to_center(mu) for mu in range(basis.nbf())], dtype=int)
    onehot = np.zeros((basis.nbf(), n_atoms))
    onehot[np.arange(basis.nbf()), centre] = 1.0
    # block[i, j] = sum over mu on i, nu on j of K_mu,nu D_mu,nu
    block = onehot.T @ (kinetic * density) @ onehot
    first, second = np.triu_indices(n_atoms, 1)
    kd_atom = np.diag(block).copy()
    kd_pair = block[first, second] + block[second, first]
    kinetic_energy = float(np.sum(kinetic * density))
    n_electrons_density = float(np.sum(overlap * density))
    # Tr(D (K + V)) must equal Psi4's "ONE-ELECTRON ENERGY": an independent check that D and K
    # live in the same basis and D is the converged density.
    one_electron = float(np.sum((kinetic + potential) * density))
    return kinetic_energy, kd_atom, kd_pair, n_electrons_density, one_electron


def _dipole_debye(wfn):
    """Total dipole moment [3] (Debye) of the SCF density, from one ``oeprop`` call.

    Psi4 1.3 stores it as the scalar variables ``<TITLE> DIPOLE X/Y/Z`` in Debye; 1.4 and later
    as the array variable ``<TITLE> DIPOLE`` in e·bohr."""
    psi4.oeprop(wfn, "DIPOLE", title="VIRIALFF")
    names = ("VIRIALFF DIPOLE X", "VIRIALFF DIPOLE Y", "VIRIALFF DIPOLE Z")
    if all(psi4.core.has_variable(name) for name in names):
        return [float(psi4.variable(name)) for name in names]
    au_to_debye = 2.541746473
    return (np.asarray(psi4.variable("VIRIALFF DIPOLE"), dtype=float).ravel()
            * au_to_debye).tolist()


def run_job(job, index, out_dir, settings):
    result = {"job_id": job["job_id"], "index": index, "ok": False, "error_kind": "",
              "error_message": "", "arrays": [], "engine": f"psi4 {psi4.__version__}"}
    name = job.get("result_name") or str(index)
    start = time.perf_counter()
    cpu_start = time.process_time()
    try:
        psi4.core.clean()
        psi4.core.clean_options()
        psi4.core.clean_variables()
        psi4.set_memory(settings["memory"])
        psi4.core.set_num_threads(int(settings["threads"]), quiet=True)
        options = dict(settings.get("options") or {})
        options.update(job.get("options") or {})
        options["basis"] = job["basis"]
        psi4.set_options(options)
        molecule = psi4.geometry(_geometry_string(job), name=f"job{index}")
        molecule.update_geometry()
        result["atomic_numbers"] = [int(molecule.Z(i)) for i in range(molecule.natom())]
        result["positions_angstrom"] = (
            np.asarray(molecule.geometry()) * BOHR_TO_ANGSTROM).tolist()
        kwargs = {"molecule": molecule}
        if job.get("optimize"):
            if job.get("bsse_type"):
                raise ValueError("optimize and bsse_type cannot be combined")
            energy, wfn = psi4.optimize(job["method"], return_wfn=True, **kwargs)
            result["positions_angstrom"] = (
                np.asarray(molecule.geometry()) * BOHR_TO_ANGSTROM).tolist()
        elif job.get("bsse_type"):
            kwargs["bsse_type"] = job["bsse_type"]
            energy = psi4.energy(job["method"], **kwargs)
            wfn = None
        elif job.get("gradient"):
            # One SCF gives the energy, the analytic gradient and (below) K·D and the dipole.
            gradient, wfn = psi4.gradient(job["method"], return_wfn=True, **kwargs)
            energy = psi4.variable("CURRENT ENERGY")
        else:
            energy, wfn = psi4.energy(job["method"], return_wfn=True, **kwargs)
        energy = float(energy)
        variables = _scalar_variables()
        result["energy_hartree"] = energy
        result["variables"] = variables
        if "SCF ITERATIONS" in variables:
            result["scf_iterations"] = int(round(variables["SCF ITERATIONS"]))
        arrays = {}
        if job.get("gradient") and not job.get("optimize") and not job.get("bsse_type"):
            arrays["gradient_hartree_per_bohr"] = np.asarray(gradient, dtype=float).reshape(-1, 3)
            if not np.all(np.isfinite(arrays["gradient_hartree_per_bohr"])):
                result["error_kind"] = "nan_value"
                raise FloatingPointError("non-finite gradient")
            result["dipole_debye"] = _dipole_debye(wfn)
        if job.get("kinetic_descriptors") and wfn is not None:
            kinetic, kd_atom, kd_pair, n_el, one_electron = _kinetic_descriptors(wfn)
            n_electrons = int(sum(result["atomic_numbers"])) - int(job.get("charge", 0))
            result["kinetic_hartree"] = kinetic
            result["n_electrons_from_density"] = n_el
            if "ONE-ELECTRON ENERGY" in variables:
                result["one_electron_residual_hartree"] = float(
                    one_electron - variables["ONE-ELECTRON ENERGY"])
            result["sum_rule_residual_hartree"] = float(kd_atom.sum() + kd_pair.sum() - kinetic)
            arrays["kd_atom_hartree"] = kd_atom
            arrays["kd_pair_hartree"] = kd_pair
            if abs(result["sum_rule_residual_hartree"]) > 1e-8:
                raise RuntimeError(
                    f"sum rule broken: sum KD_atom + sum KD_pair - T = "
                    f"{result['sum_rule_residual_hartree']:.3e} Eh"
                )
            if abs(n_el - n_electrons) > 1e-6:
                raise RuntimeError(
                    f"Tr(D S) = {n_el:.8f} but the molecule has {n_electrons} electrons: "
                    "the density is not in the AO basis of K"
                )
            if not all(math.isfinite(v) for v in (energy, kinetic)) or not (
                    np.all(np.isfinite(kd_atom)) and np.all(np.isfinite(kd_pair))):
                result["error_kind"] = "nan_value"
                raise FloatingPointError("non-finite energy or K.D descriptor")
        if not math.isfinite(energy):
            result["error_kind"] = "nan_value"
            raise FloatingPointError(f"non-finite energy {energy!r}")
        if job.get("save_wavefunction") and wfn is not None:
            wfn.to_file(os.path.join(out_dir, f"{name}.wfn"))
        if arrays:
            np.savez(os.path.join(out_dir, f"{name}.npz"), **arrays)
            result["arrays"] = sorted(arrays)
        result["ok"] = True
    except Exception as error:  # one job must never end the shard
        if not result["error_kind"]:
            result["error_kind"] = _classify(error)
        result["error_message"] = f"{type(error).__name__}: {error}"
        result["traceback"] = traceback.format_exc()[-4000:]
        with contextlib.suppress(Exception):
            result.setdefault("variables", _scalar_variables())
    finally:
        result["wall_s"] = time.perf_counter() - start
        # CPU time of this job alone (one thread): unlike the wall time, it does not grow
        # when other work shares the machine
        result["cpu_s"] = time.process_time() - cpu_start
        with contextlib.suppress(Exception):
            psi4.core.clean()
    # The JSON is written last and atomically: its presence marks a finished job, so a process
    # killed mid-job leaves that job to be rerun and every earlier one kept.
    with open(os.path.join(out_dir, f"{name}.json.tmp"), "w") as handle:
        json.dump(result, handle, allow_nan=True)
    os.replace(os.path.join(out_dir, f"{name}.json.tmp"),
               os.path.join(out_dir, f"{name}.json"))
    return result


def main(jobs_path, out_dir):
    with open(jobs_path) as handle:
        payload = json.load(handle)
    settings = payload["settings"]
    for index, job in enumerate(payload["jobs"]):
        result = run_job(job, index, out_dir, settings)
        status = "ok" if result["ok"] else result["error_kind"]
        print(f"virialff job {index} {job['job_id']}: {status} {result['wall_s']:.1f} s",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
