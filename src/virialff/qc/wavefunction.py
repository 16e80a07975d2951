"""K·D descriptors from stored Psi4 wavefunctions (``descriptors.source: wavefunction``).

QMugs publishes, beside its SDFs, the ωB97X-D/def2-SVP wavefunction of each conformer as the
``.npy`` file Psi4's ``Wavefunction.to_file`` writes: a pickled dict with the molecule
(``geom`` in its ``units``, ``elem``, ``elez``, charge, multiplicity), the basis name and its
``basispuream`` flag, and the SCF matrices (``Da``, ``Db``, ``S``, …, one block per irrep when
Psi4 used symmetry, with ``aotoso`` to go back to AOs). K·D then needs no SCF:

    D = Dα + Dβ (AO basis),  K = AO kinetic-energy matrix (PySCF ``int1e_kin``),
    KD_atom, KD_pair, T as in :mod:`virialff.qc.descriptors`.

Checks per file (a failure rejects that molecule with reason ``bad_wavefunction`` and a
one-line message; the run goes on): the file exists, is a complete Psi4 wavefunction pickle
(only NumPy arrays and plain containers are unpickled, never arbitrary objects), the basis
name and the spherical flag are the expected ones, the atom count, elements and atom order
equal the SDF's, every interatomic distance agrees with the SDF's to
:data:`DISTANCE_TOLERANCE_ANGSTROM` (Psi4 may have moved the molecule to its own frame, so
distances, not coordinates, are compared), the number of basis functions equals PySCF's for
that basis, PySCF's overlap matrix mapped to Psi4's AO order equals the stored one to
:data:`OVERLAP_TOLERANCE` (this proves the AO order, normalisation, basis data and geometry
agree), Tr(D S) equals the electron count, the sum rule holds, and the SDF energy agrees with
the energy stored in the file, and Tr(D H) of the stored density and core Hamiltonian equals the
file's "ONE-ELECTRON ENERGY" (the stored D is the converged density of that SCF; the Psi4
worker's Tr(D (K + V)) check, without recomputing V, which would cost 3× the rest).

Psi4's AO order differs from PySCF's only within a shell (:func:`virialff.qc.pyscf_engine.
psi4_ao_order`); both use unit-normalised real solid harmonics. Geometries are converted with
Psi4 1.3.2's Bohr radius (CODATA 2014) unless the file says otherwise.
"""

from __future__ import annotations

import math
import pickle
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.errors import MoleculeRejected
from virialff.qc import kd
from virialff.qc.kd import density_failure, kd_partition
from virialff.qc.psi4_conventions import PSI4_BOHR_ANGSTROM, psi4_ao_order
from virialff.qc.pyscf_engine import (
    EngineResult,
    build_molecule,
    function_to_atom,
    pyscf_version,
)

ENGINE = "psi4-wavefunction"
#: QMugs' SDF tag of the ωB97X-D total energy (Hartree).
QMUGS_ENERGY_TAG = "DFT:TOTAL_ENERGY"
#: Largest allowed |r_ij(file) − r_ij(SDF)| (Å). SDF V2000 keeps 4 decimals (±5e-5 Å per
#: coordinate, ≤ 1.8e-4 Å per distance); a wrong conformer or atom order moves distances by
#: tenths of an Å.
DISTANCE_TOLERANCE_ANGSTROM = 1e-3
#: Largest allowed |S_PySCF − S_file| after AO reordering (Psi4 and PySCF agree to ~1e-15).
OVERLAP_TOLERANCE = 1e-8
#: |E_SDF − E_file| above this (Hartree) rejects the pair as mismatched.
ENERGY_TOLERANCE_HARTREE = 1e-5
#: |Tr(D H) − "ONE-ELECTRON ENERGY"| above this (Hartree) rejects the file.
ONE_ELECTRON_TOLERANCE_HARTREE = kd.ONE_ELECTRON_TOLERANCE_HARTREE

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
}


class WavefunctionError(ValueError):
    """A wavefunction file is unreadable or inconsistent; the message names file and reason."""


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickler that builds NumPy arrays and plain containers and refuses every other global,
    so a crafted file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        # NumPy 2 renamed numpy.core to numpy._core; files may come from either side.
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = "numpy._core" + module[len("numpy.core") :]
        elif module.startswith("numpy._core") and not hasattr(np, "_core"):
            module = "numpy.core" + module[len("numpy._core") :]
        return super().find_class(module, name)


def load_wavefunction_dict(path: Path | str) -> dict[str, Any]:
    """The dict inside a Psi4 ``Wavefunction.to_file`` ``.npy`` file (arrays-only unpickling).

    Raises :class:`WavefunctionError` for a missing, truncated or foreign file.
    """
    path = Path(path)
    if not path.is_file():
        raise WavefunctionError(f"{path}: wavefunction file not found")
    try:
        with open(path, "rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                _, _, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                _, _, dtype = np.lib.format.read_array_header_2_0(handle)
            if dtype != np.dtype(object):
                raise WavefunctionError(f"{path}: a plain {dtype} array, not a Psi4 wavefunction")
            loaded = _ArraysOnlyUnpickler(handle).load()
    except WavefunctionError:
        raise
    except (
        EOFError,
        pickle.UnpicklingError,
        ValueError,
        OSError,
        AttributeError,
        TypeError,
        IndexError,
        MemoryError,
    ) as error:
        raise WavefunctionError(
            f"{path}: unreadable or truncated wavefunction file ({type(error).__name__}: {error})"
        ) from None
    data = loaded.item() if isinstance(loaded, np.ndarray) and loaded.shape == () else loaded
    if not isinstance(data, dict):
        raise WavefunctionError(f"{path}: holds {type(data).__name__}, not a wavefunction dict")
    return data


@dataclass(frozen=True)
class StoredWavefunction:
    """What K·D needs from a Psi4 wavefunction file (Psi4's AO order and molecular frame).

    ``symbols`` [N]; ``positions_bohr`` [N, 3] in the file's frame; ``density_ao`` [nbf, nbf]
    = Dα + Dβ; ``overlap_blocks`` the stored overlap per irrep [nso_h, nso_h];
    ``aotoso_blocks`` [nbf, nso_h] per irrep (``None`` without symmetry);
    ``density_core_hamiltonian_trace`` Tr(D H) of the stored matrices (Hartree) and
    ``one_electron_energy`` the file's "ONE-ELECTRON ENERGY" (``None`` when absent).
    """

    path: Path
    basis_name: str
    puream: bool
    symbols: tuple[str, ...]
    positions_bohr: np.ndarray
    charge: int
    multiplicity: int
    n_alpha: int
    n_beta: int
    density_ao: np.ndarray
    overlap_blocks: tuple[np.ndarray, ...]
    aotoso_blocks: tuple[np.ndarray, ...] | None
    energy_hartree: float | None
    scf_iterations: int | None
    density_core_hamiltonian_trace: float | None = None
    one_electron_energy: float | None = None

    @property
    def n_basis(self) -> int:
        return int(self.density_ao.shape[0])


def _blocks(value: Any) -> tuple[np.ndarray, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(np.asarray(block, dtype=float) for block in value)
    return (np.asarray(value, dtype=float),)


def read_psi4_wavefunction(path: Path | str) -> StoredWavefunction:
    """Read a Psi4 ``Wavefunction.to_file`` ``.npy`` file; raises :class:`WavefunctionError`
    (one line: file and reason) when a required entry is missing or malformed."""
    path = Path(path)
    data = load_wavefunction_dict(path)
    try:
        molecule = data["molecule"]
        matrices = data["matrix"]
        strings, booleans, integers = data["string"], data["boolean"], data["int"]
        units = str(molecule.get("units", "Angstrom")).lower()
        geometry = np.asarray(molecule["geom"], dtype=float).reshape(-1, 3)
        if units.startswith("bohr"):
            positions_bohr = geometry
        else:
            to_bohr = float(molecule.get("input_units_to_au") or 1.0 / PSI4_BOHR_ANGSTROM)
            positions_bohr = geometry * to_bohr
        symbols = tuple(str(s).capitalize() for s in molecule["elem"])
        density_alpha, density_beta = _blocks(matrices["Da"]), _blocks(matrices["Db"])
        overlap = _blocks(matrices["S"])
        nirrep = int(integers.get("nirrep", len(overlap)))
        aotoso = _blocks(matrices["aotoso"]) if nirrep > 1 else None
        if aotoso is None:
            density = density_alpha[0] + density_beta[0]
        else:
            density = sum(
                u @ (da + db) @ u.T
                for u, da, db in zip(aotoso, density_alpha, density_beta, strict=True)
            )
        floatvar = data.get("floatvar") or {}
        energy = data.get("float", {}).get("energy")
        iterations = floatvar.get("SCF ITERATIONS")
        one_electron = floatvar.get("ONE-ELECTRON ENERGY")
        core = matrices.get("H")
        trace_dh = None
        if core is not None:
            trace_dh = float(
                sum(
                    np.sum((da + db) * h)
                    for da, db, h in zip(density_alpha, density_beta, _blocks(core), strict=True)
                )
            )
        stored = StoredWavefunction(
            path=path,
            basis_name=str(strings["basisname"]),
            puream=bool(booleans["basispuream"]),
            symbols=symbols,
            positions_bohr=positions_bohr,
            charge=int(round(float(molecule.get("molecular_charge", 0.0)))),
            multiplicity=int(molecule.get("molecular_multiplicity", 1)),
            n_alpha=int(integers["nalpha"]),
            n_beta=int(integers["nbeta"]),
            density_ao=np.asarray(density, dtype=float),
            overlap_blocks=overlap,
            aotoso_blocks=aotoso,
            energy_hartree=float(energy) if energy is not None else None,
            scf_iterations=int(round(float(iterations))) if iterations is not None else None,
            density_core_hamiltonian_trace=trace_dh,
            one_electron_energy=float(one_electron) if one_electron is not None else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise WavefunctionError(
            f"{path}: not a complete Psi4 wavefunction ({type(error).__name__}: {error})"
        ) from None
    nbf = stored.density_ao.shape
    if len(nbf) != 2 or nbf[0] != nbf[1]:
        raise WavefunctionError(f"{path}: density matrix has shape {nbf}, not square")
    if not np.all(np.isfinite(stored.density_ao)):
        raise WavefunctionError(f"{path}: density matrix has non-finite entries")
    if stored.positions_bohr.shape != (len(stored.symbols), 3):
        raise WavefunctionError(
            f"{path}: {len(stored.symbols)} elements but geometry shape "
            f"{stored.positions_bohr.shape}"
        )
    return stored


def _max_distance_deviation_angstrom(positions_a: np.ndarray, positions_b: np.ndarray) -> float:
    def distances(positions: np.ndarray) -> np.ndarray:
        return np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=-1)

    return float(np.max(np.abs(distances(positions_a) - distances(positions_b)), initial=0.0))


def kinetic_descriptors_from_wavefunction(
    stored: StoredWavefunction,
    molecule_id: str,
    symbols: Sequence[str],
    positions_angstrom: np.ndarray,
    charge: int,
    energy_hartree: float,
    basis: str = "def2-svp",
    distance_tolerance_angstrom: float = DISTANCE_TOLERANCE_ANGSTROM,
    energy_tolerance_hartree: float | None = ENERGY_TOLERANCE_HARTREE,
    one_electron_tolerance_hartree: float | None = ONE_ELECTRON_TOLERANCE_HARTREE,
) -> EngineResult:
    """E, T, KD_atom, KD_pair of one molecule from its stored wavefunction.

    ``symbols`` [N], ``positions_angstrom`` [N, 3] and ``charge`` (e) are the SDF's molecule;
    ``energy_hartree`` its ``DFT:TOTAL_ENERGY``. Raises :class:`MoleculeRejected` (reason
    ``bad_wavefunction``, one-line message) when any check of the module docstring fails.
    ``energy_tolerance_hartree=None`` skips the energy cross-check and
    ``one_electron_tolerance_hartree=None`` the converged-density check (for test files of
    unconverged SCFs).
    """
    start = time.perf_counter()

    def reject(detail: str) -> MoleculeRejected:
        return MoleculeRejected(molecule_id, "bad_wavefunction", f"{stored.path.name}: {detail}")

    if stored.basis_name.lower().replace("_", "-") != basis.lower():
        raise reject(f"basis {stored.basis_name!r}, expected {basis!r}")
    if not stored.puream:
        raise reject("Cartesian basis functions (puream false); expected spherical harmonics")
    expected = tuple(str(s) for s in symbols)
    if len(stored.symbols) != len(expected):
        raise reject(f"{len(stored.symbols)} atoms, the SDF has {len(expected)}")
    if stored.symbols != expected:
        first = next(
            i for i, (a, b) in enumerate(zip(stored.symbols, expected, strict=True)) if a != b
        )
        raise reject(
            f"element order differs from the SDF (atom {first}: "
            f"{stored.symbols[first]} vs {expected[first]})"
        )
    if stored.charge != int(charge):
        raise reject(f"charge {stored.charge}, the SDF has {int(charge)}")
    deviation = _max_distance_deviation_angstrom(
        stored.positions_bohr * PSI4_BOHR_ANGSTROM, np.asarray(positions_angstrom, dtype=float)
    )
    if deviation > distance_tolerance_angstrom:
        raise reject(
            f"interatomic distances differ from the SDF by up to {deviation:.2e} Å "
            f"(> {distance_tolerance_angstrom:g} Å): another conformer or atom order"
        )
    if not math.isfinite(energy_hartree):
        raise MoleculeRejected(molecule_id, "nan_value", f"non-finite SDF energy {energy_hartree}")
    if (
        energy_tolerance_hartree is not None
        and stored.energy_hartree is not None
        and abs(stored.energy_hartree - energy_hartree) > energy_tolerance_hartree
    ):
        raise reject(
            f"file energy {stored.energy_hartree:.8f} Eh differs from the SDF's "
            f"{energy_hartree:.8f} Eh"
        )
    try:
        mol = build_molecule(
            stored.symbols, stored.positions_bohr, basis, stored.charge, stored.multiplicity
        )
    except (ValueError, RuntimeError, KeyError) as error:
        raise reject(f"PySCF cannot build the molecule ({error})") from None
    if mol.nao_nr() != stored.n_basis:
        raise reject(f"{stored.n_basis} basis functions, {basis} has {mol.nao_nr()} here")
    order = psi4_ao_order(mol)
    overlap = mol.intor_symmetric("int1e_ovlp")[np.ix_(order, order)]
    if stored.aotoso_blocks is None:
        projected = (overlap,)
    else:
        projected = tuple(u.T @ overlap @ u for u in stored.aotoso_blocks)
    if len(projected) != len(stored.overlap_blocks) or any(
        a.shape != b.shape for a, b in zip(projected, stored.overlap_blocks, strict=False)
    ):
        raise reject("overlap blocks do not match the basis (symmetry blocks or sizes differ)")
    overlap_error = max(
        float(np.max(np.abs(a - b), initial=0.0))
        for a, b in zip(projected, stored.overlap_blocks, strict=True)
    )
    if overlap_error > OVERLAP_TOLERANCE:
        raise reject(
            f"stored overlap differs from {basis}'s by {overlap_error:.2e}: "
            "basis data, AO order or geometry disagree"
        )
    kinetic = mol.intor_symmetric("int1e_kin")[np.ix_(order, order)]
    density = stored.density_ao
    n_electrons = stored.n_alpha + stored.n_beta
    if n_electrons != mol.nelectron:
        raise reject(
            f"{n_electrons} electrons in the file, {mol.nelectron} expected "
            f"(valence, with {basis} ECPs)"
        )
    trace_ds = float(np.sum(overlap * density))
    one_electron_residual = None
    if stored.density_core_hamiltonian_trace is not None and stored.one_electron_energy is not None:
        one_electron_residual = stored.density_core_hamiltonian_trace - stored.one_electron_energy
    kd_atom, kd_pair, kinetic_energy = kd_partition(
        kinetic, density, function_to_atom(mol)[order], mol.natm
    )
    kind, message = density_failure(kinetic_energy, kd_atom, kd_pair, trace_ds, n_electrons,
                                    one_electron_residual, one_electron_tolerance_hartree)
    if kind == "nan_value":
        raise MoleculeRejected(molecule_id, "nan_value", message)
    if kind:
        raise reject(message)
    residual = float(kd_atom.sum() + kd_pair.sum() - kinetic_energy)
    return EngineResult(
        job_id=molecule_id,
        ok=True,
        energy_hartree=float(energy_hartree),
        kinetic_hartree=kinetic_energy,
        scf_iterations=stored.scf_iterations,
        wall_s=time.perf_counter() - start,
        variables={
            "FILE ENERGY": stored.energy_hartree if stored.energy_hartree is not None else math.nan,
            "MAX DISTANCE DEVIATION [A]": deviation,
            "MAX OVERLAP DEVIATION": overlap_error,
        },
        arrays={"kd_atom_hartree": kd_atom, "kd_pair_hartree": kd_pair},
        # The file's frame may be rotated: the SDF check above is on distances, so the
        # coordinate check of descriptors.check_result does not apply.
        atomic_numbers=[int(z) for z in mol.atom_charges() + _ecp_core(mol)],
        positions_angstrom=None,
        sum_rule_residual_hartree=residual,
        n_electrons_from_density=trace_ds,
        one_electron_residual_hartree=one_electron_residual,
        wavefunction_path=stored.path,
        engine=f"{ENGINE} file, pyscf {pyscf_version()} integrals",
    )


def _ecp_core(mol) -> np.ndarray:  # noqa: ANN001 - pyscf Mole
    """[N] electrons an ECP replaces on each atom (PySCF's ``atom_charges`` subtracts them)."""
    return np.array([mol.atom_nelec_core(i) for i in range(mol.natm)], dtype=int)


def _molecule_fields(molecule: Any) -> tuple[str, list[str], np.ndarray, int]:
    if hasattr(molecule, "molecule_id"):  # a virialff.formats.geometry_sdf.GeometryRecord
        return (
            molecule.molecule_id,
            list(molecule.symbols),
            np.asarray(molecule.positions_angstrom, dtype=float),
            int(molecule.charge),
        )
    molecule_id, symbols, positions, charge = molecule
    return molecule_id, list(symbols), np.asarray(positions, dtype=float), int(charge)


def descriptors_from_wavefunctions(
    molecules: Sequence[Any],
    wavefunction_paths: Sequence[Path | str | None],
    energies_hartree: Sequence[float | None],
    basis: str = "def2-svp",
    distance_tolerance_angstrom: float = DISTANCE_TOLERANCE_ANGSTROM,
    energy_tolerance_hartree: float | None = ENERGY_TOLERANCE_HARTREE,
    one_electron_tolerance_hartree: float | None = ONE_ELECTRON_TOLERANCE_HARTREE,
) -> list[EngineResult | MoleculeRejected]:
    """K·D for each molecule from its wavefunction file.

    A molecule is a ``GeometryRecord`` (:mod:`virialff.formats.geometry_sdf`) or a tuple
    ``(molecule_id, symbols [N], positions [N, 3] Å, charge)``.

    ``wavefunction_paths`` and ``energies_hartree`` (the SDF's ``DFT:TOTAL_ENERGY``) run
    parallel to ``molecules``. Returns, in order, an :class:`EngineResult` (``ok=True``) or the
    :class:`MoleculeRejected` of that molecule (missing file or energy: ``missing_input``;
    failed check: ``bad_wavefunction``); it never raises for one molecule.
    """
    if not (len(molecules) == len(wavefunction_paths) == len(energies_hartree)):
        raise ValueError(
            f"{len(molecules)} molecules, {len(wavefunction_paths)} wavefunction "
            f"paths and {len(energies_hartree)} energies: they must run parallel"
        )
    out: list[EngineResult | MoleculeRejected] = []
    for molecule, path, energy in zip(molecules, wavefunction_paths, energies_hartree, strict=True):
        molecule_id, symbols, positions, charge = _molecule_fields(molecule)
        try:
            if path is None or not Path(path).is_file():
                raise MoleculeRejected(
                    molecule_id, "missing_input", f"wavefunction file {path} not found"
                )
            if energy is None:
                raise MoleculeRejected(
                    molecule_id, "missing_input", f"no {QMUGS_ENERGY_TAG} energy in the SDF"
                )
            try:
                stored = read_psi4_wavefunction(path)
            except WavefunctionError as error:
                raise MoleculeRejected(molecule_id, "bad_wavefunction", str(error)) from None
            out.append(
                kinetic_descriptors_from_wavefunction(
                    stored,
                    molecule_id,
                    symbols,
                    positions,
                    charge,
                    float(energy),
                    basis,
                    distance_tolerance_angstrom,
                    energy_tolerance_hartree,
                    one_electron_tolerance_hartree,
                )
            )
        except MoleculeRejected as rejected:
            out.append(rejected)
    return out


def energy_from_properties(
    properties: Mapping[str, str], tag: str = QMUGS_ENERGY_TAG
) -> float | None:
    """The ``tag`` SDF property (Hartree) as a float, ``None`` when absent or not a number
    (e.g. ``GeometryRecord.properties`` of :mod:`virialff.formats.geometry_sdf`)."""
    try:
        return float(properties[tag])
    except (KeyError, TypeError, ValueError):
        return None


def read_sdf_energies_hartree(path: Path | str, tag: str = QMUGS_ENERGY_TAG) -> list[float | None]:
    """The ``tag`` property (Hartree) of every record of an SDF, ``None`` where absent or not
    a number; records in file order (parallel to ``read_geometry_sdf``)."""
    from rdkit import Chem

    return [
        None if mol is None else energy_from_properties(mol.GetPropsAsDict(), tag)
        for mol in Chem.SDMolSupplier(str(path), removeHs=False, sanitize=False)
    ]


def wavefunction_path(pattern: str, **fields: Any) -> Path:
    """Format ``pattern`` (e.g. ``"{root}/wavefunctions/{chembl_id}/conf_{conf:02d}.npy"``)
    with ``fields``; a missing field raises ValueError naming it."""
    try:
        return Path(pattern.format(**fields))
    except KeyError as error:
        raise ValueError(
            f"wavefunction_pattern {pattern!r} needs field {error.args[0]!r}"
        ) from None
