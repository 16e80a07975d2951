"""Valence terms of a covalent graph: the bonds, angles, torsions and impropers of a molecular
mechanics force field, and the atom pairs it excludes or scales.

Conventions (those of Amber and GAFF2):

- an angle (i, j, k) has its centre j in the middle, and i < k;
- a proper torsion (i, j, k, l) is a path of three bonds, listed once with j < k (a path and its
  reverse are the same torsion); in rings of three atoms no torsion exists, and every path
  whose end atoms coincide is left out;
- an improper (i, j, k, l) is one per atom k with exactly three bonded neighbours: the centre is
  the THIRD atom, and the outer atoms i, j, l are its neighbours in increasing index order;
- excluded pairs are the 1-2 and 1-3 pairs; the 1-4 pairs are the end atoms of the proper
  torsions, each pair once, minus any pair that is also 1-2 or 1-3 (small rings).

All index arrays are ``int64`` and 0-based; ``n_atoms`` bounds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ValenceTerms:
    """Term lists of one graph (shapes: B bonds, G angles, T torsions, I impropers)."""

    bonds: np.ndarray  # [B, 2], i < j
    angles: np.ndarray  # [G, 3], centre in the middle
    propers: np.ndarray  # [T, 4]
    impropers: np.ndarray  # [I, 4], third atom the centre
    excluded_pairs: np.ndarray  # [E, 2], i < j: 1-2 and 1-3
    pairs14: np.ndarray  # [P, 2], i < j


def _pairs(pairs: set[tuple[int, int]]) -> np.ndarray:
    return np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2)


def valence_terms(bond_index: np.ndarray, n_atoms: int) -> ValenceTerms:
    """Every valence term of the graph with bonds ``bond_index`` [B, 2] over ``n_atoms`` atoms."""
    bonds = np.sort(np.asarray(bond_index, dtype=np.int64).reshape(-1, 2), axis=1)
    if bonds.size and (bonds.min() < 0 or bonds.max() >= n_atoms):
        raise ValueError(f"bond_index points outside {n_atoms} atoms")
    bonds = np.unique(bonds, axis=0)
    neighbours: list[list[int]] = [[] for _ in range(n_atoms)]
    for i, j in bonds.tolist():
        neighbours[i].append(j)
        neighbours[j].append(i)
    for row in neighbours:
        row.sort()

    angles = [(i, j, k) for j in range(n_atoms) for a, i in enumerate(neighbours[j])
              for k in neighbours[j][a + 1:]]
    propers = []
    for j, k in bonds.tolist():
        for i in neighbours[j]:
            if i == k:
                continue
            for ll in neighbours[k]:
                if ll in (j, i):
                    continue
                propers.append((i, j, k, ll))
    impropers = [(n[0], n[1], k, n[2]) for k, n in enumerate(neighbours) if len(n) == 3]

    one_two = {tuple(b) for b in bonds.tolist()}
    one_three = {(min(i, k), max(i, k)) for i, _, k in angles}
    excluded = one_two | one_three
    pairs14 = {(min(i, ll), max(i, ll)) for i, _, _, ll in propers} - excluded
    return ValenceTerms(
        bonds=bonds,
        angles=np.array(angles, dtype=np.int64).reshape(-1, 3),
        propers=np.array(propers, dtype=np.int64).reshape(-1, 4),
        impropers=np.array(impropers, dtype=np.int64).reshape(-1, 4),
        excluded_pairs=_pairs(excluded),
        pairs14=_pairs(pairs14),
    )
