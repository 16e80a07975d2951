"""Shared fixtures: RDKit molecules and an untrained predictor with non-trivial outputs."""

from __future__ import annotations

import pytest
import torch
from model_support import embedded
from rdkit import Chem

from virialff.model.predictor import Predictor


@pytest.fixture(autouse=True, scope="module")
def _single_thread():
    """Small tensors: one thread is fastest, especially on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def fluoroethanol() -> Chem.Mol:
    return embedded("OCC(F)c1ccncc1")


@pytest.fixture
def predictor() -> Predictor:
    """Untrained float64 predictor whose charges and pair parameters are O(0.1-1)."""
    p = Predictor.untrained("total", seed=3).astype(torch.float64)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for layer in (p.model.charge_net[-1], p.model.feats_net.rest[-1]):
            layer.weight.copy_(0.5 * torch.randn(layer.weight.shape, generator=generator))
        p.model.element_weights_kcal_mol.copy_(torch.arange(9, dtype=torch.float64))
    return p
