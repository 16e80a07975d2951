"""Which keys of a configuration section each consumer reads: a leaf module, so that the
workflow's rules can name them without importing torch or matplotlib (every ``snakemake``
call parses the rules; those imports took most of a dry run's time).
"""

from __future__ import annotations

#: ``training.embedding`` keys that size the stage-1 network (stored in every model file).
EMBEDDING_KEYS: tuple[str, ...] = (
    "message_passing_steps",
    "hidden_width",
    "atom_head_layers",
    "atom_head_width",
    "edge_head_layers",
    "edge_head_width",
)
#: ``training.potential`` keys that shape the stage-2 networks.
POTENTIAL_KEYS: tuple[str, ...] = (
    "charge_net_layers",
    "charge_net_width",
    "feats_net_layers",
    "feats_net_width",
    "neutral_charges",
)
#: ``training.interactions`` keys that change the stage-3 model (fingerprinted).
INTERACTION_TRAINING_KEYS: tuple[str, ...] = (
    "interaction_weight",
    "learning_rate",
    "epochs",
    "early_stopping_patience",
    "batch_size",
    "molecule_batch_size",
    "coordinate_noise_angstrom",
    "max_molecular_mae_increase",
    "max_grid_extensions",
    "neutral_charges",
    "intermolecular_pair_class",
)
#: the ``training.interactions`` keys that the GB-FFs interaction fine-tune reads
#: (:mod:`virialff.train.gbffs_interactions`): GB-FFs' charges are neutral per molecule by
#: construction and it has no pair classes, so the paper model's two switches do not apply.
GBFFS_INTERACTION_TRAINING_KEYS: tuple[str, ...] = tuple(
    k for k in INTERACTION_TRAINING_KEYS if k not in ("neutral_charges",
                                                      "intermolecular_pair_class"))
#: ``training.gbffs`` keys that are workflow switches, not settings of the GB-FFs training.
GBFFS_SWITCH_KEYS: tuple[str, ...] = ("interactions",)
#: keys Fig. 4 prints for each stage.
EMBEDDING_FIGURE_KEYS: tuple[str, ...] = (
    "message_passing_steps", "hidden_width", "atom_head_layers", "atom_head_width",
    "edge_head_layers", "edge_head_width", "batch_size", "learning_rate", "epochs",
)
POTENTIAL_FIGURE_KEYS: tuple[str, ...] = (
    "pretrained_embeddings", "charge_net_layers", "charge_net_width", "feats_net_layers",
    "feats_net_width", "neutral_charges", "batch_size", "learning_rate", "lr_decay_factor",
    "lr_decay_every_epochs", "epochs", "coordinate_noise_angstrom",
)
