"""Shared fixtures of the force-field tests (single-threaded: small arrays)."""

from __future__ import annotations

import pytest
import torch
from forcefield_support import ACTIVE_GUARDS, embedded, stiff_predictor, strong_predictor


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """One thread for torch and BLAS: the arrays are small and the machine is shared (ASE's
    BFGS runs 10x slower with OpenBLAS threads competing for two busy cores)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # an optional nicety, not a dependency
        yield
    else:
        with threadpool_limits(limits=1):
            yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=["paper_form", "guarded", "intermolecular_class"])
def predictor(request):
    """The paper's functional form, the same with the guards (bounded parameters and a
    repulsive core that is active at these geometries), and with a pair class of their own for
    pairs between molecules: every equality test covers all three."""
    return strong_predictor(ACTIVE_GUARDS if request.param == "guarded" else None,
                            intermolecular_class=request.param == "intermolecular_class")


@pytest.fixture(scope="module")
def stiff():
    return stiff_predictor()


@pytest.fixture(scope="module")
def fluoroethanol():
    return embedded("OCC(F)c1ccncc1")
