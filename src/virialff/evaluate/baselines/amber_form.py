"""Force fields of the Amber functional form as benchmark methods: GAFF2/AM1-BCC and GB-FFs.

Both give one :class:`~virialff.formats.amber_parameters.AmberFormParameters` per molecule;
they differ only in where the parameters come from (:meth:`AmberFormBaseline.parametrize`).
The energy of a Mol (a molecule, or a complex: one Mol of several fragments) is then

1. split into fragments (RDKit's connected components, each keeping its atoms' order);
2. one parameter set per fragment (see *One parameter set per molecule* below);
3. every fragment in one OpenMM ``System`` (:func:`virialff.forcefield.amber_openmm.
   to_openmm_system`: the standard Amber forces, every non-bonded pair between fragments, no
   cut-off), whose potential energy at the Mol's positions is the method's total energy in
   kcal/mol.

*One parameter set per molecule.* A molecule is known by its graph in atom order (elements,
formal charges, bonds and bond orders: :func:`molecule_key`). The first time a method object
meets a molecule it parametrises it from that geometry; every later meeting, at whatever
geometry, reuses those parameters. This is how a force field is used (one charge set per
molecule, one potential energy surface), and it makes interaction energies consistent: the
benchmarks evaluate a complex before its monomers, so a monomer has exactly the parameters
(charges) of its copy in the complex, whether the monomer geometry is cut out of the complex
(S66) or relaxed on its own (base pairs). The conformers of a molecule share the parameters of
the first conformer evaluated, the lowest one (the conformer benchmark lists them by GFN2-xTB
energy, lowest first). Within one run the order of the systems is fixed, so the results are
reproducible; a molecule that appears in several complexes (water in S66) takes the
parameters of its first appearance. A molecule that cannot be parametrised is remembered as
such too and fails again at once, with the same one-line message.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from virialff.evaluate.baselines.base import Baseline
from virialff.formats.amber_parameters import AmberFormParameters

#: a molecule's identity: ((atomic number, formal charge) per atom, (i, j, bond order) per bond).
MoleculeKey = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int, float], ...]]


def molecule_key(mol) -> MoleculeKey:  # noqa: ANN001 - rdkit Mol
    """The graph of ``mol`` in atom order: same key, same molecule with the same atom order."""
    atoms = tuple((atom.GetAtomicNum(), atom.GetFormalCharge()) for atom in mol.GetAtoms())
    bonds = tuple(sorted(
        (min(b.GetBeginAtomIdx(), b.GetEndAtomIdx()), max(b.GetBeginAtomIdx(), b.GetEndAtomIdx()),
         float(b.GetBondTypeAsDouble())) for b in mol.GetBonds()))
    return atoms, bonds


def split_fragments(mol) -> list[tuple[np.ndarray, Any]]:  # noqa: ANN001 - rdkit Mol
    """``[(atom_indices [A_f] into mol, fragment Mol with its conformer)]`` of every connected
    component, atoms in their order in ``mol``."""
    from rdkit import Chem

    mapping: list[tuple[int, ...]] = []
    pieces = Chem.GetMolFrags(mol, asMols=True, fragsMolAtomMapping=mapping)
    return [(np.asarray(indices, dtype=np.int64), piece)
            for indices, piece in zip(mapping, pieces, strict=True)]


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (whitespace collapsed), at most ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class AmberFormBaseline(Baseline):
    """Base class: subclasses set :attr:`key`, :attr:`label` and implement :meth:`parametrize`
    (and usually :meth:`available`)."""

    label: str = ""

    def __init__(self) -> None:
        super().__init__()
        #: molecule key -> parameters, or the one-line failure message of that molecule.
        self._parameters: dict[MoleculeKey, AmberFormParameters | str] = {}
        self.n_parametrised = 0

    def parametrize(self, mol, molecule_id: str) -> AmberFormParameters:  # noqa: ANN001
        """Parameters of one molecule (a Mol of one fragment with one conformer)."""
        raise NotImplementedError

    def check_covered(self, mol) -> None:  # noqa: ANN001
        """Raise :class:`~virialff.evaluate.baselines.base.NotCoveredError` for a molecule the
        method has no parameters for (default: every molecule is covered)."""

    def parameters_for(self, mol, molecule_id: str) -> AmberFormParameters:  # noqa: ANN001
        """The parameters of a one-fragment Mol: made on first meeting, then reused (see the
        module docstring). Raises ``ValueError`` with a one-line message when they cannot be
        made (then and at every later meeting)."""
        key = molecule_key(mol)
        if key not in self._parameters:
            self.check_covered(mol)
            try:
                parameters = self.parametrize(mol, molecule_id)
                parameters.check()
                self._parameters[key] = parameters
                self.n_parametrised += 1
            except Exception as error:  # noqa: BLE001 - any failure fails this molecule only
                self._parameters[key] = one_line(f"{molecule_id}: {self.label} parameters "
                                                 f"failed: {error}")
        found = self._parameters[key]
        if isinstance(found, str):
            raise ValueError(found)
        return found

    def system_parameters(self, mol) -> tuple[list[AmberFormParameters], np.ndarray]:  # noqa: ANN001
        """``(parameters per fragment, order)``: ``positions[order]`` lists the atoms in the
        fragment-by-fragment order of the parameters."""
        name = mol.GetProp("_Name") if mol.HasProp("_Name") else "molecule"
        fragments = split_fragments(mol)
        parameters = [self.parameters_for(piece, f"{name or 'molecule'}/{index}")
                      for index, (_, piece) in enumerate(fragments)]
        order = np.concatenate([indices for indices, _ in fragments])
        return parameters, order

    def energy_and_forces(self, mol) -> tuple[float, np.ndarray]:  # noqa: ANN001
        """Total energy (kcal/mol) and forces ([A, 3] kcal/mol/Å, in ``mol``'s atom order) of a
        Mol's first conformer, through OpenMM."""
        from virialff.forcefield.amber_openmm import energy_and_forces, to_openmm_system

        parameters, order = self.system_parameters(mol)
        positions = np.asarray(mol.GetConformer().GetPositions(), dtype=float)
        energy, forces = energy_and_forces(to_openmm_system(parameters), positions[order])
        out = np.empty_like(positions)
        out[order] = np.asarray(forces, dtype=float)
        return float(energy), out

    def _energy_kcal_mol(self, mol) -> float:  # noqa: ANN001
        return self.energy_and_forces(mol)[0]

