"""K·D descriptor shards: ``results/descriptors/{shard}.npz`` (written by the descriptor stage).

Per molecule, from the converged density D = Dα + Dβ and the AO kinetic matrix K (Hartree):

- ``E``, ``T = Tr(D K)``;
- ``KD_atom[i] = Σ_{μ,ν∈i} K_μν D_μν`` for every atom;
- ``KD_bond[i,j] = Σ_{μ∈i,ν∈j} K_μν D_μν + Σ_{μ∈j,ν∈i} K_μν D_μν`` for every covalent bond of
  the geometry SDF's graph (the pairs stage 1 learns);
- ``KD_nonbonded``: the same pair sum over all non-bonded pairs together,

so that ``Σ KD_atom + Σ KD_bond + KD_nonbonded = T`` (the sum rule, checked to
:data:`SUM_RULE_TOLERANCE_HARTREE` here and nowhere else). Storing the bonded pairs and one
remainder instead of all A(A−1)/2 pairs keeps QMugs-sized shards small.

Arrays (M molecules, ΣA atoms, ΣB bonds): ``format_version``, ``method``, ``basis`` (scalars);
``molecule_id`` [M] str, ``engine`` [M] str (program and version), ``energy_hartree`` [M],
``kinetic_hartree`` [M], ``n_atoms`` [M], ``atom_ptr`` [M+1], ``atomic_numbers`` [ΣA],
``kd_atom_hartree`` [ΣA], ``n_bonds`` [M], ``bond_ptr`` [M+1], ``bond_index`` [ΣB, 2] (atom
indices within the molecule, i < j), ``kd_bond_hartree`` [ΣB], ``kd_nonbonded_hartree`` [M],
``scf_iterations`` [M], ``wall_s`` [M]. Only converged molecules are stored; failures are in
the shard's status table.

Version 3 adds, from the same SCF (``descriptors.gradient``): ``has_forces`` [M] bool,
``forces_kcal_mol_angstrom`` [ΣA, 3] (−∇E, zero rows where ``has_forces`` is false),
``has_dipole`` [M] bool and ``dipole_debye`` [M, 3] (the SCF density's dipole about the origin
of the input frame; zero where ``has_dipole`` is false). Version 2 files (energy only) are read
as molecules without forces or dipole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 3
#: Versions this module reads (older ones carry neither forces nor dipoles).
READABLE_VERSIONS = (2, 3)
#: |Σ KD_atom + Σ KD_bond + KD_nonbonded − T| above this (Hartree) breaks the sum rule.
SUM_RULE_TOLERANCE_HARTREE = 1e-8


@dataclass
class MoleculeDescriptors:
    """One molecule's descriptors (Hartree); shapes as in the module docstring."""

    molecule_id: str
    engine: str
    energy_hartree: float
    kinetic_hartree: float
    atomic_numbers: np.ndarray  # [A]
    kd_atom_hartree: np.ndarray  # [A]
    bond_index: np.ndarray  # [B, 2], i < j
    kd_bond_hartree: np.ndarray  # [B]
    kd_nonbonded_hartree: float
    scf_iterations: int = -1
    wall_s: float = 0.0
    forces_kcal_mol_angstrom: np.ndarray | None = None  # [A, 3], −∇E; None: not computed
    dipole_debye: np.ndarray | None = None  # [3]; None: not computed

    @property
    def has_forces(self) -> bool:
        return self.forces_kcal_mol_angstrom is not None

    @property
    def n_atoms(self) -> int:
        return int(self.kd_atom_hartree.shape[0])

    @property
    def sum_rule_residual_hartree(self) -> float:
        """Σ KD_atom + Σ KD_bond + KD_nonbonded − T."""
        return float(self.kd_atom_hartree.sum() + self.kd_bond_hartree.sum()
                     + self.kd_nonbonded_hartree - self.kinetic_hartree)


def pair_position(i: np.ndarray, j: np.ndarray, n_atoms: int) -> np.ndarray:
    """Index of pair (i, j), i ≠ j, in ``numpy.triu_indices(n_atoms, 1)`` order."""
    i, j = np.asarray(i), np.asarray(j)
    low, high = np.minimum(i, j), np.maximum(i, j)
    return low * (2 * n_atoms - low - 1) // 2 + (high - low - 1)


def from_pair_matrix(molecule_id: str, engine: str, energy_hartree: float,
                     kinetic_hartree: float, atomic_numbers: Sequence[int],
                     kd_atom_hartree: np.ndarray, kd_pair_hartree: np.ndarray,
                     bonds: np.ndarray, scf_iterations: int = -1,
                     wall_s: float = 0.0,
                     forces_kcal_mol_angstrom: np.ndarray | None = None,
                     dipole_debye: np.ndarray | None = None) -> MoleculeDescriptors:
    """Descriptors from every pair's KD (``kd_pair_hartree`` [A(A−1)/2] in
    ``numpy.triu_indices`` order) and the bonds [B, 2] of the molecule's graph; forces
    [A, 3] (kcal/mol/Å) and the dipole [3] (Debye) when the SCF gave them."""
    n_atoms = len(atomic_numbers)
    bonds = np.sort(np.asarray(bonds, dtype=np.int64).reshape(-1, 2), axis=1)
    kd_pair = np.asarray(kd_pair_hartree, dtype=np.float64)
    if kd_pair.shape != (n_atoms * (n_atoms - 1) // 2,):
        raise ValueError(f"{molecule_id}: {kd_pair.shape[0]} KD_pair values for {n_atoms} atoms")
    kd_bond = kd_pair[pair_position(bonds[:, 0], bonds[:, 1], n_atoms)] if len(bonds) else (
        np.zeros(0))
    return MoleculeDescriptors(
        molecule_id=molecule_id, engine=engine, energy_hartree=float(energy_hartree),
        kinetic_hartree=float(kinetic_hartree),
        atomic_numbers=np.asarray(atomic_numbers, dtype=np.int64),
        kd_atom_hartree=np.asarray(kd_atom_hartree, dtype=np.float64), bond_index=bonds,
        kd_bond_hartree=kd_bond, kd_nonbonded_hartree=float(kd_pair.sum() - kd_bond.sum()),
        scf_iterations=int(scf_iterations), wall_s=float(wall_s),
        forces_kcal_mol_angstrom=(None if forces_kcal_mol_angstrom is None else
                                  np.asarray(forces_kcal_mol_angstrom, dtype=np.float64)),
        dipole_debye=None if dipole_debye is None else np.asarray(dipole_debye, np.float64))


def check_descriptors(entry: MoleculeDescriptors) -> tuple[str, str]:
    """``("", "")`` when ``entry`` is sound, else ``(reason, message)``: ``nan_value`` for a
    non-finite value, ``bad_descriptors`` for inconsistent shapes, ``sum_rule`` when
    Σ KD_atom + Σ KD_bond + KD_nonbonded differs from T by more than
    :data:`SUM_RULE_TOLERANCE_HARTREE`."""
    n_atoms = entry.n_atoms
    if entry.atomic_numbers.shape != (n_atoms,) or entry.bond_index.shape[1:] != (2,) or (
            entry.kd_bond_hartree.shape != (entry.bond_index.shape[0],)):
        return "bad_descriptors", (f"shapes disagree: {n_atoms} KD_atom, "
                                   f"{entry.atomic_numbers.shape[0]} atomic numbers, "
                                   f"{entry.bond_index.shape[0]} bonds, "
                                   f"{entry.kd_bond_hartree.shape[0]} KD_bond")
    if entry.bond_index.size and (entry.bond_index.min() < 0
                                  or entry.bond_index.max() >= n_atoms
                                  or np.any(entry.bond_index[:, 0] >= entry.bond_index[:, 1])):
        return "bad_descriptors", "bond indices out of range or not i < j"
    if entry.has_forces and entry.forces_kcal_mol_angstrom.shape != (n_atoms, 3):
        return "bad_descriptors", (f"forces of shape {entry.forces_kcal_mol_angstrom.shape} "
                                   f"for {n_atoms} atoms")
    if entry.dipole_debye is not None and entry.dipole_debye.shape != (3,):
        return "bad_descriptors", f"dipole of shape {entry.dipole_debye.shape}"
    values = np.concatenate([[entry.energy_hartree, entry.kinetic_hartree,
                              entry.kd_nonbonded_hartree], entry.kd_atom_hartree,
                             entry.kd_bond_hartree,
                             entry.forces_kcal_mol_angstrom.ravel() if entry.has_forces else [],
                             entry.dipole_debye if entry.dipole_debye is not None else []])
    if not np.all(np.isfinite(values)):
        return "nan_value", (f"{int(np.sum(~np.isfinite(values)))} non-finite value(s) among "
                             "E, T, K·D, forces and dipole")
    residual = entry.sum_rule_residual_hartree
    if not abs(residual) <= SUM_RULE_TOLERANCE_HARTREE:
        return "sum_rule", (f"Σ KD_atom + Σ KD_bond + KD_nonbonded − T = {residual:.3e} Eh "
                            f"(tolerance {SUM_RULE_TOLERANCE_HARTREE:g} Eh)")
    return "", ""


def _offsets(sizes: Sequence[int]) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.asarray(sizes, dtype=np.int64))]).astype(np.int64)


def pack_descriptors(entries: Sequence[MoleculeDescriptors], method: str,
                     basis: str) -> dict[str, np.ndarray]:
    """The arrays of the module docstring for ``entries``."""
    n_atoms = [e.n_atoms for e in entries]
    n_bonds = [int(e.bond_index.shape[0]) for e in entries]

    def cat(parts: Iterable[np.ndarray], dtype: Any, shape: tuple = (0,)) -> np.ndarray:
        parts = list(parts)
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(shape, dtype=dtype)

    return {
        "format_version": np.array(FORMAT_VERSION),
        "method": np.array(method),
        "basis": np.array(basis),
        "molecule_id": np.array([e.molecule_id for e in entries], dtype=np.str_),
        "engine": np.array([e.engine for e in entries], dtype=np.str_),
        "energy_hartree": np.array([e.energy_hartree for e in entries], dtype=np.float64),
        "kinetic_hartree": np.array([e.kinetic_hartree for e in entries], dtype=np.float64),
        "n_atoms": np.array(n_atoms, dtype=np.int64),
        "atom_ptr": _offsets(n_atoms),
        "atomic_numbers": cat((e.atomic_numbers for e in entries), np.int16),
        "kd_atom_hartree": cat((e.kd_atom_hartree for e in entries), np.float64),
        "n_bonds": np.array(n_bonds, dtype=np.int64),
        "bond_ptr": _offsets(n_bonds),
        "bond_index": cat((e.bond_index for e in entries), np.int32, (0, 2)).reshape(-1, 2),
        "kd_bond_hartree": cat((e.kd_bond_hartree for e in entries), np.float64),
        "kd_nonbonded_hartree": np.array([e.kd_nonbonded_hartree for e in entries],
                                         dtype=np.float64),
        "scf_iterations": np.array([e.scf_iterations for e in entries], dtype=np.int64),
        "wall_s": np.array([e.wall_s for e in entries], dtype=np.float64),
        "has_forces": np.array([e.has_forces for e in entries], dtype=bool),
        "forces_kcal_mol_angstrom": cat(
            (e.forces_kcal_mol_angstrom if e.has_forces else np.zeros((e.n_atoms, 3))
             for e in entries), np.float64, (0, 3)).reshape(-1, 3),
        "has_dipole": np.array([e.dipole_debye is not None for e in entries], dtype=bool),
        "dipole_debye": np.array([e.dipole_debye if e.dipole_debye is not None else np.zeros(3)
                                  for e in entries], dtype=np.float64).reshape(-1, 3),
    }


def unpack_descriptors(arrays: dict[str, np.ndarray], source: str = "<arrays>",
                       ) -> list[MoleculeDescriptors]:
    """Inverse of :func:`pack_descriptors`; ``ValueError`` naming ``source`` for another
    format version or inconsistent offsets."""
    version = int(arrays["format_version"]) if "format_version" in arrays else 1
    if version not in READABLE_VERSIONS:
        raise ValueError(f"{source}: descriptor format version {version}, expected one of "
                         f"{READABLE_VERSIONS} (rebuild it with this virialff)")
    has_forces = arrays["has_forces"] if version >= 3 else np.zeros(len(arrays["molecule_id"]),
                                                                     dtype=bool)
    has_dipole = arrays["has_dipole"] if version >= 3 else has_forces
    ids = [str(i) for i in arrays["molecule_id"]]
    atom_ptr, bond_ptr = arrays["atom_ptr"], arrays["bond_ptr"]
    if len(atom_ptr) != len(ids) + 1 or len(bond_ptr) != len(ids) + 1 or (
            int(atom_ptr[-1]) != len(arrays["kd_atom_hartree"])
            or int(bond_ptr[-1]) != len(arrays["kd_bond_hartree"])):
        raise ValueError(f"{source}: offsets do not match the array lengths")
    out = []
    for m, molecule_id in enumerate(ids):
        atoms = slice(int(atom_ptr[m]), int(atom_ptr[m + 1]))
        bonds = slice(int(bond_ptr[m]), int(bond_ptr[m + 1]))
        out.append(MoleculeDescriptors(
            molecule_id=molecule_id, engine=str(arrays["engine"][m]),
            energy_hartree=float(arrays["energy_hartree"][m]),
            kinetic_hartree=float(arrays["kinetic_hartree"][m]),
            atomic_numbers=np.asarray(arrays["atomic_numbers"][atoms], dtype=np.int64),
            kd_atom_hartree=np.asarray(arrays["kd_atom_hartree"][atoms], dtype=np.float64),
            bond_index=np.asarray(arrays["bond_index"][bonds], dtype=np.int64).reshape(-1, 2),
            kd_bond_hartree=np.asarray(arrays["kd_bond_hartree"][bonds], dtype=np.float64),
            kd_nonbonded_hartree=float(arrays["kd_nonbonded_hartree"][m]),
            scf_iterations=int(arrays["scf_iterations"][m]), wall_s=float(arrays["wall_s"][m]),
            forces_kcal_mol_angstrom=(
                np.asarray(arrays["forces_kcal_mol_angstrom"][atoms], dtype=np.float64)
                if has_forces[m] else None),
            dipole_debye=(np.asarray(arrays["dipole_debye"][m], dtype=np.float64)
                          if has_dipole[m] else None)))
    return out


def write_descriptors_npz(path: str | Path, entries: Sequence[MoleculeDescriptors], method: str,
                          basis: str, compressed: bool = False) -> Path:
    """Write a descriptor shard (atomically; the name is kept exactly, no ``.npz`` added)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        (np.savez_compressed if compressed else np.savez)(
            handle, **pack_descriptors(entries, method, basis))
    tmp.replace(path)
    return path


def read_descriptors_npz(path: str | Path) -> tuple[list[MoleculeDescriptors], dict[str, str]]:
    """``(entries, {"method", "basis"})`` of a descriptor shard."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    meta = {"method": str(arrays.get("method", "")), "basis": str(arrays.get("basis", ""))}
    return unpack_descriptors(arrays, str(path)), meta

