"""The compute device of training and prediction, checked once."""

from __future__ import annotations

import torch


def select_device(device: str | torch.device | None = None) -> torch.device:
    """``None``/"auto" → CUDA when available else CPU; otherwise ``torch.device(device)``.

    Raises ``ValueError`` for a device string torch does not know, or for a CUDA device
    when this torch build or machine has no usable GPU.
    """
    if device is None or str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"invalid device {str(device)!r}: use cpu, cuda, cuda:N or auto") from None
    if chosen.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} requested but CUDA is not available "
                             f"(torch {torch.__version__}, {torch.cuda.device_count()} GPUs)")
        if chosen.index is not None and chosen.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(device)!r} requested but only "
                             f"{torch.cuda.device_count()} CUDA device(s) exist")
    elif chosen.type != "cpu":
        raise ValueError(f"device {str(device)!r} is not supported: use cpu, cuda or auto")
    return chosen
