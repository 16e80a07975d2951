"""Train/validation/test split by molecule.

The unit of the split is a *group*: a QMugs ChEMBL id (all its conformers) or one demo
molecule. Every conformer of a group lands in the same split, so no molecule is seen in
training and tested again in another conformation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from virialff.formats.molecules_csv import SPLITS


def split_sizes(
    n_groups: int,
    fractions: Mapping[str, float],
    counts: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Number of groups per split; sums to ``n_groups``.

    With ``counts`` (exact numbers, e.g. the paper's 227,613/19,814/56,904) those are used
    when they add up to ``n_groups``; otherwise they act as proportions. Fractions are turned
    into whole numbers by largest remainder; when there are at least three groups, a split
    with a positive share is never left empty.
    """
    if counts is not None and sum(counts[s] for s in SPLITS) == n_groups:
        return {s: int(counts[s]) for s in SPLITS}
    weights = np.array(
        [float(counts[s] if counts is not None else fractions[s]) for s in SPLITS], dtype=float
    )
    if weights.sum() <= 0:
        raise ValueError("split fractions must not all be zero")
    exact = n_groups * weights / weights.sum()
    sizes = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - sizes), kind="stable")[: n_groups - int(sizes.sum())]:
        sizes[index] += 1
    if n_groups >= len(SPLITS):
        for index in np.flatnonzero((sizes == 0) & (weights > 0)):
            donor = int(np.argmax(sizes))
            sizes[donor] -= 1
            sizes[index] += 1
    return {s: int(n) for s, n in zip(SPLITS, sizes, strict=True)}


def split_groups(
    group_ids: Sequence[str],
    fractions: Mapping[str, float],
    seed: int,
    counts: Mapping[str, int] | None = None,
) -> dict[str, list[str]]:
    """Assign each group id to ``train``/``val``/``test`` reproducibly.

    The ids are sorted, permuted with ``numpy.random.default_rng(seed)`` and cut at
    :func:`split_sizes`; each returned list is sorted. Same ids + same seed → same split.
    """
    unique = sorted(set(group_ids))
    sizes = split_sizes(len(unique), fractions, counts)
    order = np.random.default_rng(seed).permutation(len(unique))
    result: dict[str, list[str]] = {}
    start = 0
    for name in SPLITS:
        chosen = order[start : start + sizes[name]]
        result[name] = sorted(unique[i] for i in chosen)
        start += sizes[name]
    return result
