"""Second QC engine for the descriptor stage: PySCF (CPU) or gpu4pyscf (GPU), Psi4-compatible.

Computes, for each :class:`~virialff.qc.psi4_process.Psi4Job`, the same quantities as the Psi4
worker (E, T = Tr(D K), KD_atom [N], KD_pair [N(N-1)/2], Tr(D S) = N_e and the sum-rule check)
and returns them in the same result structure (:class:`EngineResult`, a
:class:`~virialff.qc.psi4_process.Psi4Result` that also records the engine name and version).

ωB97X-D as Psi4 1.3.2 defines it (``psi4.energy("wb97x-d")`` with ``scf_type df``):

* XC: libxc ``HYB_GGA_XC_WB97X_D`` (ω = 0.2, 22.2036 % short-range and 100 % long-range exact
  exchange), plus the Chai–Head-Gordon dispersion of :mod:`virialff.qc.dispersion` (PySCF
  refuses ``wb97x-d`` by name because it has no "-D" of this kind).
* Basis def2-SVP (spherical); density fitting of J and K with def2-universal-jkfit (the basis
  Psi4 1.3.2 ships as ``def2-svp-jkfit``). Psi4 fits the long-range (erf) exchange
  asymmetrically, (mn|erf|ls) ≈ Σ_PQ (mn|P) [J^-1]_PQ (Q|erf|ls) with the Coulomb metric J,
  while PySCF's own range-separated DF uses the erf metric on both sides. The two differ by
  ~1e-5 Eh for water; ``long_range_exchange_fit="psi4"`` (default) reproduces Psi4's fit.
* DFT grid as Psi4's defaults (75 radial / 302 Lebedev points, no pruning): Treutler–Ahlrichs
  M4 radial mapping (O. Treutler, R. Ahlrichs, J. Chem. Phys. 102, 346 (1995)) scaled per
  element by Psi4's radius table, Becke partitioning with Treutler's size adjustment using the
  same radii, and the atomic grids oriented along the principal axes of the nuclear-charge
  second moment (Psi4's "standard orientation"). Psi4's radius table is numerically Grimme's D2
  R0 column (H..Xe; 1.881 above), so :data:`virialff.qc.dispersion.GRIMME_D2_C6_R0` supplies it.
  The engine therefore runs PySCF on the molecule rotated into that frame; E and the K·D
  descriptors are rotation invariant. For symmetric and spherical tops (degenerate moments)
  Psi4 picks the in-plane axes by further rules this module does not copy, so the grids may
  differ by a rotation about the unique axis there (effect not measured; drug-like molecules
  are asymmetric tops).
* Geometry: Å → Bohr with Psi4 1.3.2's Bohr radius (CODATA 2014, 0.52917721067 Å), so both
  engines place the nuclei identically.

Measured against Psi4 1.3.2 (same geometries, Psi4 e/d_convergence 1e-8): |ΔE| ≤ 1e-8 Eh,
max |ΔKD_atom| ≤ 1.1e-6 Eh, max |ΔKD_pair| ≤ 7e-8 Eh for water, ethanol and CH3SCl
(``tests/qc/test_pyscf_engine.py``), |ΔE| = 2.5e-7 Eh and max |ΔKD_atom| = 2.5e-6 Eh for
2-chlorobenzoic acid (``benchmarks/descriptor_engines.py``); with PySCF's native long-range fit
instead, |ΔE| ≈ 1-2e-5 Eh and max |ΔKD_atom| ≈ 7e-5 Eh. The GPU path is NOT verified (no CUDA
where this was written): it uses gpu4pyscf's native range-separated DF, i.e. it behaves like
``long_range_exchange_fit="pyscf"``, and hands the grid settings to PySCF's ``to_gpu()``,
which is meant to carry them over.

PySCF is an optional dependency (``pip install 'virialff[pyscf]'``); it is imported lazily.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from virialff.qc.dispersion import (
    chg_dispersion_energy_hartree,
    chg_dispersion_gradient_hartree_per_bohr,
)
from virialff.qc.kd import density_failure, kd_partition
from virialff.qc.psi4_conventions import (
    PSI4_BOHR_ANGSTROM,
    psi4_grid_radii_table,
    psi4_standard_orientation,
    treutler_m4_radial_grid,
)
from virialff.qc.psi4_process import Psi4Job, Psi4Result

#: libxc name of ωB97X-D's exchange-correlation part (no dispersion).
WB97X_D_LIBXC = "HYB_GGA_XC_WB97X_D"
#: Methods the engine reproduces: Psi4 name → (PySCF xc or "" for Hartree–Fock, add CHG -D).
SUPPORTED_METHODS: dict[str, tuple[str, bool]] = {
    "wb97x-d": (WB97X_D_LIBXC, True),
    "hf": ("", False),
    "scf": ("", False),
}
LONG_RANGE_EXCHANGE_FITS = ("psi4", "pyscf")
DEVICES = ("cpu", "gpu", "auto")
#: e·Bohr → Debye (CODATA 2018).
DEBYE_PER_E_BOHR = 2.541746473

_INSTALL_HINT = "install the optional extra: pip install 'virialff[pyscf]' (pyscf==2.14.0)"
_GPU_HINT = "pip install gpu4pyscf-cuda12x cutensor-cu12 (matching the CUDA version)"


def import_pyscf():  # noqa: ANN201 - returns the pyscf module
    """Import PySCF or raise ImportError with the install command."""
    try:
        return importlib.import_module("pyscf")
    except ImportError as error:
        raise ImportError(f"descriptors.engine 'pyscf' needs PySCF: {_INSTALL_HINT}") from error


def _pyscf_module(name: str):  # noqa: ANN202 - a pyscf submodule
    import_pyscf()
    return importlib.import_module(f"pyscf.{name}")


def pyscf_version() -> str:
    """Installed PySCF version, or "" when PySCF is missing."""
    try:
        return str(import_pyscf().__version__)
    except ImportError:
        return ""


@dataclass
class EngineResult(Psi4Result):
    """A :class:`Psi4Result` from another engine; ``engine`` names the program and its version
    (``"pyscf 2.14.0"``, ``"gpu4pyscf 1.4.0 (pyscf 2.14.0)"``, ``"psi4 wavefunction file,
    pyscf 2.14.0 integrals"``), as the Psi4 worker records ``"psi4 1.3.2"``."""


@dataclass
class PySCFSettings:
    """Settings of the PySCF engine.

    ``memory_mb``: PySCF's ``max_memory`` (MB). ``device``: ``"cpu"``, ``"gpu"`` (gpu4pyscf;
    an error when it or CUDA is missing) or ``"auto"`` (GPU when available).
    ``conv_tol_hartree``: SCF energy change; ``conv_tol_grad``: orbital-gradient norm.
    """

    density_fitting: bool
    auxbasis: str
    long_range_exchange_fit: str
    radial_points: int
    spherical_points: int
    conv_tol_hartree: float
    conv_tol_grad: float
    maxiter: int
    memory_mb: int
    threads: int
    device: str

    def __post_init__(self) -> None:
        if self.long_range_exchange_fit not in LONG_RANGE_EXCHANGE_FITS:
            raise ValueError(
                f"long_range_exchange_fit must be one of {LONG_RANGE_EXCHANGE_FITS},"
                f" got {self.long_range_exchange_fit!r}"
            )
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {DEVICES}, got {self.device!r}")


def memory_megabytes(text: str | int | float) -> int:
    """``"4 GB"``, ``"500 MB"``, ``"2 GiB"`` or a number of MB → megabytes (10^6 bytes)."""
    if isinstance(text, (int, float)):
        return int(text)
    match = re.fullmatch(r"\s*([0-9.]+)\s*([kKmMgGtT]i?[bB])?\s*", str(text))
    if not match:
        raise ValueError(f"cannot read memory size {text!r} (use e.g. '4 GB')")
    value = float(match.group(1))
    unit = (match.group(2) or "MB").upper()
    factor = {
        "KB": 1e-3,
        "MB": 1.0,
        "GB": 1e3,
        "TB": 1e6,
        "KIB": 1024 / 1e6,
        "MIB": 1024**2 / 1e6,
        "GIB": 1024**3 / 1e6,
        "TIB": 1024**4 / 1e6,
    }[unit]
    return int(value * factor)


def pyscf_settings_from_config(section: Mapping[str, Any]) -> PySCFSettings:
    """Build :class:`PySCFSettings` from the ``descriptors:`` config section.

    Shared keys: ``scf_type`` (``df`` → density fitting; ``pk``/``direct``/``out_of_core`` →
    exact integrals), ``maxiter``, ``e_convergence``, ``memory``, ``threads``. Engine keys under
    ``descriptors.pyscf``: ``device``, ``auxbasis``, ``long_range_exchange_fit``,
    ``radial_points``, ``spherical_points``, ``conv_tol_grad``.
    """
    extra = section["pyscf"]
    scf_type = str(section["scf_type"]).lower()
    return PySCFSettings(
        density_fitting=scf_type in ("df", "mem_df", "disk_df"),
        auxbasis=str(extra["auxbasis"]),
        long_range_exchange_fit=str(extra["long_range_exchange_fit"]),
        radial_points=int(extra["radial_points"]),
        spherical_points=int(extra["spherical_points"]),
        # K·D needs a well-converged D: the tighter of e_convergence and 1e-10 Eh.
        conv_tol_hartree=min(float(section["e_convergence"]), 1e-10),
        conv_tol_grad=float(extra["conv_tol_grad"]),
        maxiter=int(section["maxiter"]),
        memory_mb=memory_megabytes(section["memory"]),
        threads=int(section["threads"]),
        device=str(extra["device"]),
    )


# ---------------------------------------------------------------------------------------------
# Device selection


def gpu_unavailable_reason() -> str:
    """Why the GPU path cannot run here ("" when gpu4pyscf and a CUDA device are present)."""
    if importlib.util.find_spec("gpu4pyscf") is None:
        return f"gpu4pyscf is not installed ({_GPU_HINT})"
    try:
        cupy = importlib.import_module("cupy")
        count = int(cupy.cuda.runtime.getDeviceCount())
    except Exception as error:  # noqa: BLE001 - any CUDA/driver failure means "no GPU"
        return f"no usable CUDA device ({type(error).__name__}: {error})"
    return "" if count > 0 else "no CUDA device"


def resolve_device(device: str) -> str:
    """``"cpu"`` or ``"gpu"`` for a requested device; raises RuntimeError when ``"gpu"`` was
    asked for and cannot run (the message says why and how to install)."""
    if device == "cpu":
        return "cpu"
    reason = gpu_unavailable_reason()
    if device == "gpu" and reason:
        raise RuntimeError(f"descriptors.pyscf.device is 'gpu' but {reason}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {DEVICES}, got {device!r}")
    return "cpu" if reason else "gpu"


# ---------------------------------------------------------------------------------------------
# Molecule, AO order and grid helpers


def build_molecule(
    symbols: Sequence[str],
    positions_bohr: np.ndarray,
    basis: str,
    charge: int = 0,
    multiplicity: int = 1,
    memory_mb: int = 4000,
):  # noqa: ANN201
    """A built spherical-harmonic PySCF ``Mole`` (ECPs of the basis where it has them)."""
    gto = _pyscf_module("gto")
    atoms = [
        (str(s), tuple(float(v) for v in xyz))
        for s, xyz in zip(symbols, positions_bohr, strict=True)
    ]
    mol = gto.Mole()
    mol.atom = atoms
    mol.unit = "Bohr"
    mol.basis = _basis_dict(basis, tuple(sorted(set(map(str, symbols)))))
    mol.ecp = _ecp_dict(basis, tuple(sorted(set(map(str, symbols)))))
    mol.charge = int(charge)
    mol.spin = int(multiplicity) - 1
    mol.cart = False
    mol.verbose = 0
    mol.max_memory = memory_mb
    mol.build(dump_input=False, parse_arg=False)
    return mol


@functools.lru_cache(maxsize=64)
def _basis_dict(basis: str, symbols: tuple[str, ...]) -> dict[str, Any]:
    gto = _pyscf_module("gto")
    out = {}
    for symbol in symbols:
        try:
            out[symbol] = gto.basis.load(basis, symbol)
        except Exception as error:  # noqa: BLE001 - PySCF raises several kinds here
            raise ValueError(f"PySCF has no basis {basis!r} for element {symbol}") from error
    return out


@functools.lru_cache(maxsize=64)
def _ecp_dict(basis: str, symbols: tuple[str, ...]) -> dict[str, Any]:
    gto = _pyscf_module("gto")
    out = {}
    for symbol in symbols:
        try:
            ecp = gto.basis.load_ecp(basis, symbol)
        except Exception:  # noqa: BLE001 - no ECP for this element and basis
            ecp = None
        if ecp:
            out[symbol] = ecp
    return out


def function_to_atom(mol) -> np.ndarray:  # noqa: ANN001 - pyscf Mole
    """[nao] atom index of each AO, in PySCF's AO order."""
    centre = np.empty(mol.nao_nr(), dtype=int)
    for atom, (_, _, ao_start, ao_stop) in enumerate(mol.aoslice_by_atom()):
        centre[ao_start:ao_stop] = atom
    return centre


# ---------------------------------------------------------------------------------------------
# Psi4's long-range exchange fit


@functools.cache
def _psi4_fit_df_class():  # noqa: ANN202 - a pyscf.df.DF subclass, built on first use
    scipy_linalg = importlib.import_module("scipy.linalg")
    df = importlib.import_module("pyscf.df")
    lib = importlib.import_module("pyscf.lib")
    incore = importlib.import_module("pyscf.df.incore")

    class Psi4LongRangeFitDF(df.DF):
        """PySCF DF whose long-range (erf) exchange uses Psi4's Coulomb-metric fit.

        K_lr[m, n] = Σ_X Σ_ls B_X,ml C_X,ns D_ls (symmetrised) with B = L^-1 (P|mn) (PySCF's
        own Cholesky factor tensor) and C = L^-1 (P|erf|mn), J = L L^T the Coulomb metric.
        Both tensors are kept in memory: 2 · naux · nao(nao+1)/2 · 8 bytes.
        """

        _erf_tensor: tuple[float, np.ndarray] | None = None

        def _erf_fit(self, omega: float) -> np.ndarray:
            if self._erf_tensor is not None and self._erf_tensor[0] == omega:
                return self._erf_tensor[1]
            if self._cderi is None:
                self.build()
            if not isinstance(self._cderi, np.ndarray):
                raise MemoryError(
                    "the DF tensor did not fit in memory; raise descriptors.memory"
                    " or use long_range_exchange_fit: pyscf"
                )
            mol, auxmol = self.mol, self.auxmol
            # Only the AO molecule carries ω: the 3-index integrals are erf-attenuated, the
            # metric (auxmol alone) stays Coulomb.
            with mol.with_range_coulomb(omega):
                tensor = incore.cholesky_eri(mol, auxmol=auxmol, max_memory=self.max_memory)
            if tensor.shape != self._cderi.shape:
                raise RuntimeError("Coulomb and erf fitting tensors differ in shape")
            self._erf_tensor = (omega, tensor)
            return tensor

        def get_jk(self, dm, hermi=1, with_j=True, with_k=True, direct_scf_tol=1e-13, omega=None):
            if not omega or omega < 0 or not with_k:
                return super().get_jk(dm, hermi, with_j, with_k, direct_scf_tol, omega)
            vj = (
                super().get_jk(dm, hermi, True, False, direct_scf_tol, omega)[0] if with_j else None
            )
            right = self._erf_fit(omega)  # builds the Coulomb tensor first if needed
            left = self._cderi
            dms = np.asarray(dm)
            single = dms.ndim == 2
            dms = dms.reshape(-1, dms.shape[-2], dms.shape[-1])
            nao = dms.shape[-1]
            block = max(1, int(2e8 / (32.0 * nao * nao)))
            out = np.empty_like(dms)
            for index, density in enumerate(dms):
                density = 0.5 * (density + density.T)
                values, vectors = scipy_linalg.eigh(density)
                keep = np.abs(values) > 1e-14 * max(1.0, float(np.abs(values).max()))
                orbitals = vectors[:, keep] * np.sqrt(np.abs(values[keep]))
                signs = np.sign(values[keep])
                vk = np.zeros((nao, nao))
                for p0 in range(0, left.shape[0], block):
                    p1 = min(p0 + block, left.shape[0])
                    b_orb = lib.unpack_tril(left[p0:p1]) @ orbitals  # [X, m, i]
                    c_orb = lib.unpack_tril(right[p0:p1]) @ orbitals  # [X, n, i]
                    b_flat = (b_orb * signs).transpose(1, 0, 2).reshape(nao, -1)
                    c_flat = c_orb.transpose(1, 0, 2).reshape(nao, -1)
                    vk += b_flat @ c_flat.T
                out[index] = 0.5 * (vk + vk.T)
            return vj, (out[0] if single else out)

    return Psi4LongRangeFitDF


def psi4_fit_memory_mb(mol, auxbasis: str) -> float:  # noqa: ANN001 - pyscf Mole
    """Memory (MB) of the two DF tensors the Psi4-style long-range fit keeps in core."""
    addons = importlib.import_module("pyscf.df.addons")
    naux = addons.make_auxmol(mol, auxbasis).nao_nr()
    nao = mol.nao_nr()
    return 2 * naux * nao * (nao + 1) / 2 * 8 / 1e6


# ---------------------------------------------------------------------------------------------
# One molecule


def _make_scf(mol, method: str, settings: PySCFSettings, device: str):  # noqa: ANN001, ANN202
    dft, scf = _pyscf_module("dft"), _pyscf_module("scf")
    xc, _ = SUPPORTED_METHODS[method]
    open_shell = mol.spin != 0
    if xc:
        mf = dft.UKS(mol) if open_shell else dft.RKS(mol)
        mf.xc = xc
        radii = importlib.import_module("pyscf.dft.radi")
        gen_grid = importlib.import_module("pyscf.dft.gen_grid")
        mf.grids.atom_grid = (settings.radial_points, settings.spherical_points)
        mf.grids.prune = None
        mf.grids.radi_method = treutler_m4_radial_grid
        mf.grids.atomic_radii = psi4_grid_radii_table()
        mf.grids.radii_adjust = radii.treutler_atomic_radii_adjust
        mf.grids.becke_scheme = gen_grid.original_becke
    else:
        mf = scf.UHF(mol) if open_shell else scf.RHF(mol)
    mf.verbose = 0
    mf.max_memory = settings.memory_mb
    mf.conv_tol = settings.conv_tol_hartree
    mf.conv_tol_grad = settings.conv_tol_grad
    mf.max_cycle = settings.maxiter
    if settings.density_fitting:
        mf = mf.density_fit(auxbasis=settings.auxbasis)
        if xc and settings.long_range_exchange_fit == "psi4" and device == "cpu":
            with_df = _psi4_fit_df_class()(mol, auxbasis=settings.auxbasis)
            with_df.max_memory = settings.memory_mb
            mf.with_df = with_df
    if device == "gpu":
        mf = mf.to_gpu()
    return mf


def _to_numpy(array: Any) -> np.ndarray:
    return np.asarray(array.get() if hasattr(array, "get") else array)


def engine_label(device: str) -> str:
    """Engine name and version recorded per molecule, e.g. ``"pyscf 2.14.0"``."""
    version = pyscf_version()
    if device == "gpu":
        gpu4pyscf = importlib.import_module("gpu4pyscf")
        return f"gpu4pyscf {gpu4pyscf.__version__} (pyscf {version})"
    return f"pyscf {version}"


def _gradient_input_frame(mf, atomic_numbers: list[int], oriented_bohr: np.ndarray,  # noqa: ANN001
                          axes: np.ndarray, dispersion: bool) -> np.ndarray:
    """∇E [N, 3] (Hartree/Bohr) of a converged SCF ``mf`` plus the CHG dispersion when
    ``dispersion``, rotated from Psi4's standard orientation back to the input frame."""
    gradient = _to_numpy(mf.nuc_grad_method().kernel())
    if dispersion:
        gradient = gradient + chg_dispersion_gradient_hartree_per_bohr(atomic_numbers,
                                                                        oriented_bohr)
    return np.asarray(gradient, dtype=float) @ axes.T


def run_pyscf_job(job: Psi4Job, settings: PySCFSettings, device: str = "cpu") -> EngineResult:
    """Run one kinetic-descriptor job with PySCF; never raises for a molecule-level failure.

    ``job.positions_angstrom`` [N, 3] Å. On success ``energy_hartree`` is the ωB97X-D total
    energy including the CHG dispersion, ``kinetic_hartree`` T = Tr(D K), ``arrays`` hold
    ``kd_atom_hartree`` [N] and ``kd_pair_hartree`` [N(N-1)/2] (numpy.triu order, both orders
    summed) and ``positions_angstrom`` is the molecule PySCF used, rotated back to the input
    frame. Failures come back ``ok=False`` with ``error_kind`` ``scf_not_converged``,
    ``nan_value`` or ``pyscf_failed`` and a one-line message naming the job.
    """
    result = EngineResult(job_id=job.job_id, ok=False, engine=engine_label(device))
    start = time.perf_counter()
    try:
        method = job.method.lower()
        if method not in SUPPORTED_METHODS:
            raise ValueError(
                f"the PySCF engine supports methods {sorted(SUPPORTED_METHODS)}, not {job.method!r}"
            )
        if job.fragment_sizes or job.bsse_type or job.optimize:
            raise ValueError("the PySCF engine runs single-fragment energies only")
        _pyscf_module("lib").num_threads(settings.threads)
        symbols = [str(s) for s in job.symbols]
        positions_bohr = np.asarray(job.positions_angstrom, dtype=float) / PSI4_BOHR_ANGSTROM
        elements = _pyscf_module("data.elements")
        atomic_numbers = [int(elements.charge(s)) for s in symbols]
        oriented, axes, centre = psi4_standard_orientation(atomic_numbers, positions_bohr)
        mol = build_molecule(
            symbols, oriented, job.basis, job.charge, job.multiplicity, settings.memory_mb
        )
        if (
            settings.density_fitting
            and settings.long_range_exchange_fit == "psi4"
            and device == "cpu"
            and SUPPORTED_METHODS[method][0]
        ):
            needed = psi4_fit_memory_mb(mol, settings.auxbasis)
            if needed > settings.memory_mb:
                raise MemoryError(
                    f"the Psi4-style long-range exchange fit needs {needed:.0f} MB "
                    f"> memory {settings.memory_mb} MB; raise descriptors.memory or set "
                    "descriptors.pyscf.long_range_exchange_fit: pyscf"
                )
        mf = _make_scf(mol, method, settings, device)
        scf_energy = float(mf.kernel())
        result.scf_iterations = getattr(mf, "cycles", None)
        dispersion = (
            chg_dispersion_energy_hartree(atomic_numbers, oriented)
            if SUPPORTED_METHODS[method][1]
            else 0.0
        )
        energy = scf_energy + dispersion
        result.energy_hartree = energy
        result.atomic_numbers = atomic_numbers
        result.positions_angstrom = (mol.atom_coords() @ axes.T + centre) * PSI4_BOHR_ANGSTROM
        result.variables = {
            "DFT TOTAL ENERGY" if SUPPORTED_METHODS[method][0] else "HF TOTAL ENERGY": energy,
            "SCF TOTAL ENERGY": energy,
            "DISPERSION CORRECTION ENERGY": dispersion,
            "NUCLEAR REPULSION ENERGY": float(mol.energy_nuc()),
        }
        if not mf.converged:
            result.error_kind = "scf_not_converged"
            raise RuntimeError(f"SCF did not converge in {settings.maxiter} iterations")
        density = _to_numpy(mf.make_rdm1())
        if density.ndim == 3:
            density = density[0] + density[1]
        kinetic = mol.intor_symmetric("int1e_kin")
        overlap = mol.intor_symmetric("int1e_ovlp")
        potential = mol.intor_symmetric("int1e_nuc")
        if mol.has_ecp():
            potential = potential + mol.intor_symmetric("ECPscalar")
        summary = getattr(mf, "scf_summary", None) or {}
        one_electron = (
            summary["e1"] if "e1" in summary else np.sum(_to_numpy(mf.get_hcore()) * density)
        )
        # Tr(D (K + V)) against the SCF's own one-electron energy: D is the converged density
        # of this basis (the check the Psi4 worker makes against "ONE-ELECTRON ENERGY").
        result.one_electron_residual_hartree = float(
            np.sum((kinetic + potential) * density) - float(_to_numpy(one_electron))
        )
        result.variables["ONE-ELECTRON ENERGY"] = float(_to_numpy(one_electron))
        kd_atom, kd_pair, kinetic_energy = kd_partition(
            kinetic, density, function_to_atom(mol), mol.natm
        )
        result.kinetic_hartree = kinetic_energy
        result.n_electrons_from_density = float(np.sum(overlap * density))
        result.sum_rule_residual_hartree = float(kd_atom.sum() + kd_pair.sum() - kinetic_energy)
        result.arrays = {"kd_atom_hartree": kd_atom, "kd_pair_hartree": kd_pair}
        if job.gradient:
            result.arrays["gradient_hartree_per_bohr"] = _gradient_input_frame(
                mf, atomic_numbers, oriented, axes, SUPPORTED_METHODS[method][1])
            # PySCF's dipole is about the oriented frame's origin (the centre of nuclear
            # charge); about the input frame's origin it gains charge × centre.
            result.dipole_debye = (_to_numpy(mf.dip_moment(unit="Debye", verbose=0)) @ axes.T
                                   + job.charge * centre * DEBYE_PER_E_BOHR)
            if not np.all(np.isfinite(result.arrays["gradient_hartree_per_bohr"])):
                result.error_kind = "nan_value"
                raise FloatingPointError("non-finite gradient")
        # the K·D layer's one acceptance check (the one-electron residual is the descriptor
        # stage's to judge, with the SCF convergence it knows)
        kind, message = density_failure(kinetic_energy, kd_atom, kd_pair,
                                        result.n_electrons_from_density, mol.nelectron, None,
                                        None)
        if kind == "nan_value" or not math.isfinite(energy):
            result.error_kind = "nan_value"
            raise FloatingPointError(message or f"non-finite energy {energy}")
        if kind:
            raise RuntimeError(message)
        result.ok = True
    except Exception as error:  # one molecule must never end the shard
        result.error_kind = result.error_kind or "pyscf_failed"
        result.error_message = f"{job.job_id}: {type(error).__name__}: {error}".replace("\n", " ")
        result.arrays = {} if result.error_kind != "nan_value" else result.arrays
    finally:
        result.wall_s = time.perf_counter() - start
    return result


def run_pyscf_jobs(jobs: Sequence[Psi4Job], settings: PySCFSettings) -> list[EngineResult]:
    """Run ``jobs`` in this process, one :class:`EngineResult` per job, in order.

    The device is resolved once (``settings.device``); asking for ``"gpu"`` without gpu4pyscf
    or CUDA raises RuntimeError before any molecule runs. Job ids must be unique.
    """
    ids = [job.job_id for job in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError("job ids must be unique")
    import_pyscf()
    device = resolve_device(settings.device)
    return [run_pyscf_job(job, settings, device) for job in jobs]
