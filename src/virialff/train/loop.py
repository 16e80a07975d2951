"""The shared training loop: mini-batches, evaluation, history, checkpoints and resumption.

A checkpoint ``<output>.ckpt`` is written after every epoch (model, optimizer, scheduler, the
shuffling/noise generator, Python/NumPy/torch RNG states, history). When a run is killed,
running it again resumes from the last checkpoint and ends with exactly the weights an
uninterrupted run would have on the CPU (same seed). The checkpoint is removed once the final
outputs are written.

A checkpoint carries a fingerprint: the SHA-256 of the training configuration and of every
input file (dataset, stage-1 model). A checkpoint whose fingerprint differs from the current
run's (another configuration, a rebuilt dataset, a retrained embedding) is discarded and
training starts fresh; the log says which part differed.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger("virialff.train")

HISTORY_COLUMNS: tuple[str, ...] = (
    "epoch",
    "train_loss",
    "val_loss",
    "test_loss",
    "learning_rate",
    "wall_s",
)

#: ``errors(molecule_indices [n], training) -> absolute errors [n]`` (kcal/mol).
ErrorFunction = Callable[[torch.Tensor, bool], torch.Tensor]


class TrainingInterruptedError(RuntimeError):
    """Raised by a ``stop_after_epoch`` callback to simulate a killed run (tests)."""


@dataclass
class LoopSettings:
    """How to run the loop; ``fingerprint`` (:func:`run_fingerprint`) identifies what a
    checkpoint was trained from."""

    epochs: int
    batch_size: int
    seed: int
    checkpoint_path: Path
    fingerprint: dict
    early_stopping_patience: int | None = None
    eval_batch_size: int = 1024
    progress: bool = True
    description: str = "training"


def file_digest(path: str | Path) -> str:
    """SHA-256 (hex) of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_fingerprint(configuration: object, inputs: dict[str, str]) -> dict:
    """``{"config": sha256 of the JSON of configuration, "inputs": {name: sha256}}``.

    ``inputs`` maps each input file's role (``dataset``, ``embedding``) to
    :func:`file_digest` of it.
    """
    text = json.dumps(configuration, sort_keys=True, default=str)
    return {"config": hashlib.sha256(text.encode()).hexdigest(), "inputs": dict(inputs)}


def fingerprint_mismatch(saved: object, current: dict) -> str:
    """Empty when a checkpoint's fingerprint equals the current one, else why not."""
    if not isinstance(saved, dict) or "config" not in saved or "inputs" not in saved:
        return "it has no fingerprint of its inputs (written by an older virialff)"
    reasons = []
    if saved["config"] != current["config"]:
        reasons.append("the training configuration changed")
    for name in sorted(set(saved["inputs"]) | set(current["inputs"])):
        before, now = saved["inputs"].get(name), current["inputs"].get(name)
        if before != now:
            reasons.append(f"the {name} changed (SHA-256 {str(before)[:12]}… → {str(now)[:12]}…)")
    return "; ".join(reasons)


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return the CPU generator used for shuffling and noise."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def _rng_states(generator: torch.Generator) -> dict:
    state = {
        "generator": generator.get_state(),
        "torch": torch.random.get_rng_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_states(generator: torch.Generator, state: dict) -> None:
    generator.set_state(state["generator"])
    torch.random.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def evaluate_mae(errors: ErrorFunction, indices: torch.Tensor, batch_size: int) -> float:
    """MAE (kcal/mol) over ``indices`` in chunks, without gradients; NaN when empty."""
    if indices.numel() == 0:
        return float("nan")
    total = 0.0
    with torch.no_grad():
        for start in range(0, indices.numel(), batch_size):
            total += float(errors(indices[start : start + batch_size], False).sum())
    return total / indices.numel()


def write_history(path: str | Path, history: list[dict]) -> None:
    """Write the history CSV (columns :data:`HISTORY_COLUMNS`)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HISTORY_COLUMNS)
        writer.writeheader()
        for row in history:
            writer.writerow({k: row[k] for k in HISTORY_COLUMNS})


def run_loop(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    errors: ErrorFunction,
    split: dict[str, torch.Tensor],
    settings: LoopSettings,
    generator: torch.Generator,
    stop_after_epoch: Callable[[int], None] | None = None,
) -> list[dict]:
    """Train for ``settings.epochs`` epochs; return the history (one dict per epoch).

    Each epoch shuffles the training indices with ``generator`` and takes one optimizer step
    per mini-batch on its mean absolute error. ``train_loss`` is the mean of the mini-batch
    losses of the epoch (with coordinate noise in stage 2); ``val_loss`` and ``test_loss`` are
    evaluated after the epoch without noise or gradients. With
    ``settings.early_stopping_patience``, training stops once the validation MAE has not
    improved for that many epochs, and the model ends with the weights of its best validation
    epoch (the test loss is reported, never used to choose). Bit-identical resumption is
    guaranteed on the CPU; CUDA kernels (scatter-add) are not deterministic.
    """
    from tqdm import tqdm

    if settings.early_stopping_patience is not None and split["val"].numel() == 0:
        raise ValueError(f"{settings.description}: early stopping needs validation molecules, "
                         "and the validation split is empty")
    history: list[dict] = []
    start_epoch = 1
    best: dict = {"val_loss": float("inf"), "epoch": 0, "state": None}
    ckpt = settings.checkpoint_path
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        mismatch = fingerprint_mismatch(state.get("fingerprint"), settings.fingerprint)
        if not mismatch:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            if scheduler is not None and state.get("scheduler") is not None:
                scheduler.load_state_dict(state["scheduler"])
            _set_rng_states(generator, state["rng"])
            history = state["history"]
            best = state.get("best", best)
            start_epoch = int(state["epoch"]) + 1
            log.info(
                "resuming %s from %s after epoch %d", settings.description, ckpt, start_epoch - 1
            )
        else:
            log.warning("starting %s fresh: discarding checkpoint %s because %s",
                        settings.description, ckpt, mismatch)
    wall_offset = history[-1]["wall_s"] if history else 0.0
    started = time.perf_counter()
    train_idx = split["train"]
    interactive = sys.stderr.isatty()
    log_every = max(1, settings.epochs // 20)
    bar = tqdm(
        range(start_epoch, settings.epochs + 1),
        initial=start_epoch - 1,
        total=settings.epochs,
        desc=settings.description,
        file=sys.stderr,
        disable=not settings.progress,
        mininterval=1.0 if interactive else 30.0,  # a log file gets a bar line every 30 s
        ascii=True,
    )
    for epoch in bar:
        model.train()
        learning_rate = optimizer.param_groups[0]["lr"]
        order = train_idx[torch.randperm(train_idx.numel(), generator=generator)]
        total, count = 0.0, 0
        for start in range(0, order.numel(), settings.batch_size):
            chunk = order[start : start + settings.batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = errors(chunk, True).mean()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * chunk.numel()
            count += chunk.numel()
        if scheduler is not None:
            scheduler.step()
        model.eval()
        row = {
            "epoch": epoch,
            "train_loss": total / max(count, 1),
            "val_loss": evaluate_mae(errors, split["val"], settings.eval_batch_size),
            "test_loss": evaluate_mae(errors, split["test"], settings.eval_batch_size),
            "learning_rate": learning_rate,
            "wall_s": wall_offset + time.perf_counter() - started,
        }
        history.append(row)
        patience = settings.early_stopping_patience
        if patience is not None and row["val_loss"] < best["val_loss"]:
            best = {"val_loss": row["val_loss"], "epoch": epoch,
                    "state": {k: v.detach().clone() for k, v in model.state_dict().items()}}
        bar.set_postfix(
            train=f"{row['train_loss']:.3g}", val=f"{row['val_loss']:.3g}", refresh=False
        )
        if settings.progress and (epoch % log_every == 0 or epoch == settings.epochs):
            per_epoch = (time.perf_counter() - started) / (epoch - start_epoch + 1)
            log.info(
                "%s epoch %d/%d: train %.4g, val %.4g, test %.4g kcal/mol, lr %.3g, "
                "%.2f s/epoch, ETA %.0f s",
                settings.description,
                epoch,
                settings.epochs,
                row["train_loss"],
                row["val_loss"],
                row["test_loss"],
                learning_rate,
                per_epoch,
                per_epoch * (settings.epochs - epoch),
            )
        ckpt.parent.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_name(ckpt.name + ".tmp")
        torch.save(
            {
                "fingerprint": settings.fingerprint,
                "epoch": epoch,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": _rng_states(generator),
                "history": history,
                "best": best,
            },
            tmp,
        )
        os.replace(tmp, ckpt)
        if stop_after_epoch is not None:
            stop_after_epoch(epoch)
        if patience is not None and epoch - best["epoch"] >= patience:
            log.info("%s: early stop after epoch %d, no validation improvement since epoch %d "
                     "(val %.4g kcal/mol)", settings.description, epoch, best["epoch"],
                     best["val_loss"])
            break
    bar.close()
    if settings.early_stopping_patience is not None and best["state"] is not None:
        model.load_state_dict(best["state"])
        log.info("%s: keeping the weights of epoch %d (best validation MAE %.4g kcal/mol)",
                 settings.description, best["epoch"], best["val_loss"])
    return history
