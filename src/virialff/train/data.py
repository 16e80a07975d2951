"""Training data: load ``results/dataset/dataset.pt``, fit linear references, build test data.

The dataset is collated once (a :class:`~virialff.chem.graph.GraphBatch` of every molecule);
batches are cut from it with :func:`~virialff.chem.graph.select_molecules`, so no per-molecule
Python work happens in the training loop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from virialff.chem.graph import GraphBatch
from virialff.formats.dataset import read_dataset
from virialff.model.potential_model import fragment_labels

#: private per-atom keys added to ``atom_targets`` so that they follow ``select_molecules``.
ATOM_INDEX_KEY = "_atom_index"
FRAGMENT_KEY = "_fragment"


def load_dataset(path: str | Path) -> tuple[GraphBatch, dict[str, torch.Tensor], dict]:
    """``(graphs, split, metadata)`` from a dataset file (format in docs/data-formats.md).

    ``graphs`` gains two private per-atom entries: ``_atom_index`` (global atom index, to look
    up cached embeddings) and ``_fragment`` (covalent fragment label, for charge neutrality).
    """
    graphs, split, metadata = read_dataset(path)
    n_atoms = int(graphs.atom_ptr[-1])
    graphs.atom_targets[ATOM_INDEX_KEY] = torch.arange(n_atoms)
    graphs.atom_targets[FRAGMENT_KEY] = fragment_labels(graphs.bond_index, n_atoms)
    return graphs, split, metadata


def fit_linear_reference(
    element_counts: torch.Tensor, n_fragments: torch.Tensor, values: torch.Tensor
) -> tuple[np.ndarray, float]:
    """Least-squares ``values ≈ wᵀN + n_fragments·b`` (float64); returns ``(w [n_elements], b)``.

    ``element_counts`` [M, n_elements], ``n_fragments`` [M], ``values`` [M] kcal/mol. Elements
    absent from ``element_counts`` get weight 0 (minimum-norm solution).
    """
    counts = element_counts.detach().cpu().double().numpy()
    target = values.detach().cpu().double().numpy()
    fragments = n_fragments.detach().cpu().double().numpy().reshape(-1, 1)
    design = np.hstack([counts, fragments])
    solution, *_ = np.linalg.lstsq(design, target, rcond=None)
    return solution[:-1], float(solution[-1])


def tensor_bytes(batch: GraphBatch) -> int:
    """Memory held by the tensors of a batch, bytes."""
    total = 0
    for value in batch.__dict__.values():
        items = value.values() if isinstance(value, dict) else [value]
        for item in items:
            if isinstance(item, torch.Tensor):
                total += item.numel() * item.element_size()
    return total




def restrict_training_split(split: dict[str, torch.Tensor], group_ids: list[str],
                            n_groups: int, seed: int) -> dict[str, torch.Tensor]:
    """``split`` with its training part cut to every conformer of ``n_groups`` compounds.

    The compounds (``group_ids``, one per molecule of the data set) of the training split are
    put in a ``numpy.random.default_rng(seed)`` order and the first ``n_groups`` kept, so a
    smaller subset is always part of a larger one with the same seed (learning curves).
    Validation and test are unchanged. ``ValueError`` when ``n_groups`` exceeds the training
    compounds.
    """
    train = split["train"].tolist()
    compounds = sorted({group_ids[i] for i in train})
    if not 1 <= n_groups <= len(compounds):
        raise ValueError(f"cannot train on {n_groups} compounds: the training split has "
                         f"{len(compounds)}")
    order = np.random.default_rng(seed).permutation(len(compounds))
    chosen = {compounds[i] for i in order[:n_groups]}
    kept = [i for i in train if group_ids[i] in chosen]
    return {**split, "train": torch.as_tensor(kept, dtype=torch.long)}
