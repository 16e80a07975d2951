"""Logging for Snakemake entry points: one handler to the rule's log file, one to stderr."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup_logging(log_path: str | Path | None, name: str = "virialff") -> logging.Logger:
    """Send ``virialff`` log records to ``log_path`` (if given) and to stderr, level INFO."""
    logger = logging.getLogger("virialff")
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    for handler in handlers:
        handler.setFormatter(formatter)
        logger.addHandler(handler)
    return logging.getLogger(name)
