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


def xtb_settings_for_job(geometry: dict, threads: int, resources: object):  # noqa: ANN201
    """:class:`~virialff.qc.xtb.XtbSettings` of a job: the result keys of the ``geometry``
    section from its params, threads and the execution keys from its resources
    (``xtb_executable``, ``xtb_timeout_s``)."""
    from virialff.qc.xtb import xtb_settings_from_config

    return xtb_settings_from_config({
        **geometry, "threads": threads, "xtb_executable": resources.xtb_executable,
        "timeout_s": resources.xtb_timeout_s,
    })


def descriptors_for_job(descriptors: dict, threads: int, resources: object) -> dict:
    """The complete ``descriptors`` section of a job: its result keys from params, threads,
    and the execution keys from its resources (``psi4_executable``, ``psi4_memory``,
    ``psi4_timeout_s``)."""
    return {**descriptors, "threads": threads, "psi4_executable": resources.psi4_executable,
            "memory": resources.psi4_memory, "timeout_s": resources.psi4_timeout_s}


def psi4_settings_for_job(descriptors: dict, threads: int, resources: object):  # noqa: ANN201
    """:class:`~virialff.qc.psi4_process.Psi4Settings` of a job (see
    :func:`descriptors_for_job`)."""
    from virialff.qc.psi4_process import psi4_settings_from_config

    return psi4_settings_from_config(descriptors_for_job(descriptors, threads, resources))
