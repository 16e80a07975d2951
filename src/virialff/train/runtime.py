"""Helpers for the Snakemake scripts of the training stage: logging and threads."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_script(log_path: str | Path | None, threads: int | None = None) -> None:
    """Send stderr (tqdm progress, warnings) and logging to ``log_path``.

    With ``threads``, also set torch's CPU threads (plot scripts leave torch alone).
    """
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives for the process
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if threads is None:
        return
    import torch

    torch.set_num_threads(max(1, int(threads)))
    logging.getLogger("virialff.train").info(
        "torch %s, cuda available: %s, threads: %d",
        torch.__version__,
        torch.cuda.is_available(),
        threads,
    )
