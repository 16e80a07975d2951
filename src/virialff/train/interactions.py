"""Stage 3 (optional, beyond the paper): fine-tune on CCSD(T) interaction energies of dimers.

The paper trains on single molecules only; charges, the r⁻⁶/r⁻¹² terms and the Gaussians of
atom pairs *between* molecules are never supervised. This stage takes a trained stage-2
total-energy model and fine-tunes its ``charge_net`` and ``feats_net`` (the stage-1 embeddings
stay frozen, as in stage 2) on the joint loss

    L = MAE_mol + w · MAE_int,

``MAE_mol`` the stage-2 loss (|Ê − E| over a random mini-batch of the dataset's training
molecules, with the same Gaussian coordinate noise) and ``MAE_int`` the mean absolute error of
the interaction energies of a mini-batch of training dimers (SSI/BBI, :mod:`virialff.train.
dimer_databases`).

Interaction energy at the database geometry, monomers frozen (not relaxed)::

    E_int = E_A + E_B − E_AB = −sign · Σ_{i∈A, j∈B} E_ij          (kcal/mol, positive = bound)

E_lin cancels because it is extensive (w per element, b per covalent fragment), and every
intramolecular pair has the same embeddings, charges, parameters and distance in the complex
as in its monomer (message passing runs on the covalent graph only), so only the pairs between
the monomers remain. :func:`interaction_energy_kcal_mol` evaluates that sum directly;
``tests/train/test_interactions.py`` checks it against the model's own E_A + E_B − E_AB.

Training reuses :func:`virialff.train.loop.run_loop` (mini-batches, checkpoints, resumption,
history format). One index space holds both kinds of items: dimers ``[0, D)`` and molecules
``[D, D + M)``. ``train`` = training dimers (an epoch is one pass over them; each step also
draws ``molecule_batch_size`` training molecules with the loop's generator); ``val`` =
validation dimers (``val_loss`` = validation E_int MAE, the early-stopping criterion);
``test`` = the dataset's test molecules (``test_loss`` = molecular test MAE, recorded as in
stage 2 and never used for any choice).

Charges. The paper leaves the atomic charges free, so a molecule may carry a net charge, and
two such molecules interact through 332.0637·Q_A·Q_B/R, a spurious long-range term that no
training on single molecules can see (on the demo run, +0.36 e on acetic acid). With
``neutral_charges`` the fine-tuned model shifts the charges of every covalent fragment to sum to
zero (the model's own switch, :func:`virialff.model.potential.neutralise_charges`, recorded in
the model file); epoch 0 is then the stage-2 model with neutral monomers, while the molecular
tolerance below is measured against the stage-2 model as it was trained.

Pair classes. In the paper one parameter function serves every non-bonded pair, so the H···H
pair between two water molecules gets exactly the parameters of the H–O–H pair inside one. With
``intermolecular_pair_class`` pairs between covalent fragments become a feats_net pair type of
their own (:meth:`~virialff.model.potential_model.PotentialModel.add_intermolecular_pair_class`),
starting from the non-covalent type's parameters, so epoch 0 is unchanged and the fine-tune can
move intermolecular pairs without touching any single molecule's energy.

Loss weight. Each weight of ``interaction_weight`` (a number or a small list) is a separate
fine-tune from the same stage-2 model with early stopping (the weights of the epoch with the
lowest validation E_int MAE are kept; epoch 0 is the stage-2 model itself). The chosen weight
has the lowest validation E_int MAE among the runs whose molecular *validation* MAE stays
within ``max_molecular_mae_increase`` of the stage-2 model's; if no run does, the run with the
lowest molecular validation MAE is taken and the selection file says so. While the chosen
weight sits at an edge of the list, one more weight past that edge (by the list's ratio there)
is tried, at most ``max_grid_extensions`` times (:func:`run_weight_grid`); the selection file
records the grid and whether the choice ended inside it.
"""

from __future__ import annotations

import copy
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from virialff.chem.graph import GraphBatch
from virialff.formats.model_file import model_payload, read_model_file, write_model_file
from virialff.model.potential import pair_energy_kcal_mol, sum_per_molecule
from virialff.model.potential_model import (
    PotentialModel,
    build_potential_model,
    fragment_labels,
)
from virialff.train.data import ATOM_INDEX_KEY, FRAGMENT_KEY, load_dataset
from virialff.train.dimer_databases import (
    DIMERS_FORMAT,
    INTERACTION_KEY,
    MONOMER_KEY,
)
from virialff.train.loop import (
    LoopSettings,
    evaluate_mae,
    file_digest,
    fingerprint_mismatch,
    run_fingerprint,
    run_loop,
    seed_everything,
    write_history,
)
from virialff.train.stages import (
    _batch,
    _place_dataset,
    _prepare_device,
    cached_embeddings,
    jittered_positions,
    potential_errors,
)

log = logging.getLogger("virialff.train")

from virialff.config_keys import INTERACTION_TRAINING_KEYS as TRAINING_KEYS  # noqa: E402

# --------------------------------------------------------------------------------------------
# Data and the interaction energy
# --------------------------------------------------------------------------------------------


def load_dimers(path: str | Path) -> tuple[GraphBatch, dict[str, torch.Tensor], dict]:
    """``(graphs, split, metadata)`` of a ``dimers.pt`` file (see
    :func:`virialff.train.dimer_databases.prepare_dimers`).

    Like :func:`virialff.train.data.load_dataset`, ``graphs`` gains the private per-atom
    entries ``_atom_index`` and ``_fragment``.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dimer file {path} does not exist")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != DIMERS_FORMAT:
        raise ValueError(f"{path} is not a virialff dimer file (format {DIMERS_FORMAT!r})")
    graphs = GraphBatch.from_state_dict(payload["graphs"])
    n_atoms = int(graphs.atom_ptr[-1])
    graphs.atom_targets[ATOM_INDEX_KEY] = torch.arange(n_atoms)
    graphs.atom_targets[FRAGMENT_KEY] = fragment_labels(graphs.bond_index, n_atoms)
    split = {k: torch.as_tensor(payload["split"].get(k, []), dtype=torch.long)
             for k in ("train", "val")}
    metadata = {k: v for k, v in payload.items() if k not in ("graphs", "split")}
    return graphs, split, metadata


def intermolecular_pair_mask(batch: GraphBatch) -> torch.Tensor:
    """[P] bool: pairs whose atoms belong to different monomers
    (``batch.atom_targets['monomer_index']``)."""
    monomer = batch.atom_targets[MONOMER_KEY]
    return monomer[batch.pair_index[0]] != monomer[batch.pair_index[1]]


@dataclass
class PairSubset:
    """The two pair fields of a batch that :meth:`PotentialModel.parameters_from_embeddings`
    reads: ``pair_index`` [2, P'] and ``pair_type`` [P']."""

    pair_index: torch.Tensor
    pair_type: torch.Tensor


def interaction_energy_kcal_mol(
    model: PotentialModel,
    batch: GraphBatch,
    positions_angstrom: torch.Tensor | None = None,
    h: torch.Tensor | None = None,
    fragment: torch.Tensor | None = None,
) -> torch.Tensor:
    """E_int = E_A + E_B − E_AB of every dimer of ``batch`` at frozen monomer geometries,
    [M] kcal/mol (positive = bound), as −sign · Σ of the pair energies between the monomers.

    Args:
        model: a stage-2 potential (``sign`` +1 for the total energy).
        batch: dimers with ``atom_targets['monomer_index']`` [A] (0 = A, 1 = B).
        positions_angstrom: [A, 3] (default: the batch's).
        h: frozen embeddings [A, hidden] (default: computed).
        fragment: [A] covalent-fragment labels (default: computed from the bonds).
    """
    positions = batch.positions_angstrom if positions_angstrom is None else positions_angstrom
    positions = positions.to(model.charge_net[0].weight.dtype)
    if h is None:
        h = model.embed(batch)
    if fragment is None:
        fragment = fragment_labels(batch.bond_index, positions.shape[0]).to(positions.device)
    between = intermolecular_pair_mask(batch)
    pairs = PairSubset(batch.pair_index[:, between], batch.pair_type[between])
    charges, params = model.parameters_from_embeddings(h.to(positions.dtype), pairs, fragment)
    not_bonded = torch.zeros(pairs.pair_type.shape[0], dtype=torch.bool, device=positions.device)
    energy = pair_energy_kcal_mol(positions, pairs.pair_index, not_bonded, charges, params)
    return -model.sign * sum_per_molecule(energy, batch.pair_molecule[between], batch.n_molecules)


def interaction_errors(
    model: PotentialModel,
    dimers: GraphBatch,
    device: torch.device,
    cache: torch.Tensor,
    noise_angstrom: float,
    generator: torch.Generator,
) -> Callable[[torch.Tensor, bool], torch.Tensor]:
    """``errors(indices, training)``: |Ê_int − E_int| (kcal/mol) of the dimers ``indices``.

    ``cache``: frozen embeddings of every dimer atom [A_total, hidden]; in training, Gaussian
    noise of ``noise_angstrom`` (from ``generator``) is added to the coordinates.
    """

    def errors(indices: torch.Tensor, training: bool) -> torch.Tensor:
        batch = _batch(dimers, indices, device)
        positions = jittered_positions(batch, noise_angstrom if training else 0.0, generator)
        h = cache[batch.atom_targets[ATOM_INDEX_KEY].to(cache.device)].to(device)
        predicted = interaction_energy_kcal_mol(
            model, batch, positions, h, batch.atom_targets[FRAGMENT_KEY])
        return (predicted - batch.molecule_targets[INTERACTION_KEY].to(predicted.dtype)).abs()

    return errors


def joint_errors(
    dimer_errors: Callable[[torch.Tensor, bool], torch.Tensor],
    molecule_errors: Callable[[torch.Tensor, bool], torch.Tensor],
    n_dimers: int,
    train_molecules: torch.Tensor,
    molecule_batch_size: int,
    interaction_weight: float,
    generator: torch.Generator,
) -> Callable[[torch.Tensor, bool], torch.Tensor]:
    """``errors(indices, training)`` over the joint index space (dimers ``[0, n_dimers)``,
    molecules ``[n_dimers, …)``), float64 kcal/mol.

    Training (``indices`` are training dimers): ``w·|ΔE_int| + MAE_mol`` per dimer, with
    MAE_mol over ``molecule_batch_size`` training molecules drawn with ``generator``, so the
    mean is the joint loss ``MAE_mol + w·MAE_int``. Evaluation: the plain absolute error of each
    item (E_int for a dimer, E for a molecule).
    """

    def errors(indices: torch.Tensor, training: bool) -> torch.Tensor:
        is_dimer = indices < n_dimers
        if training:
            if not bool(is_dimer.all()):
                raise ValueError("training indices must all be dimers")
            loss = interaction_weight * dimer_errors(indices, True).double()
            if molecule_batch_size > 0 and train_molecules.numel():
                picks = torch.randint(train_molecules.numel(), (molecule_batch_size,),
                                      generator=generator)
                loss = loss + molecule_errors(train_molecules[picks], True).double().mean()
            return loss
        parts = []
        if bool(is_dimer.any()):
            parts.append(dimer_errors(indices[is_dimer], False).double())
        if bool((~is_dimer).any()):
            parts.append(molecule_errors(indices[~is_dimer] - n_dimers, False).double())
        return torch.cat([p.cpu() for p in parts])

    return errors


# --------------------------------------------------------------------------------------------
# Early stopping through run_loop's per-epoch callback
# --------------------------------------------------------------------------------------------


class _PatienceExhausted(Exception):
    """Raised from the epoch callback to end a run early (caught in this module)."""


class EarlyStopping:
    """Keeps the weights of the epoch with the lowest ``val_loss``; stops after ``patience``
    epochs without improvement.

    Called by :func:`run_loop` after each epoch (``stop_after_epoch``), once the epoch's
    checkpoint is on disk; it reads the epoch's ``val_loss`` from that checkpoint. The best
    weights also go to ``best_path`` (with the run's fingerprint) so that a killed and resumed
    run keeps them. Epoch 0 is the starting model with validation loss ``initial_val_loss``.
    """

    def __init__(self, model: torch.nn.Module, checkpoint_path: Path, best_path: Path,
                 fingerprint: dict, patience: int, initial_val_loss: float,
                 then: Callable[[int], None] | None = None) -> None:
        self.model = model
        self.checkpoint_path = checkpoint_path
        self.best_path = best_path
        self.fingerprint = fingerprint
        self.patience = int(patience)
        self.then = then
        self.best_epoch = 0
        self.best_val_loss = float(initial_val_loss)
        self.best_state = copy.deepcopy(model.state_dict())
        self.history: list[dict] = []
        self.stopped_early = False
        if best_path.exists():
            saved = torch.load(best_path, map_location="cpu", weights_only=True)
            if saved.get("fingerprint") == fingerprint:
                self.best_epoch = int(saved["epoch"])
                self.best_val_loss = float(saved["val_loss"])
                self.best_state = saved["state_dict"]

    def __call__(self, epoch: int) -> None:
        state = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        self.history = state["history"]
        val = float(self.history[-1]["val_loss"])
        if val < self.best_val_loss:
            self.best_epoch, self.best_val_loss = epoch, val
            self.best_state = {k: v.detach().cpu().clone()
                               for k, v in self.model.state_dict().items()}
            torch.save({"fingerprint": self.fingerprint, "epoch": epoch, "val_loss": val,
                        "state_dict": self.best_state}, self.best_path)
        if self.then is not None:
            self.then(epoch)
        if epoch - self.best_epoch >= self.patience:
            self.stopped_early = True
            raise _PatienceExhausted


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------


def interaction_weights(value: float | list[float]) -> list[float]:
    """``interaction_weight`` (a number or a list) as a non-empty list of floats ≥ 0."""
    weights = [float(w) for w in (value if isinstance(value, list | tuple) else [value])]
    if not weights or any(w < 0 for w in weights):
        raise ValueError(f"interaction_weight must be a number ≥ 0 or a non-empty list of them, "
                         f"not {value!r}")
    return weights


def load_stage2_total(model_path: str | Path) -> tuple[PotentialModel, dict]:
    """The stage-2 total-energy model of ``model_path``, embeddings frozen; and its payload."""
    payload = read_model_file(model_path, kind="potential")
    if payload.get("target") != "total":
        raise ValueError(f"{model_path} is a '{payload.get('target')}' model; the interaction "
                         "stage fine-tunes a stage-2 total-energy model")
    model = build_potential_model(payload["config"], "total", pretrained_embeddings=True)
    model.load_state_dict(payload["state_dict"])
    return model, payload


def checked_settings(settings: Mapping, keys: tuple[str, ...]) -> tuple[dict, list[float]]:
    """The ``keys`` of a ``training.interactions`` section (``ValueError`` naming the missing
    ones) and its weight grid (:func:`interaction_weights`)."""
    missing = [key for key in keys if key not in settings]
    if missing:
        raise ValueError(f"training.interactions lacks {', '.join(missing)}")
    settings = {key: settings[key] for key in keys}
    return settings, interaction_weights(settings["interaction_weight"])


def select_weight(runs: list[dict], initial_molecular_val_mae: float, tolerance: float,
                  molecular_key: str = "val_molecular_mae_kcal_mol") -> dict:
    """The chosen run (see module docstring), with ``molecular_constraint_met`` set on each.

    ``molecular_key``: the entry of each run that holds its molecular validation error
    (lower is better; ``initial_molecular_val_mae`` is the starting model's)."""
    limit = (1.0 + tolerance) * initial_molecular_val_mae
    for run in runs:  # no validation molecules (NaN): nothing to hold the runs to
        run["molecular_constraint_met"] = bool(
            math.isnan(limit) or run[molecular_key] <= limit)
    admissible = [r for r in runs if r["molecular_constraint_met"]]
    if admissible:
        return min(admissible, key=lambda r: (r["val_interaction_mae_kcal_mol"], r["weight"]))
    return min(runs, key=lambda r: (r[molecular_key], r["weight"]))


@dataclass
class WeightGrid:
    """Every weight's fine-tune (``weight →`` history and best weights; ``runs`` sorted by
    weight), the chosen run, the scanned grid and whether the choice is inside it."""

    runs: list[dict] = field(default_factory=list)
    histories: dict[float, list[dict]] = field(default_factory=dict)
    states: dict[float, dict[str, torch.Tensor]] = field(default_factory=dict)
    chosen: dict = field(default_factory=dict)
    weights: list[float] = field(default_factory=list)
    interior: bool | None = None  # None: a single weight, nothing was scanned
    extensions: int = 0

    def summary(self) -> dict:
        """The grid part of a selection file."""
        return {"grid": self.weights, "interior": self.interior, "extensions": self.extensions}


def _extended(weights: list[float], chosen: float) -> list[float] | None:
    """``weights`` (sorted) with one more step past the edge that ``chosen`` sits on, by the
    grid's own ratio there; None when ``chosen`` is inside, or at a lower edge of 0."""
    if len(weights) < 2 or chosen not in (weights[0], weights[-1]):
        return None
    if chosen == weights[0]:
        return None if weights[0] == 0 else [weights[0] ** 2 / weights[1], *weights]
    return [*weights, weights[-1] ** 2 / weights[-2]]


def run_weight_grid(
    model: torch.nn.Module,
    base_state: dict[str, torch.Tensor],
    weights: list[float],
    *,
    output_path: Path,
    settings: Mapping,
    seed: int,
    fingerprint_settings: Mapping,
    inputs: Mapping[str, str],
    make_errors: Callable[[float, torch.Generator], Callable],
    split: dict[str, torch.Tensor],
    start_val_loss: float,
    parameters: Callable[[], object],
    description: str,
    evaluate_run: Callable[[Callable], dict],
    log_run: Callable[[dict], None],
    choose: Callable[[list[dict]], dict],
    max_extensions: int = 0,
    progress: bool = True,
    stop_after_epoch: Callable[[int], None] | None = None,
) -> WeightGrid:
    """One fine-tune per weight of ``weights`` from ``base_state``, the choice among them, and
    while the chosen weight sits at an edge of the grid one more weight past that edge (by the
    grid's ratio there), at most ``max_extensions`` times, so that the choice ends inside the
    grid where it can.

    Each fine-tune stops early on the validation dimers (the loss of epoch 0 is
    ``start_val_loss``) and runs Adam at ``settings["learning_rate"]`` over ``parameters()``;
    it is resumable: a finished weight is kept in ``<output>.w<weight>.done`` under a
    fingerprint of ``fingerprint_settings``, the weight, the seed and ``inputs``, and an
    unfinished one resumes from its checkpoint. ``make_errors(weight, generator)`` gives the
    loop's error function; ``evaluate_run(errors)`` adds the entries of a finished run beside
    ``weight``, ``best_epoch``, ``epochs_run``, ``stopped_early`` and
    ``val_interaction_mae_kcal_mol``; ``log_run(run)`` reports it; ``choose(runs)`` picks one
    (:func:`select_weight`).
    """
    grid = WeightGrid()
    scan = sorted({float(w) for w in weights})
    while True:
        for weight in scan:
            if weight not in grid.histories:
                _fine_tune_one_weight(
                    grid, model, base_state, weight, output_path=output_path,
                    settings=settings, seed=seed, fingerprint_settings=fingerprint_settings,
                    inputs=inputs, make_errors=make_errors, split=split,
                    start_val_loss=start_val_loss, parameters=parameters,
                    description=description, evaluate_run=evaluate_run, log_run=log_run,
                    progress=progress, stop_after_epoch=stop_after_epoch)
        grid.runs.sort(key=lambda run: run["weight"])
        grid.chosen = choose(grid.runs)
        wider = _extended(scan, grid.chosen["weight"])
        if wider is None or grid.extensions >= max_extensions:
            break
        grid.extensions += 1
        log.info("%s: the chosen weight %g is at the edge of the grid; extending it to %s",
                 description, grid.chosen["weight"], [f"{w:g}" for w in wider])
        scan = wider
    grid.weights = scan
    if len(scan) > 1:
        grid.interior = grid.chosen["weight"] not in (scan[0], scan[-1])
        if not grid.interior:
            log.warning("%s: the chosen weight %g is still at the edge of the grid %s after %d "
                        "extensions", description, grid.chosen["weight"],
                        [f"{w:g}" for w in scan], grid.extensions)
    return grid


def _weight_path(output_path: Path, weight: float, suffix: str) -> Path:
    return output_path.with_name(f"{output_path.name}.w{weight:g}.{suffix}")


def _fine_tune_one_weight(grid: WeightGrid, model: torch.nn.Module,
                          base_state: dict[str, torch.Tensor], weight: float, *,
                          output_path: Path, settings: Mapping, seed: int,
                          fingerprint_settings: Mapping, inputs: Mapping[str, str],
                          make_errors: Callable, split: dict[str, torch.Tensor],
                          start_val_loss: float, parameters: Callable[[], object],
                          description: str, evaluate_run: Callable[[Callable], dict],
                          log_run: Callable[[dict], None], progress: bool,
                          stop_after_epoch: Callable[[int], None] | None) -> None:
    """One weight of :func:`run_weight_grid`, added to ``grid``."""
    fingerprint = run_fingerprint({**fingerprint_settings, "weight": weight, "seed": seed},
                                  inputs)
    done_path = _weight_path(output_path, weight, "done")
    if done_path.exists():
        done = torch.load(done_path, map_location="cpu", weights_only=True)
        if not fingerprint_mismatch(done.get("fingerprint"), fingerprint):
            log.info("weight %g: reusing the finished run in %s", weight, done_path)
            grid.runs.append(done["run"])
            grid.histories[weight], grid.states[weight] = done["history"], done["state_dict"]
            return
    model.load_state_dict(base_state)
    generator = seed_everything(seed)
    errors = make_errors(weight, generator)
    optimizer = torch.optim.Adam(parameters(), lr=float(settings["learning_rate"]))
    checkpoint = _weight_path(output_path, weight, "ckpt")
    stopper = EarlyStopping(model, checkpoint, _weight_path(output_path, weight, "best"),
                            fingerprint, int(settings["early_stopping_patience"]),
                            start_val_loss, then=stop_after_epoch)
    loop = LoopSettings(
        epochs=int(settings["epochs"]), batch_size=int(settings["batch_size"]), seed=seed,
        checkpoint_path=checkpoint, fingerprint=fingerprint, progress=progress,
        description=f"{description}, w = {weight:g}")
    try:
        history = run_loop(model, optimizer, None, errors, split, loop, generator, stopper)
    except _PatienceExhausted:
        history = stopper.history
    model.load_state_dict(stopper.best_state)
    model.eval()
    run = {"weight": weight, "best_epoch": stopper.best_epoch, "epochs_run": len(history),
           "stopped_early": stopper.stopped_early,
           "val_interaction_mae_kcal_mol": stopper.best_val_loss, **evaluate_run(errors)}
    log_run(run)
    state = {name: v.detach().cpu().clone() for name, v in model.state_dict().items()}
    torch.save({"fingerprint": fingerprint, "run": run, "history": history,
                "state_dict": state}, done_path)
    for path in (checkpoint, stopper.best_path):
        path.unlink(missing_ok=True)
    grid.runs.append(run)
    grid.histories[weight], grid.states[weight] = history, state


def train_interactions(
    dataset_path: str | Path,
    dimers_path: str | Path,
    model_path: str | Path,
    output_path: str | Path,
    history_path: str | Path,
    selection_path: str | Path,
    *,
    settings: Mapping,
    seed: int,
    device: str,
    progress: bool = True,
    stop_after_epoch: Callable[[int], None] | None = None,
) -> dict:
    """Stage 3: fine-tune the stage-2 total model ``model_path`` on ``dimers_path``.

    Args:
        dataset_path: ``results/dataset/dataset.pt`` (the molecular loss and its splits).
        dimers_path: ``results/interactions/dimers.pt``.
        model_path: the stage-2 total-energy model (``results/models/total.pt``).
        output_path: the fine-tuned model file (loads with :func:`virialff.load_model`).
        history_path: history CSV of the chosen weight (:data:`~virialff.train.loop.
            HISTORY_COLUMNS`; ``train_loss`` = joint loss, ``val_loss`` = validation E_int MAE,
            ``test_loss`` = molecular test MAE; kcal/mol).
        selection_path: JSON with every weight's run, its history and the choice.
        settings: the ``training.interactions`` section (keys :data:`TRAINING_KEYS`).
        seed: random seed.
        device: ``auto``, ``cpu`` or ``cuda``.

    Returns:
        The selection summary (also written to ``selection_path``).
    """
    output_path, history_path, selection_path = map(Path, (output_path, history_path,
                                                           selection_path))
    settings, weights = checked_settings(settings, TRAINING_KEYS)
    dev = _prepare_device(device)
    model, stage2 = load_stage2_total(model_path)
    if settings["intermolecular_pair_class"]:
        # pairs between molecules get their own feats_net class, starting equal to type 0
        model.add_intermolecular_pair_class()
    graphs, mol_split, mol_meta = load_dataset(dataset_path)
    dimers, dimer_split, dimer_meta = load_dimers(dimers_path)
    if dimer_split["train"].numel() == 0 or dimer_split["val"].numel() == 0:
        raise ValueError(f"{dimers_path}: the interaction stage needs training and validation "
                         "dimers")
    if mol_split["train"].numel() == 0:
        raise ValueError(f"{dataset_path}: the dataset has no training molecules")
    model.to(dev)
    mol_data, dimer_data = _place_dataset(graphs, dev), _place_dataset(dimers, dev)
    mol_cache = cached_embeddings(model, mol_data, dev)
    dimer_cache = cached_embeddings(model, dimer_data, dev)
    n_dimers = dimers.n_molecules
    split = {"train": dimer_split["train"], "val": dimer_split["val"],
             "test": mol_split["test"] + n_dimers}
    mol_val = mol_split["val"] + n_dimers
    base_state = copy.deepcopy(model.state_dict())
    inputs = {"dataset": file_digest(dataset_path), "dimers": file_digest(dimers_path),
              "stage2_model": file_digest(model_path)}
    noise = float(settings["coordinate_noise_angstrom"])

    def make_errors(weight: float, generator: torch.Generator) -> Callable:
        return joint_errors(
            interaction_errors(model, dimer_data, dev, dimer_cache, noise, generator),
            potential_errors(model, mol_data, dev, mol_cache, noise, generator),
            n_dimers, mol_split["train"], int(settings["molecule_batch_size"]), weight,
            generator)

    model.eval()
    probe = make_errors(0.0, seed_everything(seed))

    def scores() -> dict:
        return {"val_interaction_mae_kcal_mol": evaluate_mae(probe, split["val"], 1024),
                "val_molecular_mae_kcal_mol": evaluate_mae(probe, mol_val, 1024),
                "train_interaction_mae_kcal_mol": evaluate_mae(probe, split["train"], 1024)}

    initial = scores()
    log.info("stage-2 model: validation E_int MAE %.3f, molecular validation MAE %.3f kcal/mol",
             initial["val_interaction_mae_kcal_mol"], initial["val_molecular_mae_kcal_mol"])
    start = initial
    if settings["neutral_charges"] and not model.neutral_charges:
        model.neutral_charges = True  # each monomer's charges shifted to sum to zero
        start = scores()
        log.info("stage-2 model with neutral monomers (epoch 0): validation E_int MAE %.3f, "
                 "molecular validation MAE %.3f kcal/mol", start["val_interaction_mae_kcal_mol"],
                 start["val_molecular_mae_kcal_mol"])
    def log_run(run: dict) -> None:
        log.info("weight %g: best epoch %d of %d, validation E_int MAE %.3f, molecular "
                 "validation MAE %.3f kcal/mol", run["weight"], run["best_epoch"],
                 run["epochs_run"], run["val_interaction_mae_kcal_mol"],
                 run["val_molecular_mae_kcal_mol"])

    tolerance = float(settings["max_molecular_mae_increase"])
    grid = run_weight_grid(
        model, base_state, weights, output_path=output_path, settings=settings, seed=seed,
        fingerprint_settings={"stage": "interactions", "settings": settings}, inputs=inputs,
        make_errors=make_errors, split=split,
        start_val_loss=start["val_interaction_mae_kcal_mol"],
        parameters=model.trainable_parameters, description="stage 3 (interactions)",
        evaluate_run=lambda errors: {
            "val_molecular_mae_kcal_mol": evaluate_mae(errors, mol_val, 1024)},
        log_run=log_run, progress=progress, stop_after_epoch=stop_after_epoch,
        choose=lambda runs: select_weight(runs, initial["val_molecular_mae_kcal_mol"], tolerance),
        max_extensions=int(settings["max_grid_extensions"]))
    runs, histories, states, chosen = grid.runs, grid.histories, grid.states, grid.chosen
    if not chosen["molecular_constraint_met"]:
        log.warning("no weight keeps the molecular validation MAE within %.0f %% of the stage-2 "
                    "model's; took w = %g (lowest molecular validation MAE)", 100 * tolerance,
                    chosen["weight"])
    weight = chosen["weight"]
    model.load_state_dict(states[weight])
    history = histories[weight]
    best_row = next((r for r in history if r["epoch"] == chosen["best_epoch"]), None)
    selection = {
        "data_scale": mol_meta.get("data_scale", ""),
        "chosen_weight": weight,
        "criterion": "lowest validation E_int MAE among the weights whose molecular validation "
                     f"MAE is within {100 * tolerance:g} % of the stage-2 model's",
        "molecular_constraint_met": chosen["molecular_constraint_met"],
        **grid.summary(),
        "initial": initial,
        "epoch_0": start,
        "runs": runs,
        "histories": {f"{w:g}": h for w, h in histories.items()},
        "settings": settings,
        "n_dimers": {"train": int(split["train"].numel()), "val": int(split["val"].numel())},
        "dimer_sources": dimer_meta.get("sources", {}),
        "inputs": inputs,
    }
    config = copy.deepcopy(stage2["config"])
    config["potential"]["neutral_charges"] = bool(model.neutral_charges)
    config["potential"]["intermolecular_pair_class"] = bool(model.intermolecular_pair_class)
    config["interactions"] = {**settings, "chosen_weight": weight}
    ids = [d["dimer_id"] for d in dimer_meta.get("dimers", [])]
    payload = model_payload(
        model.cpu(), config, kind="potential", target="total",
        split=stage2.get("split", {}),
        dimer_split={name: [ids[i] for i in idx.tolist()] for name, idx in dimer_split.items()},
        inputs=inputs, data_scale=mol_meta.get("data_scale", ""), seed=seed,
        name=output_path.stem,
        final={"train_loss": best_row["train_loss"] if best_row else None,
               "val_loss": chosen["val_interaction_mae_kcal_mol"],
               "test_loss": best_row["test_loss"] if best_row else None},
    )
    write_model_file(output_path, payload)
    write_history(history_path, history)
    selection_path.parent.mkdir(parents=True, exist_ok=True)
    selection_path.write_text(json.dumps(_finite(selection), indent=1) + "\n")
    remove_weight_files(output_path, grid.weights)
    return selection


def remove_weight_files(output_path: Path, weights: list[float]) -> None:
    """Delete the per-weight ``.done`` files of a finished stage (the model file is written)."""
    for weight in weights:
        _weight_path(output_path, weight, "done").unlink(missing_ok=True)


def _finite(value):  # noqa: ANN001, ANN202 - JSON: NaN → null
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float) and value != value:
        return None
    return value
