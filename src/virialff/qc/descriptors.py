"""Descriptor stage: K·D descriptors from Psi4 for one shard of geometries.

For the converged density D = Dα + Dβ and the AO kinetic-energy matrix K (paper section 2;
``docs/DESIGN.md``)::

    KD_atom[i]    = Σ_{μ,ν ∈ i} K_μν D_μν
    KD_pair[i,j]  = Σ_{μ∈i, ν∈j} K_μν D_μν + Σ_{μ∈j, ν∈i} K_μν D_μν      (i < j)
    T = Tr(D K)   = Σ_i KD_atom[i] + Σ_{i<j} KD_pair[i,j]

Basis functions map to atoms through Psi4's ``basisset().function_to_center``. All molecules of
a shard run in ONE Psi4 process (:mod:`virialff.qc.psi4_process`). Output:
``results/descriptors/{shard}.npz`` in the layout of ``docs/data-formats.md`` and a status table.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from virialff.errors import MoleculeRejected
from virialff.qc.psi4_process import Psi4Job, Psi4Result, psi4_settings_from_config, run_psi4_jobs
from virialff.qc.status import StatusTable

STAGE = "descriptors"
#: |Σ KD_atom + Σ KD_pair − T| above this (Hartree) rejects a molecule.
SUM_RULE_TOLERANCE_HARTREE = 1e-8
#: Psi4's read-back geometry must equal the input to this (Å): no reorientation, no reordering.
GEOMETRY_TOLERANCE_ANGSTROM = 1e-6

NPZ_KEYS: tuple[str, ...] = (
    "molecule_id", "energy_hartree", "kinetic_hartree", "n_atoms", "atom_ptr",
    "kd_atom_hartree", "pair_ptr", "kd_pair_hartree", "scf_iterations", "wall_s",
    "method", "basis",
)


def kd_partition(
    kinetic: np.ndarray, density: np.ndarray, function_to_atom: Sequence[int], n_atoms: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Partition Tr(D K) over atoms and atom pairs (the same formula the Psi4 worker uses).

    ``kinetic``, ``density``: [nbf, nbf] symmetric AO matrices (Hartree; D = Dα + Dβ);
    ``function_to_atom``: [nbf] atom index of each basis function. Returns ``kd_atom`` [A],
    ``kd_pair`` [A(A-1)/2] in ``numpy.triu_indices(A, 1)`` order (both orders summed) and T.
    """
    centre = np.asarray(function_to_atom, dtype=int)
    onehot = np.zeros((centre.size, n_atoms))
    onehot[np.arange(centre.size), centre] = 1.0
    block = onehot.T @ (np.asarray(kinetic) * np.asarray(density)) @ onehot
    first, second = np.triu_indices(n_atoms, 1)
    return np.diag(block).copy(), block[first, second] + block[second, first], float(
        np.sum(np.asarray(kinetic) * np.asarray(density))
    )


def _mol_id(mol) -> str:  # noqa: ANN001 - rdkit Mol
    if mol.HasProp("molecule_id"):
        return mol.GetProp("molecule_id")
    return mol.GetProp("_Name") if mol.HasProp("_Name") else ""


def read_geometry_sdf(path: Path | str) -> list[tuple[str, list[str], np.ndarray, int]]:
    """Read a geometry SDF: ``(molecule_id, symbols [N], positions [N, 3] Å, net charge)``.

    Not sanitised: Psi4 needs only elements, coordinates and charge.
    """
    from rdkit import Chem

    path = Path(path)
    if path.stat().st_size == 0:
        return []
    out = []
    for index, mol in enumerate(Chem.SDMolSupplier(str(path), removeHs=False, sanitize=False)):
        if mol is None:
            raise ValueError(f"{path}: SDF record {index} is unreadable")
        symbols = [atom.GetSymbol() for atom in mol.GetAtoms()]
        positions = np.asarray(mol.GetConformer().GetPositions(), dtype=float)
        charge = sum(atom.GetFormalCharge() for atom in mol.GetAtoms())
        out.append((_mol_id(mol) or f"{path.stem}_{index}", symbols, positions, int(charge)))
    return out


def check_result(result: Psi4Result, symbols: Sequence[str], positions_angstrom: np.ndarray,
                 molecule_id: str) -> None:
    """Reject a Psi4 result that failed, is non-finite, breaks the sum rule or moved atoms."""
    from virialff.chem.elements import ATOMIC_NUMBERS

    result.raise_if_failed()
    kd_atom = result.arrays.get("kd_atom_hartree")
    kd_pair = result.arrays.get("kd_pair_hartree")
    values = [result.energy_hartree, result.kinetic_hartree]
    if kd_atom is None or kd_pair is None or any(v is None for v in values):
        raise MoleculeRejected(molecule_id, "psi4_failed", "Psi4 returned no K·D descriptors")
    if not (all(math.isfinite(v) for v in values) and np.all(np.isfinite(kd_atom))
            and np.all(np.isfinite(kd_pair))):
        raise MoleculeRejected(molecule_id, "nan_value", "non-finite energy or K·D descriptor")
    n_atoms = len(symbols)
    if kd_atom.shape != (n_atoms,) or kd_pair.shape != (n_atoms * (n_atoms - 1) // 2,):
        raise MoleculeRejected(molecule_id, "psi4_failed",
                               f"descriptor shapes {kd_atom.shape}, {kd_pair.shape} "
                               f"do not match {n_atoms} atoms")
    residual = float(kd_atom.sum() + kd_pair.sum() - result.kinetic_hartree)
    if abs(residual) > SUM_RULE_TOLERANCE_HARTREE:
        raise MoleculeRejected(molecule_id, "psi4_failed",
                               f"Σ KD_atom + Σ KD_pair − T = {residual:.3e} Eh")
    expected_z = [ATOMIC_NUMBERS.get(s) for s in symbols]
    if result.atomic_numbers is not None and list(result.atomic_numbers) != expected_z:
        raise MoleculeRejected(molecule_id, "psi4_failed", "Psi4 changed the atom order")
    if result.positions_angstrom is not None:
        shift = float(np.max(np.abs(result.positions_angstrom - positions_angstrom)))
        if shift > GEOMETRY_TOLERANCE_ANGSTROM:
            raise MoleculeRejected(molecule_id, "psi4_failed",
                                   f"Psi4 moved the atoms by up to {shift:.2e} Å")


def descriptor_jobs(molecules: Sequence[tuple[str, list[str], np.ndarray, int]],
                    method: str, basis: str) -> list[Psi4Job]:
    """One kinetic-descriptor :class:`Psi4Job` per ``(molecule_id, symbols, positions, charge)``."""
    return [
        Psi4Job(job_id=molecule_id, symbols=symbols, positions_angstrom=positions,
                method=method, basis=basis, charge=charge, kinetic_descriptors=True)
        for molecule_id, symbols, positions, charge in molecules
    ]


def pack_descriptors(entries: Sequence[Mapping[str, Any]], method: str,
                     basis: str) -> dict[str, np.ndarray]:
    """Arrays of ``docs/data-formats.md`` from per-molecule dicts with keys ``molecule_id``,
    ``energy_hartree``, ``kinetic_hartree``, ``kd_atom_hartree`` [A], ``kd_pair_hartree``
    [A(A-1)/2], ``scf_iterations``, ``wall_s``."""
    n_atoms = np.array([len(e["kd_atom_hartree"]) for e in entries], dtype=np.int64)
    n_pairs = n_atoms * (n_atoms - 1) // 2
    return {
        "molecule_id": np.array([e["molecule_id"] for e in entries], dtype=np.str_),
        "energy_hartree": np.array([e["energy_hartree"] for e in entries], dtype=np.float64),
        "kinetic_hartree": np.array([e["kinetic_hartree"] for e in entries], dtype=np.float64),
        "n_atoms": n_atoms,
        "atom_ptr": np.concatenate([[0], np.cumsum(n_atoms)]).astype(np.int64),
        "kd_atom_hartree": np.concatenate(
            [np.asarray(e["kd_atom_hartree"], float) for e in entries] or [np.zeros(0)]),
        "pair_ptr": np.concatenate([[0], np.cumsum(n_pairs)]).astype(np.int64),
        "kd_pair_hartree": np.concatenate(
            [np.asarray(e["kd_pair_hartree"], float) for e in entries] or [np.zeros(0)]),
        "scf_iterations": np.array([e.get("scf_iterations") or -1 for e in entries],
                                   dtype=np.int64),
        "wall_s": np.array([e.get("wall_s", 0.0) for e in entries], dtype=np.float64),
        "method": np.array(method),
        "basis": np.array(basis),
    }


def run_descriptor_shard(
    geometry_sdf: Path | str,
    output_npz: Path | str,
    output_status: Path | str,
    descriptors_config: Mapping[str, Any],
    log_path: Path | str | None = None,
    workdir: Path | str | None = None,
) -> StatusTable:
    """Compute E, T and K·D for every molecule of a geometry SDF in one Psi4 process.

    ``descriptors_config`` is the ``descriptors:`` config section (method, basis, scf_type,
    memory, threads, maxiter, convergence, timeout_s). Writes ``output_npz`` (converged
    molecules only) and ``output_status`` (every molecule). ``workdir`` keeps Psi4's files.
    """
    molecules = read_geometry_sdf(geometry_sdf)
    method, basis = str(descriptors_config["method"]), str(descriptors_config["basis"])
    settings = psi4_settings_from_config(descriptors_config)
    table = StatusTable(STAGE)
    if molecules:
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="virialff-psi4-") as tmp:
                results = run_psi4_jobs(descriptor_jobs(molecules, method, basis), settings,
                                        workdir=tmp, log_path=log_path)
        else:
            results = run_psi4_jobs(descriptor_jobs(molecules, method, basis), settings,
                                    workdir=workdir, log_path=log_path)
    else:
        results = []
    entries = []
    for (molecule_id, symbols, positions, _), result in zip(molecules, results, strict=True):
        try:
            check_result(result, symbols, positions, molecule_id)
        except MoleculeRejected as error:
            table.rejected(error, result.wall_s)
            continue
        entries.append({
            "molecule_id": molecule_id,
            "energy_hartree": result.energy_hartree,
            "kinetic_hartree": result.kinetic_hartree,
            "kd_atom_hartree": result.arrays["kd_atom_hartree"],
            "kd_pair_hartree": result.arrays["kd_pair_hartree"],
            "scf_iterations": result.scf_iterations,
            "wall_s": result.wall_s,
        })
        table.ok(molecule_id, result.wall_s,
                 f"T/-E = {result.kinetic_hartree / -result.energy_hartree:.4f}, "
                 f"{result.scf_iterations} SCF iterations")
    output_npz = Path(output_npz)
    output_npz.parent.mkdir(parents=True, exist_ok=True)
    arrays = pack_descriptors(entries, method, basis)
    # np.savez appends ".npz" to names without it; write through a handle to keep the name.
    with open(output_npz, "wb") as handle:
        np.savez(handle, **arrays)
    table.write(output_status)
    table.append_to_log(log_path)
    return table


def load_descriptors(path: Path | str) -> dict[str, np.ndarray]:
    """Load a descriptor NPZ as a dict of arrays (no pickle needed)."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def molecule_descriptors(arrays: Mapping[str, np.ndarray], index: int) -> dict[str, Any]:
    """Descriptors of molecule ``index`` of a loaded NPZ: scalars and its KD slices."""
    a0, a1 = int(arrays["atom_ptr"][index]), int(arrays["atom_ptr"][index + 1])
    p0, p1 = int(arrays["pair_ptr"][index]), int(arrays["pair_ptr"][index + 1])
    return {
        "molecule_id": str(arrays["molecule_id"][index]),
        "energy_hartree": float(arrays["energy_hartree"][index]),
        "kinetic_hartree": float(arrays["kinetic_hartree"][index]),
        "kd_atom_hartree": arrays["kd_atom_hartree"][a0:a1],
        "kd_pair_hartree": arrays["kd_pair_hartree"][p0:p1],
        "scf_iterations": int(arrays["scf_iterations"][index]),
        "wall_s": float(arrays["wall_s"][index]),
    }
