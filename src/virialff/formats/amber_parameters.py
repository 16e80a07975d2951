"""GAFF2-form (Amber functional form) parameters of molecules: ``results/gaff2/{shard}.npz``.

One :class:`AmberFormParameters` per molecule holds every term of the Amber energy, in the
units and conventions of the Amber parameter files (``gaff2.dat``, ``frcmod``)::

    E = Σ_bonds     k_b (r − r0)²                      k_b  kcal/mol/Å²,  r0 Å
      + Σ_angles    k_θ (θ − θ0)²                      k_θ  kcal/mol/rad², θ0 rad
      + Σ_torsions  k_t (1 + cos(n φ − γ))             k_t  kcal/mol (= V_n/2 / IDIVF), γ rad
      + Σ_impropers k_i (1 + cos(n ϕ − γ))             same form; the THIRD atom is the centre
      + Σ_{i<j, not 1-2/1-3} s_ij [ε_ij ((Rmin_ij/r)¹² − 2 (Rmin_ij/r)⁶) + 332.0637·q_i q_j/r]

with Lorentz–Berthelot combination ε_ij = √(ε_i ε_j), σ_ij = (σ_i + σ_j)/2 (σ is the distance
where the pair energy crosses zero, OpenMM's convention; Rmin = 2^(1/6) σ, so Amber's per-atom
Rmin/2 = 2^(1/6) σ/2), and scaling s_ij = 1 except for 1-4 pairs: Coulomb × 1/``scee`` (1.2),
LJ × 1/``scnb`` (2.0), as in Amber/GAFF2. 1-2 and 1-3 pairs are excluded; the 1-4 pairs are
``pair14_index`` (the end atoms of every proper torsion path, each pair once, none that is
also a 1-2 or 1-3 pair, as in rings of 3 and 4 atoms).

A torsion path i-j-k-l may carry several rows (one per periodicity n, as in Amber); φ is the
IUPAC dihedral of atoms i, j, k, l. Torsion and improper rows with ``k = 0`` may be present.
The ``sum`` of the energy is independent of how the rows are ordered.

Shard file arrays (M molecules, ΣA atoms, ΣB bonds, ΣG angles, ΣT torsion rows, ΣI improper
rows, ΣP 1-4 pairs): ``format_version``, ``source`` (scalar: what produced the parameters,
e.g. ``"antechamber 26.0 gaff2 am1-bcc"``), ``molecule_id`` [M] str, ``formal_charge`` [M]
int, ``scee`` [M], ``scnb`` [M], and per molecule concatenated blocks with pointers
``{block}_ptr`` [M+1]: atoms (``atomic_numbers``, ``atom_types`` str, ``charges_e``,
``sigma_angstrom``, ``epsilon_kcal_mol``), bonds (``bond_index`` [ΣB, 2], ``bond_k``,
``bond_r0_angstrom``), angles (``angle_index`` [ΣG, 3], centre in the middle, ``angle_k``,
``angle_theta0_rad``), torsions (``torsion_index`` [ΣT, 4], ``torsion_periodicity`` int,
``torsion_phase_rad``, ``torsion_k_kcal_mol``), impropers (the same four columns with the
``improper_`` prefix) and 1-4 pairs (``pair14_index`` [ΣP, 2]). Indices are 0-based atom
indices within the molecule, in the atom order of the molecule's geometry SDF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

FORMAT_VERSION = 1
#: Amber/GAFF2 1-4 scaling: Coulomb divided by SCEE, Lennard-Jones by SCNB.
AMBER_SCEE = 1.2
AMBER_SCNB = 2.0


@dataclass
class AmberFormParameters:
    """Every term of one molecule's Amber-form energy (A atoms); see the module docstring."""

    molecule_id: str
    atomic_numbers: np.ndarray  # [A] int
    atom_types: np.ndarray  # [A] str (GAFF2 types; "" where a model predicted the parameters)
    charges_e: np.ndarray  # [A]
    sigma_angstrom: np.ndarray  # [A]
    epsilon_kcal_mol: np.ndarray  # [A]
    bond_index: np.ndarray  # [B, 2] int
    bond_k: np.ndarray  # [B] kcal/mol/Å²  (E = k (r − r0)²)
    bond_r0_angstrom: np.ndarray  # [B]
    angle_index: np.ndarray  # [G, 3] int, centre in the middle
    angle_k: np.ndarray  # [G] kcal/mol/rad²  (E = k (θ − θ0)²)
    angle_theta0_rad: np.ndarray  # [G]
    torsion_index: np.ndarray  # [T, 4] int
    torsion_periodicity: np.ndarray  # [T] int ≥ 1
    torsion_phase_rad: np.ndarray  # [T]
    torsion_k_kcal_mol: np.ndarray  # [T]  (E = k (1 + cos(nφ − γ)))
    improper_index: np.ndarray  # [I, 4] int, third atom the centre
    improper_periodicity: np.ndarray  # [I] int
    improper_phase_rad: np.ndarray  # [I]
    improper_k_kcal_mol: np.ndarray  # [I]
    pair14_index: np.ndarray  # [P, 2] int
    formal_charge: int = 0
    scee: float = AMBER_SCEE
    scnb: float = AMBER_SCNB
    extra: dict = field(default_factory=dict)  # not stored; free for callers

    @property
    def n_atoms(self) -> int:
        return int(self.atomic_numbers.shape[0])

    def check(self) -> None:
        """Raise ``ValueError`` (naming the molecule) on inconsistent shapes or indices."""
        n = self.n_atoms
        for name, width in (("bond_index", 2), ("angle_index", 3), ("torsion_index", 4),
                            ("improper_index", 4), ("pair14_index", 2)):
            index = getattr(self, name)
            if index.ndim != 2 or index.shape[1] != width:
                raise ValueError(f"{self.molecule_id}: {name} has shape {index.shape}")
            if index.size and (index.min() < 0 or index.max() >= n):
                raise ValueError(f"{self.molecule_id}: {name} points outside {n} atoms")
        for name in _BLOCKS["atom"][1:]:
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"{self.molecule_id}: {name} has {getattr(self, name).shape[0]}"
                                 f" entries for {n} atoms")
        for block, columns in _BLOCKS.items():
            if block == "atom":
                continue
            rows = getattr(self, columns[0]).shape[0]
            for name in columns[1:]:
                if getattr(self, name).shape[0] != rows:
                    raise ValueError(f"{self.molecule_id}: {name} has "
                                     f"{getattr(self, name).shape[0]} rows, not {rows}")
        for name in ("charges_e", "sigma_angstrom", "epsilon_kcal_mol", "bond_k",
                     "bond_r0_angstrom", "angle_k", "angle_theta0_rad", "torsion_phase_rad",
                     "torsion_k_kcal_mol", "improper_phase_rad", "improper_k_kcal_mol"):
            if not np.all(np.isfinite(getattr(self, name))):
                raise ValueError(f"{self.molecule_id}: {name} is not finite")


#: the stored blocks: block name → its columns (the first sets the row count).
_BLOCKS: dict[str, tuple[str, ...]] = {
    "atom": ("atomic_numbers", "atom_types", "charges_e", "sigma_angstrom", "epsilon_kcal_mol"),
    "bond": ("bond_index", "bond_k", "bond_r0_angstrom"),
    "angle": ("angle_index", "angle_k", "angle_theta0_rad"),
    "torsion": ("torsion_index", "torsion_periodicity", "torsion_phase_rad",
                "torsion_k_kcal_mol"),
    "improper": ("improper_index", "improper_periodicity", "improper_phase_rad",
                 "improper_k_kcal_mol"),
    "pair14": ("pair14_index",),
}
_INT_COLUMNS = {"atomic_numbers", "bond_index", "angle_index", "torsion_index",
                "torsion_periodicity", "improper_index", "improper_periodicity", "pair14_index"}
_WIDTH = {"bond_index": 2, "angle_index": 3, "torsion_index": 4, "improper_index": 4,
          "pair14_index": 2}


def write_amber_parameters(path: str | Path, molecules: Sequence[AmberFormParameters],
                           source: str) -> None:
    """Write one shard (an empty list gives a valid empty shard)."""
    for molecule in molecules:
        molecule.check()
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(FORMAT_VERSION),
        "source": np.array(source),
        "molecule_id": np.array([m.molecule_id for m in molecules], dtype=str),
        "formal_charge": np.array([m.formal_charge for m in molecules], dtype=np.int64),
        "scee": np.array([m.scee for m in molecules], dtype=float),
        "scnb": np.array([m.scnb for m in molecules], dtype=float),
    }
    for block, columns in _BLOCKS.items():
        counts = [getattr(m, columns[0]).shape[0] for m in molecules]
        arrays[f"{block}_ptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        for name in columns:
            parts = [np.asarray(getattr(m, name)) for m in molecules]
            if name == "atom_types":
                arrays[name] = np.array([t for p in parts for t in p.tolist()], dtype=str)
            elif name in _WIDTH:
                arrays[name] = (np.concatenate(parts).astype(np.int64) if parts
                                else np.zeros((0, _WIDTH[name]), dtype=np.int64))
            else:
                dtype = np.int64 if name in _INT_COLUMNS else float
                arrays[name] = (np.concatenate(parts).astype(dtype) if parts
                                else np.zeros(0, dtype=dtype))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def read_amber_parameters(path: str | Path) -> tuple[list[AmberFormParameters], str]:
    """Read one shard: ``(molecules, source)``."""
    with np.load(path, allow_pickle=False) as data:
        version = int(data["format_version"])
        if version != FORMAT_VERSION:
            raise ValueError(f"{path}: Amber-parameter format {version}, this version reads "
                             f"{FORMAT_VERSION}; rerun the gaff2 stage")
        arrays = {key: data[key] for key in data.files}
    molecules = []
    for m, molecule_id in enumerate(arrays["molecule_id"].tolist()):
        values: dict = {"molecule_id": molecule_id,
                        "formal_charge": int(arrays["formal_charge"][m]),
                        "scee": float(arrays["scee"][m]), "scnb": float(arrays["scnb"][m])}
        for block, columns in _BLOCKS.items():
            start, stop = arrays[f"{block}_ptr"][m], arrays[f"{block}_ptr"][m + 1]
            for name in columns:
                values[name] = arrays[name][start:stop].copy()
        molecule = AmberFormParameters(**values)
        if molecule.atom_types.size == 0:
            molecule.atom_types = np.zeros(0, dtype=str)
        molecules.append(molecule)
    return molecules, str(arrays["source"])


def parameter_columns() -> tuple[str, ...]:
    """Every stored per-molecule column (for tests and tools)."""
    return tuple(f.name for f in fields(AmberFormParameters) if f.name != "extra")
