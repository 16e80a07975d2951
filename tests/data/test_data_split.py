"""Split by molecule: sizes from fractions or exact counts, reproducible, disjoint."""

from __future__ import annotations

import pytest

from virialff.data.split import split_groups, split_sizes

PAPER = {"train": 0.748, "val": 0.065, "test": 0.187}


@pytest.mark.parametrize("n", [3, 10, 64, 1000, 304331])
def test_sizes_sum_to_n_and_follow_the_fractions(n):
    sizes = split_sizes(n, PAPER)
    assert sum(sizes.values()) == n
    for name, fraction in PAPER.items():
        assert abs(sizes[name] - fraction * n) <= 1 or n < 10
        assert sizes[name] >= 1


def test_exact_counts_are_used_when_they_match():
    counts = {"train": 227613, "val": 19814, "test": 56904}
    assert split_sizes(304331, PAPER, counts) == counts
    scaled = split_sizes(1000, PAPER, counts)  # fewer molecules: counts act as proportions
    assert sum(scaled.values()) == 1000 and abs(scaled["val"] - 65) <= 1


def test_split_is_reproducible_disjoint_and_complete():
    ids = [f"CHEMBL{i}" for i in range(200)]
    first = split_groups(ids, PAPER, seed=7)
    assert first == split_groups(list(reversed(ids)), PAPER, seed=7)
    assert first != split_groups(ids, PAPER, seed=8)
    together = first["train"] + first["val"] + first["test"]
    assert sorted(together) == sorted(ids) and len(set(together)) == len(ids)
