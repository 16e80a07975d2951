"""Molecular complexes for the benchmarks: reading bundled XYZ files, bond perception, JSON I/O.

A :class:`System` is a complex of ``len(fragment_sizes)`` neutral closed-shell monomers, atoms
ordered fragment by fragment, with its monomers either *vertical* (cut out of the complex
geometry: S66) or *relaxed* (optimised on their own: base pairs, the paper's Eq. 25).

Sign convention everywhere in :mod:`virialff.evaluate`:
``interaction_energy = Σ E_monomer − E_complex`` (kcal/mol; positive = bound), see
:func:`interaction_energy_kcal_mol`.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from virialff.chem.rdkit_mol import combine_mols, mol_from_positions, with_positions


@dataclass
class System:
    """One complex and its monomers (positions in Å).

    Attributes:
        system_id: e.g. ``S66-01`` or ``A-T``.
        name: human-readable name.
        symbols: [A] element symbols of the complex, fragment by fragment.
        positions_angstrom: [A, 3] complex geometry.
        fragment_sizes: [F] atoms per fragment (Σ = A).
        fragment_charges: [F] net charge per fragment (0 for everything benchmarked here).
        monomer_positions_angstrom: [F] arrays [A_f, 3]; ``None`` = cut out of the complex.
        reference_kcal_mol: reference interaction energy (positive = bound) or NaN.
        extra: anything else worth carrying (energies of the optimiser, status).
    """

    system_id: str
    name: str
    symbols: list[str]
    positions_angstrom: np.ndarray
    fragment_sizes: list[int]
    fragment_charges: list[int] = field(default_factory=list)
    monomer_positions_angstrom: list[np.ndarray] | None = None
    reference_kcal_mol: float = float("nan")
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions_angstrom = np.asarray(self.positions_angstrom, dtype=float).reshape(-1, 3)
        if not self.fragment_charges:
            self.fragment_charges = [0] * len(self.fragment_sizes)
        if sum(self.fragment_sizes) != len(self.symbols) or len(self.symbols) != len(
                self.positions_angstrom):
            raise ValueError(f"{self.system_id}: fragment sizes {self.fragment_sizes} do not add "
                             f"up to {len(self.symbols)} atoms")
        if self.monomer_positions_angstrom is not None:
            self.monomer_positions_angstrom = [np.asarray(p, dtype=float).reshape(-1, 3)
                                               for p in self.monomer_positions_angstrom]

    @property
    def n_atoms(self) -> int:
        """Atoms in the complex."""
        return len(self.symbols)

    def fragment_slices(self) -> list[slice]:
        """[F] slices of each fragment's atoms in the complex order."""
        out, start = [], 0
        for size in self.fragment_sizes:
            out.append(slice(start, start + size))
            start += size
        return out

    def monomer_symbols(self, index: int) -> list[str]:
        """Element symbols of fragment ``index``."""
        return self.symbols[self.fragment_slices()[index]]

    def monomer_positions(self, index: int) -> np.ndarray:
        """[A_f, 3] positions of monomer ``index`` (relaxed if given, else cut from the complex)."""
        if self.monomer_positions_angstrom is not None:
            return self.monomer_positions_angstrom[index]
        return self.positions_angstrom[self.fragment_slices()[index]]

    def to_dict(self) -> dict:
        """JSON-ready dict (arrays as nested lists)."""
        return {
            "system_id": self.system_id, "name": self.name, "symbols": list(self.symbols),
            "positions_angstrom": self.positions_angstrom.tolist(),
            "fragment_sizes": list(self.fragment_sizes),
            "fragment_charges": list(self.fragment_charges),
            "monomer_positions_angstrom": None if self.monomer_positions_angstrom is None else [
                p.tolist() for p in self.monomer_positions_angstrom],
            "reference_kcal_mol": None if not np.isfinite(self.reference_kcal_mol)
            else float(self.reference_kcal_mol),
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, data: dict) -> System:
        """Inverse of :meth:`to_dict`."""
        ref = data.get("reference_kcal_mol")
        return cls(
            system_id=data["system_id"], name=data["name"], symbols=list(data["symbols"]),
            positions_angstrom=np.asarray(data["positions_angstrom"], dtype=float),
            fragment_sizes=list(data["fragment_sizes"]),
            fragment_charges=list(data.get("fragment_charges") or []),
            monomer_positions_angstrom=data.get("monomer_positions_angstrom"),
            reference_kcal_mol=float("nan") if ref is None else float(ref),
            extra=dict(data.get("extra") or {}),
        )


def interaction_energy_kcal_mol(e_complex_kcal_mol: float, e_monomers_kcal_mol) -> float:  # noqa: ANN001
    """E_int = Σ E_monomer − E_complex (paper Eq. 25): positive for a bound complex."""
    return float(np.sum(e_monomers_kcal_mol) - e_complex_kcal_mol)


def from_psi4_bind(bind_kcal_mol: float) -> float:
    """Psi4/S66 ``BIND`` (E_AB − E_A − E_B, negative = bound) to this package's E_int."""
    return -float(bind_kcal_mol)





def _parse_comment(comment: str) -> dict[str, str]:
    out = {}
    for token in shlex.split(comment):
        if "=" in token:
            key, value = token.split("=", 1)
            out[key] = value
    return out


def read_xyz_system(path: Path | str, reference_kcal_mol: float = float("nan")) -> System:
    """Read a bundled XYZ whose comment line holds ``system_id=… fragment_sizes=a,b …``."""
    from virialff.formats.xyz import read_single_xyz

    frame = read_single_xyz(path)
    meta = _parse_comment(frame.comment)
    sizes = [int(x) for x in meta["fragment_sizes"].split(",")]
    charges = [int(x) for x in meta.get("fragment_charges", ",".join("0" * len(sizes))).split(",")]
    return System(system_id=meta["system_id"], name=meta.get("name", meta["system_id"]),
                  symbols=frame.symbols, positions_angstrom=frame.positions_angstrom,
                  fragment_sizes=sizes, fragment_charges=charges,
                  reference_kcal_mol=reference_kcal_mol, extra={"source": meta.get("source", "")})


def write_systems_json(systems: list[System], path: Path | str, **metadata) -> Path:  # noqa: ANN003
    """Write ``{"metadata": {...}, "systems": [System.to_dict()...]}``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"metadata": metadata, "systems": [s.to_dict() for s in systems]}
    path.write_text(json.dumps(payload, indent=1))
    return path


def read_systems_json(path: Path | str) -> list[System]:
    """Inverse of :func:`write_systems_json` (metadata dropped)."""
    payload = json.loads(Path(path).read_text())
    return [System.from_dict(d) for d in payload["systems"]]


# --------------------------------------------------------------------------------------------
# RDKit molecules from XYZ: bond perception per monomer, complexes as one multi-fragment Mol
# --------------------------------------------------------------------------------------------


@dataclass
class SystemMols:
    """RDKit molecules of one system: the complex and each monomer at its own geometry."""

    complex: object
    monomers: list


def system_mols(system: System, topology: System | None = None) -> SystemMols:
    """Perceive bonds per monomer (charge from the fragment) and build complex + monomer Mols.

    Args:
        system: geometry to evaluate.
        topology: geometry to perceive bonds on (default ``system``); pass the original
            reference geometry so an optimised structure keeps the reference connectivity.
    """
    topology = topology or system
    monomers, pieces = [], []
    for index, sl in enumerate(system.fragment_slices()):
        template = mol_from_positions(topology.symbols[sl], topology.positions_angstrom[sl],
                                      charge=system.fragment_charges[index])
        pieces.append(with_positions(template, system.positions_angstrom[sl]))
        monomers.append(with_positions(template, system.monomer_positions(index)))
    return SystemMols(complex=combine_mols(pieces), monomers=monomers)
