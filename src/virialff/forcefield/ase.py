"""ASE calculator: geometry optimisation and molecular dynamics with a fixed-parameter force field.

The calculator drives any system with ``n_atoms`` and ``energy_and_forces(positions_angstrom)
-> (energy kcal/mol, forces [A, 3] kcal/mol/Å)`` (:class:`ForceFieldSystem`): a paper-form
:class:`~virialff.forcefield.paper_system.ParametrizedSystem` (parameters once from the RDKit
topology by ``Predictor.parametrize``; every step then costs one ``energy_and_forces`` call,
without the networks) or an Amber-form system. Energies are returned in eV and forces in eV/Å,
as ASE expects (1 kcal/mol = ``ase.units.kcal / ase.units.mol`` eV).

Usage::

    from ase.optimize import BFGS
    from virialff.forcefield.ase import VirialFFCalculator, atoms_from_rdkit
    from virialff.model.predictor import load_model

    atoms = atoms_from_rdkit(mol)                      # mol: explicit H, one conformer
    atoms.calc = VirialFFCalculator(load_model("results/models/total.pt"), mol)
    BFGS(atoms).run(fmax=0.05)

A system may also say more, and the calculator then uses it: ``name`` (for messages),
``target`` (only ``"total"`` energies drive dynamics), ``elements`` (checked against the
``Atoms``' symbols), and for periodic cells ``box_angstrom``, ``with_box(edges)`` and
``energy_forces_and_stress(positions)``.

Periodic cells: an ``Atoms`` object periodic along all three axes with an orthorhombic cell is
evaluated with minimum images between molecules (:meth:`ParametrizedSystem.with_box`; every
edge ≥ 2·cutoff; the paper form's Coulomb between molecules is then its switched sum truncated
at the cutoff, not the Ewald sum of the OpenMM export, see
:mod:`virialff.forcefield.paper_system`); atoms may be wrapped into the cell. Other cells
(triclinic, or periodic along only some axes) are refused, and so are periodic ``Atoms`` for a
system without ``with_box``. Periodic cells also give the stress (the pair virial over the
volume), so ASE's constant-pressure integrators and cell filters work; a non-periodic system
has no stress.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

#: eV per kcal/mol.
EV_PER_KCAL_MOL: float = units.kcal / units.mol


class ForceFieldSystem(Protocol):
    """What :class:`VirialFFCalculator` needs of a system (see the module docstring for what
    else it uses when a system has it)."""

    @property
    def n_atoms(self) -> int: ...

    def energy_and_forces(self, positions_angstrom: np.ndarray) -> tuple[float, np.ndarray]: ...


def atoms_from_rdkit(mol, conformer_id: int = -1) -> Atoms:  # noqa: ANN001 - rdkit Mol
    """ASE ``Atoms`` (symbols, positions in Å) of an RDKit molecule's conformer."""
    if mol.GetNumConformers() == 0:
        raise ValueError("the molecule has no 3D coordinates")
    symbols = [atom.GetSymbol() for atom in mol.GetAtoms()]
    return Atoms(symbols, positions=mol.GetConformer(conformer_id).GetPositions())


class VirialFFCalculator(Calculator):
    """Energy (eV) and forces (eV/Å) of a molecule or complex from a fixed-parameter system.

    Args:
        model: an object with ``parametrize(mol, **options)`` returning the system, such as a
            loaded model (:func:`virialff.model.predictor.load_model`); not needed when
            ``system`` is given.
        mol: RDKit molecule (or complex in one Mol) with explicit hydrogens: the topology.
        system: an already parametrised system (:class:`ForceFieldSystem`) instead of
            ``model`` and ``mol``.
        cutoff_angstrom, switch_distance_angstrom: intermolecular cutoff options passed to
            ``model.parametrize`` (default: its defaults).
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(
        self,
        model=None,  # noqa: ANN001 - Predictor (anything with parametrize)
        mol=None,  # noqa: ANN001 - rdkit Mol
        *,
        system: ForceFieldSystem | None = None,
        **kwargs,  # noqa: ANN003 - cutoff options, then ASE Calculator keywords
    ) -> None:
        options = {
            key: kwargs.pop(key)
            for key in ("cutoff_angstrom", "switch_distance_angstrom")
            if key in kwargs
        }
        super().__init__(**kwargs)
        if system is None:
            if model is None or mol is None:
                raise ValueError("VirialFFCalculator needs a model and an RDKit mol, or a system")
            if not hasattr(model, "parametrize"):
                raise TypeError(
                    f"VirialFFCalculator needs a loaded model (one with parametrize), not "
                    f"{model!r}; load a model file with virialff.model.predictor.load_model"
                )
            system = model.parametrize(mol, **options)
        target = getattr(system, "target", "total")
        if target != "total":
            raise ValueError(
                f"VirialFFCalculator needs a 'total' energy model, not a '{target}' model"
            )
        self.system = system
        self._cell_system: ForceFieldSystem | None = None

    @property
    def _name(self) -> str:
        return str(getattr(self.system, "name", type(self.system).__name__))

    def _system_for(self, atoms: Atoms) -> ForceFieldSystem:
        """``self.system`` in the cell of ``atoms`` (or without one), kept while the cell stays
        the same so that the neighbour list is reused."""
        pbc = np.asarray(atoms.pbc, dtype=bool)
        if not pbc.any():
            if getattr(self.system, "box_angstrom", None) is None:
                return self.system
            edges = None
        elif not pbc.all():
            raise ValueError(
                f"{self._name}: periodic along "
                f"{''.join('xyz'[i] for i in np.flatnonzero(pbc))} only; VirialFFCalculator "
                "needs all three axes periodic or none"
            )
        elif not atoms.cell.orthorhombic:
            raise ValueError(
                f"{self._name}: the cell is not orthorhombic (cell parameters "
                f"{np.round(atoms.cell.cellpar(), 3).tolist()}); only rectangular boxes are "
                "supported"
            )
        elif not hasattr(self.system, "with_box"):
            raise ValueError(
                f"{self._name}: {type(self.system).__name__} has no periodic form (no with_box); "
                "give Atoms with pbc=False"
            )
        else:
            edges = atoms.cell.lengths()
        current = self._cell_system
        if current is None or (
            (edges is None) != (current.box_angstrom is None)
            or (edges is not None and not np.array_equal(current.box_angstrom, edges))
        ):
            self._cell_system = current = self.system.with_box(edges)
        return current

    def calculate(
        self,
        atoms: Atoms | None = None,
        properties: list[str] | None = None,
        system_changes: list[str] = all_changes,
    ) -> None:
        super().calculate(atoms, properties or ["energy"], system_changes)
        symbols = tuple(self.atoms.get_chemical_symbols())
        if len(symbols) != self.system.n_atoms:
            raise ValueError(
                f"{self._name}: the Atoms object has {len(symbols)} atoms but the "
                f"parametrised topology has {self.system.n_atoms}"
            )
        elements = getattr(self.system, "elements", None)
        if elements is not None and symbols != tuple(elements):
            atom = next(
                i for i, (a, b) in enumerate(zip(symbols, elements, strict=True)) if a != b
            )
            raise ValueError(
                f"{self._name}: atom {atom} is {symbols[atom]} in the Atoms object but "
                f"{elements[atom]} in the parametrised topology"
            )
        system = self._system_for(self.atoms)
        stress = None
        if getattr(system, "box_angstrom", None) is not None:
            energy, forces, stress = system.energy_forces_and_stress(self.atoms.positions)
        elif "stress" in (properties or []):
            raise PropertyNotImplementedError(
                f"{self._name}: stress needs a periodic cell (Atoms with pbc=True)"
            )
        else:
            energy, forces = system.energy_and_forces(self.atoms.positions)
        self.results = {
            "energy": energy * EV_PER_KCAL_MOL,
            "free_energy": energy * EV_PER_KCAL_MOL,
            "forces": np.asarray(forces) * EV_PER_KCAL_MOL,
        }
        if stress is not None:  # ASE's Voigt order: xx, yy, zz, yz, xz, xy
            self.results["stress"] = stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]] * (
                EV_PER_KCAL_MOL
            )
