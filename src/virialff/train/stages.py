"""Stage 1 (K·D embeddings) and stage 2 (total / kinetic potential) training entry points.

Both read ``results/dataset/dataset.pt``, train on its ``train`` split, report val/test MAE
every epoch and write a self-describing model file (:mod:`virialff.formats.model_file`) plus a
history CSV (docs/data-formats.md). Every setting arrives as an argument: ``settings`` is the
``training.embedding`` or ``training.potential`` section of the (schema-validated)
configuration, so these functions hold no defaults of their own.

Checkpoints are fingerprinted with the SHA-256 of the settings and of every input file (the
dataset, the stage-1 model); a checkpoint from other inputs is discarded, with the reason in
the log (:func:`virialff.train.loop.run_loop`).
"""

from __future__ import annotations

import contextlib
import copy
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from virialff.chem.graph import GraphBatch, select_molecules
from virialff.config_keys import EMBEDDING_KEYS, POTENTIAL_KEYS
from virialff.forcefield.pair_potential import guards_from_distances
from virialff.formats.model_file import model_payload, read_model_file, write_model_file
from virialff.model.device import select_device
from virialff.model.embedding import KineticDecompositionModel
from virialff.model.potential_model import (
    TARGET_KEYS,
    PotentialModel,
    build_potential_model,
    embedding_model_kwargs,
)
from virialff.train.data import (
    ATOM_INDEX_KEY,
    FRAGMENT_KEY,
    fit_linear_reference,
    load_dataset,
    restrict_training_split,
    tensor_bytes,
)
from virialff.train.loop import (
    LoopSettings,
    file_digest,
    run_fingerprint,
    run_loop,
    seed_everything,
    write_history,
)

log = logging.getLogger("virialff.train")
#: keep the whole dataset on the GPU when it needs less than this fraction of its memory.
GPU_DATASET_FRACTION = 0.3


def _prepare_device(device: str) -> torch.device:
    """The training device; on CUDA, TensorFloat-32 matrix products (about 3x faster on
    Ampere/Hopper; energies are summed in float64, so the kcal/mol resolution is unaffected)."""
    dev = select_device(device)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return dev


def _place_dataset(graphs: GraphBatch, device: torch.device) -> GraphBatch:
    """The dataset on ``device`` when it fits comfortably there, else left on the CPU."""
    if device.type != "cuda":
        return graphs
    capacity = torch.cuda.get_device_properties(device).total_memory
    if tensor_bytes(graphs) < GPU_DATASET_FRACTION * capacity:
        return graphs.to(device)
    log.info("dataset (%.1f GB) stays on the CPU; batches are copied", tensor_bytes(graphs) / 1e9)
    return graphs


def _batch(data: GraphBatch, indices: torch.Tensor, device: torch.device) -> GraphBatch:
    return select_molecules(data, indices.to(data.atom_ptr.device)).to(device)


def _split_ids(graphs: GraphBatch, split: dict[str, torch.Tensor]) -> dict[str, list[str]]:
    return {name: [graphs.molecule_ids[i] for i in idx.tolist()] for name, idx in split.items()}


def _finish(
    payload: dict, output_path: Path, history: list[dict], history_path: Path, checkpoint: Path
) -> None:
    write_model_file(output_path, payload)
    write_history(history_path, history)
    checkpoint.unlink(missing_ok=True)


def embedding_errors(
    model: KineticDecompositionModel, data: GraphBatch, device: torch.device
) -> Callable[[torch.Tensor, bool], torch.Tensor]:
    """``errors(indices, training)``: |T̂ − T| (kcal/mol) of the molecules ``indices``."""
    key = TARGET_KEYS["kinetic"]

    def errors(indices: torch.Tensor, training: bool) -> torch.Tensor:
        batch = _batch(data, indices, device)
        predicted = model(batch)["kinetic_kcal_mol"]
        return (predicted - batch.molecule_targets[key].to(predicted.dtype)).abs()

    return errors


def jittered_positions(batch: GraphBatch, noise_angstrom: float,
                       generator: torch.Generator) -> torch.Tensor:
    """The batch's coordinates (Å) plus Gaussian noise of ``noise_angstrom`` (none when 0);
    the noise is drawn on the CPU from ``generator`` so a run is the same on every device."""
    positions = batch.positions_angstrom
    if noise_angstrom <= 0:
        return positions
    jitter = torch.randn(positions.shape, generator=generator, dtype=positions.dtype)
    return positions + noise_angstrom * jitter.to(positions.device)


FORCES_KEY = "forces_kcal_mol_angstrom"
HAS_FORCES_KEY = "has_forces"


def energy_and_force_errors(
    model: PotentialModel,
    batch: GraphBatch,
    positions: torch.Tensor,
    h: torch.Tensor | None,
    with_forces: bool,
    create_graph: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(Ê − E [M], force MAE per molecule [M], has_forces [M])`` of a batch (kcal/mol).

    The force error of a molecule is the mean over its atoms and components of |F̂ − F|
    (kcal/mol/Å), F̂ = −∂Ê/∂x by autograd in the model's dtype (float64 for the
    force-trained models); it is 0 (and ``has_forces`` 0) where the DFT gave no forces, or
    everywhere when not ``with_forces``. ``create_graph``: keep the graph of F̂ (training).
    """
    key = TARGET_KEYS[model.target]
    if with_forces:  # the leaf in the model's dtype, so F̂ is computed (and kept) in it
        dtype = next(model.charge_net.parameters()).dtype
        positions = positions.detach().to(dtype).requires_grad_(True)
    with torch.enable_grad() if with_forces else contextlib.nullcontext():
        out = model(batch, positions, h=h, fragment=batch.atom_targets[FRAGMENT_KEY])
        predicted = out["energy_kcal_mol"]
        energy_error = predicted - batch.molecule_targets[key].to(predicted.dtype)
        n = predicted.shape[0]
        has = batch.molecule_targets.get(HAS_FORCES_KEY)
        has = (torch.zeros(n, dtype=predicted.dtype, device=predicted.device) if has is None
               else has.to(predicted.dtype))
        if not with_forces or not bool(has.any()):
            return energy_error, torch.zeros_like(energy_error), has * 0
        (gradient,) = torch.autograd.grad(predicted.sum(), positions, create_graph=create_graph)
    reference = batch.atom_targets[FORCES_KEY].to(gradient.dtype)
    per_atom = (-gradient - reference).abs().sum(-1)
    owner = torch.repeat_interleave(torch.arange(n, device=per_atom.device),
                                    batch.atom_ptr[1:] - batch.atom_ptr[:-1])
    sizes = (batch.atom_ptr[1:] - batch.atom_ptr[:-1]).to(per_atom.dtype)
    force_error = per_atom.new_zeros(n).index_add(0, owner, per_atom) / (3.0 * sizes)
    return energy_error, force_error * has, has


def potential_errors(
    model: PotentialModel,
    data: GraphBatch,
    device: torch.device,
    cache: torch.Tensor | None,
    noise_angstrom: float,
    generator: torch.Generator,
    force_weight: float = 0.0,
    dipole_weight: float = 0.0,
) -> Callable[[torch.Tensor, bool], torch.Tensor]:
    """``errors(indices, training)``: |Ê − E| + w_F·(force MAE of the molecule)
    + w_μ·|μ(Q) − μ_DFT| (kcal/mol) of the molecules ``indices`` (:func:`energy_and_force_errors`;
    w_F = ``force_weight`` in Å, w_μ = ``dipole_weight`` in kcal/mol/Debye; molecules without
    DFT forces or dipole contribute only the terms they have; :func:`charge_dipole_errors_debye`).

    ``cache``: frozen embeddings [A_total, hidden] (or None to run the embedding network);
    in training, Gaussian noise of ``noise_angstrom`` (drawn from ``generator``) is added to
    the coordinates: the forces are compared at the jittered positions, which moves each atom
    by ~0.005 Å, far less than the force labels' resolution.
    """

    def errors(indices: torch.Tensor, training: bool) -> torch.Tensor:
        batch = _batch(data, indices, device)
        positions = jittered_positions(batch, noise_angstrom if training else 0.0, generator)
        h = None
        if cache is not None:
            h = cache[batch.atom_targets[ATOM_INDEX_KEY].to(cache.device)].to(device)
        energy_error, force_error, _ = energy_and_force_errors(
            model, batch, positions, h, force_weight > 0, create_graph=training)
        error = energy_error.abs() + force_weight * force_error
        if dipole_weight > 0:
            dipole_error, has = charge_dipole_errors_debye(model, batch, h)
            error = error + dipole_weight * torch.where(has, dipole_error, 0.0).to(error.dtype)
        return error

    return errors


#: Debye per e·Å.
DEBYE_PER_E_ANGSTROM = 4.80320471


def charge_dipole_errors_debye(
    model: PotentialModel, batch: GraphBatch, h: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(|μ(Q) − μ_DFT| [M] in Debye, has_dipole [M] bool)`` of a batch, differentiable in
    the charges: μ(Q) = Σ_i Q_i·r_i about the origin of the input frame, the origin of the
    stored DFT dipole (the two agree for any origin when the charges are neutral). Rows
    without a DFT dipole hold 0 and ``has_dipole`` false."""
    n = batch.atom_ptr.numel() - 1
    device = batch.positions_angstrom.device
    has = batch.molecule_targets.get("has_dipole")
    if has is None:
        return (torch.zeros(n, dtype=torch.float64, device=device),
                torch.zeros(n, dtype=torch.bool, device=device))
    if h is None:
        h = model.embed(batch)
    charges = model.charges_from_embeddings(
        h.to(next(model.charge_net.parameters()).dtype), batch.atom_targets[FRAGMENT_KEY])
    owner = torch.repeat_interleave(torch.arange(n, device=charges.device),
                                    batch.atom_ptr[1:] - batch.atom_ptr[:-1])
    moment = torch.zeros((n, 3), dtype=torch.float64, device=charges.device).index_add(
        0, owner, charges.double()[:, None] * batch.positions_angstrom.double())
    error = torch.linalg.vector_norm(
        moment * DEBYE_PER_E_ANGSTROM - batch.molecule_targets["dipole_debye"].double(), dim=-1)
    has = has > 0
    return torch.where(has, error, torch.zeros_like(error)), has


def energy_and_force_mae(model: PotentialModel, data: GraphBatch, device: torch.device,
                         cache: torch.Tensor | None, indices: torch.Tensor,
                         batch_size: int = 256) -> dict[str, float]:
    """Energy MAE (kcal/mol) over ``indices`` and force MAE (kcal/mol/Å, per component) over
    those of them with DFT forces; ``n_with_forces`` counts them (force MAE NaN when 0)."""
    energy_sum = force_sum = atoms_with_forces = 0.0
    n_with_forces = 0
    model.eval()
    for start in range(0, indices.numel(), batch_size):
        batch = _batch(data, indices[start:start + batch_size], device)
        h = None
        if cache is not None:
            h = cache[batch.atom_targets[ATOM_INDEX_KEY].to(cache.device)].to(device)
        energy_error, force_error, has = energy_and_force_errors(
            model, batch, batch.positions_angstrom, h, True, create_graph=False)
        sizes = (batch.atom_ptr[1:] - batch.atom_ptr[:-1]).to(force_error.dtype)
        energy_sum += float(energy_error.detach().abs().sum())
        force_sum += float((force_error.detach() * sizes).sum())
        atoms_with_forces += float((has * sizes).sum())
        n_with_forces += int(has.sum())
    return {"energy_mae_kcal_mol": energy_sum / max(indices.numel(), 1),
            "force_mae_kcal_mol_angstrom": (force_sum / atoms_with_forces if atoms_with_forces
                                            else float("nan")),
            "n": int(indices.numel()), "n_with_forces": n_with_forces}


def class_distance_range(graphs: GraphBatch, indices: torch.Tensor, chunk: int = 512
                         ) -> tuple[dict[str, float], dict[str, float]]:
    """Shortest distance (Å) of each pair class (bonded X–H, bonded heavy–heavy, non-bonded)
    and longest length of each kind of bond (``"C-H"``, and per bonded class) over every pair
    of the molecules ``indices``: where the guards' cores and stretch walls must stay zero."""
    from virialff.chem.elements import SUPPORTED_ELEMENTS
    from virialff.forcefield.pair_potential import CORE_CLASSES, bond_key, pair_core_class
    from virialff.model.potential import pair_distances_angstrom
    from virialff.model.potential_model import HYDROGEN_INDEX

    shortest = dict.fromkeys(CORE_CLASSES, float("inf"))
    longest: dict[str, float] = {}
    for start in range(0, indices.numel(), chunk):
        batch = select_molecules(graphs, indices[start:start + chunk])
        hydrogen = (batch.element_index == HYDROGEN_INDEX).long()
        i, j = batch.pair_index
        bonded = batch.pair_type > 0
        kind = pair_core_class(bonded.long(), hydrogen[i], hydrogen[j])
        r = pair_distances_angstrom(batch.positions_angstrom.double(), batch.pair_index)
        for k, name in enumerate(CORE_CLASSES):
            if bool((kind == k).any()):
                shortest[name] = min(shortest[name], float(r[kind == k].min()))
                if name != "nonbonded":
                    longest[name] = max(longest.get(name, 0.0), float(r[kind == k].max()))
        ei, ej = batch.element_index[i][bonded], batch.element_index[j][bonded]
        n = len(SUPPORTED_ELEMENTS)
        code = torch.minimum(ei, ej) * n + torch.maximum(ei, ej)
        lengths = r[bonded]
        for value in torch.unique(code).tolist():
            key = bond_key(SUPPORTED_ELEMENTS[value // n], SUPPORTED_ELEMENTS[value % n])
            longest[key] = max(longest.get(key, 0.0), float(lengths[code == value].max()))
    missing = [name for name, value in shortest.items() if not np.isfinite(value)]
    if missing:
        raise ValueError(f"the training molecules have no pair of class {missing}: the guards "
                         "cannot be placed")
    return shortest, dict(sorted(longest.items()))


def _require_train(split: dict[str, torch.Tensor]) -> None:
    if split["train"].numel() == 0:
        raise ValueError("the dataset has no training molecules")


def train_embedding(
    dataset_path: str | Path,
    output_path: str | Path,
    history_path: str | Path,
    *,
    settings: Mapping,
    seed: int,
    device: str,
    training_compounds: int | None = None,
    stop_after_epoch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> list[dict]:
    """Stage 1: train the MPNN on molecular T = Σ KD_atom + Σ KD_bond (MAE, Adam, constant lr).

    ``settings``: the ``training.embedding`` section (network sizes, batch size, learning
    rate, epochs); ``device``: ``auto``, ``cpu`` or ``cuda``; ``training_compounds``: train on
    that many compounds of the training split only (:func:`restrict_training_split`, seeded
    with ``seed``; ``None``: all). Writes ``output_path`` (kind ``embedding``) and
    ``history_path``; returns the history.
    """
    output_path, history_path = Path(output_path), Path(history_path)
    section = dict(settings)
    seed = int(seed)
    dev = _prepare_device(device)
    graphs, split, meta = load_dataset(dataset_path)
    if training_compounds is not None:
        split = restrict_training_split(split, meta["group_ids"], training_compounds, seed)
    _require_train(split)
    key = TARGET_KEYS["kinetic"]
    generator = seed_everything(seed)
    model = KineticDecompositionModel(**embedding_model_kwargs(section))
    train = split["train"]
    weights, bias = fit_linear_reference(
        graphs.element_counts[train], graphs.n_fragments[train], graphs.molecule_targets[key][train]
    )
    residual = graphs.molecule_targets[key][train].double().numpy() - (
        graphs.element_counts[train].double().numpy() @ weights
        + graphs.n_fragments[train].double().numpy() * bias
    )
    scale = float(np.std(residual)) if residual.size > 1 else 1.0
    with torch.no_grad():
        model.element_weights_kcal_mol.copy_(torch.as_tensor(weights))
        model.bias_kcal_mol.fill_(bias)
        model.scale_kcal_mol.fill_(max(scale, 1e-3))
    model.to(dev)
    data = _place_dataset(graphs, dev)

    errors = embedding_errors(model, data, dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(section["learning_rate"]))
    inputs = {"dataset": file_digest(dataset_path)}
    loop = LoopSettings(
        epochs=int(section["epochs"]),
        batch_size=int(section["batch_size"]),
        seed=seed,
        checkpoint_path=output_path.with_name(output_path.name + ".ckpt"),
        early_stopping_patience=section["early_stopping_patience"],
        fingerprint=run_fingerprint({"stage": "embedding", "settings": section, "seed": seed,
                                     "training_compounds": training_compounds}, inputs),
        progress=progress,
        description="stage 1 (K·D embeddings)",
    )
    history = run_loop(model, optimizer, None, errors, split, loop, generator, stop_after_epoch)
    model_config = {"embedding": {k: section[k] for k in EMBEDDING_KEYS}, "training": dict(section)}
    payload = model_payload(
        model.cpu(),
        model_config,
        kind="embedding",
        target="kd",
        split=_split_ids(graphs, split),
        inputs=inputs,
        data_scale=meta.get("data_scale", ""),
        seed=seed,
        final={k: history[-1][k] for k in ("train_loss", "val_loss", "test_loss")},
    )
    _finish(payload, output_path, history, history_path, loop.checkpoint_path)
    return history


def load_stage1_embedding(model: PotentialModel, embedding_path: str | Path) -> dict:
    """Copy the MPNN weights of a stage-1 model file into ``model.embedding``; return its config."""
    payload = read_model_file(embedding_path, kind="embedding")
    state = {
        k[len("mpnn.") :]: v for k, v in payload["state_dict"].items() if k.startswith("mpnn.")
    }
    model.embedding.load_state_dict(state)
    return payload["config"]


def cached_embeddings(
    model: PotentialModel, data: GraphBatch, device: torch.device, chunk: int = 2048
) -> torch.Tensor:
    """Frozen embeddings h [A_total, hidden] of the whole dataset, computed once."""
    n = data.n_molecules
    parts = []
    with torch.no_grad():
        for start in range(0, n, chunk):
            indices = torch.arange(start, min(start + chunk, n))
            parts.append(model.embed(_batch(data, indices, device)).to(data.atom_ptr.device))
    return torch.cat(parts) if parts else torch.zeros(0, model.embedding.hidden_width)


def train_potential(
    dataset_path: str | Path,
    output_path: str | Path,
    history_path: str | Path,
    *,
    target: str,
    settings: Mapping,
    seed: int,
    device: str,
    embedding_path: str | Path | None = None,
    embedding_sizes: Mapping | None = None,
    training_compounds: int | None = None,
    stop_after_epoch: Callable[[int], None] | None = None,
    progress: bool = True,
) -> list[dict]:
    """Stage 2: train charge_net and feats_net for ``target`` ("total" or "kinetic").

    ``settings``: the ``training.potential`` section. With ``embedding_path`` (a stage-1
    model file) its MPNN is frozen and its embeddings are computed once; without, an MPNN of
    ``embedding_sizes`` (the network keys of ``training.embedding``) is trained from scratch
    together with the heads (the no-pretraining ablation). ``training_compounds`` as in
    :func:`train_embedding`. Loss: MAE of E = E_lin + sign·Σ E_ij (+ w_F·force MAE with
    ``force_weight``) with Gaussian coordinate noise; Adam + StepLR.

    ``settings["force_weight"]`` may be a list (the ``training.forces`` grid): a model is then
    trained for each w_F and the one with the lowest validation MAE_E + MAE_F is kept; when
    that w_F is at an end of the grid, the grid is extended past it by the same ratio, at most
    ``settings["max_grid_extensions"]`` times. With ``settings["guards"]`` the guards of
    ``settings["guard_settings"]`` (``training.guards``) are placed from the shortest pair
    distances of the training geometries. Both choices are written into the model file.
    """
    section = dict(settings)
    weights = section.get("force_weight", 0.0)
    if not isinstance(weights, list | tuple):
        return _train_potential_once(
            dataset_path, output_path, history_path, target=target, section=section, seed=seed,
            device=device, embedding_path=embedding_path, embedding_sizes=embedding_sizes,
            training_compounds=training_compounds, stop_after_epoch=stop_after_epoch,
            progress=progress)[0]
    output_path, history_path = Path(output_path), Path(history_path)
    grid = sorted(float(w) for w in weights)
    results: dict[float, tuple[list[dict], dict, dict]] = {}
    extensions = 0
    while True:
        for weight in grid:
            if weight in results:
                continue
            name = f"{output_path.stem}.wF{weight:g}"
            candidate = output_path.with_name(name + output_path.suffix)
            history, payload, validation = _train_potential_once(
                dataset_path, candidate, history_path.with_name(name + "_history.csv"),
                target=target, section={**section, "force_weight": weight}, seed=seed,
                device=device, embedding_path=embedding_path, embedding_sizes=embedding_sizes,
                training_compounds=training_compounds, stop_after_epoch=stop_after_epoch,
                progress=progress, write=False)
            results[weight] = (history, payload, validation)
            log.info("w_F = %g Å: validation MAE_E %.4g kcal/mol, MAE_F %.4g kcal/mol/Å",
                     weight, validation["energy_mae_kcal_mol"],
                     validation["force_mae_kcal_mol_angstrom"])
        score = {w: _selection_score(results[w][2]) for w in grid}
        best = min(grid, key=lambda w: score[w])
        at_edge = best in (grid[0], grid[-1])
        if not at_edge or extensions >= int(section.get("max_grid_extensions", 0)):
            break
        extensions += 1
        grid = ([grid[0] ** 2 / grid[1]] + grid) if best == grid[0] else (
            grid + [grid[-1] ** 2 / grid[-2]])
        log.info("w_F = %g Å is at the edge of the grid: extending it to %s", best, grid)
    history, payload, _ = results[best]
    payload["force_weight_selection"] = {
        "criterion": "validation MAE_E (kcal/mol) + MAE_F (kcal/mol/Å)",
        "grid": grid, "chosen": best, "interior": not at_edge,
        "validation": {f"{w:g}": results[w][2] for w in grid},
    }
    if at_edge:
        log.warning("the chosen w_F = %g Å is still at the edge of the grid %s after %d "
                    "extensions", best, grid, extensions)
    write_model_file(output_path, payload)
    write_history(history_path, history)
    return history


def _selection_score(validation: dict) -> float:
    force = validation["force_mae_kcal_mol_angstrom"]
    return validation["energy_mae_kcal_mol"] + (0.0 if np.isnan(force) else force)


def _train_potential_once(
    dataset_path: str | Path,
    output_path: str | Path,
    history_path: str | Path,
    *,
    target: str,
    section: dict,
    seed: int,
    device: str,
    embedding_path: str | Path | None,
    embedding_sizes: Mapping | None,
    training_compounds: int | None,
    stop_after_epoch: Callable[[int], None] | None,
    progress: bool,
    write: bool = True,
) -> tuple[list[dict], dict, dict]:
    """One stage-2 training with a scalar ``force_weight``: ``(history, model payload,
    validation energy and force MAE)``; writes the model and history when ``write``."""
    output_path, history_path = Path(output_path), Path(history_path)
    pretrained = embedding_path is not None
    if not pretrained and embedding_sizes is None:
        raise ValueError("a model without pretrained embeddings needs embedding_sizes")
    seed = int(seed)
    force_weight = float(section.get("force_weight", 0.0))
    dipole_weight = float(section.get("dipole_weight", 0.0))
    dev = _prepare_device(device)
    graphs, split, meta = load_dataset(dataset_path)
    if training_compounds is not None:
        split = restrict_training_split(split, meta["group_ids"], training_compounds, seed)
    _require_train(split)
    key = TARGET_KEYS[target]
    generator = seed_everything(seed)
    model_config = {
        "potential": {k: section[k] for k in POTENTIAL_KEYS},
        "pretrained_embeddings": pretrained,
    }
    train = split["train"]
    if section.get("guards"):
        guard = dict(section["guard_settings"])
        shortest, longest = class_distance_range(graphs, train)
        model_config["potential"]["guards"] = guards_from_distances(
            shortest, guard["width_min_angstrom"], guard["width_max_angstrom"],
            guard["amplitude_max_kcal_mol"], guard["core_margin"], guard["core_wall_kcal_mol"],
            guard["c12_floor_at_shortest_kcal_mol"], longest).to_dict()
        model_config["potential"]["guards"]["shortest_training_distance_angstrom"] = shortest
        model_config["potential"]["guards"]["longest_training_distance_angstrom"] = longest
        log.info("guards from the training geometries: %s", model_config["potential"]["guards"])
    inputs = {"dataset": file_digest(dataset_path)}
    if pretrained:
        stage1 = read_model_file(embedding_path, kind="embedding")["config"]
        model_config["embedding"] = dict(stage1["embedding"])
        inputs["embedding"] = file_digest(embedding_path)
    else:
        model_config["embedding"] = {k: embedding_sizes[k] for k in EMBEDDING_KEYS}
    model = build_potential_model(model_config, target, bool(pretrained))
    if force_weight > 0:
        # forces are derivatives of ~1e5 kcal/mol totals: float64 keeps them exact
        model = model.double()
    if pretrained:
        load_stage1_embedding(model, embedding_path)
    weights, bias = fit_linear_reference(
        graphs.element_counts[train], graphs.n_fragments[train], graphs.molecule_targets[key][train]
    )
    with torch.no_grad():
        model.element_weights_kcal_mol.copy_(torch.as_tensor(weights))
        model.bias_kcal_mol.fill_(bias)
    model.to(dev)
    data = _place_dataset(graphs, dev)
    cache = cached_embeddings(model, data, dev) if pretrained else None
    errors = potential_errors(
        model, data, dev, cache, float(section["coordinate_noise_angstrom"]), generator,
        force_weight, dipole_weight)
    optimizer = torch.optim.Adam(model.trainable_parameters(), lr=float(section["learning_rate"]))
    scheduler = torch.optim.lr_scheduler.StepLR(
        optimizer,
        step_size=int(section["lr_decay_every_epochs"]),
        gamma=float(section["lr_decay_factor"]),
    )
    name = output_path.stem
    loop = LoopSettings(
        epochs=int(section["epochs"]),
        batch_size=int(section["batch_size"]),
        seed=seed,
        checkpoint_path=output_path.with_name(output_path.name + ".ckpt"),
        early_stopping_patience=section["early_stopping_patience"],
        fingerprint=run_fingerprint(
            {"stage": "potential", "target": target, "model": model_config, "settings": section,
             "seed": seed, "training_compounds": training_compounds},
            inputs,
        ),
        progress=progress,
        description=f"stage 2 ({name})",
    )
    history = run_loop(model, optimizer, scheduler, errors, split, loop, generator,
                       stop_after_epoch)
    validation = energy_and_force_mae(model, data, dev, cache, split["val"])
    full_config = copy.deepcopy(model_config)
    full_config["training"] = dict(section)
    payload = model_payload(
        model.cpu(),
        full_config,
        kind="potential",
        target=target,
        split=_split_ids(graphs, split),
        inputs=inputs,
        data_scale=meta.get("data_scale", ""),
        seed=seed,
        name=name,
        final={k: history[-1][k] for k in ("train_loss", "val_loss", "test_loss")},
        validation=validation,
    )
    if write:
        _finish(payload, output_path, history, history_path, loop.checkpoint_path)
    else:
        loop.checkpoint_path.unlink(missing_ok=True)
    return history, payload, validation
