"""Relative conformer energies (paper section 5.4) on molecules the model never saw.

The paper used an external set (117 PC9 molecules with 7–9 heavy atoms). Here the molecules come
from the test split of the workflow's data set, or from an external CSV
(``evaluation.conformers.external_molecules_csv``); either way every molecule whose
stereo-insensitive key (:func:`virialff.chem.identity.canonical_key`) occurs among the molecules
the model was fitted or selected on (:data:`TRAINING_SPLITS`) is left out, and counted.

Files (``results/benchmarks/conformers/``):

- ``conformers.json`` (rule ``conformer_search``): ``{"metadata": {"engine", "settings",
  "source", "split", "n_rows", "n_seen_in_training", "n_candidates", "n_molecules"},
  "molecules": [{"molecule_id", "name", "smiles", "input_smiles", "canonical_key", "source",
  "split", "engine", "counts", "n_rotatable_bonds", "symbols" [A], "messages",
  "conformers": [{"conformer_id", "positions_angstrom" [A, 3], "xtb_energy_hartree"}]}]}``;
  atom order = RDKit order of ``Chem.AddHs(Chem.MolFromSmiles(smiles))``; ``smiles`` is the
  searched stereoisomer (unassigned stereocentres fixed, see :func:`assign_stereo`).
- ``reference_conformers.json`` (rule ``conformer_dft``): the same layout for the conformers at
  the geometries of the DFT reference (:func:`reference_conformers`): the GFN2-xTB geometries, or
  the ωB97X-D/def2-SVP-optimised ones de-duplicated again. Every method is evaluated here.
- ``dft.csv`` and ``predictions/{method}.csv``: :data:`CONFORMER_COLUMNS`, total energies.
  ``status`` is ``ok``, ``failed``, ``not_covered`` (the method has no parameters for the
  molecule) or, in ``dft.csv``, ``merged`` (a duplicate after the DFT optimisation).
- ``relative_energies.csv``: ``molecule_id, conformer_id, method, relative_energy_kcal_mol,
  dft_relative_energy_kcal_mol, error_kcal_mol``.

Relative energy: ``E_rel(c) = E(c) − min_c' E(c')`` within one molecule, each method against
its *own* lowest conformer (as the paper defines it for DFT), over the conformers where both the
method and DFT have an energy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from virialff.evaluate.baselines.base import (
    STATUS_FAILED,
    STATUS_OK,
    Baseline,
    BaselineUnavailableError,
)

CONFORMER_COLUMNS: tuple[str, ...] = (
    "molecule_id", "conformer_id", "method", "available", "reason", "status", "message",
    "energy_kcal_mol", "wall_s",
)
#: splits of ``results/dataset/molecules.csv`` the model was fitted (train) or selected (val) on.
TRAINING_SPLITS: tuple[str, ...] = ("train", "val")
#: the split conformer molecules are drawn from when no external set is given.
EVALUATION_SPLIT = "test"
SOURCE_TEST_SPLIT = "test_split"
SOURCE_EXTERNAL = "external"
STATUS_MERGED = "merged"
GEOMETRY_XTB = "GFN2-xTB"
#: a molecule needs two conformers for one relative energy.
MIN_REFERENCE_CONFORMERS = 2


def rotatable_bonds(smiles: str) -> int:
    """Number of rotatable bonds (RDKit's strict definition); -1 for unparsable SMILES."""
    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors

    mol = Chem.MolFromSmiles(smiles)
    return -1 if mol is None else int(rdMolDescriptors.CalcNumRotatableBonds(mol))


def _keys(smiles: pd.Series) -> list[str | None]:
    from virialff.chem.identity import canonical_key

    keys: list[str | None] = []
    for text in smiles.astype(str):
        try:
            keys.append(canonical_key(text))
        except ValueError:
            keys.append(None)
    return keys


def training_keys(molecules: pd.DataFrame) -> set[str]:
    """Canonical keys of every molecule of ``results/dataset/molecules.csv`` in
    :data:`TRAINING_SPLITS`."""
    if "split" not in molecules.columns:
        raise ValueError("the molecule table has no 'split' column, so the training molecules "
                         "cannot be told apart from the test molecules")
    rows = molecules[molecules["split"].astype(str).isin(TRAINING_SPLITS)]
    if "canonical_key" in rows.columns and rows["canonical_key"].astype(str).str.len().all():
        return set(rows["canonical_key"].astype(str))
    return {key for key in _keys(rows["smiles"]) if key is not None}


def conformer_source(molecules: pd.DataFrame, external: pd.DataFrame | None = None,
                     external_path: str | None = None) -> tuple[pd.DataFrame, dict]:
    """Molecules the conformer benchmark may use: none of them is a training molecule.

    Args:
        molecules: ``results/dataset/molecules.csv`` (``smiles``, ``split``, ...).
        external: a table with ``smiles`` (optional ``molecule_id``, ``name``) from outside the
            data set, or None to draw from the test split of ``molecules``.
        external_path: where ``external`` was read from (recorded as the source).

    Returns:
        ``(rows, provenance)``: rows with ``molecule_id, name, smiles, split, canonical_key,
        source``; ``provenance`` = ``{"source", "split", "n_rows", "n_seen_in_training",
        "seen_in_training": [molecule_id, ...]}``.
    """
    seen = training_keys(molecules)
    if external is None:
        rows = molecules[molecules["split"].astype(str) == EVALUATION_SPLIT].copy()
        source, split = SOURCE_TEST_SPLIT, EVALUATION_SPLIT
    else:
        if "smiles" not in external.columns:
            raise ValueError(f"external conformer molecules {external_path}: no 'smiles' column")
        rows = external.copy()
        if "molecule_id" not in rows.columns:
            rows["molecule_id"] = [f"external_{i:04d}" for i in range(len(rows))]
        source, split = f"{SOURCE_EXTERNAL}:{external_path}", SOURCE_EXTERNAL
        rows["split"] = split
    rows = rows.reset_index(drop=True)
    if "name" not in rows.columns:
        rows["name"] = ""
    rows["name"] = rows["name"].fillna("").astype(str)
    rows["molecule_id"] = rows["molecule_id"].astype(str)
    rows["canonical_key"] = _keys(rows["smiles"])
    rows["source"] = source
    in_training = rows["canonical_key"].isin(seen)
    provenance = {
        "source": source, "split": split, "n_rows": int(len(rows)),
        "n_seen_in_training": int(in_training.sum()),
        "seen_in_training": sorted(rows.loc[in_training, "molecule_id"].unique().tolist()),
    }
    return rows[~in_training].reset_index(drop=True), provenance


def candidate_molecules(molecules: pd.DataFrame, *, min_heavy_atoms: int, max_heavy_atoms: int,
                        elements: Sequence[str] | None,
                        min_rotatable_bonds: int) -> pd.DataFrame:
    """Distinct neutral molecules with ``min..max`` heavy atoms: those with at least
    ``min_rotatable_bonds`` first, fewest atoms first among them (cheapest DFT reference).

    Args:
        molecules: a table with ``smiles`` and optionally ``molecule_id``, ``name``, ``split``,
            ``canonical_key``, ``source``; one row per molecule or per conformer.
        elements: allowed element symbols (None: any).
    """
    from rdkit import Chem

    from virialff.chem.identity import canonical_key

    rows = []
    seen = set()
    for _, row in molecules.iterrows():
        mol = Chem.MolFromSmiles(str(row["smiles"]))
        if mol is None:
            continue
        key = canonical_key(mol)
        if key in seen:  # several conformers or stereoisomers of one molecule
            continue
        heavy = mol.GetNumHeavyAtoms()
        if not min_heavy_atoms <= heavy <= max_heavy_atoms:
            continue
        if Chem.GetFormalCharge(mol) != 0:
            continue
        if elements and any(a.GetSymbol() not in elements for a in mol.GetAtoms()):
            continue
        seen.add(key)
        rows.append({
            "molecule_id": str(row.get("molecule_id", row.get("name", key))),
            "name": str(row.get("name", "") or ""), "smiles": str(row["smiles"]),
            "split": str(row.get("split", "")), "canonical_key": key,
            "source": str(row.get("source", "")), "n_heavy_atoms": heavy,
            "n_rotatable_bonds": rotatable_bonds(str(row["smiles"])),
            "n_atoms": Chem.AddHs(mol).GetNumAtoms(),
        })
    columns = ["molecule_id", "name", "smiles", "split", "canonical_key", "source",
               "n_heavy_atoms", "n_rotatable_bonds", "n_atoms"]
    table = pd.DataFrame(rows, columns=columns)
    # Flexible molecules (>= min_rotatable_bonds) first, the cheapest (fewest atoms, so the
    # fewest basis functions for the DFT reference) first among them.
    table["flexible"] = table["n_rotatable_bonds"] >= min_rotatable_bonds
    table = table.sort_values(["flexible", "n_atoms", "n_rotatable_bonds", "molecule_id"],
                              ascending=[False, True, False, True]).reset_index(drop=True)
    return table.drop(columns="flexible")


def assign_stereo(smiles: str) -> tuple[str, int]:
    """``(SMILES with every unassigned stereocentre and stereo double bond fixed, how many)``.

    ETKDG embeds an unassigned stereocentre at random, so the "conformers" of such a SMILES can
    be diastereomers, whose energy differences are not conformer energies. The first isomer of
    RDKit's ``EnumerateStereoisomers`` (deterministic) is taken; assigned stereo is kept.
    """
    from rdkit import Chem
    from rdkit.Chem.EnumerateStereoisomers import (
        EnumerateStereoisomers,
        StereoEnumerationOptions,
    )

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}")
    before = Chem.MolToSmiles(mol)
    options = StereoEnumerationOptions(onlyUnassigned=True, unique=True, tryEmbedding=False)
    isomer = next(iter(EnumerateStereoisomers(mol, options=options)), mol)
    after = Chem.MolToSmiles(isomer)
    if after == before:
        return smiles, 0
    unassigned = [info for info in Chem.FindPotentialStereo(mol)
                  if info.specified == Chem.StereoSpecified.Unspecified]
    return after, len(unassigned)


def spread_subset(n_available: int, n_keep: int | None) -> list[int]:
    """Indices (into an energy-ordered list) of ``n_keep`` conformers spread over the whole
    energy range, always including the lowest; all when ``n_keep`` is None or larger."""
    if n_keep is None or n_keep >= n_available:
        return list(range(n_available))
    return sorted({int(round(x)) for x in np.linspace(0, n_available - 1, n_keep)})


def mol_for(smiles: str, positions_angstrom: np.ndarray, name: str = ""):  # noqa: ANN201
    """RDKit Mol (``AddHs`` order) of ``smiles`` with one conformer at ``positions_angstrom``."""
    from rdkit import Chem

    from virialff.evaluate.systems import with_positions

    mol = with_positions(Chem.AddHs(Chem.MolFromSmiles(smiles)), positions_angstrom)
    if name:
        mol.SetProp("_Name", name)
    return mol


def read_conformers(path: Path | str) -> dict:
    """Read ``conformers.json`` or ``reference_conformers.json``."""
    return json.loads(Path(path).read_text())


def write_conformers(path: Path | str, payload: dict) -> None:
    """Write ``conformers.json`` or ``reference_conformers.json``."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(payload, indent=1))


def conformer_items(payload: dict) -> list[dict]:
    """Flat list ``{"molecule_id", "conformer_id", "smiles", "symbols", "positions_angstrom"}``."""
    items = []
    for molecule in payload["molecules"]:
        for conformer in molecule["conformers"]:
            items.append({"molecule_id": molecule["molecule_id"],
                          "conformer_id": conformer["conformer_id"],
                          "smiles": molecule["smiles"], "symbols": molecule["symbols"],
                          "positions_angstrom": conformer["positions_angstrom"]})
    return items


def reference_conformers(payload: dict, outcomes: Sequence, positions: Sequence | None, *,
                         reference_method: str, rmsd_threshold_angstrom: float,
                         ) -> tuple[dict, pd.DataFrame]:
    """The conformers at the geometries of the DFT reference, and the DFT table.

    Args:
        payload: ``conformers.json`` (GFN2-xTB geometries).
        outcomes: one :class:`virialff.qc.psi4_energies.EnergyOutcome` per conformer, in
            :func:`conformer_items` order (total energies, kcal/mol).
        positions: the DFT-optimised positions ([A, 3] Å, None where the optimisation failed) in
            the same order, or None for single points at the GFN2-xTB geometries.
        reference_method: e.g. ``wb97x-d/def2-svp``, written into the geometry label.
        rmsd_threshold_angstrom: after a DFT optimisation, conformers that have become the same
            (heavy-atom RMSD below this, the search's criterion) are merged into the lowest one.

    Returns:
        ``(reference payload, dft table)``. The payload has the layout of ``conformers.json``
        with ``positions_angstrom`` at the reference geometry and ``dft_energy_kcal_mol``; a
        molecule left with fewer than :data:`MIN_REFERENCE_CONFORMERS` is listed in
        ``metadata.dropped`` instead. Its metadata counts failed, topology-changed and merged
        conformers. The table (:data:`CONFORMER_COLUMNS` + ``geometry``) has every conformer,
        with status ``ok``, ``failed`` or ``merged``.
    """
    from virialff.chem.topology import topology_changes
    from virialff.qc.conformers import deduplicate

    items = conformer_items(payload)
    if len(outcomes) != len(items) or (positions is not None and len(positions) != len(items)):
        raise ValueError(f"{len(items)} conformers but {len(outcomes)} DFT outcomes")
    optimised = positions is not None
    geometry = f"{reference_method} optimised" if optimised else GEOMETRY_XTB
    rows: dict[str, dict] = {}
    final: dict[str, np.ndarray] = {}
    for index, (item, outcome) in enumerate(zip(items, outcomes, strict=True)):
        cid = item["conformer_id"]
        row = {"molecule_id": item["molecule_id"], "conformer_id": cid, "method": "dft",
               "available": True, "reason": "", "status": STATUS_OK, "message": "",
               "energy_kcal_mol": float(outcome.value_kcal_mol), "wall_s": float(outcome.wall_s)}
        if not outcome.ok:
            row.update(status=STATUS_FAILED, energy_kcal_mol=float("nan"),
                       message=f"{cid}: {outcome.reason}: {outcome.message}")
        else:
            final[cid] = np.asarray(positions[index] if optimised else item["positions_angstrom"],
                                    dtype=float)
        rows[cid] = row
    molecules, dropped = [], []
    counts = {"n_input_conformers": len(items), "n_failed": 0, "n_topology_changed": 0,
              "n_merged_after_dft": 0}
    for molecule in payload["molecules"]:
        template = mol_for(molecule["smiles"], np.asarray(molecule["conformers"][0]
                                                          ["positions_angstrom"]))
        ids = [c["conformer_id"] for c in molecule["conformers"] if c["conformer_id"] in final]
        counts["n_failed"] += len(molecule["conformers"]) - len(ids)
        if optimised:
            for cid in list(ids):
                changed = topology_changes(template, final[cid])
                if changed:
                    rows[cid].update(status=STATUS_FAILED, energy_kcal_mol=float("nan"),
                                     message=f"{cid}: topology changed in the {reference_method} "
                                             f"optimisation ({changed})")
                    counts["n_topology_changed"] += 1
                    ids.remove(cid)
        n_merged = 0
        if optimised and len(ids) > 1:
            energies = [rows[cid]["energy_kcal_mol"] for cid in ids]
            kept = deduplicate(template, [final[cid] for cid in ids], energies,
                               rmsd_threshold_angstrom)
            for position, cid in enumerate(ids):
                if position not in kept:
                    rows[cid].update(status=STATUS_MERGED, message=(
                        f"{cid}: merged, within {rmsd_threshold_angstrom} Å heavy-atom RMSD of a "
                        f"lower-energy conformer after the {reference_method} optimisation"))
                    n_merged += 1
            ids = [ids[position] for position in sorted(kept)]
        counts["n_merged_after_dft"] += n_merged
        entry = {key: value for key, value in molecule.items() if key != "conformers"}
        entry["n_merged_after_dft"] = n_merged
        entry["conformers"] = [{"conformer_id": cid, "positions_angstrom": final[cid].tolist(),
                                "dft_energy_kcal_mol": rows[cid]["energy_kcal_mol"]}
                               for cid in ids]
        if len(ids) < MIN_REFERENCE_CONFORMERS:
            dropped.append({"molecule_id": molecule["molecule_id"], "n_conformers": len(ids),
                            "why": f"fewer than {MIN_REFERENCE_CONFORMERS} conformers with a "
                                   "DFT reference"})
            continue
        molecules.append(entry)
    metadata = {**payload.get("metadata", {}), "geometry": geometry,
                "reference_method": reference_method,
                "rmsd_threshold_angstrom": rmsd_threshold_angstrom, **counts,
                "n_molecules": len(molecules),
                "n_conformers": sum(len(m["conformers"]) for m in molecules), "dropped": dropped}
    table = pd.DataFrame(list(rows.values()), columns=list(CONFORMER_COLUMNS))
    table["geometry"] = geometry
    return {"metadata": metadata, "molecules": molecules}, table


def conformer_table(baseline: Baseline, payload: dict) -> pd.DataFrame:
    """Total energies (kcal/mol) of every conformer with one method (:data:`CONFORMER_COLUMNS`).

    ``status`` per conformer: ``ok``, ``failed`` or ``not_covered`` (the method has no
    parameters for the molecule, e.g. ANI-1x and an S atom).
    """
    items = conformer_items(payload)
    ok, reason = baseline.available()
    if not ok:
        return conformer_table_unavailable(baseline.key, items, reason)
    rows = []
    for it in items:
        start = time.perf_counter()
        mol = mol_for(it["smiles"], np.asarray(it["positions_angstrom"]), it["conformer_id"])
        try:
            energy = float(baseline.energies([mol])[0])
        except BaselineUnavailableError as error:
            return conformer_table_unavailable(baseline.key, items, str(error))
        message, status = baseline.messages[0], baseline.statuses[0]
        rows.append({"molecule_id": it["molecule_id"], "conformer_id": it["conformer_id"],
                     "method": baseline.key, "available": True, "reason": "", "status": status,
                     "message": f"{it['conformer_id']}: {message}" if message else "",
                     "energy_kcal_mol": energy, "wall_s": time.perf_counter() - start})
    return pd.DataFrame(rows, columns=list(CONFORMER_COLUMNS))


def conformer_table_unavailable(method: str, items: list[dict], reason: str) -> pd.DataFrame:
    """A conformer table for a method that cannot run (every energy NaN, with the reason)."""
    return pd.DataFrame([{"molecule_id": it["molecule_id"], "conformer_id": it["conformer_id"],
                          "method": method, "available": False, "reason": reason,
                          "status": STATUS_FAILED, "message": f"not available: {reason}",
                          "energy_kcal_mol": np.nan, "wall_s": 0.0} for it in items],
                        columns=list(CONFORMER_COLUMNS))


def relative_energies(dft: pd.DataFrame, predictions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Relative energies of every method next to DFT's.

    Args:
        dft: conformer table of the DFT reference; only rows with status ``ok`` (when the table
            has a status column) are the reference.
        predictions: method key -> conformer table.

    Returns:
        ``molecule_id, conformer_id, method, relative_energy_kcal_mol,
        dft_relative_energy_kcal_mol, error_kcal_mol`` for conformers where both are finite
        (each method and DFT against their own lowest conformer of that molecule); DFT rows
        themselves are included with ``method = "dft"``.
    """
    if "status" in dft.columns:
        dft = dft[dft["status"] == STATUS_OK]
    ref = dft[["molecule_id", "conformer_id", "energy_kcal_mol"]].rename(
        columns={"energy_kcal_mol": "e_dft"})
    out = []
    tables = {"dft": dft, **predictions}
    for method, table in tables.items():
        merged = ref.merge(table[["molecule_id", "conformer_id", "energy_kcal_mol"]],
                           on=["molecule_id", "conformer_id"], how="left")
        e_dft = merged["e_dft"].to_numpy(dtype=np.float64)
        energy = merged["energy_kcal_mol"].to_numpy(dtype=np.float64)
        merged = merged[np.isfinite(e_dft) & np.isfinite(energy)]
        for molecule_id, group in merged.groupby("molecule_id", sort=False):
            if len(group) < MIN_REFERENCE_CONFORMERS:
                continue
            energy = group["energy_kcal_mol"].to_numpy(dtype=np.float64)
            e_dft = group["e_dft"].to_numpy(dtype=np.float64)
            rel, rel_dft = energy - energy.min(), e_dft - e_dft.min()
            out.append(pd.DataFrame({
                "molecule_id": molecule_id, "conformer_id": group["conformer_id"].values,
                "method": method, "relative_energy_kcal_mol": rel,
                "dft_relative_energy_kcal_mol": rel_dft, "error_kcal_mol": rel - rel_dft,
            }))
    columns = ["molecule_id", "conformer_id", "method", "relative_energy_kcal_mol",
               "dft_relative_energy_kcal_mol", "error_kcal_mol"]
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)


def coverage(table: pd.DataFrame) -> dict:
    """How many conformers and molecules of a prediction table failed or were not covered.

    Returns:
        ``{"n_conformers_not_covered", "n_molecules_not_covered", "not_covered": [messages],
        "n_conformers_failed"}``; the messages are the distinct reasons (one per molecule).
    """
    from virialff.evaluate.baselines.base import STATUS_NOT_COVERED

    status = table["status"].astype(str)
    not_covered = table[status == STATUS_NOT_COVERED]
    reasons = {}
    for row in not_covered.itertuples():
        text = str(row.message)
        reasons.setdefault(row.molecule_id, text.split(": ", 1)[-1] if text else "")
    return {
        "n_conformers_not_covered": int(len(not_covered)),
        "n_molecules_not_covered": int(not_covered["molecule_id"].nunique()),
        "not_covered": [f"{mid}: {why}" for mid, why in sorted(reasons.items())],
        "n_conformers_failed": int((status == STATUS_FAILED).sum()) if bool(
            table["available"].all()) else 0,
    }
