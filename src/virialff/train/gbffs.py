"""Training of GB-FFs (thesis section 4.3) on the workflow's data set, in three steps.

Inputs: the data set (``results/dataset/dataset.pt``: geometries, DFT energies, forces where
``has_forces``), the stage-1 model (``results/models/embedding.pt``, its MPNN gives the atom
embeddings), the GAFF2/AM1-BCC parameters of the gaff2 stage (``results/gaff2/{shard}.npz``,
matched by ``molecule_id``; atoms in the geometry SDF's order, which is the data set's: the
atomic numbers, bonds and 1-4 pairs are checked, and a molecule whose parameters do not fit is
a ``parameter_mismatch`` row of the status table) and the geometry SDFs (per-atom formal
charges, the charge model's starting point).

GAFF2 targets on GB-FFs' terms (:func:`gaff2_term_targets`): bonds and angles one to one;
per proper path and periodicity n = 1..4 the sum of GAFF2's rows of that path, a row whose
phase is opposite to GB-FFs' fixed phase (γ = 0 for odd n, π for even n) counting −k (the same
energy up to a constant 2k); rows with n > 4 or another phase are left out with a message;
per improper centre the sum of GAFF2's n = 2 rows at it (−k for γ = 0), 0 where GAFF2 has
none; per atom q, ε, σ.

The steps (each starts from the best-validation weights of the one before; Adam):

1. parameter regression: Σ_kind MSE of the scaled parameters (K_r/100, r_eq·10; K_θ/10,
   θ_eq·3; torsion k_n; improper k; q·10; ε·10, σ;
   :data:`virialff.model.gbffs.PARAMETER_SCALES`);
2. step 1 plus ``term_energy_weight`` × Σ_kind MSE of the energies of every single bond, angle,
   torsion path, improper, and Coulomb and Lennard-Jones pair against GAFF2's at the data
   set's geometries (torsions and impropers: GAFF2's rows, less the constants of the phase
   mapping);
3. DFT, at ``step3_learning_rate``: ``relative_energy_weight`` × MSE of the relative energies
   (each geometry minus the lowest-DFT geometry of its compound, ``group_ids``; compounds with
   one geometry add nothing) + ``force_weight`` × MSE of the force components (where the DFT
   gave forces), with GB-FFs' own
   charges, plus the anchors ``anchor_*`` × MSE of the scaled parameters, and
   ``torsion_l2`` × mean k_n² and ``transfer_l2`` × mean t² (t in units of 0.1 e). Dynamic
   filter, with the current parameters at every update: a geometry with more than
   ``filter_max_outliers`` bond and angle terms above ``filter_valence_kcal_mol`` or more
   Lennard-Jones pairs above ``filter_vdw_kcal_mol`` is left out of that update (counted per
   epoch in the history).

Each step keeps its best validation epoch, epoch 0 (the weights it starts from) included:
steps 1 and 2 per kind of parameter (with frozen embeddings the six kinds are six independent
models, :func:`run_step`), step 3 by RMSE(ΔE) + ``force_weight``·RMSE(F), the thesis's
selection rule, without the filter. The test split is evaluated at the end and never used to
choose. The metrics JSON holds, for the validation and test splits, the relative-energy and
force errors against DFT of GB-FFs and of GAFF2/AM1-BCC on the same geometries, and the RMSE of
every parameter against GAFF2's. With ``fine_tune_embeddings``
the stage-1 MPNN trains too, at ``embedding_lr_factor`` × the learning rate; by default it is
frozen and its embeddings are computed once.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from virialff.chem.elements import ATOMIC_NUMBERS, SUPPORTED_ELEMENTS
from virialff.chem.graph import GraphBatch, select_molecules
from virialff.chem.valence_terms import ValenceTerms, valence_terms
from virialff.errors import MoleculeRejected
from virialff.formats.amber_parameters import AmberFormParameters, read_amber_parameters
from virialff.formats.model_file import read_model_file, write_model_file
from virialff.formats.status_table import StatusTable
from virialff.model.amber_energy import (
    amber_energy_and_forces,
    amber_energy_terms,
    amber_tensors,
    sum_by_owner,
)
from virialff.model.device import select_device
from virialff.model.gbffs import (
    GBFFS_HEAD_KEYS,
    GBFFS_HEAD_VERSION,
    HEAD_MODULES,
    PARAMETER_SCALES,
    TORSION_PERIODICITIES,
    GBFFsModel,
    ValenceTable,
    build_gbffs_model,
    gbffs_payload,
    linear_atoms,
    predicted_amber_tensors,
)
from virialff.train.data import load_dataset
from virialff.train.loop import file_digest, seed_everything

log = logging.getLogger("virialff.train.gbffs")
STAGE = "gbffs"
#: parameter kinds of the regression losses and the predicted/target columns of each.
PARAMETER_KINDS: dict[str, tuple[str, ...]] = {
    "bond": ("bond_k", "bond_r0_angstrom"),
    "angle": ("angle_k", "angle_theta0_rad"),
    "torsion": ("torsion_k_kcal_mol",),
    "improper": ("improper_k_kcal_mol",),
    "charge": ("charges_e",),
    "vdw": ("epsilon_kcal_mol", "sigma_angstrom"),
}
#: the table block each parameter column is stored in.
_COLUMN_BLOCK: dict[str, str] = {
    "bond_k": "bonds", "bond_r0_angstrom": "bonds", "angle_k": "angles",
    "angle_theta0_rad": "angles", "torsion_k_kcal_mol": "propers",
    "improper_k_kcal_mol": "impropers", "charges_e": "atoms", "epsilon_kcal_mol": "atoms",
    "sigma_angstrom": "atoms",
}
#: per-term energies compared in step 2, and the table block of each.
TERM_BLOCKS: dict[str, str] = {"bond": "bonds", "angle": "angles", "torsion": "propers",
                               "improper": "impropers", "coulomb": "pairs", "lj": "pairs"}
#: the step-3 anchor weight of each parameter kind (impropers share the torsions').
_ANCHOR_KEYS: dict[str, str] = {"bond": "anchor_bond", "angle": "anchor_angle",
                                "torsion": "anchor_torsion", "improper": "anchor_torsion",
                                "charge": "anchor_charge", "vdw": "anchor_vdw"}
#: the per-term energy that depends on each parameter kind only.
KIND_ENERGY: dict[str, str] = {"bond": "bond", "angle": "angle", "torsion": "torsion",
                               "improper": "improper", "charge": "coulomb", "vdw": "lj"}
HISTORY_COLUMNS: tuple[str, ...] = ("step", "epoch", "train_loss", "val_score", "n_dropped",
                                    "n_train_geometries", "learning_rate", "wall_s")
_PHASE_TOLERANCE_RAD = 1e-3


# -- GAFF2 targets on GB-FFs' terms -------------------------------------------------------
@dataclass
class TermTargets:
    """GAFF2's parameters of one molecule on GB-FFs' term lists (``terms`` of
    :func:`valence_terms`): ``values`` column → array ([B], [G], [T, 4], [I], [A]); the maps
    of GAFF2's rows to GB-FFs' terms for the per-term energies (``*_row_term``: index of the
    term, −1 for a row left out; ``*_row_offset``: the constant 2k of a row whose phase is
    opposite to GB-FFs', kcal/mol); ``messages``: rows left out, and why."""

    values: dict[str, np.ndarray]
    bond_row_term: np.ndarray
    angle_row_term: np.ndarray
    torsion_row_term: np.ndarray
    torsion_row_offset: np.ndarray
    improper_row_term: np.ndarray
    improper_row_offset: np.ndarray
    messages: list[str] = field(default_factory=list)


def _phase_sign(periodicity: int, phase_rad: float) -> int:
    """+1 when γ is GB-FFs' fixed phase for n (0 odd, π even), −1 when opposite, 0 otherwise."""
    gbffs = 0.0 if periodicity % 2 else math.pi
    distance = abs(math.remainder(phase_rad - gbffs, 2 * math.pi))
    if distance < _PHASE_TOLERANCE_RAD:
        return 1
    if abs(distance - math.pi) < _PHASE_TOLERANCE_RAD:
        return -1
    return 0


def gaff2_term_targets(parameters: AmberFormParameters, terms: ValenceTerms,
                       atomic_numbers: np.ndarray, molecule_id: str) -> TermTargets:
    """Map one molecule's GAFF2 parameters onto GB-FFs' terms (module docstring).

    Raises :class:`MoleculeRejected` (``parameter_mismatch``) when the atomic numbers, the bonds,
    the angles or the 1-4 pairs of ``parameters`` are not those of the data set's molecule.
    """
    def mismatch(detail: str) -> MoleculeRejected:
        return MoleculeRejected(molecule_id, "parameter_mismatch", "the GAFF2 parameters do "
                                f"not fit the data set's molecule: {detail}", stage=STAGE)

    n = int(len(atomic_numbers))
    if parameters.n_atoms != n or not np.array_equal(parameters.atomic_numbers, atomic_numbers):
        raise mismatch(f"atomic numbers {parameters.atomic_numbers.tolist()} vs the data set's "
                       f"{np.asarray(atomic_numbers).tolist()}")

    def keys(index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64).reshape(-1, 2)
        return np.minimum(index[:, 0], index[:, 1]) * n + np.maximum(index[:, 0], index[:, 1])

    def row_map(ours: np.ndarray, theirs: np.ndarray, what: str) -> np.ndarray:
        lookup = {int(k): t for t, k in enumerate(ours)}
        if len(set(theirs.tolist())) != len(theirs) or set(theirs.tolist()) != set(lookup):
            raise mismatch(f"its {len(theirs)} {what} are not the graph's {len(ours)}")
        return np.array([lookup[int(k)] for k in theirs], dtype=np.int64)

    bond_map = row_map(keys(terms.bonds), keys(parameters.bond_index), "bonds")
    angle_key = np.stack([keys(terms.angles[:, [0, 2]]), terms.angles[:, 1]], 1)
    their_angles = np.asarray(parameters.angle_index).reshape(-1, 3)
    their_key = np.stack([keys(their_angles[:, [0, 2]]), their_angles[:, 1]], 1)
    angle_map = row_map(angle_key[:, 0] * n + angle_key[:, 1],
                        their_key[:, 0] * n + their_key[:, 1], "angles")
    if set(keys(terms.pairs14).tolist()) != set(keys(parameters.pair14_index).tolist()):
        raise mismatch("its 1-4 pairs are not the graph's")

    values: dict[str, np.ndarray] = {
        "bond_k": np.zeros(len(terms.bonds)), "bond_r0_angstrom": np.zeros(len(terms.bonds)),
        "angle_k": np.zeros(len(terms.angles)),
        "angle_theta0_rad": np.zeros(len(terms.angles)),
        "torsion_k_kcal_mol": np.zeros((len(terms.propers), len(TORSION_PERIODICITIES))),
        "improper_k_kcal_mol": np.zeros(len(terms.impropers)),
        "charges_e": np.asarray(parameters.charges_e, dtype=float).copy(),
        "epsilon_kcal_mol": np.asarray(parameters.epsilon_kcal_mol, dtype=float).copy(),
        "sigma_angstrom": np.asarray(parameters.sigma_angstrom, dtype=float).copy(),
    }
    values["bond_k"][bond_map] = parameters.bond_k
    values["bond_r0_angstrom"][bond_map] = parameters.bond_r0_angstrom
    values["angle_k"][angle_map] = parameters.angle_k
    values["angle_theta0_rad"][angle_map] = parameters.angle_theta0_rad

    messages: list[str] = []
    path_of = {}
    for t, (i, j, k, ll) in enumerate(terms.propers.tolist()):
        path_of[(i, j, k, ll)] = t
        path_of[(ll, k, j, i)] = t
    rows = np.asarray(parameters.torsion_index).reshape(-1, 4)
    torsion_term = np.full(len(rows), -1, dtype=np.int64)
    torsion_offset = np.zeros(len(rows))
    for r, path in enumerate(rows.tolist()):
        n_r = int(parameters.torsion_periodicity[r])
        k_r = float(parameters.torsion_k_kcal_mol[r])
        gamma = float(parameters.torsion_phase_rad[r])
        t = path_of.get(tuple(path))
        if t is None:
            messages.append(f"{molecule_id}: GAFF2 torsion row {path} is no proper path of the "
                            "graph; left out")
            continue
        if n_r not in TORSION_PERIODICITIES:
            messages.append(f"{molecule_id}: GAFF2 torsion {path} has periodicity {n_r} > 4 "
                            f"(k = {k_r:g} kcal/mol); left out of the regression")
            continue
        sign = _phase_sign(n_r, gamma)
        if sign == 0:
            messages.append(f"{molecule_id}: GAFF2 torsion {path} n = {n_r} has phase "
                            f"{math.degrees(gamma):g}°, neither 0° nor 180°; left out")
            continue
        values["torsion_k_kcal_mol"][t, n_r - 1] += sign * k_r
        torsion_term[r] = t
        torsion_offset[r] = 2.0 * k_r if sign < 0 else 0.0

    centre_of = {int(c): i for i, c in enumerate(terms.impropers[:, 2].tolist())}
    rows = np.asarray(parameters.improper_index).reshape(-1, 4)
    improper_term = np.full(len(rows), -1, dtype=np.int64)
    improper_offset = np.zeros(len(rows))
    for r, index in enumerate(rows.tolist()):
        n_r = int(parameters.improper_periodicity[r])
        k_r = float(parameters.improper_k_kcal_mol[r])
        sign = _phase_sign(n_r, float(parameters.improper_phase_rad[r])) if n_r == 2 else 0
        centre = centre_of.get(int(index[2]))
        if centre is None or sign == 0:
            why = ("its centre has not three neighbours" if centre is None else
                   f"n = {n_r}, phase {math.degrees(float(parameters.improper_phase_rad[r])):g}°")
            messages.append(f"{molecule_id}: GAFF2 improper {index} left out ({why})")
            continue
        values["improper_k_kcal_mol"][centre] += sign * k_r
        improper_term[r] = centre
        improper_offset[r] = 2.0 * k_r if sign < 0 else 0.0
    return TermTargets(values, bond_map, angle_map, torsion_term, torsion_offset,
                       improper_term, improper_offset, messages)


def read_gaff2_shards(paths: Sequence[str | Path]) -> tuple[dict[str, AmberFormParameters], str]:
    """Every molecule of the gaff2 shards by ``molecule_id``, and their ``source`` label(s)."""
    molecules: dict[str, AmberFormParameters] = {}
    sources = set()
    for path in paths:
        entries, source = read_amber_parameters(path)
        if entries:
            sources.add(source)
        for entry in entries:
            molecules[entry.molecule_id] = entry
    return molecules, "; ".join(sorted(sources))


def read_formal_charges(paths: Sequence[str | Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``molecule_id → (atomic numbers [A], formal charges [A])`` of every usable record of the
    geometry SDFs."""
    from virialff.formats.geometry_sdf import read_geometry_sdf

    charges = {}
    for path in paths:
        for record in read_geometry_sdf(path):
            if record.mol is None:
                continue
            atoms = list(record.mol.GetAtoms())
            charges[record.molecule_id] = (
                np.array([a.GetAtomicNum() for a in atoms], dtype=np.int64),
                np.array([a.GetFormalCharge() for a in atoms], dtype=float))
    return charges


# -- the training data ----------------------------------------------------------------------
@dataclass
class GBFFsData:
    """Everything the three steps read, for the M usable geometries (those with GAFF2 targets),
    in data-set order: ``graphs`` (their :class:`GraphBatch`), ``table`` (their terms),
    ``targets`` (GAFF2 parameter columns in the table's row order), ``term_energies`` (GAFF2's
    per-term energies at the geometries, kcal/mol, per :data:`TERM_BLOCKS` name), ``gaff2``
    (GAFF2's total energy [M] and forces [A, 3] at the geometries), ``dft_energy`` [M],
    ``dft_forces`` [A, 3], ``has_forces`` [M] bool, ``group`` [M] (compound index),
    ``split`` (indices 0..M−1), ``molecule_ids``, ``messages``."""

    graphs: GraphBatch
    table: ValenceTable
    targets: dict[str, torch.Tensor]
    term_energies: dict[str, torch.Tensor]
    gaff2_energy: torch.Tensor
    gaff2_forces: torch.Tensor
    dft_energy: torch.Tensor
    dft_forces: torch.Tensor
    has_forces: torch.Tensor
    group: torch.Tensor
    split: dict[str, torch.Tensor]
    molecule_ids: list[str]
    messages: list[str]

    @property
    def n_molecules(self) -> int:
        return len(self.molecule_ids)


def _atomic_numbers(element_index: np.ndarray) -> np.ndarray:
    return np.array([ATOMIC_NUMBERS[SUPPORTED_ELEMENTS[int(e)]] for e in element_index],
                    dtype=np.int64)


def prepare_gbffs_data(dataset_path: str | Path, gaff2: Mapping[str, AmberFormParameters],
                       formal: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
                       table: StatusTable) -> GBFFsData:
    """The usable geometries of the data set with their GAFF2 targets (:class:`GBFFsData`).

    Every data-set molecule gets a row of ``table``: ``ok``, or ``failed`` with
    ``missing_input`` (no GAFF2 parameters: the gaff2 stage failed for it, see its status
    table) or ``parameter_mismatch``. ``formal``: per-atom formal charges by molecule id (the
    geometry SDFs); None: every atom 0 (the data set's molecules are neutral).
    """
    graphs, split, meta = load_dataset(dataset_path)
    graphs = graphs.to("cpu")
    ptr = graphs.atom_ptr.tolist()
    bond_ptr = graphs.bond_ptr.tolist()
    usable, molecules, term_targets, parameter_list, messages = [], [], [], [], []
    for m, molecule_id in enumerate(graphs.molecule_ids):
        with table.track(molecule_id):
            element_index = graphs.element_index[ptr[m]:ptr[m + 1]].numpy()
            numbers = _atomic_numbers(element_index)
            n = len(numbers)
            directed = graphs.bond_index[:, bond_ptr[m]:bond_ptr[m + 1]].numpy() - ptr[m]
            forward = directed[0] < directed[1]
            bonds = directed[:, forward].T.reshape(-1, 2)
            kinds = graphs.bond_type[bond_ptr[m]:bond_ptr[m + 1]].numpy()[forward]
            parameters = gaff2.get(molecule_id)
            if parameters is None:
                raise MoleculeRejected(molecule_id, "missing_input", "no GAFF2 parameters in "
                                       "results/gaff2/ (see the gaff2 stage's status table)",
                                       stage=STAGE)
            charges = np.zeros(n)
            if formal is not None:
                if molecule_id not in formal:
                    raise MoleculeRejected(molecule_id, "missing_input",
                                           "not in the geometry SDFs (formal charges)", STAGE)
                sdf_numbers, charges = formal[molecule_id]
                if not np.array_equal(sdf_numbers, numbers):
                    raise MoleculeRejected(molecule_id, "parameter_mismatch", "the geometry "
                                           "SDF's atoms are not the data set's", STAGE)
            terms = valence_terms(bonds, n)
            targets = gaff2_term_targets(parameters, terms, numbers, molecule_id)
            messages += targets.messages
            usable.append(m)
            molecules.append((n, bonds, charges, linear_atoms(n, bonds, kinds)))
            term_targets.append(targets)
            parameter_list.append(parameters)
    for message in messages:
        log.info("%s", message)
    old_to_new = {old: new for new, old in enumerate(usable)}
    sub = select_molecules(graphs, torch.as_tensor(usable, dtype=torch.long)).without_pairs()
    new_split = {name: torch.as_tensor([old_to_new[i] for i in idx.tolist() if i in old_to_new],
                                       dtype=torch.long) for name, idx in split.items()}
    group_ids = meta.get("group_ids") or list(graphs.molecule_ids)
    groups = [group_ids[m] for m in usable]
    group_index = {g: k for k, g in enumerate(dict.fromkeys(groups))}
    value_table = ValenceTable(molecules)

    targets = {}
    for column in _COLUMN_BLOCK:
        parts = [t.values[column] for t in term_targets]
        width = (len(TORSION_PERIODICITIES),) if column == "torsion_k_kcal_mol" else ()
        targets[column] = torch.as_tensor(np.concatenate(parts) if parts
                                          else np.zeros((0, *width)), dtype=torch.float64)
    positions = sub.positions_angstrom.double()
    term_energies, gaff2_energy, gaff2_forces = _gaff2_energies(
        positions, parameter_list, term_targets, value_table, targets)
    dft_forces = sub.atom_targets.get("forces_kcal_mol_angstrom")
    has_forces = sub.molecule_targets.get("has_forces")
    n_usable = len(usable)
    return GBFFsData(
        graphs=sub, table=value_table, targets=targets, term_energies=term_energies,
        gaff2_energy=gaff2_energy, gaff2_forces=gaff2_forces,
        dft_energy=sub.molecule_targets["energy_kcal_mol"].double(),
        dft_forces=(dft_forces.double() if dft_forces is not None
                    else torch.zeros(positions.shape, dtype=torch.float64)),
        has_forces=(has_forces > 0 if has_forces is not None
                    else torch.zeros(n_usable, dtype=torch.bool)),
        group=torch.as_tensor([group_index[g] for g in groups], dtype=torch.long),
        split=new_split, molecule_ids=list(sub.molecule_ids), messages=messages)


def _gaff2_energies(positions: torch.Tensor, parameter_list: list[AmberFormParameters],
                    term_targets: list[TermTargets], table: ValenceTable,
                    targets: dict[str, torch.Tensor]
                    ) -> tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor]:
    """GAFF2's per-term energies on GB-FFs' terms, and its totals and forces, at ``positions``."""
    gaff2 = amber_tensors(parameter_list)
    with torch.no_grad():
        rows = amber_energy_terms(positions, gaff2)
    energy, forces = amber_energy_and_forces(positions, gaff2)
    out: dict[str, torch.Tensor] = {}
    for name, block, row_term, offset in (
            ("bond", "bonds", "bond_row_term", None), ("angle", "angles", "angle_row_term", None),
            ("torsion", "propers", "torsion_row_term", "torsion_row_offset"),
            ("improper", "impropers", "improper_row_term", "improper_row_offset")):
        shift = table.ptr[block][:-1].tolist()
        index = np.concatenate([np.where(getattr(t, row_term) >= 0,
                                         getattr(t, row_term) + s, -1)
                                for t, s in zip(term_targets, shift, strict=True)]
                               ) if term_targets else np.zeros(0, dtype=np.int64)
        index = torch.as_tensor(index, dtype=torch.long)
        values = rows[name]
        if offset is not None:
            values = values - torch.as_tensor(np.concatenate(
                [getattr(t, offset) for t in term_targets]) if term_targets else np.zeros(0),
                dtype=values.dtype)
        kept = index >= 0
        out[name] = torch.zeros(int(table.ptr[block][-1]), dtype=torch.float64).index_add(
            0, index[kept], values[kept])
    # the graph's and GAFF2's pair lists are the same (bonds and 1-4 pairs were checked)
    out["coulomb"], out["lj"] = rows["coulomb"], rows["lj"]
    return out, energy, forces


# -- losses ---------------------------------------------------------------------------------
@dataclass
class Batch:
    """One batch: molecule indices ``idx`` [m] (whole compounds), their terms, positions [a, 3],
    embeddings h [a, H] (None: computed by the model) and the rows of every table block."""

    idx: torch.Tensor
    terms: object
    positions: torch.Tensor
    rows: dict[str, torch.Tensor]
    h: torch.Tensor | None


def make_batch(data: GBFFsData, idx: torch.Tensor, cache: torch.Tensor | None) -> Batch:
    terms = data.table.select(idx)
    rows = {block: data.table.rows(block, idx) for block in (*TERM_BLOCKS.values(), "atoms")}
    return Batch(idx, terms, data.graphs.positions_angstrom[rows["atoms"]].double(), rows,
                 None if cache is None else cache[rows["atoms"]])


def embeddings(model: GBFFsModel, data: GBFFsData, batch: Batch) -> torch.Tensor:
    """The batch's atom embeddings: the frozen cache, or the MPNN (fine-tuning)."""
    if batch.h is not None:
        return batch.h
    sub = select_molecules(data.graphs, batch.idx)
    return model.embed(sub.element_index, sub.bond_index, sub.bond_type)


def parameter_losses(predicted: dict[str, torch.Tensor], data: GBFFsData, batch: Batch
                     ) -> dict[str, torch.Tensor]:
    """MSE of the scaled parameters per kind of :data:`PARAMETER_KINDS` (0 when empty)."""
    losses = {}
    for kind, columns in PARAMETER_KINDS.items():
        squares = []
        for column in columns:
            target = data.targets[column][batch.rows[_COLUMN_BLOCK[column]]]
            scale = PARAMETER_SCALES[column]
            squares.append(((predicted[column] - target) * scale).reshape(-1) ** 2)
        joined = torch.cat(squares)
        losses[kind] = joined.mean() if joined.numel() else joined.sum()
    return losses


def term_energy_losses(energies: dict[str, torch.Tensor], data: GBFFsData, batch: Batch
                       ) -> dict[str, torch.Tensor]:
    """MSE of every single term's energy against GAFF2's, per kind of :data:`TERM_BLOCKS`."""
    losses = {}
    for name, block in TERM_BLOCKS.items():
        predicted = energies[name]
        if name == "torsion":  # rows are path-major, n = 1..4
            predicted = predicted.reshape(-1, len(TORSION_PERIODICITIES)).sum(1)
        diff = predicted - data.term_energies[name][batch.rows[block]]
        losses[name] = (diff ** 2).mean() if diff.numel() else diff.sum()
    return losses


def outlier_filter(energies: dict[str, torch.Tensor], terms: object, n_molecules: int,
                   valence_kcal_mol: float, vdw_kcal_mol: float, max_outliers: int
                   ) -> torch.Tensor:
    """Geometries to keep [m] bool: at most ``max_outliers`` bond and angle terms above
    ``valence_kcal_mol`` and at most ``max_outliers`` Lennard-Jones pairs above ``vdw_kcal_mol``
    (the thesis's dynamic filter; ``terms``: the batch's :class:`ValenceBatch`)."""
    with torch.no_grad():
        valence = (sum_by_owner((energies["bond"] > valence_kcal_mol).double(),
                                terms.bond_owner, n_molecules)
                   + sum_by_owner((energies["angle"] > valence_kcal_mol).double(),
                                  terms.angle_owner, n_molecules))
        vdw = sum_by_owner((energies["lj"] > vdw_kcal_mol).double(), terms.pair_owner,
                           n_molecules)
    return (valence <= max_outliers) & (vdw <= max_outliers)


def relative_energy_errors(predicted: torch.Tensor, reference: torch.Tensor,
                           group: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """(ΔÊ − ΔE) of every kept geometry that is not the lowest-``reference`` kept geometry of
    its compound ``group`` [m]; ΔX = X − X(that lowest geometry). Empty when no compound has
    two kept geometries."""
    errors = []
    for g in torch.unique(group[keep]).tolist():
        members = torch.nonzero((group == g) & keep).squeeze(1)
        if members.numel() < 2:
            continue
        lowest = members[torch.argmin(reference[members])]
        others = members[members != lowest]
        errors.append((predicted[others] - predicted[lowest])
                      - (reference[others] - reference[lowest]))
    return torch.cat(errors) if errors else predicted.new_zeros(0)


@dataclass
class StepResult:
    """The loss of one batch and what goes into the history."""

    loss: torch.Tensor
    parts: dict[str, float]
    n_dropped: int


def batch_loss(model: GBFFsModel, data: GBFFsData, batch: Batch, step: int, settings: Mapping
               ) -> StepResult:
    """The training loss of ``step`` (1, 2, 3; module docstring) on one batch."""
    h = embeddings(model, data, batch)
    predicted = model(h, batch.terms)
    losses = parameter_losses(predicted, data, batch)
    parts = {f"param_{k}": float(v.detach()) for k, v in losses.items()}
    if step in (1, 2):
        loss = sum(losses.values())
        if step == 2:
            energies = amber_energy_terms(batch.positions, predicted_amber_tensors(
                batch.terms, predicted))
            term_losses = term_energy_losses(energies, data, batch)
            parts.update({f"energy_{k}": float(v.detach()) for k, v in term_losses.items()})
            loss = loss + float(settings["term_energy_weight"]) * sum(term_losses.values())
        return StepResult(loss, parts, 0)
    loss = sum(float(settings[_ANCHOR_KEYS[k]]) * v for k, v in losses.items())
    loss = loss + float(settings["torsion_l2"]) * (predicted["torsion_k_kcal_mol"] ** 2).mean()
    transfer = predicted["transfer_scaled"]
    if transfer.numel():
        loss = loss + float(settings["transfer_l2"]) * (transfer ** 2).mean()
    energy_mse, force_mse, keep = dft_errors(model, data, batch, predicted, settings,
                                             create_graph=True)
    parts.update({"relative_energy_mse": float(energy_mse.detach()),
                  "force_mse": float(force_mse.detach())})
    loss = (loss + float(settings["relative_energy_weight"]) * energy_mse
            + float(settings["force_weight"]) * force_mse)
    return StepResult(loss, parts, int((~keep).sum()))


def dft_errors(model: GBFFsModel, data: GBFFsData, batch: Batch,
               predicted: dict[str, torch.Tensor], settings: Mapping | None,
               create_graph: bool, absolute: bool = False
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(MSE of ΔE, MSE of the force components, kept geometries [m])`` of a batch against
    DFT (``absolute``: mean absolute errors instead, kcal/mol and kcal/mol/Å); with
    ``settings`` the dynamic filter decides which geometries count, else all do."""
    params = predicted_amber_tensors(batch.terms, predicted)
    positions = batch.positions.detach().requires_grad_(True)
    with torch.enable_grad():
        energies = amber_energy_terms(positions, params)
        m = batch.terms.n_molecules
        keep = torch.ones(m, dtype=torch.bool)
        if settings is not None:
            keep = outlier_filter(energies, batch.terms, m,
                                  float(settings["filter_valence_kcal_mol"]),
                                  float(settings["filter_vdw_kcal_mol"]),
                                  int(settings["filter_max_outliers"]))
        total = energies["total"]
        (gradient,) = torch.autograd.grad(total.sum(), positions, create_graph=create_graph)
    errors = relative_energy_errors(total, data.dft_energy[batch.idx], data.group[batch.idx],
                                    keep)
    power = 1 if absolute else 2
    energy_mse = (errors.abs() ** power).mean() if errors.numel() else total.sum() * 0.0
    with_forces = keep & data.has_forces[batch.idx]
    atom_mask = with_forces[batch.terms.atom_owner]
    if bool(atom_mask.any()):
        diff = -gradient[atom_mask] - data.dft_forces[batch.rows["atoms"]][atom_mask]
        force_mse = (diff.abs() ** power).mean()
    else:
        force_mse = total.sum() * 0.0
    return energy_mse, force_mse, keep


# -- batching, evaluation -----------------------------------------------------------------
def compound_batches(indices: torch.Tensor, group: torch.Tensor, batch_size: int,
                     generator: torch.Generator | None) -> list[torch.Tensor]:
    """``indices`` cut into batches of whole compounds, about ``batch_size`` geometries each;
    compounds in random order (``generator``) or in order of first appearance (None)."""
    if indices.numel() == 0:
        return []
    groups = list(dict.fromkeys(group[indices].tolist()))
    if generator is not None:
        order = torch.randperm(len(groups), generator=generator).tolist()
        groups = [groups[i] for i in order]
    members: dict[int, list[int]] = {}
    for i in indices.tolist():
        members.setdefault(int(group[i]), []).append(i)
    batches, current = [], []
    for g in groups:
        current += members[g]
        if len(current) >= batch_size:
            batches.append(torch.as_tensor(current, dtype=torch.long))
            current = []
    if current:
        batches.append(torch.as_tensor(current, dtype=torch.long))
    return batches


def validation_score(model: GBFFsModel, data: GBFFsData, indices: torch.Tensor,
                     cache: torch.Tensor | None, step: int, settings: Mapping) -> float:
    """The score an epoch of ``step`` is chosen by on ``indices`` (lower is better; NaN when
    empty): steps 1-2 their loss (the sum of :func:`validation_parts`), step 3
    RMSE(ΔE) + w_F·RMSE(F) (kcal/mol, kcal/mol/Å; no filter)."""
    if indices.numel() == 0:
        return float("nan")
    if step in (1, 2):
        return float(sum(validation_parts(model, data, indices, cache, step, settings).values()))
    metrics = dft_metrics(model, data, indices, cache, int(settings["batch_size"]))
    energy = metrics["relative_energy_rmse_kcal_mol"]
    force = metrics["force_rmse_kcal_mol_angstrom"]
    return ((0.0 if math.isnan(energy) else energy)
            + float(settings["force_weight"]) * (0.0 if math.isnan(force) else force))


def validation_parts(model: GBFFsModel, data: GBFFsData, indices: torch.Tensor,
                     cache: torch.Tensor | None, step: int, settings: Mapping
                     ) -> dict[str, float]:
    """Step 1-2 loss on ``indices`` per parameter kind (:data:`PARAMETER_KINDS`): the kind's
    parameter MSE plus, in step 2, ``term_energy_weight`` × the MSE of the energies that
    depend on it only (bond, angle, torsion, improper, Coulomb for charges, Lennard-Jones for
    VdW); geometry-weighted means over the batches."""
    model.eval()
    totals = dict.fromkeys(PARAMETER_KINDS, 0.0)
    weight = float(settings["term_energy_weight"])
    with torch.no_grad():
        for idx in compound_batches(indices, data.group, int(settings["batch_size"]), None):
            parts = batch_loss(model, data, make_batch(data, idx, cache), step, settings).parts
            for kind in PARAMETER_KINDS:
                value = parts[f"param_{kind}"]
                if step == 2:
                    value += weight * parts[f"energy_{KIND_ENERGY[kind]}"]
                totals[kind] += value * idx.numel()
    return {kind: value / indices.numel() for kind, value in totals.items()}


def _error_stats(errors: list[torch.Tensor], prefix: str, unit: str) -> dict[str, float]:
    joined = torch.cat(errors) if errors else torch.zeros(0)
    if joined.numel() == 0:
        return {f"{prefix}_mae_{unit}": float("nan"), f"{prefix}_rmse_{unit}": float("nan")}
    return {f"{prefix}_mae_{unit}": float(joined.abs().mean()),
            f"{prefix}_rmse_{unit}": float(torch.sqrt((joined ** 2).mean()))}


def dft_metrics(model: GBFFsModel | None, data: GBFFsData, indices: torch.Tensor,
                cache: torch.Tensor | None, batch_size: int) -> dict[str, float]:
    """Relative-energy and force errors against DFT over ``indices`` (no filter): of GB-FFs
    (``model``) or, with ``model=None``, of GAFF2/AM1-BCC. Relative energies within each
    compound against its lowest-DFT geometry; forces per component where the DFT gave them."""
    energy_errors, force_errors = [], []
    n_relative = n_forces = 0
    for idx in compound_batches(indices, data.group, batch_size, None):
        batch = make_batch(data, idx, cache)
        if model is None:
            energy = data.gaff2_energy[idx]
            forces = data.gaff2_forces[batch.rows["atoms"]]
        else:
            model.eval()
            with torch.no_grad():
                predicted = model(embeddings(model, data, batch), batch.terms)
            energy, forces = amber_energy_and_forces(
                batch.positions, predicted_amber_tensors(batch.terms, predicted))
        keep = torch.ones(idx.numel(), dtype=torch.bool)
        errors = relative_energy_errors(energy, data.dft_energy[idx], data.group[idx], keep)
        energy_errors.append(errors.detach())
        n_relative += errors.numel()
        mask = data.has_forces[idx][batch.terms.atom_owner]
        if bool(mask.any()):
            force_errors.append((forces[mask] - data.dft_forces[batch.rows["atoms"]][mask]
                                 ).detach().reshape(-1))
            n_forces += int(data.has_forces[idx].sum())
    return {**_error_stats(energy_errors, "relative_energy", "kcal_mol"),
            **_error_stats(force_errors, "force", "kcal_mol_angstrom"),
            "n_geometries": int(indices.numel()), "n_relative_energies": n_relative,
            "n_with_forces": n_forces}


def parameter_rmse(model: GBFFsModel, data: GBFFsData, indices: torch.Tensor,
                   cache: torch.Tensor | None) -> dict[str, float]:
    """RMSE of every predicted parameter column against GAFF2's over ``indices`` (unscaled
    units of :mod:`virialff.formats.amber_parameters`)."""
    if indices.numel() == 0:
        return {}
    batch = make_batch(data, indices, cache)
    model.eval()
    with torch.no_grad():
        predicted = model(embeddings(model, data, batch), batch.terms)
    out = {}
    for column, block in _COLUMN_BLOCK.items():
        diff = predicted[column] - data.targets[column][batch.rows[block]]
        out[column] = float(torch.sqrt((diff ** 2).mean())) if diff.numel() else float("nan")
    return out


# -- the three steps ------------------------------------------------------------------------
def cached_embeddings(model: GBFFsModel, data: GBFFsData, chunk: int = 1024) -> torch.Tensor:
    """The frozen MPNN's embeddings h [A, H] of every atom of the data, computed once."""
    parts = []
    with torch.no_grad():
        for start in range(0, data.n_molecules, chunk):
            idx = torch.arange(start, min(start + chunk, data.n_molecules))
            sub = select_molecules(data.graphs, idx)
            parts.append(model.embed(sub.element_index, sub.bond_index, sub.bond_type))
    dtype = next(model.parameters()).dtype
    return torch.cat(parts) if parts else torch.zeros(0, model.embedding.hidden_width,
                                                      dtype=dtype)


def run_step(model: GBFFsModel, data: GBFFsData, step: int, settings: Mapping,
             cache: torch.Tensor | None, generator: torch.Generator,
             on_epoch: Callable[[dict], None] | None = None) -> list[dict]:
    """Train ``step`` for its epochs and keep the best-validation weights; return its history.

    Steps 1 and 2 with frozen embeddings: each parameter kind's modules
    (:data:`virialff.model.gbffs.HEAD_MODULES`) keep the epoch of their own lowest validation
    loss (:func:`validation_parts`): the kinds' losses depend on disjoint weights, so this is
    the best validation epoch of each of six independent models, and no kind's small
    validation error is traded for another's large one. Step 3 and fine-tuning: the epoch of
    the lowest :func:`validation_score`. Epoch 0, the weights the step starts from, is a
    candidate too (its history row has no training loss), so a step never ends worse on the
    validation split than it began. With an empty validation split: the last epoch. The rows'
    ``selected`` names the kinds (or ``all``) whose weights come from that epoch.
    """
    epochs = int(settings[f"step{step}_epochs"])
    learning_rate = float(settings["step3_learning_rate" if step == 3 else "learning_rate"])
    groups = [{"params": model.head_parameters(), "lr": learning_rate}]
    fine_tune = bool(settings["fine_tune_embeddings"])
    if fine_tune:
        groups.append({"params": list(model.embedding.parameters()),
                       "lr": learning_rate * float(settings["embedding_lr_factor"])})
    optimizer = torch.optim.Adam(groups)
    train = data.split["train"]
    per_kind = step in (1, 2) and not fine_tune
    units = list(HEAD_MODULES) if per_kind else ["all"]
    history = []
    started = time.perf_counter()
    # epoch 0: the weights the step starts from, a candidate like every epoch
    start_scores, start_score = _validation(model, data, cache, step, settings)
    best = {unit: {"score": (start_scores.get(unit, start_score) if per_kind else start_score),
                   "epoch": 0, "state": _unit_state(model, unit)} for unit in units}
    history.append({"step": step, "epoch": 0, "train_loss": float("nan"),
                    "val_score": start_score, "n_dropped": 0, "n_train_geometries": 0,
                    "learning_rate": learning_rate, "wall_s": 0.0,
                    **{f"val_{k}": v for k, v in start_scores.items()}})
    for epoch in range(1, epochs + 1):
        model.train()
        total = count = dropped = 0
        parts: dict[str, float] = {}
        for idx in compound_batches(train, data.group, int(settings["batch_size"]), generator):
            optimizer.zero_grad(set_to_none=True)
            result = batch_loss(model, data, make_batch(data, idx, cache), step, settings)
            result.loss.backward()
            optimizer.step()
            total += float(result.loss.detach()) * idx.numel()
            count += idx.numel()
            dropped += result.n_dropped
            for key, value in result.parts.items():
                parts[key] = parts.get(key, 0.0) + value * idx.numel()
        scores, score = _validation(model, data, cache, step, settings)
        row = {"step": step, "epoch": epoch, "train_loss": total / max(count, 1),
               "val_score": score, "n_dropped": dropped, "n_train_geometries": count,
               "learning_rate": learning_rate, "wall_s": time.perf_counter() - started,
               **{k: v / max(count, 1) for k, v in parts.items()},
               **{f"val_{k}": v for k, v in scores.items()}}
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
        if step == 3:
            log.info("step 3 epoch %d: %d of %d training geometries dropped by the filter",
                     epoch, dropped, count)
        for unit in units:
            value = scores.get(unit, score) if per_kind else score
            if math.isnan(value) or value < best[unit]["score"]:
                best[unit] = {"score": value, "epoch": epoch, "state": _unit_state(model, unit)}
    for unit in units:
        if best[unit]["state"] is not None:
            model.load_state_dict(best[unit]["state"], strict=unit == "all")
        log.info("step %d: %s keeps epoch %d of %d (validation %.5g)", step, unit,
                 best[unit]["epoch"], epochs, best[unit]["score"])
    for row in history:
        row["selected"] = " ".join(u for u in units if best[u]["epoch"] == row["epoch"])
    return history


def _validation(model: GBFFsModel, data: GBFFsData, cache: torch.Tensor | None, step: int,
                settings: Mapping) -> tuple[dict[str, float], float]:
    """``(per-kind validation losses (steps 1-2; else empty), validation score)``."""
    val = data.split["val"]
    if step in (1, 2) and val.numel():
        scores = validation_parts(model, data, val, cache, step, settings)
        return scores, float(sum(scores.values()))
    return {}, validation_score(model, data, val, cache, step, settings)


def _unit_state(model: GBFFsModel, unit: str) -> dict[str, torch.Tensor]:
    """A copy of the weights of one kind's modules (``all``: every weight)."""
    prefixes = tuple(f"{name}." for name in HEAD_MODULES.get(unit, ()))
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if unit == "all" or k.startswith(prefixes)}


def selected_epochs(rows: list[dict]) -> dict[str, int]:
    """``{kind or "all": epoch}`` of one step's history rows."""
    return {unit: int(row["epoch"]) for row in rows for unit in row["selected"].split()}


def load_stage1(embedding_path: str | Path) -> tuple[dict, dict]:
    """``(stage-1 network sizes, MPNN state dict)`` of a stage-1 model file."""
    payload = read_model_file(embedding_path, kind="embedding")
    state = {k[len("mpnn."):]: v for k, v in payload["state_dict"].items()
             if k.startswith("mpnn.")}
    return dict(payload["config"]["embedding"]), {"state": state,
                                                   "state_digest": payload.get("state_digest")}


def train_gbffs(dataset_path: str | Path, embedding_path: str | Path,
                gaff2_paths: Sequence[str | Path], output_path: str | Path,
                history_path: str | Path, metrics_path: str | Path, status_path: str | Path,
                *, settings: Mapping, seed: int, device: str = "cpu",
                geometry_paths: Sequence[str | Path] | None = None,
                on_epoch: Callable[[dict], None] | None = None) -> dict:
    """The three steps (module docstring); writes the model file (``kind`` ``gbffs``), the
    history CSV, the metrics JSON and the status table; returns the metrics.

    ``settings``: the ``training.gbffs`` section; ``geometry_paths``: the geometry SDFs (formal
    charges; None: all 0); ``device``: only ``cpu`` (or ``auto``, which means it) is used: the
    Amber-form energy of small molecules gains nothing from a GPU.
    """
    started = time.perf_counter()
    section = dict(settings)
    if select_device(device).type != "cpu":
        log.info("GB-FFs trains on the CPU (device %s ignored)", device)
    generator = seed_everything(int(seed))
    status = StatusTable(STAGE)
    gaff2, source = read_gaff2_shards(gaff2_paths)
    formal = read_formal_charges(geometry_paths) if geometry_paths is not None else None
    data = prepare_gbffs_data(dataset_path, gaff2, formal, status)
    Path(status_path).parent.mkdir(parents=True, exist_ok=True)
    status.write(status_path)
    failed = [r for r in status.records if r.status != "ok"]
    for record in failed:
        log.warning("%s", record.message)
    if data.split["train"].numel() == 0:
        raise ValueError("GB-FFs: no training molecule has GAFF2 parameters "
                         f"({len(failed)} failed; see {status_path})")
    sizes, stage1 = load_stage1(embedding_path)
    config = {"embedding": sizes,
              "gbffs": {**{k: int(section[k]) for k in GBFFS_HEAD_KEYS},
                        "head_version": GBFFS_HEAD_VERSION}}
    model = build_gbffs_model(config)
    model.embedding.load_state_dict(stage1["state"])
    model = model.double()
    for parameter in model.embedding.parameters():
        parameter.requires_grad_(bool(section["fine_tune_embeddings"]))
    cache = None if section["fine_tune_embeddings"] else cached_embeddings(model, data)

    history: list[dict] = []
    steps = {}
    for step in (1, 2, 3):
        rows = run_step(model, data, step, section, cache, generator, on_epoch)
        history += rows
        steps[str(step)] = {
            "epochs": len(rows) - 1, "selected_epochs": selected_epochs(rows),
            "val_score_after": validation_score(model, data, data.split["val"], cache, step,
                                                section),
            "train_loss_first_epoch": rows[1]["train_loss"] if len(rows) > 1 else None,
            "train_loss_last_epoch": rows[-1]["train_loss"],
            "dropped_per_epoch": [r["n_dropped"] for r in rows]}
    batch_size = int(section["batch_size"])
    evaluation = {}
    for name in ("val", "test"):
        idx = data.split[name]
        evaluation[name] = {"gbffs": dft_metrics(model, data, idx, cache, batch_size),
                            "gaff2": dft_metrics(None, data, idx, None, batch_size),
                            "parameter_rmse_vs_gaff2": parameter_rmse(model, data, idx, cache)}
    metrics = {
        "steps": steps, "evaluation": evaluation,
        "n_molecules": {"dataset": len(status.records), "usable": data.n_molecules,
                        "failed": len(failed),
                        **{name: int(idx.numel()) for name, idx in data.split.items()}},
        "gaff2_source": source, "target_messages": data.messages,
        "settings": section, "seed": int(seed), "wall_s": time.perf_counter() - started,
    }
    embedding_source = {"path": str(embedding_path), "sha256": file_digest(embedding_path),
                        "state_digest": stage1["state_digest"]}
    inputs = {"dataset": file_digest(dataset_path), "embedding": embedding_source["sha256"],
              "gaff2": _digest_of_files(gaff2_paths)}
    payload = gbffs_payload(
        model.cpu(), {**config, "training": section},
        embedding_source=embedding_source, inputs=inputs,
        split={k: [data.molecule_ids[i] for i in v.tolist()] for k, v in data.split.items()},
        seed=int(seed), gaff2_source=source,
        fine_tuned_embeddings=bool(section["fine_tune_embeddings"]),
        metrics={"steps": steps, "evaluation": evaluation})
    write_model_file(output_path, payload)
    _write_history(history_path, history)
    Path(metrics_path).parent.mkdir(parents=True, exist_ok=True)
    Path(metrics_path).write_text(json.dumps(_finite(metrics), indent=2) + "\n")
    return metrics


def _digest_of_files(paths: Sequence[str | Path]) -> str:
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(str(p) for p in paths):
        digest.update(f"{Path(path).name}:{file_digest(path)};".encode())
    return digest.hexdigest()


def _finite(value: object) -> object:
    """JSON-safe: NaN and infinities become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _write_history(path: str | Path, history: list[dict]) -> None:
    import csv

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = sorted({k for row in history for k in row} - set(HISTORY_COLUMNS) - {"selected"})
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*HISTORY_COLUMNS, "selected", *extra])
        writer.writeheader()
        for row in history:
            writer.writerow({k: row.get(k, "") for k in writer.fieldnames})


def frozen_copy(model: GBFFsModel) -> dict[str, torch.Tensor]:
    """A copy of the MPNN's weights (to check that frozen embeddings stayed frozen)."""
    return copy.deepcopy({k: v.detach().clone() for k, v in model.embedding.state_dict().items()})
