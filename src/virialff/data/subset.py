"""Molecule selection: checks, filters, reproducible subset, split and shards.

Produces ``results/dataset/molecules.csv``, ``split.json``, ``subset.status.csv`` and
``subset.summary.json`` (formats in ``docs/data-formats.md``). Order of work:

1. candidates from the demo CSV (:mod:`virialff.data.demo`), the QMugs index
   (:mod:`virialff.data.qmugs`) or the reference set (:mod:`virialff.data.reference`),
   grouped by molecule (all conformers of one compound);
2. molecules are visited in a seeded random order (sorted order when every molecule is
   kept); each is checked (SMILES parses, allowed elements, neutral, closed shell; failures
   go to the status table with a reason from :data:`virialff.errors.REASONS`), filtered by
   heavy-atom count and de-duplicated by the stereo-insensitive
   :func:`virialff.chem.identity.canonical_key` (the first molecule of a key is kept), until
   ``subset.n_molecules`` have passed. Every input row ends up in the status table by id:
   ``ok``, ``failed`` with its reason, or ``skipped`` (``outside_size_range``, ``duplicate``
   naming the molecule it duplicates);
3. the first ``qmugs.conformers_per_molecule`` conformers (lowest ``CONF_ID``) are kept;
4. the split is drawn by molecule (:mod:`virialff.data.split`), or taken from the source when
   it fixes one (the reference set); rows are sorted by id and cut into consecutive shards of
   ``sharding.molecules_per_shard`` rows, or keep the source's shards (the reference set,
   whose shards are the units of its DFT cache).
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.chem.identity import canonical_key
from virialff.data.candidates import Candidate, load_candidates
from virialff.data.split import split_groups
from virialff.errors import MoleculeRejected
from virialff.formats.molecules_csv import SPLITS, shard_name, write_molecules_csv

log = logging.getLogger("virialff.data.subset")

STAGE = "subset"


def check_molecule(
    molecule_id: str, name: str, smiles: str | None, allowed_elements: list[str] | tuple[str, ...]
):  # noqa: ANN201 - returns rdkit Mol (heavy atoms only)
    """Parse and check one molecule; raise :class:`MoleculeRejected` naming it.

    Checks, in order: SMILES parses and sanitises (``bad_smiles``); every element is allowed
    (``unsupported_element``); net charge zero and no charged fragment of a salt
    (``charged``); no unpaired electron (``open_shell``). Formal charges inside one neutral
    fragment (nitro groups, zwitterions) are allowed.
    """
    from rdkit import Chem, RDLogger

    label = f"'{name}'" if name and name != molecule_id else "this molecule"
    if not smiles or not str(smiles).strip():
        raise MoleculeRejected(molecule_id, "bad_smiles", f"{label}: empty SMILES", STAGE)
    RDLogger.DisableLog("rdApp.*")
    try:
        mol = Chem.MolFromSmiles(str(smiles))
    finally:
        RDLogger.EnableLog("rdApp.*")
    if mol is None or mol.GetNumAtoms() == 0:
        raise MoleculeRejected(
            molecule_id, "bad_smiles", f"{label}: RDKit cannot parse SMILES {smiles!r}", STAGE
        )
    bad = sorted({a.GetSymbol() for a in mol.GetAtoms()} - set(allowed_elements))
    if bad:
        raise MoleculeRejected(
            molecule_id, "unsupported_element",
            f"{label}: element(s) {', '.join(bad)} not in filters.elements "
            f"({', '.join(allowed_elements)})", STAGE,
        )
    net_charge = Chem.GetFormalCharge(mol)
    if net_charge != 0:
        raise MoleculeRejected(
            molecule_id, "charged", f"{label}: net formal charge {net_charge:+d}; "
            "only neutral molecules are used", STAGE,
        )
    fragments = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
    if len(fragments) > 1 and any(Chem.GetFormalCharge(f) for f in fragments):
        raise MoleculeRejected(
            molecule_id, "charged", f"{label}: salt of {len(fragments)} charged fragments "
            f"({smiles}); only neutral molecules are used", STAGE,
        )
    with_h = Chem.AddHs(mol)
    radicals = sum(a.GetNumRadicalElectrons() for a in with_h.GetAtoms())
    electrons = sum(a.GetAtomicNum() for a in with_h.GetAtoms()) - net_charge
    if radicals or electrons % 2:
        raise MoleculeRejected(
            molecule_id, "open_shell", f"{label}: {radicals} unpaired electron(s), "
            f"{electrons} electrons; only closed-shell molecules are used", STAGE,
        )
    return mol


def _reference_energies_from_sdf(candidate: Candidate):  # noqa: ANN202 - QMugsConformer
    """Read a QMugs SDF and copy its reference energies (Hartree) into ``candidate.extra``."""
    from virialff.data.qmugs import read_qmugs_sdf

    try:
        conformer = read_qmugs_sdf(candidate.source_path)
    except (OSError, ValueError) as error:
        raise MoleculeRejected(candidate.molecule_id, "bad_sdf", str(error), STAGE) from None
    candidate.extra.update({
        k: f"{v:.10f}" for k, v in conformer.reference_energies_hartree().items()
        if np.isfinite(v)
    })
    return conformer


def _smiles_from_sdf(candidate: Candidate) -> str:
    """Canonical heavy-atom SMILES of a QMugs SDF (used only when summary.csv is absent)."""
    from rdkit import Chem

    conformer = _reference_energies_from_sdf(candidate)
    return Chem.MolToSmiles(Chem.RemoveHs(conformer.mol))


@dataclass
class SubsetResult:
    """Outcome of :func:`select_subset`."""

    rows: list[dict[str, Any]]
    split: dict[str, Any]
    status: Any  # virialff.formats.status_table.StatusTable
    summary: dict[str, Any]


@dataclass(frozen=True)
class SubsetSettings:
    """What the subset stage depends on (the ``filters``, ``subset``, ``split`` and
    ``sharding`` sections, the seed, and ``qmugs.conformers_per_molecule``)."""

    elements: tuple[str, ...]
    min_heavy_atoms: int
    max_heavy_atoms: int
    n_molecules: int | None
    split_fractions: dict[str, float]
    split_counts: dict[str, int] | None
    molecules_per_shard: int
    seed: int
    conformers_per_molecule: int | None  # None: every geometry of a molecule

    @classmethod
    def from_sections(cls, filters: dict, subset: dict, split: dict, sharding: dict, seed: int,
                      conformers_per_molecule: int | None) -> SubsetSettings:
        return cls(
            elements=tuple(filters["elements"]), min_heavy_atoms=int(filters["min_heavy_atoms"]),
            max_heavy_atoms=int(filters["max_heavy_atoms"]), n_molecules=subset["n_molecules"],
            split_fractions={s: float(split[s]) for s in SPLITS},
            split_counts=split.get("counts"),
            molecules_per_shard=int(sharding["molecules_per_shard"]), seed=int(seed),
            conformers_per_molecule=(None if conformers_per_molecule is None
                                     else int(conformers_per_molecule)),
        )


def select_subset(
    groups: dict[str, list[Candidate]], settings: SubsetSettings, n_shards: int | None = None,
    source: str = "",
) -> SubsetResult:
    """Check, filter, de-duplicate, subsample, split and shard the candidates (module doc)."""
    from rdkit import Chem

    from virialff.formats.status_table import StatusTable

    n_wanted = settings.n_molecules
    per_shard = settings.molecules_per_shard
    seed = settings.seed
    group_ids = sorted(groups)
    if n_wanted:
        order = [group_ids[i] for i in np.random.default_rng(seed).permutation(len(group_ids))]
    else:
        order = group_ids
    status = StatusTable(STAGE)
    rejected: Counter[str] = Counter()
    skipped: Counter[str] = Counter()
    kept_by_key: dict[str, str] = {}
    selected: list[tuple[Candidate, str, str, int]] = []
    n_selected_groups = n_seen = 0
    for group_id in order:
        if n_wanted and n_selected_groups >= n_wanted:
            break
        n_seen += 1
        conformers = groups[group_id][:settings.conformers_per_molecule]
        first = conformers[0]
        start = time.perf_counter()
        try:
            smiles = first.smiles if first.smiles is not None else _smiles_from_sdf(first)
            mol = check_molecule(first.molecule_id, first.name, smiles, settings.elements)
        except MoleculeRejected as error:
            rejected[error.reason] += 1
            for conformer in conformers:
                status.failed(conformer.molecule_id, error.reason,
                              f"molecule {conformer.molecule_id}: {error.reason}: {error.detail}",
                              time.perf_counter() - start)
            continue
        n_heavy = mol.GetNumHeavyAtoms()
        if not settings.min_heavy_atoms <= n_heavy <= settings.max_heavy_atoms:
            skipped["outside_size_range"] += 1
            for conformer in conformers:
                status.skipped(conformer.molecule_id, "outside_size_range",
                               f"molecule {conformer.molecule_id}: {n_heavy} heavy atoms, outside "
                               f"filters [{settings.min_heavy_atoms}, "
                               f"{settings.max_heavy_atoms}]")
            continue
        key = canonical_key(mol)
        if key in kept_by_key:
            skipped["duplicate"] += 1
            for conformer in conformers:
                status.skipped(conformer.molecule_id, "duplicate",
                               f"molecule {conformer.molecule_id}: duplicate of "
                               f"{kept_by_key[key]} (same stereo-insensitive key {key})")
            continue
        kept_by_key[key] = first.molecule_id
        canonical = Chem.MolToSmiles(mol)
        n_selected_groups += 1
        readable = [first]
        for conformer in conformers[1:]:
            if conformer.smiles is None:  # no summary.csv: reference values from each SDF
                try:
                    _reference_energies_from_sdf(conformer)
                except MoleculeRejected as error:
                    rejected[error.reason] += 1
                    status.failed(conformer.molecule_id, error.reason,
                                  f"molecule {conformer.molecule_id}: {error.reason}: "
                                  f"{error.detail}")
                    continue
            readable.append(conformer)
        for conformer in readable:
            status.ok(conformer.molecule_id, time.perf_counter() - start)
            selected.append((conformer, canonical, key, n_heavy))

    selected.sort(key=lambda item: (item[0].group_id, item[0].conf_id))
    chosen_groups = sorted({c.group_id for c, _, _, _ in selected})
    given = {c.group_id: c.split for c, _, _, _ in selected if c.split}
    if given and len(given) == len(chosen_groups):
        split = {name: sorted(g for g, s in given.items() if s == name) for name in SPLITS}
        split_origin = "source"
    else:
        split = split_groups(chosen_groups, settings.split_fractions, seed + 1,
                             settings.split_counts)
        split_origin = "drawn"
    split_of = {g: name for name in SPLITS for g in split[name]}

    fixed_shards = all(c.shard for c, _, _, _ in selected) and bool(selected)
    if not fixed_shards and n_shards is not None and len(selected) > n_shards * per_shard:
        raise RuntimeError(
            f"{len(selected)} rows need {math.ceil(len(selected) / per_shard)} shards but the "
            f"workflow fixed {n_shards} at DAG time; the bound in rules/common.smk is wrong"
        )
    extra_columns = sorted({k for c, _, _, _ in selected for k in c.extra})
    rows = []
    for index, (candidate, smiles, key, n_heavy) in enumerate(selected):
        row = {
            "molecule_id": candidate.molecule_id, "group_id": candidate.group_id,
            "name": candidate.name, "smiles": smiles,
            "canonical_key": key, "chembl_id": candidate.chembl_id, "conf_id": candidate.conf_id,
            "n_heavy_atoms": n_heavy, "split": split_of[candidate.group_id],
            "shard": candidate.shard if fixed_shards else shard_name(index // per_shard),
            "source": candidate.source, "source_path": candidate.source_path,
        }
        row.update({k: candidate.extra.get(k, "") for k in extra_columns})
        rows.append(row)
    if fixed_shards:
        rows.sort(key=lambda r: (r["shard"], r["molecule_id"]))

    split_json = {
        "seed": seed + 1,
        "origin": split_origin,
        "group_by": "chembl_id" if source == "qmugs" else "molecule",
        "fractions": dict(settings.split_fractions),
        "counts": {s: len(split[s]) for s in SPLITS},
        "n_rows": {s: sum(1 for r in rows if r["split"] == s) for s in SPLITS},
        **split,
    }
    n_shards_used = len({r["shard"] for r in rows})
    summary = {
        "source": source,
        "seed": seed,
        "n_molecules_available": len(group_ids),
        "n_molecules_seen": n_seen,
        "n_molecules_selected": n_selected_groups,
        "n_rows_selected": len(rows),
        "n_molecules_rejected": int(sum(rejected.values())),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "n_molecules_skipped": int(sum(skipped.values())),
        "skipped_by_reason": dict(sorted(skipped.items())),
        "n_molecules_outside_heavy_atom_range": skipped["outside_size_range"],
        "n_duplicates": skipped["duplicate"],
        "heavy_atom_range": [settings.min_heavy_atoms, settings.max_heavy_atoms],
        "n_molecules_requested": n_wanted,
        "conformers_per_molecule": settings.conformers_per_molecule,
        "molecules_per_shard": per_shard,
        "n_shards": n_shards if n_shards is not None else n_shards_used,
        "n_shards_used": n_shards_used,
    }
    if n_wanted and n_selected_groups < n_wanted:
        log.warning("only %d of the %d requested molecules passed the checks and filters",
                    n_selected_groups, n_wanted)
    return SubsetResult(rows, split_json, status, summary)


def run_subset(
    source: str,
    source_settings: dict[str, Any],
    settings: SubsetSettings,
    molecules_csv: str | Path,
    split_json: str | Path,
    status_csv: str | Path,
    summary_json: str | Path,
    n_shards: int | None = None,
) -> SubsetResult:
    """Select the molecules of a run and write the four subset outputs."""
    result = select_subset(load_candidates(source, source_settings), settings, n_shards, source)
    write_molecules_csv(result.rows, molecules_csv)
    Path(split_json).write_text(json.dumps(result.split, indent=1) + "\n")
    result.status.write(status_csv)
    Path(summary_json).write_text(json.dumps(result.summary, indent=1) + "\n")
    s = result.summary
    log.info("%s: %d molecules seen, %d selected (%d rows, %d shards), %d rejected %s, "
             "%d skipped %s; split %s", s["source"], s["n_molecules_seen"],
             s["n_molecules_selected"], s["n_rows_selected"], s["n_shards_used"],
             s["n_molecules_rejected"], s["rejected_by_reason"], s["n_molecules_skipped"],
             s["skipped_by_reason"], result.split["counts"])
    for record in result.status.records:
        if record.status != "ok":
            log.warning("%s", record.message)
    return result


def max_selected_rows(source: str, source_settings: dict[str, Any], n_molecules: int | None,
                      conformers_per_molecule: int) -> int:
    """Upper bound on ``molecules.csv`` rows, from the settings and file listings only.

    Used by ``rules/common.smk`` to fix the number of shards at DAG construction: reads the
    demo CSV's line count or QMugs ``summary.csv``'s ``chembl_id`` column (or the directory
    listing), never an SDF. (The reference source keeps its own shards:
    :func:`virialff.data.reference.reference_shards`.)
    """
    if source == "demo":
        with open(source_settings["molecules_csv"]) as handle:
            n_rows = max(sum(1 for line in handle if line.strip()) - 1, 0)
        return min(n_rows, n_molecules) if n_molecules else n_rows
    from virialff.data.qmugs import count_conformer_rows

    root = Path(source_settings["root"])
    if n_molecules and not (root / "summary.csv").exists():
        return n_molecules * conformers_per_molecule
    bound = count_conformer_rows(root, conformers_per_molecule)
    return min(bound, n_molecules * conformers_per_molecule) if n_molecules else bound
