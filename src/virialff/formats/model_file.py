"""Model files (``results/models/{embedding,total,kinetic,...}.pt``).

A model file is ``torch.save`` of a plain dict, loadable with ``weights_only=True``::

    format: "virialff-model"; version: FORMAT_VERSION; kind: "potential" | "embedding" |
    "gbffs"; target: "total" | "kinetic" | "kd" | "gaff2_parameters";
    config: {"embedding": {...}, "potential": {...}, "pretrained_embeddings": bool,
    "training": {...}} (a GB-FFs file: "embedding", "gbffs", "training"); elements: [str];
    normalisation: {...}; split: {"train"|"val"|"test": [molecule ids]};
    run_name, data_scale, virialff_version; inputs: {name: sha256} (what it was trained from);
    state_digest: sha256 of the weights; state_dict.

:func:`read_model_file` turns every way a file can be unusable (missing, a directory, not a
PyTorch file, truncated, bit-flipped, another program's file, a newer format) into
``FileNotFoundError`` or ``ValueError`` with one line that names the file and the cause.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

MODEL_FORMAT = "virialff-model"
FORMAT_VERSION = 2
#: what a model file holds: the paper's potential, a stage-1 embedding, or a GB-FFs model
#: (stage-1 embedding + GAFF2-form head, :mod:`virialff.model.gbffs`).
KINDS: tuple[str, ...] = ("potential", "embedding", "gbffs")
REQUIRED_KEYS: tuple[str, ...] = ("format", "version", "kind", "target", "config", "state_dict")


def state_digest(state_dict: dict[str, Any]) -> str:
    """SHA-256 over the names, dtypes, shapes and bytes of every tensor, in sorted order."""
    import torch

    digest = hashlib.sha256()
    for name in sorted(state_dict):
        tensor = state_dict[name]
        if not isinstance(tensor, torch.Tensor):
            digest.update(f"{name}={tensor!r};".encode())
            continue
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def model_payload(model: Any, config: dict, kind: str, target: str, **extra: Any) -> dict:
    """The self-describing dict of a model file (see module docstring) for ``model``."""
    from virialff.chem.elements import SUPPORTED_ELEMENTS
    from virialff.version import __version__

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    normalisation = {
        k: v.tolist() if v.ndim else float(v)
        for k, v in state.items()
        if k in ("element_weights_kcal_mol", "bias_kcal_mol", "scale_kcal_mol")
    }
    payload = {
        "format": MODEL_FORMAT,
        "version": FORMAT_VERSION,
        "virialff_version": __version__,
        "kind": kind,
        "target": target,
        "config": copy.deepcopy(config),
        "elements": list(SUPPORTED_ELEMENTS),
        "normalisation": normalisation,
        "split": {},
        "inputs": {},
        "run_name": "untrained",
        "data_scale": "none",
    }
    payload.update(extra)
    payload["state_dict"] = state
    return payload


def write_model_file(path: str | Path, payload: dict) -> Path:
    """Write ``payload`` (from :func:`model_payload`) with its ``state_digest``, atomically."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(payload)
    payload["state_digest"] = state_digest(payload["state_dict"])
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def read_model_file(path: str | Path, kind: str | None = None) -> dict:
    """The payload of a model file, checked; ``kind`` (one of :data:`KINDS`) if given.

    Raises ``FileNotFoundError`` (no such file) or ``ValueError`` naming the file and the
    cause: not a PyTorch file, corrupt or truncated, not a virialff model, a newer format,
    weights that do not match their recorded digest, or the wrong kind.
    """
    import torch

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file {path} does not exist")
    if not path.is_file():
        raise ValueError(f"model file {path} is not a file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - zipfile, pickle, OSError, RuntimeError, ...
        cause = " ".join(str(error).split())[:160] or type(error).__name__
        raise ValueError(f"{path} is not a readable virialff model file (corrupt, truncated or "
                         f"not a PyTorch file: {cause})") from None
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path} is not a virialff model file (no '{MODEL_FORMAT}' header)")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise ValueError(f"{path} is an incomplete virialff model file (missing "
                         f"{', '.join(missing)})")
    version = payload.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} has model format version {version!r}; this virialff reads "
                         f"versions up to {FORMAT_VERSION}: upgrade virialff")
    recorded = payload.get("state_digest")
    if recorded is not None and recorded != state_digest(payload["state_dict"]):
        raise ValueError(f"{path} is corrupt: its weights do not match their recorded SHA-256 "
                         "digest")
    if payload.get("kind") not in KINDS:
        raise ValueError(f"{path} holds a model of kind {payload.get('kind')!r}; this virialff "
                         f"reads {', '.join(KINDS)}: upgrade virialff")
    if kind is not None and payload.get("kind") != kind:
        raise ValueError(f"{path} is a '{payload.get('kind')}' model, not a '{kind}' model")
    return payload
