"""Geometry shards: ``results/geometries/{shard}.sdf`` (or ``.sdf.gz``, e.g. the reference set).

One SDF record per molecule (conformer): explicit hydrogens, the covalent graph of the input
(bond orders from the SMILES, unchanged by the optimisation), coordinates in Å, the title and
the property ``molecule_id`` naming it, ``xtb_energy_hartree``, and
``virialff_format_version``. Atom order is the order of the input graph.

:func:`read_geometry_sdf` is the one reader: it returns every record, each either with its
sanitised RDKit Mol or with the reason it cannot be used, so the caller records the problem
and goes on.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 2
#: ``geometry_kind`` of a GFN2-xTB minimum (a conformer) and of an MD snapshot.
KIND_MINIMUM = "xtb_minimum"
KIND_MD = "xtb_md_500K"
VERSION_PROPERTY = "virialff_format_version"


@dataclass
class GeometryRecord:
    """One SDF record: ``mol`` (sanitised, explicit H) or ``error`` (why it is unusable)."""

    molecule_id: str
    mol: Any = None
    error: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def symbols(self) -> list[str]:
        """[A] element symbols."""
        return [a.GetSymbol() for a in self.mol.GetAtoms()]

    @property
    def positions_angstrom(self) -> np.ndarray:
        """[A, 3] coordinates, Å."""
        return np.asarray(self.mol.GetConformer().GetPositions(), dtype=np.float64)

    @property
    def charge(self) -> int:
        """Net formal charge (e)."""
        return int(sum(a.GetFormalCharge() for a in self.mol.GetAtoms()))

    @property
    def bonds(self) -> np.ndarray:
        """[B, 2] bonded atom pairs (i < j), in RDKit bond order."""
        pairs = [sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())) for b in self.mol.GetBonds()]
        return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode()


def read_geometry_sdf(path: str | Path) -> list[GeometryRecord]:
    """Every record of a geometry SDF (plain or gzip), in file order."""
    from rdkit import Chem, RDLogger

    path = Path(path)
    text = _text(path)
    if not text.strip():
        return []
    supplier = Chem.SDMolSupplier()
    RDLogger.DisableLog("rdApp.*")
    try:
        supplier.SetData(text, removeHs=False, sanitize=False)
        records = []
        for index in range(len(supplier)):
            mol = supplier[index]
            if mol is None:
                records.append(GeometryRecord(f"{path.name}#{index + 1}",
                                              error=f"SDF record {index + 1} cannot be parsed"))
                continue
            properties = {k: mol.GetProp(k) for k in mol.GetPropNames()}
            name = properties.get("molecule_id") or (
                mol.GetProp("_Name").strip() if mol.HasProp("_Name") else "")
            name = name or f"{path.name}#{index + 1}"
            try:
                Chem.SanitizeMol(mol)
            except Exception as error:  # noqa: BLE001 - RDKit raises several types
                records.append(GeometryRecord(
                    name, error=f"RDKit cannot sanitise the geometry: {error}",
                    properties=properties))
                continue
            if mol.GetNumConformers() == 0:
                records.append(GeometryRecord(name, error="record has no coordinates",
                                              properties=properties))
                continue
            records.append(GeometryRecord(name, mol, properties=properties))
    finally:
        RDLogger.EnableLog("rdApp.*")
    return records


def write_geometry_sdf(path: str | Path, mols: Iterable[Any]) -> Path:
    """Write Mols (each with a ``molecule_id`` property) as a geometry SDF; ``.gz`` paths are
    gzip-compressed without a timestamp, so equal content gives equal bytes."""
    from rdkit import Chem

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = Chem.SDWriter(buffer)
    for mol in mols:
        if not mol.HasProp("molecule_id"):
            raise ValueError("every geometry record needs a molecule_id property")
        mol.SetProp("_Name", mol.GetProp("molecule_id"))
        mol.SetProp(VERSION_PROPERTY, str(FORMAT_VERSION))
        writer.write(mol)
    writer.close()
    data = buffer.getvalue().encode()
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".gz":
        with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0,
                                                    filename="") as handle:
            handle.write(data)
    else:
        tmp.write_bytes(data)
    tmp.replace(path)
    return path
