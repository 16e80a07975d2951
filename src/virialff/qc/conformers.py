"""Conformer search: CREST where ``crest`` is on PATH, else RDKit ETKDG + GFN2-xTB.

CREST: Pracht, Bohle & Grimme, Phys. Chem. Chem. Phys. 22, 7169 (2020) (the paper's protocol).
CREST is in neither Debian nor PyPI, so the fallback ("rdkit-etkdg+gfn2-xtb") is:

1. ``n_embed`` ETKDG conformers (RDKit, fixed seed);
2. GFN2-xTB optimisation of each (:func:`virialff.qc.xtb.optimize`); a conformer whose covalent
   connectivity changed during the optimisation is dropped;
3. energy window: keep conformers within ``energy_window_kcal_mol`` of the lowest;
4. de-duplication by heavy-atom RMSD with symmetry (``rdMolAlign.GetBestRMS`` over all
   symmetry-equivalent atom mappings), lowest energy first: a conformer closer than
   ``rmsd_threshold_angstrom`` to a kept one is a duplicate.

Every result records which engine ran (:attr:`ConformerSearchResult.engine`).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from virialff.errors import MoleculeRejected
from virialff.units import HARTREE_TO_KCAL_MOL

ENGINE_CREST = "crest"
ENGINE_FALLBACK = "rdkit-etkdg+gfn2-xtb"


@dataclass
class ConformerSearchResult:
    """Unique conformers of one molecule, lowest GFN2-xTB energy first.

    Attributes:
        molecule_id: id of the molecule.
        engine: :data:`ENGINE_CREST` or :data:`ENGINE_FALLBACK`.
        symbols: [A] element symbols (atom order of the input Mol).
        positions_angstrom: [C] arrays [A, 3].
        xtb_energies_hartree: [C] GFN2-xTB total energies.
        counts: how many conformers survived each step (``embedded``, ``optimized``,
            ``in_window``, ``unique``).
        messages: per-conformer problems (failed optimisations, changed connectivity).
    """

    molecule_id: str
    engine: str
    symbols: list[str]
    positions_angstrom: list[np.ndarray] = field(default_factory=list)
    xtb_energies_hartree: list[float] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    @property
    def n_conformers(self) -> int:
        """Number of unique conformers."""
        return len(self.positions_angstrom)


def crest_available(executable: str = "crest") -> bool:
    """Whether the CREST program is on PATH."""
    try:
        return shutil.which(shlex.split(executable)[0]) is not None
    except (ValueError, IndexError):
        return False


def _heavy_atom_mol(mol, positions_angstrom: np.ndarray):  # noqa: ANN001, ANN202
    from rdkit import Chem

    from virialff.chem.rdkit_mol import with_positions

    return Chem.RemoveHs(with_positions(mol, positions_angstrom), sanitize=False)


def deduplicate(mol, positions_angstrom: list[np.ndarray], energies_kcal_mol: list[float],  # noqa: ANN001
                rmsd_threshold_angstrom: float, mirror_images: bool = True) -> list[int]:
    """Indices of unique conformers, lowest energy first.

    Args:
        mol: RDKit Mol with explicit H (defines connectivity and symmetry).
        positions_angstrom: [C] arrays [A, 3].
        energies_kcal_mol: [C] energies used for the order (any common zero).
        rmsd_threshold_angstrom: heavy-atom RMSD (best over symmetry-equivalent mappings)
            below which two conformers are the same.
        mirror_images: also count a conformer as a duplicate of the mirror image of a kept
            one (same energy for every method here; only for molecules without stereocentres,
            where the mirror image is the same molecule).
    """
    from rdkit import Chem
    from rdkit.Chem import rdMolAlign

    has_stereo = bool(Chem.FindMolChiralCenters(mol, includeUnassigned=True,
                                                useLegacyImplementation=False))
    use_mirror = mirror_images and not has_stereo
    order = list(np.argsort(np.asarray(energies_kcal_mol, dtype=float), kind="stable"))
    heavy = {i: _heavy_atom_mol(mol, positions_angstrom[i]) for i in order}
    mirror = {i: _heavy_atom_mol(mol, positions_angstrom[i] * np.array([1.0, 1.0, -1.0]))
              for i in order} if use_mirror else {}
    kept: list[int] = []
    for index in order:
        duplicate = False
        for other in kept:
            if heavy[index].GetNumAtoms() < 3:
                rmsd = 0.0
            else:
                rmsd = rdMolAlign.GetBestRMS(heavy[index], heavy[other])
                if use_mirror:
                    rmsd = min(rmsd, rdMolAlign.GetBestRMS(mirror[index], heavy[other]))
            if rmsd < rmsd_threshold_angstrom:
                duplicate = True
                break
        if not duplicate:
            kept.append(int(index))
    return kept


def embed_conformers(mol, n_embed: int, seed: int) -> list[np.ndarray]:  # noqa: ANN001
    """[C] ETKDG (v3) conformer positions [A, 3] of a Mol with explicit H."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    work = Chem.Mol(mol)
    if int(seed) <= 0:
        # RDKit 2026.09 embeds n identical conformers for seed 0 (and -1 means "random").
        raise ValueError(f"ETKDG seed must be a positive integer, not {seed}")
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    params.pruneRmsThresh = -1.0
    ids = AllChem.EmbedMultipleConfs(work, numConfs=int(n_embed), params=params)
    return [np.asarray(work.GetConformer(i).GetPositions(), dtype=float) for i in ids]


def fallback_search(
    mol,  # noqa: ANN001
    molecule_id: str,
    *,
    n_embed: int,
    energy_window_kcal_mol: float,
    rmsd_threshold_angstrom: float,
    xtb_settings,  # noqa: ANN001 - virialff.qc.xtb.XtbSettings
    seed: int,
    initial_positions: list[np.ndarray] | None = None,
    log_path: str | Path | None = None,
) -> ConformerSearchResult:
    """ETKDG → GFN2-xTB optimisation → energy window → RMSD de-duplication (see module doc).

    ``initial_positions`` ([C] arrays [A, 3]) replaces the ETKDG step (tests feed duplicates).

    Raises:
        MoleculeRejected: ``embedding_failed`` when no conformer could be embedded,
            ``xtb_failed`` when no optimisation succeeded.
    """
    from virialff.chem.topology import topology_changes
    from virialff.qc.xtb import optimize

    settings = xtb_settings
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    charge = int(sum(a.GetFormalCharge() for a in mol.GetAtoms()))
    starts = initial_positions if initial_positions is not None else embed_conformers(
        mol, n_embed, seed)
    result = ConformerSearchResult(molecule_id, ENGINE_FALLBACK, symbols)
    result.counts["embedded"] = len(starts)
    if not starts:
        raise MoleculeRejected(molecule_id, "embedding_failed", "ETKDG embedded no conformer")
    optimized: list[np.ndarray] = []
    energies: list[float] = []
    for index, start in enumerate(starts):
        try:
            positions, energy = optimize(symbols, start, charge=charge, settings=settings,
                                         molecule_id=f"{molecule_id}_c{index}", log_path=log_path)
        except MoleculeRejected as error:
            result.messages.append(f"conformer {index}: {error}")
            continue
        changed = topology_changes(mol, positions)
        if changed:
            result.messages.append(f"conformer {index}: topology changed in the GFN2-xTB "
                                   f"optimisation ({changed}), dropped")
            continue
        optimized.append(positions)
        energies.append(energy * HARTREE_TO_KCAL_MOL)
    result.counts["optimized"] = len(optimized)
    if not optimized:
        raise MoleculeRejected(molecule_id, "xtb_failed",
                               "no conformer survived GFN2-xTB optimisation: "
                               + "; ".join(result.messages[-3:]))
    energies_arr = np.asarray(energies)
    window = np.flatnonzero(energies_arr - energies_arr.min() <= energy_window_kcal_mol)
    result.counts["in_window"] = int(len(window))
    kept_local = deduplicate(mol, [optimized[i] for i in window], list(energies_arr[window]),
                             rmsd_threshold_angstrom)
    kept = [int(window[i]) for i in kept_local]
    result.positions_angstrom = [optimized[i] for i in kept]
    result.xtb_energies_hartree = [float(energies_arr[i] / HARTREE_TO_KCAL_MOL) for i in kept]
    result.counts["unique"] = len(kept)
    return result


def crest_search(
    mol,  # noqa: ANN001
    molecule_id: str,
    *,
    energy_window_kcal_mol: float,
    rmsd_threshold_angstrom: float,
    xtb_settings,  # noqa: ANN001 - virialff.qc.xtb.XtbSettings
    executable: str,
    seed: int,
    timeout_s: float | None = 3600.0,
    log_path: str | Path | None = None,
) -> ConformerSearchResult:
    """CREST conformer search (``crest start.xyz --gfn2 --ewin W --T threads``), then GFN2-xTB
    re-optimisation and the same window/de-duplication as the fallback."""
    from virialff.formats.xyz import read_xyz, write_xyz

    settings = xtb_settings
    symbols = [a.GetSymbol() for a in mol.GetAtoms()]
    charge = int(sum(a.GetFormalCharge() for a in mol.GetAtoms()))
    start = embed_conformers(mol, 1, seed)
    if not start:
        raise MoleculeRejected(molecule_id, "embedding_failed", "ETKDG embedded no conformer")
    with tempfile.TemporaryDirectory(prefix="virialff-crest-") as tmp:
        work = Path(tmp)
        write_xyz(work / "start.xyz", symbols, start[0], molecule_id)
        command = [*shlex.split(executable), "start.xyz", "--gfn2", "--chrg", str(charge),
                   "--ewin", str(energy_window_kcal_mol), "--T", str(settings.threads)]
        try:
            done = subprocess.run(command, cwd=work, capture_output=True, text=True,
                                  timeout=timeout_s)
        except (FileNotFoundError, subprocess.TimeoutExpired) as error:
            raise MoleculeRejected(molecule_id, "xtb_failed", f"crest: {error}") from None
        if log_path is not None:
            with open(log_path, "a") as log:
                log.write(f"# {molecule_id}: $ {shlex.join(command)} -> {done.returncode}\n")
                log.write(done.stdout[-20000:] + done.stderr[-5000:])
        ensemble = work / "crest_conformers.xyz"
        if done.returncode != 0 or not ensemble.exists():
            raise MoleculeRejected(molecule_id, "xtb_failed",
                                   f"crest exited with {done.returncode}: {done.stderr[-500:]}")
        frames = read_xyz(ensemble)
    for frame in frames:
        if frame.symbols != symbols:
            raise MoleculeRejected(molecule_id, "xtb_failed", "crest changed the atom order")
    result = fallback_search(mol, molecule_id, energy_window_kcal_mol=energy_window_kcal_mol,
                             rmsd_threshold_angstrom=rmsd_threshold_angstrom,
                             xtb_settings=settings,
                             initial_positions=[f.positions_angstrom for f in frames],
                             log_path=log_path)
    result.engine = ENGINE_CREST
    return result


def search_conformers(mol, molecule_id: str, *, crest_executable: str = "crest",  # noqa: ANN001
                      **kwargs) -> ConformerSearchResult:  # noqa: ANN003
    """CREST when ``crest_executable`` is on PATH, else :func:`fallback_search`."""
    if crest_available(crest_executable):
        kwargs.pop("n_embed", None)
        kwargs.pop("initial_positions", None)
        return crest_search(mol, molecule_id, executable=crest_executable, **kwargs)
    return fallback_search(mol, molecule_id, **kwargs)
