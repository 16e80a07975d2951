"""Helpers for the training tests: small configurations and datasets."""

from __future__ import annotations

import copy

SMALL_TRAINING = {
    "device": "cpu",
    "num_workers": 0,
    "embedding": {
        "message_passing_steps": 2,
        "hidden_width": 16,
        "atom_head_layers": 2,
        "atom_head_width": 16,
        "edge_head_layers": 2,
        "edge_head_width": 16,
        "batch_size": 4,
        "learning_rate": 3.0e-3,
        "epochs": 4,
    },
    "potential": {
        "pretrained_embeddings": True,
        "charge_net_layers": 2,
        "charge_net_width": 16,
        "feats_net_layers": 2,
        "feats_net_width": 16,
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
