"""GFN2-xTB optimisations and single points with the ``xtb`` program, and RDKit 3D embedding.

Each call runs ``xtb`` once in its own temporary folder::

    xtb coord.xyz [--opt LEVEL] --gfn 2 --chrg Q --uhf U --parallel THREADS

(GFN2-xTB: Bannwarth, Ehlert, Grimme, J. Chem. Theory Comput. 15, 1652 (2019).) Complexes of
several molecules are simply more atoms. xtb keeps the atom order of the input; we check the
element sequence of ``xtbopt.xyz`` anyway. Every failure (missing program, non-zero exit, no
output, unconverged optimisation, timeout, NaN) raises
:class:`~virialff.errors.MoleculeRejected` with reason ``xtb_failed`` and the tail of xtb's
output, so a shard records it and goes on.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.errors import MoleculeRejected
from virialff.formats.xyz import read_xyz, write_xyz

_TOTAL_ENERGY = re.compile(r"TOTAL ENERGY\s+(\S+)\s+Eh")


@dataclass
class XtbSettings:
    """How to call xtb: executable (may carry arguments), GFN level, ``--opt`` level,
    threads (``--parallel`` and ``OMP_NUM_THREADS``) and a timeout per call in seconds."""

    executable: str
    gfn: int
    optimization_level: str
    threads: int
    timeout_s: float | None


def xtb_settings_from_config(section: Mapping[str, Any]) -> XtbSettings:
    """:class:`XtbSettings` from a ``geometry:`` config section (every key required: the schema
    fills the defaults; execution keys arrive from the rule's threads and resources)."""
    return XtbSettings(
        executable=str(section["xtb_executable"]),
        gfn=int(section["gfn"]),
        optimization_level=str(section["optimization_level"]),
        threads=int(section["threads"]),
        timeout_s=section["timeout_s"],
    )


def _tail(text: str, n_lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-n_lines:])


def _execute(work: Path, arguments: Sequence[str], settings: XtbSettings, molecule_id: str,
             log_path: Path | str | None, fail) -> subprocess.CompletedProcess:  # noqa: ANN001
    """Run ``xtb coord.xyz ARGUMENTS --gfn G --parallel T`` in ``work`` (threads, stack size
    and timeout from ``settings``); log it; ``fail(detail)`` builds the exception to raise."""
    command = [*shlex.split(settings.executable), "coord.xyz", *arguments,
               "--gfn", str(settings.gfn), "--parallel", str(int(settings.threads))]
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = f"{int(settings.threads)},1"
    env["MKL_NUM_THREADS"] = str(int(settings.threads))
    env.setdefault("OMP_STACKSIZE", "1G")  # xtb's documented setting for larger molecules
    try:
        completed = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True,
                                   timeout=settings.timeout_s)
    except FileNotFoundError:
        raise fail(f"xtb executable {settings.executable!r} not found") from None
    except subprocess.TimeoutExpired:
        raise fail(f"timed out after {settings.timeout_s} s") from None
    if log_path is not None:
        with open(log_path, "a") as log:
            log.write(f"# {molecule_id}: $ {shlex.join(command)} -> {completed.returncode}\n")
            log.write(completed.stdout[-20000:])
            log.write(completed.stderr[-5000:])
    return completed


def _run_xtb(
    symbols: Sequence[str],
    positions_angstrom: Any,
    optimize_geometry: bool,
    charge: int,
    uhf: int,
    settings: XtbSettings,
    molecule_id: str,
    log_path: Path | str | None,
) -> tuple[np.ndarray, float]:
    positions = np.asarray(positions_angstrom, dtype=float)
    if positions.shape != (len(symbols), 3):
        raise ValueError(f"{molecule_id}: positions shape {positions.shape}, "
                         f"expected ({len(symbols)}, 3)")
    symbols = [str(s).capitalize() for s in symbols]
    arguments = ["--opt", settings.optimization_level] if optimize_geometry else []
    arguments += ["--chrg", str(int(charge)), "--uhf", str(int(uhf))]
    what = "optimisation" if optimize_geometry else "single point"

    def fail(detail: str) -> MoleculeRejected:
        return MoleculeRejected(
            molecule_id, "xtb_failed", f"GFN{settings.gfn}-xTB {what}: {detail}"
        )

    with tempfile.TemporaryDirectory(prefix="virialff-xtb-") as tmp:
        work = Path(tmp)
        write_xyz(work / "coord.xyz", symbols, positions, molecule_id)
        completed = _execute(work, arguments, settings, molecule_id, log_path, fail)
        output_tail = _tail(completed.stderr + "\n" + completed.stdout)
        if completed.returncode != 0:
            raise fail(f"xtb exited with status {completed.returncode}: {output_tail}")
        energies = _TOTAL_ENERGY.findall(completed.stdout)
        if not energies:
            raise fail(f"no TOTAL ENERGY in xtb output: {output_tail}")
        try:
            energy_hartree = float(energies[-1])
        except ValueError:
            raise fail(f"unreadable energy {energies[-1]!r}") from None
        if optimize_geometry:
            if (work / "NOT_CONVERGED").exists() or not (work / ".xtboptok").exists():
                raise fail(f"geometry optimisation did not converge: {output_tail}")
            if not (work / "xtbopt.xyz").exists():
                raise fail(f"xtb wrote no xtbopt.xyz: {output_tail}")
            (frame,) = read_xyz(work / "xtbopt.xyz")
            new_symbols, positions = frame.symbols, frame.positions_angstrom
            if new_symbols != symbols:
                raise fail("xtb changed the atom order (element sequence differs)")
    if not math.isfinite(energy_hartree) or not np.all(np.isfinite(positions)):
        raise fail("non-finite energy or coordinates")
    return positions, energy_hartree


def optimize(
    symbols: Sequence[str],
    positions_angstrom: Any,
    *,
    charge: int = 0,
    uhf: int = 0,
    settings: XtbSettings,
    molecule_id: str = "molecule",
    log_path: Path | str | None = None,
) -> tuple[np.ndarray, float]:
    """GFN-xTB geometry optimisation.

    ``symbols`` [N], ``positions_angstrom`` [N, 3] Å; returns the optimised positions [N, 3] Å
    (same atom order) and the total energy in Hartree. ``uhf`` is the number of unpaired
    electrons. Raises :class:`MoleculeRejected` (``xtb_failed``) on any failure.
    """
    return _run_xtb(symbols, positions_angstrom, True, charge, uhf, settings,
                    molecule_id, log_path)


def single_point(
    symbols: Sequence[str],
    positions_angstrom: Any,
    *,
    charge: int = 0,
    uhf: int = 0,
    settings: XtbSettings,
    molecule_id: str = "molecule",
    log_path: Path | str | None = None,
) -> float:
    """GFN-xTB total energy in Hartree at fixed ``positions_angstrom`` [N, 3] Å."""
    _, energy = _run_xtb(symbols, positions_angstrom, False, charge, uhf,
                         settings, molecule_id, log_path)
    return energy


_MD_INPUT = """$md
   temp={temperature_k:.2f}
   time={time_ps:.4f}
   dump={dump_fs:.4f}
   step={step_fs:.4f}
   velo=false
   nvt=true
   hmass=1
   shake=0
$end
"""


def molecular_dynamics(
    symbols: Sequence[str],
    positions_angstrom: Any,
    *,
    temperature_k: float,
    time_ps: float,
    step_fs: float = 0.5,
    dump_fs: float = 50.0,
    charge: int = 0,
    uhf: int = 0,
    settings: XtbSettings,
    molecule_id: str = "molecule",
    log_path: Path | str | None = None,
) -> list[np.ndarray]:
    """GFN-xTB Born-Oppenheimer MD (``xtb --md``) from ``positions_angstrom`` [N, 3] Å.

    NVT at ``temperature_k`` (xtb's Berendsen thermostat, real hydrogen masses, no SHAKE, so
    bonds to hydrogen vibrate too) for ``time_ps`` with ``step_fs`` steps; returns the frames
    xtb dumped every ``dump_fs`` (each [N, 3] Å, same atom order), the last one last. Raises
    :class:`MoleculeRejected` (``xtb_failed``) on any failure.
    """
    positions = np.asarray(positions_angstrom, dtype=float)
    symbols = [str(s).capitalize() for s in symbols]
    arguments = ["--md", "--input", "md.inp", "--chrg", str(int(charge)), "--uhf", str(int(uhf))]

    def fail(detail: str) -> MoleculeRejected:
        return MoleculeRejected(molecule_id, "xtb_failed", f"GFN{settings.gfn}-xTB MD: {detail}")

    with tempfile.TemporaryDirectory(prefix="virialff-xtb-md-") as tmp:
        work = Path(tmp)
        write_xyz(work / "coord.xyz", symbols, positions, molecule_id)
        (work / "md.inp").write_text(_MD_INPUT.format(
            temperature_k=temperature_k, time_ps=time_ps, dump_fs=dump_fs, step_fs=step_fs))
        completed = _execute(work, arguments, settings, molecule_id, log_path, fail)
        trajectory = work / "xtb.trj"
        if completed.returncode != 0 or not (work / "xtbmdok").exists() or not trajectory.exists():
            raise fail(f"xtb exited with status {completed.returncode}: "
                       f"{_tail(completed.stderr + chr(10) + completed.stdout)}")
        try:
            frames = read_xyz(trajectory)
        except ValueError as error:
            raise fail(str(error)) from None
    if not frames:
        raise fail("empty trajectory")
    if any(frame.symbols != symbols for frame in frames):
        raise fail("xtb changed the atom order (element sequence differs)")
    return [frame.positions_angstrom for frame in frames]


# --- RDKit helpers -------------------------------------------------------------------------


def mol_from_smiles(smiles: str, molecule_id: str, check: bool = True):  # noqa: ANN201 - Mol
    """Parse SMILES, add explicit hydrogens (``Chem.AddHs``) and check the molecule.

    Raises :class:`MoleculeRejected`: ``bad_smiles``, and with ``check`` also
    ``unsupported_element``, ``charged``, ``open_shell``. No coordinates yet.
    """
    from rdkit import Chem, RDLogger

    from virialff.chem.graph import check_elements, check_neutral_closed_shell

    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(smiles) if smiles and str(smiles).strip() else None
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None:
        raise MoleculeRejected(molecule_id, "bad_smiles", f"RDKit cannot parse SMILES {smiles!r}")
    if check:
        check_elements(mol, molecule_id)
        check_neutral_closed_shell(mol, molecule_id)
    return Chem.AddHs(mol)


def embed_molecule(
    mol,  # noqa: ANN001 - rdkit Mol with explicit hydrogens
    molecule_id: str,
    seed: int = 0,
    max_attempts: int = 10,
    mmff_preoptimize: bool = True,
):  # noqa: ANN201 - rdkit Mol
    """One ETKDG conformer (seeded; up to ``max_attempts`` seeds), then optional MMFF94.

    Returns a copy of ``mol`` with one conformer; atom order unchanged. Raises
    :class:`MoleculeRejected` (``embedding_failed``) when no seed embeds.
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.Mol(mol)
    status = -1
    for attempt in range(max_attempts):
        params = AllChem.ETKDGv3()
        params.randomSeed = int(seed) + attempt
        status = AllChem.EmbedMolecule(mol, params)
        if status != 0:
            # Random initial coordinates embed molecules that ETKDG's distance geometry misses.
            params.useRandomCoords = True
            status = AllChem.EmbedMolecule(mol, params)
        if status == 0:
            break
    if status != 0:
        raise MoleculeRejected(
            molecule_id, "embedding_failed",
            f"RDKit ETKDG could not embed {Chem.MolToSmiles(Chem.RemoveHs(mol))} "
            f"in {max_attempts} attempt(s)",
        )
    if mmff_preoptimize and AllChem.MMFFHasAllMoleculeParams(mol):
        AllChem.MMFFOptimizeMolecule(mol, maxIters=2000)
    return mol


def molecule_from_smiles(
    smiles: str,
    molecule_id: str,
    seed: int = 0,
    max_attempts: int = 10,
    mmff_preoptimize: bool = True,
):  # noqa: ANN201 - rdkit Mol
    """SMILES → checked molecule with explicit H → one 3D conformer (see :func:`embed_molecule`)."""
    mol = mol_from_smiles(smiles, molecule_id)
    return embed_molecule(mol, molecule_id, seed, max_attempts, mmff_preoptimize)


def symbols_and_positions(mol) -> tuple[list[str], np.ndarray]:  # noqa: ANN001 - rdkit Mol
    """Element symbols [N] and positions [N, 3] Å of the first conformer of ``mol``."""
    symbols = [atom.GetSymbol() for atom in mol.GetAtoms()]
    positions = np.asarray(mol.GetConformer().GetPositions(), dtype=float)
    return symbols, positions


def set_positions(mol, positions_angstrom: Any) -> None:  # noqa: ANN001 - rdkit Mol
    """Overwrite the first conformer's coordinates with ``positions_angstrom`` [N, 3] Å."""
    from rdkit.Geometry import Point3D

    conformer = mol.GetConformer()
    for index, (x, y, z) in enumerate(np.asarray(positions_angstrom, dtype=float)):
        conformer.SetAtomPosition(index, Point3D(float(x), float(y), float(z)))


def formal_charge_and_unpaired(mol) -> tuple[int, int]:  # noqa: ANN001 - rdkit Mol
    """Net formal charge and number of radical electrons (xtb ``--chrg``/``--uhf``)."""
    charge = sum(atom.GetFormalCharge() for atom in mol.GetAtoms())
    unpaired = sum(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())
    return int(charge), int(unpaired)
