"""Molecule selection: checks, filters, reproducible subset, split and shards.

Produces ``results/dataset/molecules.csv``, ``split.json``, ``subset.status.csv`` and
``subset.summary.json`` (formats in ``docs/data-formats.md``). Order of work:

1. candidates from the demo CSV (:mod:`virialff.data.demo`) or the QMugs index
   (:mod:`virialff.data.qmugs`), grouped by molecule (all conformers of one ChEMBL id);
2. molecules are visited in a seeded random order (sorted order when every molecule is
   kept); each is checked (SMILES parses, allowed elements, neutral, closed shell; failures
   go to the status table with a reason from :data:`virialff.errors.REASONS`) and filtered by
   heavy-atom count, until ``subset.n_molecules`` have passed;
3. the first ``qmugs.conformers_per_molecule`` conformers (lowest ``CONF_ID``) are kept;
4. the split is drawn by molecule (:mod:`virialff.data.split`); rows are sorted by id and cut
   into consecutive shards of ``sharding.molecules_per_shard`` rows.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from virialff.data.split import SPLITS, split_groups
from virialff.errors import MoleculeRejected

log = logging.getLogger("virialff.data.subset")

STAGE = "subset"
#: Columns every ``molecules.csv`` has; QMugs rows add :data:`qmugs.REFERENCE_ENERGY_TAGS`.
MOLECULE_COLUMNS: tuple[str, ...] = (
    "molecule_id", "name", "smiles", "chembl_id", "conf_id", "n_heavy_atoms", "split", "shard",
    "source", "source_path",
)


def shard_name(index: int) -> str:
    """``3`` → ``shard00003`` (the names of ``rules/common.smk`` SHARDS)."""
    return f"shard{index:05d}"


@dataclass
class Candidate:
    """One conformer that may enter the run."""

    group_id: str  # unit of subset and split: ChEMBL id (QMugs) or molecule_id (demo)
    molecule_id: str
    name: str
    smiles: str | None  # None: read from the SDF at source_path (QMugs without summary.csv)
    chembl_id: str
    conf_id: str
    source: str
    source_path: str
    extra: dict[str, str] = field(default_factory=dict)


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


def load_candidates(config: dict[str, Any]) -> dict[str, list[Candidate]]:
    """``{group_id: [Candidate, ...]}`` for ``config['source']`` (conformers by CONF_ID)."""
    if config["source"] == "demo":
        from virialff.data.demo import demo_candidates

        return demo_candidates(config["demo"]["molecules_csv"])
    from virialff.data.qmugs import SUMMARY_ENERGY_COLUMNS, index_qmugs, qmugs_molecule_id

    groups: dict[str, list[Candidate]] = {}
    for chembl_id, rows in index_qmugs(config["qmugs"]["root"]).items():
        groups[chembl_id] = [
            Candidate(
                group_id=chembl_id,
                molecule_id=qmugs_molecule_id(chembl_id, row["conf_id"]),
                name=chembl_id,
                smiles=row.get("smiles") or None,
                chembl_id=chembl_id,
                conf_id=row["conf_id"],
                source="qmugs",
                source_path=row["source_path"],
                extra={new: row[old] for old, new in SUMMARY_ENERGY_COLUMNS.items()
                       if row.get(old) not in (None, "")},
            )
            for row in rows
        ]
    return groups


@dataclass
class SubsetResult:
    """Outcome of :func:`select_subset`."""

    rows: list[dict[str, Any]]
    split: dict[str, Any]
    status: Any  # virialff.qc.status.StatusTable
    summary: dict[str, Any]


def select_subset(
    groups: dict[str, list[Candidate]], config: dict[str, Any], n_shards: int | None = None
) -> SubsetResult:
    """Check, filter, subsample, split and shard the candidate molecules (see module doc)."""
    from rdkit import Chem

    from virialff.qc.status import StatusTable

    filters = config["filters"]
    n_wanted = config["subset"]["n_molecules"]
    per_molecule = config["qmugs"]["conformers_per_molecule"] if config["source"] == "qmugs" else 1
    per_shard = config["sharding"]["molecules_per_shard"]
    seed = int(config["seed"])

    group_ids = sorted(groups)
    if n_wanted:
        order = [group_ids[i] for i in np.random.default_rng(seed).permutation(len(group_ids))]
    else:
        order = group_ids
    status = StatusTable(STAGE)
    rejected: Counter[str] = Counter()
    outside_range = 0
    selected: list[tuple[Candidate, str, int]] = []
    n_selected_groups = n_seen = 0
    for group_id in order:
        if n_wanted and n_selected_groups >= n_wanted:
            break
        n_seen += 1
        conformers = groups[group_id][:per_molecule]
        first = conformers[0]
        start = time.perf_counter()
        try:
            smiles = first.smiles if first.smiles is not None else _smiles_from_sdf(first)
            mol = check_molecule(first.molecule_id, first.name, smiles, filters["elements"])
        except MoleculeRejected as error:
            rejected[error.reason] += 1
            for conformer in conformers:
                status.failed(conformer.molecule_id, error.reason,
                              f"molecule {conformer.molecule_id}: {error.reason}: {error.detail}",
                              time.perf_counter() - start)
            continue
        n_heavy = mol.GetNumHeavyAtoms()
        if not filters["min_heavy_atoms"] <= n_heavy <= filters["max_heavy_atoms"]:
            outside_range += 1
            continue
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
            selected.append((conformer, canonical, n_heavy))

    selected.sort(key=lambda item: (item[0].group_id, item[0].conf_id))
    chosen_groups = sorted({c.group_id for c, _, _ in selected})
    split_cfg = config["split"]
    split = split_groups(chosen_groups, split_cfg, seed + 1, split_cfg.get("counts"))
    split_of = {g: name for name in SPLITS for g in split[name]}

    if n_shards is not None and len(selected) > n_shards * per_shard:
        raise RuntimeError(
            f"{len(selected)} rows need {math.ceil(len(selected) / per_shard)} shards but the "
            f"workflow fixed {n_shards} at DAG time; the bound in rules/common.smk is wrong"
        )
    extra_columns = sorted({k for c, _, _ in selected for k in c.extra})
    rows = []
    for index, (candidate, smiles, n_heavy) in enumerate(selected):
        row = {
            "molecule_id": candidate.molecule_id, "name": candidate.name, "smiles": smiles,
            "chembl_id": candidate.chembl_id, "conf_id": candidate.conf_id,
            "n_heavy_atoms": n_heavy, "split": split_of[candidate.group_id],
            "shard": shard_name(index // per_shard), "source": candidate.source,
            "source_path": candidate.source_path,
        }
        row.update({k: candidate.extra.get(k, "") for k in extra_columns})
        rows.append(row)

    split_json = {
        "seed": seed + 1,
        "group_by": "chembl_id" if config["source"] == "qmugs" else "molecule_id",
        "fractions": {s: split_cfg[s] for s in SPLITS},
        "counts": {s: len(split[s]) for s in SPLITS},
        "n_rows": {s: sum(1 for r in rows if r["split"] == s) for s in SPLITS},
        **split,
    }
    summary = {
        "source": config["source"],
        "seed": seed,
        "n_molecules_available": len(group_ids),
        "n_molecules_seen": n_seen,
        "n_molecules_selected": n_selected_groups,
        "n_rows_selected": len(rows),
        "n_molecules_rejected": int(sum(rejected.values())),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "n_molecules_outside_heavy_atom_range": outside_range,
        "heavy_atom_range": [filters["min_heavy_atoms"], filters["max_heavy_atoms"]],
        "n_molecules_requested": n_wanted,
        "conformers_per_molecule": per_molecule,
        "molecules_per_shard": per_shard,
        "n_shards": n_shards if n_shards is not None else math.ceil(len(rows) / per_shard),
        "n_shards_used": math.ceil(len(rows) / per_shard),
    }
    if n_wanted and n_selected_groups < n_wanted:
        log.warning("only %d of the %d requested molecules passed the checks and filters",
                    n_selected_groups, n_wanted)
    return SubsetResult(rows, split_json, status, summary)


def write_molecules_csv(rows: list[dict[str, Any]], path: str | Path) -> Path:
    """Write ``molecules.csv`` (header only when there are no rows)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = [k for k in (rows[0] if rows else {}) if k not in MOLECULE_COLUMNS]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*MOLECULE_COLUMNS, *extra])
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_subset(
    config: dict[str, Any],
    molecules_csv: str | Path,
    split_json: str | Path,
    status_csv: str | Path,
    summary_json: str | Path,
    n_shards: int | None = None,
) -> SubsetResult:
    """Select the molecules of a run and write the four subset outputs."""
    result = select_subset(load_candidates(config), config, n_shards)
    write_molecules_csv(result.rows, molecules_csv)
    Path(split_json).write_text(json.dumps(result.split, indent=1) + "\n")
    result.status.write(status_csv)
    Path(summary_json).write_text(json.dumps(result.summary, indent=1) + "\n")
    s = result.summary
    log.info("%s: %d molecules seen, %d selected (%d rows, %d shards), %d rejected %s, "
             "%d outside %s heavy atoms; split %s", s["source"], s["n_molecules_seen"],
             s["n_molecules_selected"], s["n_rows_selected"], s["n_shards_used"],
             s["n_molecules_rejected"], s["rejected_by_reason"],
             s["n_molecules_outside_heavy_atom_range"], s["heavy_atom_range"],
             result.split["counts"])
    for record in result.status.records:
        if record.status == "failed":
            log.warning("%s", record.message)
    return result


def max_selected_rows(config: dict[str, Any]) -> int:
    """Upper bound on ``molecules.csv`` rows, from the config and file listings only.

    Used by ``rules/common.smk`` to fix the number of shards at DAG construction: reads the
    demo CSV's line count or QMugs ``summary.csv``'s ``chembl_id`` column (or the directory
    listing), never an SDF.
    """
    n_wanted = config["subset"]["n_molecules"]
    if config["source"] == "demo":
        with open(config["demo"]["molecules_csv"]) as handle:
            n_rows = max(sum(1 for line in handle if line.strip()) - 1, 0)
        return min(n_rows, n_wanted) if n_wanted else n_rows
    from virialff.data.qmugs import count_conformer_rows

    per_molecule = config["qmugs"]["conformers_per_molecule"]
    root = Path(config["qmugs"]["root"])
    if n_wanted and not (root / "summary.csv").exists():
        return n_wanted * per_molecule
    bound = count_conformer_rows(root, per_molecule)
    return min(bound, n_wanted * per_molecule) if n_wanted else bound
