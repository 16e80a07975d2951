"""Helpers for the Snakemake workflow itself (imported by ``rules/common.smk``)."""

from __future__ import annotations

import os


def prepend_to_pythonpath(path: str) -> None:
    """Put ``path`` first on ``PYTHONPATH`` of this process and every job it starts.

    Rule scripts then import :mod:`virialff` from the checkout's ``src/`` whether or not the
    package is pip-installed in the job's environment (conda envs, cluster nodes).
    """
    existing = [entry for entry in os.environ.get("PYTHONPATH", "").split(os.pathsep) if entry]
    os.environ["PYTHONPATH"] = os.pathsep.join([path, *[e for e in existing if e != path]])
