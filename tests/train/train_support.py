"""Helpers for the training tests: small configurations and datasets."""

from __future__ import annotations

import copy

from virialff.model.potential_model import SMALL_MODEL_CONFIG

#: the small network sizes of Predictor.untrained, plus training settings for quick runs
SMALL_TRAINING = {
    "device": "cpu",
    "num_workers": 0,
    "embedding": {
        **SMALL_MODEL_CONFIG["embedding"],
        "batch_size": 4,
        "learning_rate": 3.0e-3,
        "epochs": 4,
    },
    "potential": {
        **SMALL_MODEL_CONFIG["potential"],
        "pretrained_embeddings": True,
        "batch_size": 4,
        "learning_rate": 3.0e-3,
        "lr_decay_factor": 0.8,
        "lr_decay_every_epochs": 2,
        "epochs": 4,
        "coordinate_noise_angstrom": 0.005,
    },
}

#: eight molecules of H, C, O only: four linear-reference parameters for eight energies, so
#: the least-squares reference leaves a residual for the networks to learn.
CHO_SMILES = ("CCO", "CCCO", "OCCO", "CC(C)O", "CCOC", "CCCC", "CC(=O)O", "C1CCOC1")


def small_config(**changes) -> dict:  # noqa: ANN003
    """Workflow-like config with tiny networks; ``changes`` update training sections."""
    training = copy.deepcopy(SMALL_TRAINING)
    for section, values in changes.items():
        training[section].update(values)
    return {"seed": 123, "run_name": "test", "data_scale": "custom", "training": training}
