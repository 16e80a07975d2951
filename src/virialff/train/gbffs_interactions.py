"""The interaction stage (SSI/BBI dimers) for GB-FFs: a trained GB-FFs model fine-tuned on

    L = MAE_mol + w · MAE_int,

the GB-FFs counterpart of :mod:`virialff.train.interactions` (stage 3 of the paper's model),
with its settings (``training.interactions``, keys :data:`TRAINING_KEYS`), its dimers
(``results/interactions/dimers.pt`` and the split stored there: the monomers of the
validation dimers are unseen in training; S66 and the base pairs are never used), its
resumable fine-tune per weight with early stopping
(:func:`~virialff.train.interactions.run_weight_grid`), its weight grid
(:func:`~virialff.train.interactions.interaction_weights`) and its choice of weight
(:func:`~virialff.train.interactions.select_weight`).

Interaction energy. For a force field of the Amber form at frozen monomer geometries every
intramolecular term of the complex is the same term of its monomer: GB-FFs' parameters come
from the stage-1 embeddings of the covalent graph and from bond-wise charge transfer, so they do
not change when the other monomer is added, and the complex's non-bonded pairs within a monomer
are the monomer's. Hence (kcal/mol, positive = bound, no cutoff)::

    E_int = E_A + E_B − E_AB
          = −Σ_{i∈A, j∈B} [332.0637·q_i q_j / r_ij + 4ε_ij((σ_ij/r_ij)¹² − (σ_ij/r_ij)⁶)]

with the model's Lorentz–Berthelot mixing (:mod:`virialff.model.amber_energy`).
:func:`amber_interaction_energy_kcal_mol` evaluates it; ``tests/train/
test_gbffs_interactions.py`` checks it against E_A + E_B − E_AB of the full Amber-form energy.

The molecular term MAE_mol is GB-FFs' step-3 fit to DFT in absolute errors
(:func:`molecular_loss`, through :func:`virialff.train.gbffs.dft_errors`):
``relative_energy_weight`` × MAE of the relative energies (within each compound) +
``force_weight`` × MAE of the force components where the data set has forces, with step 3's
dynamic filter, over whole compounds of the data set's training split (about
``molecule_batch_size`` geometries per step). Absolute errors, as the paper model's stage uses,
rather than step 3's squared errors: GB-FFs' force MSE (hundreds of (kcal/mol/Å)² on the demo)
would drown an interaction MAE of a few tenths of a kcal/mol at any weight of the grid. Step 3's
GAFF2 anchors are not part of it: the early stopping on the validation dimers and the molecular
tolerance of the weight choice hold the fine-tune instead.

What moves. Only the heads of the parameters that act between molecules: the charge-transfer
head (``transfer_in``, ``transfer_head``) and the VdW head (``w_vdw``, ``vdw_head``)
(:data:`FINE_TUNED_KINDS` of :data:`virialff.model.gbffs.HEAD_MODULES`). The stage-1 MPNN stays
frozen (its embeddings are computed once) and the bonded heads (bonds, angles, torsions,
impropers) keep their weights bit for bit. Charges stay neutral per molecule: the bond-wise
transfer cannot change a molecule's net charge.

Training (per weight): :func:`virialff.train.loop.run_loop` over the training dimers (an epoch
is one pass over them, ``batch_size`` dimers per step, Gaussian coordinate noise of
``coordinate_noise_angstrom`` on the dimers; the molecules are taken at their DFT geometries,
where their forces were computed); ``val_loss`` = validation E_int MAE (early stopping; epoch 0
is the GB-FFs model as trained), ``test_loss`` empty (the molecular test errors are reported
once, at the end, and never used to choose). The molecular validation criterion of the weight
choice is GB-FFs' own step-3 selection score on the validation molecules,
RMSE(ΔE) + force_weight·RMSE(F) (:func:`virialff.train.gbffs.validation_score`).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from virialff.config_keys import GBFFS_INTERACTION_TRAINING_KEYS as TRAINING_KEYS
from virialff.formats.model_file import write_model_file
from virialff.model.amber_energy import (
    coulomb_energy_kcal_mol,
    lennard_jones_energy_kcal_mol,
    sum_by_owner,
)
from virialff.model.gbffs import (
    HEAD_MODULES,
    GBFFsModel,
    gbffs_model_from_file,
    gbffs_payload,
    molecule_graph,
)
from virialff.train import gbffs as tg
from virialff.train.dimer_databases import (
    DIMERS_FORMAT,
    DIMERS_MOLBLOCK_VERSION,
    INTERACTION_KEY,
    MONOMER_KEY,
)
from virialff.train.interactions import (
    _finite,
    checked_settings,
    remove_weight_files,
    run_weight_grid,
    select_weight,
)
from virialff.train.loop import (
    evaluate_mae,
    file_digest,
    seed_everything,
    write_history,
)

log = logging.getLogger("virialff.train.gbffs")

#: the parameter kinds (:data:`virialff.model.gbffs.HEAD_MODULES`) whose heads the fine-tune
#: trains: the terms that act between molecules.
FINE_TUNED_KINDS: tuple[str, ...] = ("charge", "vdw")
#: the key of each run (and of the starting model) that the weight choice holds to the
#: ``max_molecular_mae_increase`` tolerance: GB-FFs' step-3 validation score.
MOLECULAR_SCORE_KEY = "val_molecular_score"


# -- the interaction energy -------------------------------------------------------------------
def amber_interaction_energy_kcal_mol(
    positions_angstrom: torch.Tensor,
    charges_e: torch.Tensor,
    sigma_angstrom: torch.Tensor,
    epsilon_kcal_mol: torch.Tensor,
    pair_index: torch.Tensor,
    pair_owner: torch.Tensor,
    n_dimers: int,
) -> torch.Tensor:
    """E_int = E_A + E_B − E_AB [D] (kcal/mol, positive = bound) of Amber-form force fields at
    frozen monomer geometries: −Σ over the pairs between the monomers of Coulomb
    (332.0637·q_i q_j / r) and Lennard-Jones (Lorentz–Berthelot), no cutoff, no 1-4 scaling.

    Args:
        positions_angstrom: [A, 3] coordinates of every atom of the dimers (Å).
        charges_e: [A] atomic charges (e).
        sigma_angstrom: [A] σ_i (Å; σ_ij = (σ_i + σ_j)/2).
        epsilon_kcal_mol: [A] ε_i (kcal/mol; ε_ij = √(ε_i ε_j)).
        pair_index: [P, 2] every pair (i ∈ A, j ∈ B) of each dimer (:func:`intermolecular_pairs`).
        pair_owner: [P] the dimer (0..D−1) of each pair.
        n_dimers: D.
    """
    ones = positions_angstrom.new_ones(pair_index.shape[0])
    energy = (coulomb_energy_kcal_mol(positions_angstrom, pair_index, charges_e, ones)
              + lennard_jones_energy_kcal_mol(positions_angstrom, pair_index, sigma_angstrom,
                                              epsilon_kcal_mol, ones))
    return -sum_by_owner(energy, pair_owner, n_dimers)


def intermolecular_pairs(monomer_index: np.ndarray) -> np.ndarray:
    """[P, 2] every (i, j) with i in monomer 0 and j in monomer 1 of one dimer (``monomer_index``
    [A], local atom indices)."""
    monomer = np.asarray(monomer_index).reshape(-1)
    first, second = np.nonzero(monomer == 0)[0], np.nonzero(monomer == 1)[0]
    i, j = np.meshgrid(first, second, indexing="ij")
    return np.stack([i.reshape(-1), j.reshape(-1)], 1).astype(np.int64)


# -- the dimers -------------------------------------------------------------------------------
def _ranges(ptr: torch.Tensor, selected: torch.Tensor
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Rows of the ``selected`` items' blocks, the owner of each row (0..len−1), new offsets."""
    sizes = ptr[selected + 1] - ptr[selected]
    new_ptr = torch.zeros(len(selected) + 1, dtype=torch.long)
    new_ptr[1:] = torch.cumsum(sizes, 0)
    owner = torch.repeat_interleave(torch.arange(len(selected)), sizes)
    rows = ptr[selected][owner] + torch.arange(int(new_ptr[-1])) - new_ptr[owner]
    return rows, owner, new_ptr


@dataclass
class DimerBatch:
    """D dimers with batch-local atom indices: ``positions_angstrom`` [A, 3], ``atoms`` [A]
    (rows of the whole set, for the embedding cache), ``bonds`` [B, 2], ``formal_charge_e`` [A],
    ``pairs`` [P, 2] and ``pair_owner`` [P] (:func:`intermolecular_pairs`), ``reference_kcal_mol``
    [D]."""

    n_dimers: int
    positions_angstrom: torch.Tensor
    atoms: torch.Tensor
    bonds: torch.Tensor
    formal_charge_e: torch.Tensor
    pairs: torch.Tensor
    pair_owner: torch.Tensor
    reference_kcal_mol: torch.Tensor


@dataclass
class GBFFsDimers:
    """The training dimers as GB-FFs reads them (:func:`load_gbffs_dimers`); per-atom arrays
    [A_total] in dimer order (monomer A first in each), blocks cut by the ``*_ptr`` offsets."""

    dimer_ids: list[str]
    element_index: torch.Tensor
    directed_bonds: torch.Tensor  # [2, 2B] both directions, global (the MPNN's input)
    bond_type: torch.Tensor  # [2B]
    bonds: torch.Tensor  # [B, 2] local to each dimer
    bond_ptr: torch.Tensor
    formal_charge_e: torch.Tensor
    positions_angstrom: torch.Tensor
    monomer_index: torch.Tensor
    atom_ptr: torch.Tensor
    pairs: torch.Tensor  # [P, 2] local to each dimer
    pair_ptr: torch.Tensor
    reference_kcal_mol: torch.Tensor
    split: dict[str, torch.Tensor]
    metadata: dict

    @property
    def n_dimers(self) -> int:
        return len(self.dimer_ids)

    def select(self, indices: torch.Tensor) -> DimerBatch:
        """The dimers ``indices`` as a :class:`DimerBatch`."""
        indices = torch.as_tensor(indices, dtype=torch.long).cpu()
        atoms, _, atom_ptr = _ranges(self.atom_ptr, indices)
        bond_rows, bond_owner, _ = _ranges(self.bond_ptr, indices)
        pair_rows, pair_owner, _ = _ranges(self.pair_ptr, indices)
        return DimerBatch(
            n_dimers=len(indices), positions_angstrom=self.positions_angstrom[atoms],
            atoms=atoms, bonds=self.bonds[bond_rows] + atom_ptr[bond_owner].unsqueeze(1),
            formal_charge_e=self.formal_charge_e[atoms],
            pairs=self.pairs[pair_rows] + atom_ptr[pair_owner].unsqueeze(1),
            pair_owner=pair_owner, reference_kcal_mol=self.reference_kcal_mol[indices])


def load_gbffs_dimers(path: str | Path) -> GBFFsDimers:
    """The dimers of a ``dimers.pt`` file (:func:`virialff.train.dimer_databases.prepare_dimers`)
    with each complex's topology from its MolBlock (bond orders, formal charges) and the
    coordinates of the graphs (float64, Å).

    A file without MolBlocks (version 1) is refused with a ``ValueError`` naming it.
    """
    from rdkit import Chem

    from virialff.chem.graph import GraphBatch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dimer file {path} does not exist")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != DIMERS_FORMAT:
        raise ValueError(f"{path} is not a virialff dimer file (format {DIMERS_FORMAT!r})")
    version = int(payload.get("version", 1))
    if version < DIMERS_MOLBLOCK_VERSION or "molblocks" not in payload:
        raise ValueError(f"{path} is a version-{version} dimer file without the complexes' "
                         "molecules that GB-FFs builds its terms from: rerun prepare_dimers "
                         "(snakemake --forcerun prepare_dimers)")
    graphs = GraphBatch.from_state_dict(payload["graphs"])
    atom_ptr = graphs.atom_ptr.cpu()
    blocks: dict[str, list] = {k: [] for k in ("element_index", "directed", "bond_type", "bonds",
                                               "formal", "pairs")}
    bond_sizes, pair_sizes = [], []
    for m, (dimer_id, block) in enumerate(zip(graphs.molecule_ids, payload["molblocks"],
                                              strict=True)):
        mol = Chem.MolFromMolBlock(block, sanitize=True, removeHs=False)
        if mol is None:
            raise ValueError(f"{path}: the MolBlock of {dimer_id} does not parse")
        graph = molecule_graph(mol, dimer_id)
        start, end = int(atom_ptr[m]), int(atom_ptr[m + 1])
        if not np.array_equal(graph.element_index, graphs.element_index[start:end].numpy()):
            raise ValueError(f"{path}: the MolBlock of {dimer_id} does not hold the atoms of "
                             "its graph; rerun prepare_dimers")
        blocks["element_index"].append(graph.element_index)
        blocks["directed"].append(graph.bond_index + start)
        blocks["bond_type"].append(graph.bond_type)
        blocks["bonds"].append(graph.bonds)
        blocks["formal"].append(graph.formal_charge_e)
        pairs = intermolecular_pairs(graphs.atom_targets[MONOMER_KEY][start:end].numpy())
        blocks["pairs"].append(pairs)
        bond_sizes.append(len(graph.bonds))
        pair_sizes.append(len(pairs))

    def ptr(sizes: Sequence[int]) -> torch.Tensor:
        return torch.as_tensor(np.concatenate([[0], np.cumsum(sizes)]), dtype=torch.long)

    def cat(name: str, shape: tuple[int, ...], axis: int = 0) -> np.ndarray:
        return np.concatenate(blocks[name], axis=axis) if blocks[name] else np.zeros(shape)

    split = {k: torch.as_tensor(payload["split"].get(k, []), dtype=torch.long)
             for k in ("train", "val")}
    return GBFFsDimers(
        dimer_ids=list(graphs.molecule_ids),
        element_index=torch.as_tensor(cat("element_index", (0,)), dtype=torch.long),
        directed_bonds=torch.as_tensor(cat("directed", (2, 0), axis=1), dtype=torch.long),
        bond_type=torch.as_tensor(cat("bond_type", (0,)), dtype=torch.long),
        bonds=torch.as_tensor(cat("bonds", (0, 2)), dtype=torch.long).reshape(-1, 2),
        bond_ptr=ptr(bond_sizes),
        formal_charge_e=torch.as_tensor(cat("formal", (0,)), dtype=torch.float64),
        positions_angstrom=graphs.positions_angstrom.double().cpu(),
        monomer_index=graphs.atom_targets[MONOMER_KEY].long().cpu(),
        atom_ptr=atom_ptr.long(),
        pairs=torch.as_tensor(cat("pairs", (0, 2)), dtype=torch.long).reshape(-1, 2),
        pair_ptr=ptr(pair_sizes),
        reference_kcal_mol=graphs.molecule_targets[INTERACTION_KEY].double().cpu(),
        split=split,
        metadata={k: v for k, v in payload.items() if k not in ("graphs", "split", "molblocks")},
    )


def dimer_embeddings(model: GBFFsModel, dimers: GBFFsDimers) -> torch.Tensor:
    """The frozen MPNN's embeddings h [A_total, H] of every dimer atom (the covalent graph of
    each complex: the two monomers' embeddings are those of the monomers alone)."""
    with torch.no_grad():
        return model.embed(dimers.element_index, dimers.directed_bonds, dimers.bond_type)


def predicted_interaction_energies(model: GBFFsModel, batch: DimerBatch, h: torch.Tensor,
                                   positions_angstrom: torch.Tensor | None = None
                                   ) -> torch.Tensor:
    """E_int [D] (kcal/mol) of a batch with GB-FFs' charges and VdW parameters from the
    embeddings ``h`` [A, H] of its atoms."""
    parameters = model.nonbonded_parameters(h, batch.bonds, batch.formal_charge_e)
    positions = batch.positions_angstrom if positions_angstrom is None else positions_angstrom
    return amber_interaction_energy_kcal_mol(
        positions.to(h.dtype), parameters["charges_e"], parameters["sigma_angstrom"],
        parameters["epsilon_kcal_mol"], batch.pairs, batch.pair_owner, batch.n_dimers)


# -- the joint loss ---------------------------------------------------------------------------
def molecular_loss(model: GBFFsModel, data: tg.GBFFsData, batch: tg.Batch,
                   gbffs_settings: Mapping) -> torch.Tensor:
    """MAE_mol of a batch of geometries (float64): ``relative_energy_weight`` × MAE of the
    relative energies (kcal/mol) + ``force_weight`` × MAE of the force components (kcal/mol/Å)
    against DFT, with step 3's dynamic filter (:func:`virialff.train.gbffs.dft_errors`)."""
    predicted = model(tg.embeddings(model, data, batch), batch.terms)
    energy, force, _ = tg.dft_errors(model, data, batch, predicted, gbffs_settings,
                                     create_graph=True, absolute=True)
    return (float(gbffs_settings["relative_energy_weight"]) * energy
            + float(gbffs_settings["force_weight"]) * force).double()


class CompoundSampler:
    """Whole compounds of ``indices`` (``group`` [M] the compound of each geometry) drawn at
    random until a draw holds at least ``size`` geometries (relative energies are taken within
    a compound, so a compound is never split)."""

    def __init__(self, indices: torch.Tensor, group: torch.Tensor) -> None:
        members: dict[int, list[int]] = {}
        for i in indices.tolist():
            members.setdefault(int(group[i]), []).append(i)
        self.members = [torch.as_tensor(v, dtype=torch.long) for v in members.values()]

    def draw(self, size: int, generator: torch.Generator) -> torch.Tensor:
        picked, count = [], 0
        for k in torch.randperm(len(self.members), generator=generator).tolist():
            picked.append(self.members[k])
            count += self.members[k].numel()
            if count >= size:
                break
        return torch.cat(picked) if picked else torch.zeros(0, dtype=torch.long)


def joint_errors(model: GBFFsModel, dimers: GBFFsDimers, dimer_cache: torch.Tensor,
                 data: tg.GBFFsData, molecule_cache: torch.Tensor, gbffs_settings: Mapping,
                 interaction_weight: float, molecule_batch_size: int, noise_angstrom: float,
                 generator: torch.Generator) -> Callable[[torch.Tensor, bool], torch.Tensor]:
    """``errors(dimer indices, training)`` for :func:`run_loop`, float64.

    Training: ``w·|ΔE_int| + MAE_mol`` per dimer, MAE_mol (:func:`molecular_loss`) of about
    ``molecule_batch_size`` training geometries (whole compounds, drawn with ``generator``), so
    the batch mean is ``MAE_mol + w·MAE_int``; the dimers get coordinate noise of
    ``noise_angstrom``. Evaluation: |ΔE_int| (kcal/mol) of each dimer.
    """
    sampler = CompoundSampler(data.split["train"], data.group)

    def errors(indices: torch.Tensor, training: bool) -> torch.Tensor:
        batch = dimers.select(indices)
        positions = batch.positions_angstrom
        if training and noise_angstrom > 0:
            jitter = torch.randn(positions.shape, generator=generator, dtype=positions.dtype)
            positions = positions + noise_angstrom * jitter
        predicted = predicted_interaction_energies(model, batch, dimer_cache[batch.atoms],
                                                   positions)
        error = (predicted - batch.reference_kcal_mol.to(predicted.dtype)).abs()
        if not training:
            return error.double()
        loss = interaction_weight * error.double()
        if molecule_batch_size > 0 and sampler.members:
            picks = sampler.draw(molecule_batch_size, generator)
            loss = loss + molecular_loss(model, data, tg.make_batch(data, picks, molecule_cache),
                                         gbffs_settings)
        return loss

    return errors


# -- the stage --------------------------------------------------------------------------------
def fine_tuned_parameters(model: GBFFsModel) -> list[torch.nn.Parameter]:
    """The weights of the :data:`FINE_TUNED_KINDS` heads; every other weight is frozen
    (``requires_grad`` False) here."""
    prefixes = tuple(f"{name}." for kind in FINE_TUNED_KINDS for name in HEAD_MODULES[kind])
    trained = []
    for name, parameter in model.named_parameters():
        moves = name.startswith(prefixes)
        parameter.requires_grad_(moves)
        if moves:
            trained.append(parameter)
    return trained


def molecular_scores(model: GBFFsModel, data: tg.GBFFsData, cache: torch.Tensor,
                     gbffs_settings: Mapping, split: str) -> dict:
    """GB-FFs' step-3 score and its DFT errors (relative energies, forces) on a split."""
    indices = data.split[split]
    return {"score": tg.validation_score(model, data, indices, cache, 3, gbffs_settings),
            **tg.dft_metrics(model, data, indices, cache, int(gbffs_settings["batch_size"]))}


def train_gbffs_interactions(
    dataset_path: str | Path,
    dimers_path: str | Path,
    model_path: str | Path,
    gaff2_paths: Sequence[str | Path],
    output_path: str | Path,
    history_path: str | Path,
    selection_path: str | Path,
    *,
    settings: Mapping,
    gbffs_settings: Mapping,
    seed: int,
    geometry_paths: Sequence[str | Path] | None = None,
    progress: bool = True,
    stop_after_epoch: Callable[[int], None] | None = None,
) -> dict:
    """Fine-tune the GB-FFs model ``model_path`` on ``dimers_path`` (module docstring).

    Args:
        dataset_path: ``results/dataset/dataset.pt`` (the molecular term and its splits).
        dimers_path: ``results/interactions/dimers.pt`` (version 2: with MolBlocks).
        model_path: the trained GB-FFs model (``results/models/gbffs.pt``).
        gaff2_paths: the gaff2 stage's shards (the step-3 anchors), as train_gbffs reads them.
        output_path: the fine-tuned model (``kind`` ``gbffs``: :class:`~virialff.model.gbffs.
            GBFFsPredictor` loads it).
        history_path: history CSV of the chosen weight (``train_loss`` the joint loss,
            ``val_loss`` the validation E_int MAE in kcal/mol, ``test_loss`` empty).
        selection_path: JSON of every weight's run, the choice, and the molecular errors
            before and after.
        settings: ``training.interactions`` (keys :data:`TRAINING_KEYS`).
        gbffs_settings: ``training.gbffs`` (the step-3 loss and its selection score).
        seed: random seed (the run is deterministic on the CPU).
        geometry_paths: the geometry SDFs (formal charges), as train_gbffs reads them.

    Returns:
        The selection summary (also written to ``selection_path``).
    """
    output_path, history_path, selection_path = map(Path, (output_path, history_path,
                                                           selection_path))
    settings, weights = checked_settings(settings, TRAINING_KEYS)
    gbffs_settings = dict(gbffs_settings)
    dimers = load_gbffs_dimers(dimers_path)
    if dimers.split["train"].numel() == 0 or dimers.split["val"].numel() == 0:
        raise ValueError(f"{dimers_path}: the interaction stage needs training and validation "
                         "dimers")
    model, source = gbffs_model_from_file(model_path)
    model = model.double()
    if source.get("fine_tuned_embeddings"):
        log.info("%s was trained with fine-tuned embeddings; they stay as they are here",
                 model_path)
    trainable = fine_tuned_parameters(model)
    status = tg.StatusTable(tg.STAGE)
    gaff2, gaff2_source = tg.read_gaff2_shards(gaff2_paths)
    formal = tg.read_formal_charges(geometry_paths) if geometry_paths is not None else None
    data = tg.prepare_gbffs_data(dataset_path, gaff2, formal, status)
    if data.split["train"].numel() == 0:
        raise ValueError(f"{dataset_path}: no training molecule has GAFF2 parameters")
    molecule_cache = tg.cached_embeddings(model, data)
    dimer_cache = dimer_embeddings(model, dimers)
    split = {"train": dimers.split["train"], "val": dimers.split["val"],
             "test": torch.zeros(0, dtype=torch.long)}
    base_state = copy.deepcopy(model.state_dict())
    inputs = {"dataset": file_digest(dataset_path), "dimers": file_digest(dimers_path),
              "gbffs_model": file_digest(model_path),
              "gaff2": tg._digest_of_files(gaff2_paths)}
    noise = float(settings["coordinate_noise_angstrom"])
    molecule_batch_size = int(settings["molecule_batch_size"])

    def make_errors(weight: float, generator: torch.Generator) -> Callable:
        return joint_errors(model, dimers, dimer_cache, data, molecule_cache, gbffs_settings,
                            weight, molecule_batch_size, noise, generator)

    def scores() -> dict:
        probe = make_errors(0.0, seed_everything(seed))
        model.eval()
        return {"val_interaction_mae_kcal_mol": evaluate_mae(probe, split["val"], 1024),
                "train_interaction_mae_kcal_mol": evaluate_mae(probe, split["train"], 1024),
                "val_molecular": molecular_scores(model, data, molecule_cache, gbffs_settings,
                                                  "val")}

    initial = scores()
    initial[MOLECULAR_SCORE_KEY] = initial["val_molecular"]["score"]
    log.info("GB-FFs model: validation E_int MAE %.3f kcal/mol, molecular validation score %.4g",
             initial["val_interaction_mae_kcal_mol"], initial[MOLECULAR_SCORE_KEY])
    def evaluate_run(_errors: Callable) -> dict:
        molecular = molecular_scores(model, data, molecule_cache, gbffs_settings, "val")
        return {MOLECULAR_SCORE_KEY: molecular["score"], "val_molecular": molecular}

    def log_run(run: dict) -> None:
        log.info("weight %g: best epoch %d of %d, validation E_int MAE %.3f kcal/mol, "
                 "molecular validation score %.4g", run["weight"], run["best_epoch"],
                 run["epochs_run"], run["val_interaction_mae_kcal_mol"],
                 run[MOLECULAR_SCORE_KEY])

    tolerance = float(settings["max_molecular_mae_increase"])
    grid = run_weight_grid(
        model, base_state, weights, output_path=output_path, settings=settings, seed=seed,
        fingerprint_settings={"stage": "gbffs_interactions", "settings": settings,
                              "gbffs": gbffs_settings},
        inputs=inputs, make_errors=make_errors, split=split,
        start_val_loss=initial["val_interaction_mae_kcal_mol"], parameters=lambda: trainable,
        description="GB-FFs interactions", evaluate_run=evaluate_run, log_run=log_run,
        progress=progress, stop_after_epoch=stop_after_epoch,
        choose=lambda runs: select_weight(runs, initial[MOLECULAR_SCORE_KEY], tolerance,
                                          MOLECULAR_SCORE_KEY),
        max_extensions=int(settings["max_grid_extensions"]))
    runs, histories, states, chosen = grid.runs, grid.histories, grid.states, grid.chosen
    if not chosen["molecular_constraint_met"]:
        log.warning("no weight keeps the molecular validation score within %.0f %% of the GB-FFs "
                    "model's; took w = %g (lowest molecular validation score)", 100 * tolerance,
                    chosen["weight"])
    weight = chosen["weight"]
    before = {name: tg.dft_metrics(model_from_state(model, base_state), data,
                                   data.split[name], molecule_cache,
                                   int(gbffs_settings["batch_size"])) for name in ("val", "test")}
    model.load_state_dict(states[weight])
    model.eval()
    after = {name: tg.dft_metrics(model, data, data.split[name], molecule_cache,
                                  int(gbffs_settings["batch_size"])) for name in ("val", "test")}
    final = scores()
    history = histories[weight]
    selection = {
        "data_scale": source.get("data_scale", ""),
        "chosen_weight": weight,
        "criterion": "lowest validation E_int MAE among the weights whose molecular validation "
                     "score (GB-FFs' step-3 score, RMSE(dE) + force_weight*RMSE(F)) is within "
                     f"{100 * tolerance:g} % of the GB-FFs model's",
        "molecular_constraint_met": chosen["molecular_constraint_met"],
        **grid.summary(),
        "fine_tuned_heads": [name for kind in FINE_TUNED_KINDS for name in HEAD_MODULES[kind]],
        "initial": initial,
        "final": final,
        "runs": runs,
        "histories": {f"{w:g}": h for w, h in histories.items()},
        "molecular_errors": {"before": before, "after": after},
        "settings": settings,
        "n_dimers": {"train": int(split["train"].numel()), "val": int(split["val"].numel())},
        "dimer_sources": dimers.metadata.get("sources", {}),
        "gaff2_source": gaff2_source,
        "inputs": inputs,
    }
    config = copy.deepcopy(source["config"])
    config["interactions"] = {**settings, "chosen_weight": weight}
    ids = dimers.dimer_ids
    extra = {k: source[k] for k in ("embedding_source", "split", "seed", "gaff2_source",
                                    "fine_tuned_embeddings") if k in source}
    payload = gbffs_payload(
        model.cpu(), config, **extra,
        inputs={**source.get("inputs", {}), "interactions": inputs},
        dimer_split={name: [ids[i] for i in idx.tolist()]
                     for name, idx in dimers.split.items()},
        name=output_path.stem,
        metrics={**source.get("metrics", {}),
                 "interactions": {"chosen_weight": weight,
                                  "val_interaction_mae_kcal_mol":
                                      chosen["val_interaction_mae_kcal_mol"],
                                  "molecular_errors": {"before": before, "after": after}}})
    write_model_file(output_path, payload)
    write_history(history_path, history)
    selection_path.parent.mkdir(parents=True, exist_ok=True)
    selection_path.write_text(json.dumps(_finite(selection), indent=1) + "\n")
    remove_weight_files(output_path, grid.weights)
    return selection


def model_from_state(model: GBFFsModel, state: Mapping[str, torch.Tensor]) -> GBFFsModel:
    """A copy of ``model`` with the weights ``state``, in evaluation mode."""
    other = copy.deepcopy(model)
    other.load_state_dict(state)
    return other.eval()

