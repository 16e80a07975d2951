"""Helpers for the training tests: small configurations and datasets."""

from __future__ import annotations

import copy

from virialff.config import default_config
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
        "early_stopping_patience": None,
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
        "early_stopping_patience": None,
    },
}

#: the schema's training.guards (the numbers the guards are chosen with).
GUARDS = default_config()["training"]["guards"]

#: eight molecules of H, C, O only: four linear-reference parameters for eight energies, so
#: the least-squares reference leaves a residual for the networks to learn.
CHO_SMILES = ("CCO", "CCCO", "OCCO", "CC(C)O", "CCOC", "CCCC", "CC(=O)O", "C1CCOC1")


def small_config(**changes) -> dict:  # noqa: ANN003
    """Workflow-like config with tiny networks; ``changes`` update training sections."""
    training = copy.deepcopy(SMALL_TRAINING)
    for section, values in changes.items():
        training[section].update(values)
    return {"seed": 123, "run_name": "test", "data_scale": "custom", "training": training}


def embed(dataset, output, history, config, **options):  # noqa: ANN001, ANN003, ANN201
    """Stage 1 with the settings of a workflow-like ``config`` (as the rule passes them)."""
    from virialff.train.stages import train_embedding

    return train_embedding(dataset, output, history, settings=config["training"]["embedding"],
                           seed=config["seed"], device=config["training"]["device"], **options)


def potential(dataset, output, history, config, target, embedding_path=None,  # noqa: ANN001
              **options):  # noqa: ANN003, ANN201
    """Stage 2 with the settings of ``config``: on the frozen stage-1 model when
    ``embedding_path`` is given, else with embeddings learned from scratch."""
    from virialff.config_keys import EMBEDDING_KEYS
    from virialff.train.stages import train_potential

    sizes = {k: config["training"]["embedding"][k] for k in EMBEDDING_KEYS}
    return train_potential(dataset, output, history, target=target,
                           settings=config["training"]["potential"], seed=config["seed"],
                           device=config["training"]["device"], embedding_path=embedding_path,
                           embedding_sizes=None if embedding_path else sizes, **options)
