"""Molecular graphs: featurisation of RDKit molecules and collation into flat tensors.

A molecule (or a complex of several molecules) becomes a :class:`MolecularGraph` of NumPy
arrays; :func:`collate` concatenates many graphs into one :class:`GraphBatch` of torch tensors
with ``*_ptr`` offsets, and :func:`select_molecules` cuts a batch out of it with vectorised
indexing only, so training loops do no per-molecule Python work.

Conventions (shapes: A atoms, B directed bonds, P atom pairs, M molecules):

- ``bond_index`` [2, B]: every covalent bond twice (i→j and j→i), for message passing.
- ``bond_type`` [B]: 0 single, 1 double, 2 triple, 3 aromatic (:data:`BOND_TYPES`).
- ``pair_index`` [2, P]: every atom pair i < j of one molecule or complex (all pairs; pairs in
  different fragments of a complex are included and are non-bonded), in row-major order.
- ``pair_type`` [P]: 0 for non-bonded pairs, ``1 + bond_type`` for covalently bonded pairs.

Pairs are not stored: :func:`molecule_pairs` derives them from the atom offsets and the bonds
(vectorised), in :func:`collate` and again in :func:`select_molecules` for a batch cut from a
data set stored without them (:meth:`GraphBatch.without_pairs`), so a data set costs memory in
its atoms and bonds only (a QMugs-sized molecule has ~1,200 pairs but ~50 atoms).
- positions in Å; energies in kcal/mol.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from virialff.chem.elements import SUPPORTED_ELEMENTS, element_index
from virialff.errors import MoleculeRejected

BOND_TYPES: tuple[str, ...] = ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")
N_BOND_TYPES = len(BOND_TYPES)
#: pair feature width: non-covalent plus the four bond types.
N_PAIR_TYPES = N_BOND_TYPES + 1
N_ELEMENTS = len(SUPPORTED_ELEMENTS)
#: atoms closer than this (Å) are rejected as overlapping.
MIN_INTERATOMIC_DISTANCE_ANGSTROM = 0.5


@dataclass
class MolecularGraph:
    """One molecule or complex as NumPy arrays (see module docstring for conventions)."""

    molecule_id: str
    element_index: np.ndarray  # [A] int64, index into SUPPORTED_ELEMENTS
    positions_angstrom: np.ndarray  # [A, 3] float64
    bond_index: np.ndarray  # [2, B] int64, both directions
    bond_type: np.ndarray  # [B] int64
    fragment_index: np.ndarray  # [A] int64, covalent fragment of each atom
    targets: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_atoms(self) -> int:
        return int(self.element_index.shape[0])

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All pairs i < j as ``pair_index`` [2, P] and ``pair_type`` [P]."""
        first, second = np.triu_indices(self.n_atoms, k=1)
        pair_type = np.zeros(first.shape[0], dtype=np.int64)
        if self.bond_index.shape[1]:
            lookup = np.zeros((self.n_atoms, self.n_atoms), dtype=np.int64)
            lookup[self.bond_index[0], self.bond_index[1]] = self.bond_type + 1
            pair_type = lookup[first, second]
        return np.stack([first, second]).astype(np.int64), pair_type

    def element_counts(self) -> np.ndarray:
        """Number of atoms of each supported element, [N_ELEMENTS]."""
        return np.bincount(self.element_index, minlength=N_ELEMENTS).astype(np.float64)


def check_neutral_closed_shell(mol, molecule_id: str) -> None:  # noqa: ANN001 - rdkit Mol
    """Reject molecules with a net charge or unpaired electrons."""
    total_charge = sum(atom.GetFormalCharge() for atom in mol.GetAtoms())
    if total_charge != 0:
        raise MoleculeRejected(
            molecule_id, "charged", f"net formal charge {total_charge:+d}; only neutral molecules"
        )
    radicals = sum(atom.GetNumRadicalElectrons() for atom in mol.GetAtoms())
    # implicit hydrogens count too: the molecule may not have had Chem.AddHs yet
    n_electrons = (
        sum(atom.GetAtomicNum() + atom.GetTotalNumHs() for atom in mol.GetAtoms()) - total_charge
    )
    if radicals or n_electrons % 2:
        raise MoleculeRejected(
            molecule_id, "open_shell", f"{radicals} unpaired electron(s); only closed shells"
        )


def check_explicit_hydrogens(mol, molecule_id: str) -> None:  # noqa: ANN001 - rdkit Mol
    """Reject a molecule whose hydrogens are implicit (an SDF or SMILES without H atoms).

    The potential needs every hydrogen as an atom with coordinates; a molecule read without
    them would get a number that is thousands of kcal/mol off.
    """
    missing = [f"{a.GetSymbol()}{a.GetIdx() + 1}" for a in mol.GetAtoms()
               if a.GetNumImplicitHs() or a.GetNumExplicitHs()]
    if missing:
        shown = ", ".join(missing[:6]) + (" ..." if len(missing) > 6 else "")
        raise MoleculeRejected(
            molecule_id, "missing_hydrogens",
            f"atoms {shown} carry implicit hydrogens; give every hydrogen as an atom with "
            "coordinates, e.g. mol = Chem.AddHs(mol, addCoords=True) in RDKit or "
            "obabel -h for a file",
        )


def check_elements(mol, molecule_id: str) -> None:  # noqa: ANN001 - rdkit Mol
    """Reject molecules with elements outside :data:`SUPPORTED_ELEMENTS`."""
    bad = sorted({a.GetSymbol() for a in mol.GetAtoms()} - set(SUPPORTED_ELEMENTS))
    if bad:
        raise MoleculeRejected(
            molecule_id,
            "unsupported_element",
            f"element(s) {', '.join(bad)} not in {', '.join(SUPPORTED_ELEMENTS)}",
        )


def check_geometry(positions_angstrom: np.ndarray, molecule_id: str) -> None:
    """Reject NaN coordinates and atoms closer than 0.5 Å."""
    if not np.all(np.isfinite(positions_angstrom)):
        raise MoleculeRejected(molecule_id, "nan_value", "non-finite atomic coordinates")
    n = positions_angstrom.shape[0]
    if n < 2:
        return
    delta = positions_angstrom[:, None, :] - positions_angstrom[None, :, :]
    distance = np.sqrt((delta**2).sum(-1))
    first, second = np.triu_indices(n, k=1)
    closest = int(np.argmin(distance[first, second]))
    if distance[first[closest], second[closest]] < MIN_INTERATOMIC_DISTANCE_ANGSTROM:
        raise MoleculeRejected(
            molecule_id,
            "overlapping_atoms",
            f"atoms {first[closest]} and {second[closest]} are "
            f"{distance[first[closest], second[closest]]:.3f} Å apart "
            f"(< {MIN_INTERATOMIC_DISTANCE_ANGSTROM} Å)",
        )


def graph_from_rdkit(
    mol,  # noqa: ANN001 - rdkit Mol with explicit hydrogens and one conformer
    molecule_id: str,
    conformer_id: int = -1,
    targets: dict[str, np.ndarray] | None = None,
) -> MolecularGraph:
    """Featurise an RDKit molecule with explicit hydrogens and 3D coordinates.

    Atom order is RDKit's atom order. Several fragments (a complex) are allowed; bonds come
    from each fragment's own covalent graph, so every inter-fragment pair is non-bonded.

    Raises:
        MoleculeRejected: ``unsupported_bond`` for a bond type outside :data:`BOND_TYPES`
            (dative, quadruple, ...), which has no feature of its own.
    """
    from rdkit import Chem

    check_elements(mol, molecule_id)
    # Before the closed-shell check: RDKit gives the acceptor of a dative bond unpaired
    # electrons, and "unsupported_bond" is the cause worth reporting.
    bond_names = [str(bond.GetBondType()).split(".")[-1] for bond in mol.GetBonds()]
    for bond, name in zip(mol.GetBonds(), bond_names, strict=True):
        if name not in BOND_TYPES:
            i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            raise MoleculeRejected(
                molecule_id, "unsupported_bond",
                f"bond {i}-{j} ({mol.GetAtomWithIdx(i).GetSymbol()}-"
                f"{mol.GetAtomWithIdx(j).GetSymbol()}) is of RDKit type {name}; the featuriser "
                f"knows {', '.join(BOND_TYPES)} only",
            )
    check_neutral_closed_shell(mol, molecule_id)
    if mol.GetNumConformers() == 0:
        raise MoleculeRejected(molecule_id, "missing_input", "molecule has no 3D coordinates")
    positions = np.asarray(mol.GetConformer(conformer_id).GetPositions(), dtype=np.float64)
    check_geometry(positions, molecule_id)
    elements = np.array([element_index(a.GetSymbol()) for a in mol.GetAtoms()], dtype=np.int64)
    begin, end, kinds = [], [], []
    for bond, name in zip(mol.GetBonds(), bond_names, strict=True):
        kind = BOND_TYPES.index(name)
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        begin += [i, j]
        end += [j, i]
        kinds += [kind, kind]
    fragments = np.zeros(mol.GetNumAtoms(), dtype=np.int64)
    for fragment, atoms in enumerate(Chem.GetMolFrags(mol, asMols=False, sanitizeFrags=False)):
        fragments[list(atoms)] = fragment
    return MolecularGraph(
        molecule_id=molecule_id,
        element_index=elements,
        positions_angstrom=positions,
        bond_index=np.array([begin, end], dtype=np.int64).reshape(2, -1),
        bond_type=np.array(kinds, dtype=np.int64),
        fragment_index=fragments,
        targets=dict(targets or {}),
    )


@dataclass
class GraphBatch:
    """Many graphs concatenated into flat torch tensors (shapes in the module docstring).

    ``molecule_targets`` holds per-molecule tensors [M] (e.g. ``energy_kcal_mol``);
    ``atom_targets`` per-atom tensors [A]; ``bond_targets`` per-directed-bond tensors [B].
    """

    molecule_ids: list[str]
    element_index: object  # torch.LongTensor [A]
    positions_angstrom: object  # torch.Tensor [A, 3]
    atom_molecule: object  # [A]
    bond_index: object  # [2, B], global atom indices
    bond_type: object  # [B]
    bond_molecule: object  # [B]
    pair_index: object  # [2, P], global atom indices (None when stored without pairs)
    pair_type: object  # [P] (or None)
    pair_molecule: object  # [P] (or None)
    atom_ptr: object  # [M + 1]
    bond_ptr: object  # [M + 1]
    pair_ptr: object  # [M + 1] (or None)
    element_counts: object  # [M, N_ELEMENTS]
    n_fragments: object  # [M] covalent fragments (molecules) per graph
    molecule_targets: dict = field(default_factory=dict)
    atom_targets: dict = field(default_factory=dict)
    bond_targets: dict = field(default_factory=dict)

    @property
    def n_molecules(self) -> int:
        return len(self.molecule_ids)

    def to(self, device) -> GraphBatch:  # noqa: ANN001
        """Move every tensor to ``device``."""
        moved = {}
        for name, value in self.__dict__.items():
            if hasattr(value, "to"):
                moved[name] = value.to(device)
            elif isinstance(value, dict):
                moved[name] = {k: v.to(device) for k, v in value.items()}
            else:
                moved[name] = value
        return GraphBatch(**moved)

    def state_dict(self) -> dict:
        """Plain dict for ``torch.save`` (no pickled classes)."""
        return dict(self.__dict__)

    def without_pairs(self) -> GraphBatch:
        """The same batch without the pair arrays (for storage; see the module docstring)."""
        return GraphBatch(**{**self.__dict__, "pair_index": None, "pair_type": None,
                             "pair_molecule": None, "pair_ptr": None})

    def with_pairs(self) -> GraphBatch:
        """The batch with its pair arrays (derived from atoms and bonds when absent)."""
        if self.pair_index is not None:
            return self
        pair_index, pair_type, pair_molecule, pair_ptr = molecule_pairs(
            self.atom_ptr, self.bond_index, self.bond_type)
        return GraphBatch(**{**self.__dict__, "pair_index": pair_index, "pair_type": pair_type,
                             "pair_molecule": pair_molecule, "pair_ptr": pair_ptr})

    @classmethod
    def from_state_dict(cls, state: dict) -> GraphBatch:
        return cls(**state)


def molecule_pairs(atom_ptr, bond_index, bond_type):  # noqa: ANN001, ANN201 - tensors
    """Every pair i < j within each molecule, in row-major order, without a Python loop.

    Args:
        atom_ptr: [M + 1] atom offsets of the molecules.
        bond_index: [2, B] bonds (global atom indices, either or both directions).
        bond_type: [B] bond type index of each bond (:data:`BOND_TYPES`).

    Returns:
        ``pair_index`` [2, P], ``pair_type`` [P] (0 non-bonded, 1 + bond type if bonded),
        ``pair_molecule`` [P] and ``pair_ptr`` [M + 1], on ``atom_ptr``'s device.
    """
    import torch

    device = atom_ptr.device
    sizes = atom_ptr[1:] - atom_ptr[:-1]
    n_atoms = int(atom_ptr[-1])
    owner = torch.repeat_interleave(torch.arange(sizes.numel(), device=device), sizes)
    local = torch.arange(n_atoms, device=device) - atom_ptr[:-1][owner]
    row_length = sizes[owner] - 1 - local  # pairs (i, j > i) that start at atom i
    first = torch.repeat_interleave(torch.arange(n_atoms, device=device), row_length)
    row_start = torch.cumsum(row_length, 0) - row_length
    offset = torch.arange(first.numel(), device=device) - torch.repeat_interleave(
        row_start, row_length)
    second = first + 1 + offset
    pair_ptr = torch.zeros(sizes.numel() + 1, dtype=torch.long, device=device)
    pair_ptr[1:] = torch.cumsum(sizes * (sizes - 1) // 2, 0)
    pair_type = torch.zeros(first.numel(), dtype=torch.long, device=device)
    if bond_index.numel():
        low = torch.minimum(bond_index[0], bond_index[1])
        high = torch.maximum(bond_index[0], bond_index[1])
        bond_key, order = torch.sort(low * n_atoms + high)
        pair_key = first * n_atoms + second
        position = torch.searchsorted(bond_key, pair_key).clamp(max=bond_key.numel() - 1)
        bonded = bond_key[position] == pair_key
        pair_type[bonded] = bond_type[order[position[bonded]]] + 1
    return torch.stack([first, second]), pair_type, owner[first] if first.numel() else (
        first.clone()), pair_ptr


def _offsets(sizes):  # noqa: ANN001, ANN202
    import torch

    ptr = torch.zeros(len(sizes) + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.as_tensor(sizes, dtype=torch.long), 0)
    return ptr


def collate(graphs: list[MolecularGraph], dtype=None) -> GraphBatch:  # noqa: ANN001
    """Concatenate graphs into one :class:`GraphBatch`. This is the only per-molecule loop.

    Targets: keys whose array has one value are molecule targets; arrays of length A go to
    ``atom_targets``; arrays of length B (directed bonds) go to ``bond_targets``.
    """
    import torch

    dtype = dtype or torch.get_default_dtype()
    atom_sizes = [g.n_atoms for g in graphs]
    bond_sizes = [g.bond_index.shape[1] for g in graphs]
    atom_ptr, bond_ptr = _offsets(atom_sizes), _offsets(bond_sizes)
    atom_shift = np.repeat(atom_ptr[:-1].numpy(), bond_sizes)
    molecule_range = np.arange(len(graphs))

    def cat(arrays, axis=0):  # noqa: ANN001, ANN202
        return np.concatenate(arrays, axis=axis) if arrays else np.zeros((0,))

    molecule_targets, atom_targets, bond_targets = {}, {}, {}
    keys = sorted({k for g in graphs for k in g.targets}) if graphs else []
    for key in keys:
        if not all(key in g.targets for g in graphs):
            raise ValueError(f"target {key!r} is missing on some molecules")
        values = [np.atleast_1d(np.asarray(g.targets[key], dtype=np.float64)) for g in graphs]
        if all(v.shape[0] == 1 for v in values):
            molecule_targets[key] = torch.as_tensor(cat(values), dtype=dtype)
        elif all(v.shape[0] == n for v, n in zip(values, atom_sizes, strict=True)):
            atom_targets[key] = torch.as_tensor(cat(values), dtype=dtype)
        elif all(v.shape[0] == n for v, n in zip(values, bond_sizes, strict=True)):
            bond_targets[key] = torch.as_tensor(cat(values), dtype=dtype)
        else:
            raise ValueError(f"target {key!r} is neither per molecule, per atom nor per bond")

    bond_index = cat([g.bond_index for g in graphs], axis=1).reshape(2, -1) + atom_shift
    bond_index = torch.as_tensor(bond_index, dtype=torch.long)
    bond_type = torch.as_tensor(cat([g.bond_type for g in graphs]), dtype=torch.long)
    pair_index, pair_type, pair_molecule, pair_ptr = molecule_pairs(atom_ptr, bond_index,
                                                                    bond_type)
    return GraphBatch(
        molecule_ids=[g.molecule_id for g in graphs],
        element_index=torch.as_tensor(cat([g.element_index for g in graphs]), dtype=torch.long),
        positions_angstrom=torch.as_tensor(
            cat([g.positions_angstrom for g in graphs]).reshape(-1, 3), dtype=dtype
        ),
        atom_molecule=torch.as_tensor(np.repeat(molecule_range, atom_sizes), dtype=torch.long),
        bond_index=bond_index,
        bond_type=bond_type,
        bond_molecule=torch.as_tensor(np.repeat(molecule_range, bond_sizes), dtype=torch.long),
        pair_index=pair_index,
        pair_type=pair_type,
        pair_molecule=pair_molecule,
        atom_ptr=atom_ptr,
        bond_ptr=bond_ptr,
        pair_ptr=pair_ptr,
        element_counts=torch.as_tensor(
            np.stack([g.element_counts() for g in graphs]) if graphs else np.zeros((0, N_ELEMENTS)),
            dtype=dtype,
        ),
        n_fragments=torch.as_tensor(
            [int(g.fragment_index.max()) + 1 if g.n_atoms else 0 for g in graphs], dtype=dtype
        ),
        molecule_targets=molecule_targets,
        atom_targets=atom_targets,
        bond_targets=bond_targets,
    )


def _ranges(ptr, selected):  # noqa: ANN001, ANN202
    """Flat indices of the items of the ``selected`` molecules, and their new offsets."""
    import torch

    starts, ends = ptr[selected], ptr[selected + 1]
    sizes = ends - starts
    new_ptr = torch.zeros(len(selected) + 1, dtype=torch.long, device=ptr.device)
    new_ptr[1:] = torch.cumsum(sizes, 0)
    owner = torch.repeat_interleave(torch.arange(len(selected), device=ptr.device), sizes)
    flat = starts[owner] + torch.arange(int(new_ptr[-1]), device=ptr.device) - new_ptr[owner]
    return flat, new_ptr, owner


def select_molecules(batch: GraphBatch, selected) -> GraphBatch:  # noqa: ANN001
    """The sub-batch of molecules ``selected`` (a LongTensor of molecule indices), vectorised.

    A batch stored without pairs (:meth:`GraphBatch.without_pairs`) gives a sub-batch with its
    pairs derived again (:func:`molecule_pairs`), in the same order as :func:`collate`'s.
    """
    import torch

    selected = torch.as_tensor(selected, dtype=torch.long, device=batch.atom_ptr.device)
    atoms, atom_ptr, atom_owner = _ranges(batch.atom_ptr, selected)
    bonds, bond_ptr, bond_owner = _ranges(batch.bond_ptr, selected)
    old_start = batch.atom_ptr[selected]
    bond_shift = (atom_ptr[:-1] - old_start)[bond_owner]
    pair_fields = {"pair_index": None, "pair_type": None, "pair_molecule": None,
                   "pair_ptr": None}
    if batch.pair_index is not None:
        pairs, pair_ptr, pair_owner = _ranges(batch.pair_ptr, selected)
        pair_shift = (atom_ptr[:-1] - old_start)[pair_owner]
        pair_fields = {"pair_index": batch.pair_index[:, pairs] + pair_shift,
                       "pair_type": batch.pair_type[pairs], "pair_molecule": pair_owner,
                       "pair_ptr": pair_ptr}
    sub = GraphBatch(
        molecule_ids=[batch.molecule_ids[i] for i in selected.tolist()],
        element_index=batch.element_index[atoms],
        positions_angstrom=batch.positions_angstrom[atoms],
        atom_molecule=atom_owner,
        bond_index=batch.bond_index[:, bonds] + bond_shift,
        bond_type=batch.bond_type[bonds],
        bond_molecule=bond_owner,
        atom_ptr=atom_ptr,
        bond_ptr=bond_ptr,
        element_counts=batch.element_counts[selected],
        n_fragments=batch.n_fragments[selected],
        molecule_targets={k: v[selected] for k, v in batch.molecule_targets.items()},
        atom_targets={k: v[atoms] for k, v in batch.atom_targets.items()},
        bond_targets={k: v[bonds] for k, v in batch.bond_targets.items()},
        **pair_fields,
    )
    return sub.with_pairs()
