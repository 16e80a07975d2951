"""Logging, set up one way for every Snakemake script and command-line entry point.

:func:`setup_logging` sends the ``virialff`` loggers' records (level INFO) to the rule's log
file, and points ``sys.stderr`` at the same file, so that progress bars and warnings of the
libraries land beside them; without a log file, records go to stderr. With ``threads`` it also
sets torch's CPU threads (scripts that never use torch leave it unimported).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(log_path: str | Path | None, name: str = "virialff",
                  threads: int | None = None) -> logging.Logger:
    """Configure logging for one process and return the logger ``name``.

    Args:
        log_path: the rule's log file (truncated), or None for stderr only.
        name: the logger returned (a child of ``virialff``).
        threads: torch CPU threads to use; None leaves torch alone.
    """
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        sys.stderr = open(log_path, "w", buffering=1)  # noqa: SIM115 - lives for the process
    root = logging.getLogger("virialff")
    root.setLevel(logging.INFO)
    root.handlers.clear()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root.addHandler(handler)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").handlers = [handler]
    if threads is not None:
        import torch

        torch.set_num_threads(max(1, int(threads)))
        root.info("torch %s, cuda available: %s, threads: %d", torch.__version__,
                  torch.cuda.is_available(), threads)
    return logging.getLogger(name)
