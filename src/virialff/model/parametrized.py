"""Parametrise once: run the networks on a molecule or complex and keep its parameters.

The networks of the stage-2 model predict charges Q and pair parameters C0..C13 from the
covalent graph alone, so a molecule needs them once (:func:`parametrize`,
``Predictor.parametrize``); the result is a torch-free
:class:`~virialff.forcefield.paper_system.ParametrizedSystem` (see that module for what it
holds, the cutoff, periodic cells and the default cutoff), whose every later energy and force
is a sum of pair terms without a network call.

What parametrising costs: feats_net runs once per distinct (type_i, type_j, pair type) of the
intramolecular pairs, so 40 copies of a molecule cost one; pairs between fragments are all
non-bonded, so their parameters feats_net(h_i, h_j, non-covalent) depend only on the two
stage-1 embeddings, and atoms whose embeddings agree to
:data:`~virialff.forcefield.paper_system.EMBEDDING_TYPE_TOLERANCE` share a type
(:func:`assign_atom_types`): one table [T, T, 14] holds the intermolecular parameters.

Usage::

    system = predictor.parametrize(mol)          # RDKit Mol, explicit H, one conformer
    energy, forces = system.energy_and_forces(positions_angstrom)   # kcal/mol, kcal/mol/Å
"""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import torch

from virialff.chem.elements import SUPPORTED_ELEMENTS, UnsupportedElementError
from virialff.chem.graph import (
    MIN_INTERATOMIC_DISTANCE_ANGSTROM,
    N_PAIR_TYPES,
    MolecularGraph,
    check_elements,
    check_explicit_hydrogens,
    check_neutral_closed_shell,
    graph_from_rdkit,
)
from virialff.forcefield.paper_system import (
    DEFAULT_CUTOFF_ANGSTROM,
    EMBEDDING_TYPE_TOLERANCE,
    ParametrizedSystem,
    atom_list_text,
    check_positions,
    reject_overlapping_pairs,
)
from virialff.model.potential import linear_energy_kcal_mol

#: the non-covalent pair type of feats_net (``virialff.chem.graph``: 0 = non-bonded).
NON_COVALENT_PAIR_TYPE = 0
#: feats_net is applied to at most this many pairs at once.
TYPE_PAIR_BLOCK = 1 << 16


# -- atom types --------------------------------------------------------------------------------
def assign_atom_types(
    embeddings: np.ndarray, element_index: np.ndarray, tolerance: float = EMBEDDING_TYPE_TOLERANCE
) -> tuple[np.ndarray, np.ndarray]:
    """Group atoms whose embeddings agree to ``tolerance`` (max abs difference) into types.

    Args:
        embeddings: [A, H] stage-1 embeddings h.
        element_index: [A] elements; atoms of different elements never share a type.
        tolerance: see :data:`EMBEDDING_TYPE_TOLERANCE`.

    Returns:
        ``(atom_type [A], representative [T])``: types are numbered by first appearance and
        ``representative[t]`` is the first atom of type t; every atom of type t is within
        ``tolerance`` of it.

    Leader clustering made near-linear with a sort: |u·(h_a − h_b)| ≤ ‖u‖₁·tolerance for
    atoms within tolerance, so only atoms in that window of the projection on a fixed
    direction u are compared with each leader.
    """
    n_atoms = embeddings.shape[0]
    atom_type = np.full(n_atoms, -1, dtype=np.int64)
    representatives: list[int] = []
    if n_atoms == 0:
        return atom_type, np.zeros(0, dtype=np.int64)
    direction = np.random.default_rng(0).uniform(0.5, 1.0, embeddings.shape[1])
    projection = embeddings @ direction
    order = np.argsort(projection, kind="stable")
    sorted_projection = projection[order]
    window = tolerance * direction.sum() * (1.0 + 1e-9) + 1e-12
    for atom in range(n_atoms):
        if atom_type[atom] >= 0:
            continue
        lo = np.searchsorted(sorted_projection, projection[atom] - window, side="left")
        hi = np.searchsorted(sorted_projection, projection[atom] + window, side="right")
        candidates = order[lo:hi]
        candidates = candidates[
            (atom_type[candidates] < 0) & (element_index[candidates] == element_index[atom])
        ]
        close = np.abs(embeddings[candidates] - embeddings[atom]).max(axis=1) <= tolerance
        atom_type[candidates[close]] = len(representatives)
        representatives.append(atom)
    return atom_type, np.asarray(representatives, dtype=np.int64)


# -- parametrisation ---------------------------------------------------------------------------
def _intramolecular_pairs(graph: MolecularGraph) -> tuple[np.ndarray, np.ndarray]:
    """All pairs i < j inside each fragment [2, P] and their pair type [P] (0 = non-bonded)."""
    blocks = []
    for fragment in range(int(graph.fragment_index.max()) + 1 if graph.n_atoms else 0):
        atoms = np.flatnonzero(graph.fragment_index == fragment)
        first, second = np.triu_indices(atoms.size, k=1)
        blocks.append(np.stack([atoms[first], atoms[second]]))
    pair_index = np.concatenate(blocks, axis=1) if blocks else np.zeros((2, 0), dtype=np.int64)
    order = np.lexsort((pair_index[1], pair_index[0]))
    pair_index = pair_index[:, order].astype(np.int64)
    pair_type = np.zeros(pair_index.shape[1], dtype=np.int64)
    begin, end = graph.bond_index
    if begin.size:
        n = graph.n_atoms
        bond_keys = np.minimum(begin, end) * n + np.maximum(begin, end)
        bond_keys, first_seen = np.unique(bond_keys, return_index=True)
        pair_keys = pair_index[0] * n + pair_index[1]
        where = np.searchsorted(bond_keys, pair_keys)
        where = np.minimum(where, bond_keys.size - 1)
        bonded = bond_keys[where] == pair_keys
        pair_type[bonded] = graph.bond_type[first_seen[where[bonded]]] + 1
    return pair_index, pair_type


def _fragment_mol(mol, atoms: np.ndarray, bonds: list):  # noqa: ANN001, ANN202 - rdkit Mols
    """The RDKit molecule of ``atoms`` (sorted indices of ``mol``) and its ``bonds``.

    ``Chem.GetMolFrags(asMols=True)`` does the same but takes 22 s for 210 fragments of a
    10,000-atom complex; this is linear in the fragment's size.
    """
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    new_index = {int(old): new for new, old in enumerate(atoms)}
    fragment = Chem.RWMol()
    for old in atoms:
        fragment.AddAtom(mol.GetAtomWithIdx(int(old)))
    for bond in bonds:
        count = fragment.AddBond(
            new_index[bond.GetBeginAtomIdx()], new_index[bond.GetEndAtomIdx()], bond.GetBondType()
        )
        fragment.GetBondWithIdx(count - 1).SetIsAromatic(bond.GetIsAromatic())
    positions = mol.GetConformer().GetPositions()[atoms]
    conformer = Chem.Conformer(len(atoms))
    for new, (x, y, z) in enumerate(positions):
        conformer.SetAtomPosition(new, Point3D(float(x), float(y), float(z)))
    fragment = fragment.GetMol()
    fragment.AddConformer(conformer, assignId=True)
    fragment.UpdatePropertyCache(strict=False)
    return fragment


def molecular_graph(mol, label: str) -> MolecularGraph:  # noqa: ANN001 - rdkit Mol
    """The :class:`~virialff.chem.graph.MolecularGraph` of ``mol``, in O(A + B) memory.

    :func:`~virialff.chem.graph.graph_from_rdkit` of each covalent fragment, joined: the same
    arrays and checks as ``graph_from_rdkit(mol)`` (a test compares them), without its
    all-pairs distance matrix, which needs O(A²) memory (2.4 GB at 10⁴ atoms); atoms closer
    than 0.5 Å are found with a k-d tree. Each fragment, not only the whole complex, must be
    neutral and closed-shell: the model was trained on neutral molecules.
    """
    from rdkit import Chem
    from scipy.spatial import cKDTree

    check_elements(mol, label)
    check_neutral_closed_shell(mol, label)
    positions = check_positions(mol.GetConformer().GetPositions(), mol.GetNumAtoms(), label)
    close = cKDTree(positions).query_pairs(MIN_INTERATOMIC_DISTANCE_ANGSTROM, output_type="ndarray")
    if close.size:
        delta = positions[close[:, 0]] - positions[close[:, 1]]
        reject_overlapping_pairs(label, np.sqrt((delta**2).sum(1)), close[:, 0], close[:, 1])
    fragments = [
        np.array(sorted(atoms), dtype=np.int64)
        for atoms in Chem.GetMolFrags(mol, asMols=False, sanitizeFrags=False)
    ]
    fragment_index = np.zeros(mol.GetNumAtoms(), dtype=np.int64)
    for number, atoms in enumerate(fragments):
        fragment_index[atoms] = number
    bonds_of: list[list] = [[] for _ in fragments]
    for bond in mol.GetBonds():
        bonds_of[fragment_index[bond.GetBeginAtomIdx()]].append(bond)
    element_index = np.zeros(mol.GetNumAtoms(), dtype=np.int64)
    bond_index, bond_type = [], []
    for number, atoms in enumerate(fragments):
        where = f"{label} (molecule {number + 1}: atoms {atom_list_text(atoms, 3)})"
        where = label if len(fragments) == 1 else where
        part = graph_from_rdkit(_fragment_mol(mol, atoms, bonds_of[number]), where)
        element_index[atoms] = part.element_index
        bond_index.append(atoms[part.bond_index])
        bond_type.append(part.bond_type)
    return MolecularGraph(
        molecule_id=label,
        element_index=element_index,
        positions_angstrom=positions,
        bond_index=np.concatenate(bond_index, axis=1) if bond_index else np.zeros((2, 0), int),
        bond_type=np.concatenate(bond_type) if bond_type else np.zeros(0, dtype=np.int64),
        fragment_index=fragment_index,
    )


def _mol_label(mol) -> str:  # noqa: ANN001
    if mol.HasProp("_Name") and mol.GetProp("_Name").strip():
        return mol.GetProp("_Name").strip()
    return "molecule"


def parametrize(
    predictor,  # noqa: ANN001 - virialff.model.predictor.Predictor
    mol,  # noqa: ANN001 - rdkit Mol
    cutoff_angstrom: float | None = DEFAULT_CUTOFF_ANGSTROM,
    switch_distance_angstrom: float | None = None,
    embedding_tolerance: float = EMBEDDING_TYPE_TOLERANCE,
    name: str | None = None,
    box_angstrom: np.ndarray | None = None,
) -> ParametrizedSystem:
    """Run the networks of ``predictor`` once on ``mol`` and keep the parameters.

    ``mol`` is an RDKit molecule (or a complex of several fragments in one Mol) with explicit
    hydrogens; its conformer, if any, is checked but not stored (the positions go to
    :meth:`ParametrizedSystem.energy_and_forces`). ``box_angstrom`` [3]: edges of a periodic
    orthorhombic cell (Å), see :mod:`virialff.forcefield.paper_system`. Raises ValueError (or
    its subclass :class:`~virialff.errors.MoleculeRejected`) naming the cause and the atoms for
    implicit hydrogens, unsupported elements, charged or open-shell molecules, NaN coordinates
    or overlapping atoms.
    """
    if mol is None:
        raise ValueError("parametrize: the molecule is None (RDKit could not read it)")
    label = name or _mol_label(mol)
    check_explicit_hydrogens(mol, label)
    if mol.GetNumConformers():
        check_positions(mol.GetConformer().GetPositions(), mol.GetNumAtoms(), label)
    else:  # featurisation wants coordinates; the graph does not depend on them
        mol = copy.deepcopy(mol)
        from rdkit import Chem

        conformer = Chem.Conformer(mol.GetNumAtoms())
        for atom in range(mol.GetNumAtoms()):
            conformer.SetAtomPosition(atom, (float(atom), 0.0, 0.0))
        mol.AddConformer(conformer, assignId=True)
    try:
        graph = molecular_graph(mol, label)
    except UnsupportedElementError as error:
        raise ValueError(f"{label}: {error}") from None
    model = predictor.model
    dtype, device = predictor.dtype, predictor.device
    intra_index, intra_type = _intramolecular_pairs(graph)
    with torch.no_grad():
        h = model.embedding(
            torch.as_tensor(graph.element_index, device=device),
            torch.as_tensor(graph.bond_index, device=device),
            torch.as_tensor(graph.bond_type, device=device),
        ).to(dtype)
        fragment = torch.as_tensor(graph.fragment_index, device=device)
        no_pairs = SimpleNamespace(
            pair_index=torch.zeros((2, 0), dtype=torch.long, device=device),
            pair_type=torch.zeros(0, dtype=torch.long, device=device),
        )
        charges, _ = model.parameters_from_embeddings(h, no_pairs, fragment)
        atom_type, representative = assign_atom_types(
            h.double().cpu().numpy(), graph.element_index, embedding_tolerance
        )
        intra_parameters = _intramolecular_parameters(
            model, h, intra_index, intra_type, atom_type, representative
        )
        type_parameters = _type_pair_parameters(model, h[torch.as_tensor(representative)])
        n_fragments = int(graph.fragment_index.max()) + 1 if graph.n_atoms else 0
        weights = model.element_weights_kcal_mol
        linear = linear_energy_kcal_mol(
            torch.as_tensor(graph.element_counts()[None], dtype=weights.dtype),
            weights.cpu(),
            model.bias_kcal_mol.cpu(),
            torch.tensor([n_fragments], dtype=weights.dtype),
        )
    bonds = graph.bond_index[:, graph.bond_index[0] < graph.bond_index[1]]
    return ParametrizedSystem(
        name=label,
        target=predictor.target,
        sign=float(model.sign),
        elements=tuple(SUPPORTED_ELEMENTS[int(e)] for e in graph.element_index),
        fragment_index=graph.fragment_index.copy(),
        charges_e=charges.double().cpu().numpy(),
        intra_pair_index=intra_index,
        intra_pair_type=intra_type,
        intra_parameters=intra_parameters,
        atom_type=atom_type,
        type_parameters=type_parameters,
        linear_energy_kcal_mol=float(linear[0]),
        bond_index=bonds.astype(np.int64),
        cutoff_angstrom=cutoff_angstrom,
        switch_distance_angstrom=switch_distance_angstrom,
        embedding_tolerance=embedding_tolerance,
        box_angstrom=box_angstrom,
        guards=model.guards,
    )


def _pair_parameters(
    model,  # noqa: ANN001 - PotentialModel
    h: torch.Tensor,
    pair_index: np.ndarray,
    pair_type: np.ndarray,
) -> np.ndarray:
    """feats_net(h_i, h_j, pair type) [P, 14] (float64), in blocks of TYPE_PAIR_BLOCK pairs."""
    out = np.zeros((pair_index.shape[1], 14))
    for start in range(0, pair_index.shape[1], TYPE_PAIR_BLOCK):
        block = slice(start, start + TYPE_PAIR_BLOCK)
        index = torch.as_tensor(pair_index[:, block], device=h.device)
        kind = torch.as_tensor(pair_type[block], device=h.device)
        out[block] = model.feats_net(h, index, kind).double().cpu().numpy()
    return out


def _intramolecular_parameters(
    model,  # noqa: ANN001 - PotentialModel
    h: torch.Tensor,
    pair_index: np.ndarray,
    pair_type: np.ndarray,
    atom_type: np.ndarray,
    representative: np.ndarray,
) -> np.ndarray:
    """C [P, 14] of the intramolecular pairs, feats_net run once per distinct pair.

    feats_net sees only (h_i, h_j, pair type) and is symmetric, so pairs with the same
    unordered type pair and pair type share their parameters: the 40 copies of a molecule in
    a cluster cost one.
    """
    n_types = int(representative.shape[0])
    first, second = atom_type[pair_index]
    low, high = np.minimum(first, second), np.maximum(first, second)
    key = (low * n_types + high) * N_PAIR_TYPES + pair_type
    _, distinct, inverse = np.unique(key, return_index=True, return_inverse=True)
    atoms = representative[np.stack([low[distinct], high[distinct]])]
    return _pair_parameters(model, h, atoms, pair_type[distinct])[inverse]


def _type_pair_parameters(model, type_embeddings: torch.Tensor) -> np.ndarray:  # noqa: ANN001
    """feats_net(h_s, h_t, intermolecular class) for every type pair s ≤ t, mirrored:
    [T, T, 14]; the class is the non-covalent type unless the model has its own."""
    n_types = type_embeddings.shape[0]
    first, second = np.triu_indices(n_types)
    kind = np.full(first.shape[0], getattr(model, "intermolecular_pair_type",
                                           NON_COVALENT_PAIR_TYPE), dtype=np.int64)
    values = _pair_parameters(model, type_embeddings, np.stack([first, second]), kind)
    table = np.zeros((n_types, n_types, 14))
    table[first, second] = values
    table[second, first] = values
    return table
