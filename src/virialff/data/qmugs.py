"""Reader for the published QMugs data set (Isert et al., Sci. Data 9, 273, 2022).

QMugs is distributed as a tree::

    <root>/summary.csv                          one row per conformer
    <root>/structures/CHEMBL<n>/conf_00.sdf     one SDF per conformer (GFN2-xTB geometry,
    <root>/structures/CHEMBL<n>/conf_01.sdf     explicit hydrogens, SDF tags below)

SDF tags are written as QMugs writes them: ``CHEMBL_ID``, ``CONF_ID`` (``conf_00``), scalar
energies in Hartree (``GFN2:TOTAL_ENERGY``, ``DFT:TOTAL_ENERGY``, ``DFT:ATOMIC_ENERGY``,
``DFT:FORMATION_ENERGY``, ...), and per-atom or vector values as ``|``-separated numbers
(``DFT:MULLIKEN_CHARGES``, ``DFT:LOWDIN_CHARGES`` in e; ``DFT:DIPOLE`` as x|y|z|total in
Debye). ``summary.csv`` carries ``chembl_id``, ``conf_id``, ``smiles`` and molecular values
with ``_`` for ``:`` (``DFT_TOTAL_ENERGY``, ...).

Indexing (:func:`index_qmugs`) uses ``summary.csv`` or, without it, only the directory
listing; SDF files are opened by :func:`read_qmugs_sdf` in the jobs that need them.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Tags whose value is a ``|``-separated list of numbers.
ARRAY_TAGS: frozenset[str] = frozenset({
    "DFT:MULLIKEN_CHARGES", "DFT:LOWDIN_CHARGES", "DFT:ESP_AT_NUCLEI", "DFT:DIPOLE",
    "DFT:ROT_CONSTANTS", "DFT:MAYER_BOND_ORDER", "DFT:WIBERG_LOWDIN_BOND_ORDER",
    "GFN2:MULLIKEN_CHARGES", "GFN2:DIPOLE", "GFN2:QUADRUPOLE", "GFN2:ROT_CONSTANTS",
    "GFN2:ENTHALPY", "GFN2:HEAT_CAPACITY", "GFN2:ENTROPY", "GFN2:COVALENT_COORDINATION_NUMBER",
    "GFN2:DISPERSION_COEFFICIENT_ATOMIC", "GFN2:POLARIZABILITY_ATOMIC",
    "GFN2:WIBERG_BOND_ORDER",
})
#: String tags.
STRING_TAGS: frozenset[str] = frozenset({"CHEMBL_ID", "CONF_ID"})
#: SDF tag → column of ``results/dataset/molecules.csv`` (all in Hartree).
REFERENCE_ENERGY_TAGS: dict[str, str] = {
    "DFT:TOTAL_ENERGY": "dft_total_energy_hartree",
    "DFT:ATOMIC_ENERGY": "dft_atomic_energy_hartree",
    "DFT:FORMATION_ENERGY": "dft_formation_energy_hartree",
    "GFN2:TOTAL_ENERGY": "gfn2_total_energy_hartree",
}
#: summary.csv column → column of ``molecules.csv``.
SUMMARY_ENERGY_COLUMNS: dict[str, str] = {
    tag.replace(":", "_"): column for tag, column in REFERENCE_ENERGY_TAGS.items()
}


def parse_tag(name: str, value: str) -> str | float | np.ndarray:
    """One SDF tag value with its type: str, float (Hartree etc.) or float array."""
    text = value.strip()
    if name in STRING_TAGS:
        return text
    if name in ARRAY_TAGS or "|" in text:
        try:
            return np.array([float(v) for v in text.split("|") if v.strip()], dtype=np.float64)
        except ValueError:
            return text
    try:
        return float(text)
    except ValueError:
        return text


@dataclass
class QMugsConformer:
    """One QMugs conformer: the RDKit molecule (explicit H, Å) and its typed tags."""

    chembl_id: str
    conf_id: str  # "conf_00"
    mol: object  # rdkit Mol with one conformer
    tags: dict[str, str | float | np.ndarray] = field(default_factory=dict)
    path: str = ""

    @property
    def molecule_id(self) -> str:
        """``CHEMBLxxxx_confYY``, the id used in every results table."""
        return qmugs_molecule_id(self.chembl_id, self.conf_id)

    def _float(self, tag: str) -> float:
        value = self.tags.get(tag)
        return float(value) if isinstance(value, float) else float("nan")

    @property
    def dft_total_energy_hartree(self) -> float:
        return self._float("DFT:TOTAL_ENERGY")

    @property
    def gfn2_total_energy_hartree(self) -> float:
        return self._float("GFN2:TOTAL_ENERGY")

    @property
    def dft_atomic_energy_hartree(self) -> float:
        return self._float("DFT:ATOMIC_ENERGY")

    @property
    def dft_formation_energy_hartree(self) -> float:
        return self._float("DFT:FORMATION_ENERGY")

    @property
    def dft_dipole_debye(self) -> np.ndarray:
        """[4]: x, y, z components and total, Debye."""
        return np.asarray(self.tags.get("DFT:DIPOLE", np.full(4, np.nan)), dtype=np.float64)

    @property
    def dft_mulliken_charges_e(self) -> np.ndarray:
        """[A] Mulliken charges in e, in SDF atom order."""
        return np.asarray(self.tags.get("DFT:MULLIKEN_CHARGES", []), dtype=np.float64)

    @property
    def dft_lowdin_charges_e(self) -> np.ndarray:
        """[A] Löwdin charges in e, in SDF atom order."""
        return np.asarray(self.tags.get("DFT:LOWDIN_CHARGES", []), dtype=np.float64)

    def reference_energies_hartree(self) -> dict[str, float]:
        """``molecules.csv`` reference columns (Hartree) from this conformer's tags."""
        return {column: self._float(tag) for tag, column in REFERENCE_ENERGY_TAGS.items()}


def qmugs_molecule_id(chembl_id: str, conf_id: str) -> str:
    """``CHEMBL1234`` + ``conf_01`` → ``CHEMBL1234_conf01``."""
    return f"{chembl_id}_{conf_id.replace('_', '')}"


def read_qmugs_sdf(path: str | Path) -> QMugsConformer:
    """Read one QMugs SDF with hydrogens kept; raises ``ValueError`` naming the file."""
    from rdkit import Chem

    supplier = Chem.SDMolSupplier(str(path), removeHs=False, sanitize=True)
    mol = next(iter(supplier), None) if len(supplier) else None
    if mol is None:
        raise ValueError(f"{path}: RDKit cannot read this SDF")
    tags = {name: parse_tag(name, mol.GetProp(name)) for name in mol.GetPropNames()}
    path = Path(path)
    chembl_id = str(tags.get("CHEMBL_ID") or path.parent.name)
    conf_id = str(tags.get("CONF_ID") or path.stem)
    n_atoms = mol.GetNumAtoms()
    for name in ("DFT:MULLIKEN_CHARGES", "DFT:LOWDIN_CHARGES"):
        value = tags.get(name)
        if isinstance(value, np.ndarray) and value.shape[0] != n_atoms:
            raise ValueError(f"{path}: {name} has {value.shape[0]} values for {n_atoms} atoms")
    return QMugsConformer(chembl_id, conf_id, mol, tags, str(path))


def read_summary(path: str | Path) -> list[dict[str, str]]:
    """Rows of QMugs ``summary.csv`` as dicts of strings (only the columns virialff uses)."""
    wanted = {"chembl_id", "conf_id", "smiles", "heavy_atoms", "atoms", *SUMMARY_ENERGY_COLUMNS}
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"chembl_id", "conf_id"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: QMugs summary lacks column(s) {', '.join(sorted(missing))}")
        return [{k: v for k, v in row.items() if k in wanted} for row in reader]


def structure_path(root: str | Path, chembl_id: str, conf_id: str) -> Path:
    """``<root>/structures/<chembl_id>/<conf_id>.sdf``."""
    return Path(root) / "structures" / chembl_id / f"{conf_id}.sdf"


def index_qmugs(root: str | Path) -> dict[str, list[dict[str, str]]]:
    """Conformers of every molecule, ``{chembl_id: [row, ...]}`` sorted by ``conf_id``.

    Each row has ``chembl_id``, ``conf_id``, ``source_path`` and, when ``summary.csv`` exists,
    ``smiles``, ``heavy_atoms`` and the summary's reference energies. Without ``summary.csv``
    the index comes from the directory listing alone (no SDF is opened).
    """
    root = Path(root)
    groups: dict[str, list[dict[str, str]]] = {}
    summary = root / "summary.csv"
    if summary.exists():
        for row in read_summary(summary):
            row["source_path"] = str(structure_path(root, row["chembl_id"], row["conf_id"]))
            groups.setdefault(row["chembl_id"], []).append(row)
    else:
        structures = root / "structures"
        if not structures.is_dir():
            raise FileNotFoundError(f"QMugs root {root} has neither summary.csv nor structures/")
        for folder in sorted(structures.glob("CHEMBL*")):
            for sdf in sorted(folder.glob("conf_*.sdf")):
                groups.setdefault(folder.name, []).append({
                    "chembl_id": folder.name, "conf_id": sdf.stem, "source_path": str(sdf),
                })
    for rows in groups.values():
        rows.sort(key=lambda r: r["conf_id"])
    return dict(sorted(groups.items()))


def count_conformer_rows(root: str | Path, conformers_per_molecule: int) -> int:
    """Upper bound on ``molecules.csv`` rows from a QMugs tree, without opening any SDF.

    Σ over molecules of min(conformers, ``conformers_per_molecule``), from ``summary.csv``
    (one column read) or, without it, molecules in the listing × ``conformers_per_molecule``.
    """
    root = Path(root)
    summary = root / "summary.csv"
    if summary.exists():
        counts: dict[str, int] = {}
        with open(summary, newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            column = header.index("chembl_id")
            for row in reader:
                if row:
                    counts[row[column]] = counts.get(row[column], 0) + 1
        return sum(min(n, conformers_per_molecule) for n in counts.values())
    structures = root / "structures"
    if not structures.is_dir():
        raise FileNotFoundError(f"QMugs root {root} has neither summary.csv nor structures/")
    n_molecules = sum(1 for p in structures.iterdir() if p.name.startswith("CHEMBL"))
    return n_molecules * conformers_per_molecule
