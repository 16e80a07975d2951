"""Relative conformer energies (paper section 5.4, PC9-like protocol on the demo molecules).

Files (``results/benchmarks/conformers/``):

- ``conformers.json``: ``{"metadata": {...}, "molecules": [{"molecule_id", "name", "smiles",
  "split", "engine", "counts", "symbols" [A], "conformers": [{"conformer_id",
  "positions_angstrom" [A, 3], "xtb_energy_hartree"}]}]}``; atom order = RDKit order of
  ``Chem.AddHs(Chem.MolFromSmiles(smiles))``.
- ``predictions/{method}.csv`` and ``dft.csv``: :data:`CONFORMER_COLUMNS`, total energies.
- ``relative_energies.csv``: ``molecule_id, conformer_id, method, relative_energy_kcal_mol,
  dft_relative_energy_kcal_mol, error_kcal_mol``.

Relative energy: ``E_rel(c) = E(c) − min_c' E(c')`` within one molecule, each method against
its *own* lowest conformer (as the paper defines it for DFT), over the conformers where both the
method and DFT have an energy.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from virialff.evaluate.baselines.base import Baseline, BaselineUnavailableError

CONFORMER_COLUMNS: tuple[str, ...] = (
    "molecule_id", "conformer_id", "method", "available", "reason", "status", "message",
    "energy_kcal_mol", "wall_s",
)


def rotatable_bonds(smiles: str) -> int:
    """Number of rotatable bonds (RDKit's strict definition); -1 for unparsable SMILES."""
    from rdkit import Chem
    from rdkit.Chem import rdMolDescriptors

    mol = Chem.MolFromSmiles(smiles)
    return -1 if mol is None else int(rdMolDescriptors.CalcNumRotatableBonds(mol))


def candidate_molecules(molecules: pd.DataFrame, min_heavy_atoms: int, max_heavy_atoms: int,
                        elements: tuple[str, ...] | None = None,
                        min_rotatable_bonds: int = 2) -> pd.DataFrame:
    """Molecules with ``min..max`` heavy atoms: those with at least ``min_rotatable_bonds``
    first, fewest atoms first among them (cheapest DFT reference).

    Args:
        molecules: a table with ``smiles`` and optionally ``molecule_id``, ``name``, ``split``.
    """
    from rdkit import Chem

    rows = []
    seen = set()
    for _, row in molecules.iterrows():
        mol = Chem.MolFromSmiles(str(row["smiles"]))
        if mol is None:
            continue
        canonical = Chem.MolToSmiles(mol)
        if canonical in seen:  # several conformers of one molecule in the dataset
            continue
        heavy = mol.GetNumHeavyAtoms()
        if not min_heavy_atoms <= heavy <= max_heavy_atoms:
            continue
        if Chem.GetFormalCharge(mol) != 0:
            continue
        if elements and any(a.GetSymbol() not in elements for a in mol.GetAtoms()):
            continue
        seen.add(canonical)
        rows.append({
            "molecule_id": str(row.get("molecule_id", row.get("name", canonical))),
            "name": str(row.get("name", "")), "smiles": str(row["smiles"]),
            "split": str(row.get("split", "")), "n_heavy_atoms": heavy,
            "n_rotatable_bonds": rotatable_bonds(str(row["smiles"])),
            "n_atoms": Chem.AddHs(mol).GetNumAtoms(),
        })
    table = pd.DataFrame(rows, columns=["molecule_id", "name", "smiles", "split",
                                        "n_heavy_atoms", "n_rotatable_bonds", "n_atoms"])
    # Flexible molecules (>= min_rotatable_bonds) first, the cheapest (fewest atoms, so the
    # fewest basis functions for the DFT reference) first among them.
    table["flexible"] = table["n_rotatable_bonds"] >= min_rotatable_bonds
    table = table.sort_values(["flexible", "n_atoms", "n_rotatable_bonds", "molecule_id"],
                              ascending=[False, True, False, True]).reset_index(drop=True)
    return table.drop(columns="flexible")


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
    """Read ``conformers.json``."""
    return json.loads(Path(path).read_text())


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


def conformer_table(baseline: Baseline, payload: dict) -> pd.DataFrame:
    """Total energies (kcal/mol) of every conformer with one method (:data:`CONFORMER_COLUMNS`)."""
    items = conformer_items(payload)
    ok, reason = baseline.available()
    base = [{"molecule_id": it["molecule_id"], "conformer_id": it["conformer_id"],
             "method": baseline.key} for it in items]
    if not ok:
        return pd.DataFrame([{**b, "available": False, "reason": reason, "status": "failed",
                              "message": f"not available: {reason}", "energy_kcal_mol": np.nan,
                              "wall_s": 0.0} for b in base], columns=list(CONFORMER_COLUMNS))
    rows = []
    for b, it in zip(base, items, strict=True):
        start = time.perf_counter()
        mol = mol_for(it["smiles"], np.asarray(it["positions_angstrom"]), it["conformer_id"])
        try:
            energy = float(baseline.energies([mol])[0])
            message = baseline.messages[0]
        except BaselineUnavailableError as error:
            return conformer_table_unavailable(baseline.key, items, str(error))
        status = "ok" if np.isfinite(energy) and not message else "failed"
        rows.append({**b, "available": True, "reason": "", "status": status,
                     "message": f"{it['conformer_id']}: {message}" if message else "",
                     "energy_kcal_mol": energy, "wall_s": time.perf_counter() - start})
    return pd.DataFrame(rows, columns=list(CONFORMER_COLUMNS))


def conformer_table_unavailable(method: str, items: list[dict], reason: str) -> pd.DataFrame:
    """A conformer table for a method that cannot run (every energy NaN, with the reason)."""
    return pd.DataFrame([{"molecule_id": it["molecule_id"], "conformer_id": it["conformer_id"],
                          "method": method, "available": False, "reason": reason,
                          "status": "failed", "message": f"not available: {reason}",
                          "energy_kcal_mol": np.nan, "wall_s": 0.0} for it in items],
                        columns=list(CONFORMER_COLUMNS))


def relative_energies(dft: pd.DataFrame, predictions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Relative energies of every method next to DFT's.

    Args:
        dft: conformer table of the DFT reference.
        predictions: method key -> conformer table.

    Returns:
        ``molecule_id, conformer_id, method, relative_energy_kcal_mol,
        dft_relative_energy_kcal_mol, error_kcal_mol`` for conformers where both are finite
        (each method and DFT against their own lowest conformer of that molecule); DFT rows
        themselves are included with ``method = "dft"``.
    """
    ref = dft[["molecule_id", "conformer_id", "energy_kcal_mol"]].rename(
        columns={"energy_kcal_mol": "e_dft"})
    out = []
    tables = {"dft": dft, **predictions}
    for method, table in tables.items():
        merged = ref.merge(table[["molecule_id", "conformer_id", "energy_kcal_mol"]],
                           on=["molecule_id", "conformer_id"], how="left")
        merged = merged[np.isfinite(merged["e_dft"]) & np.isfinite(merged["energy_kcal_mol"])]
        for molecule_id, group in merged.groupby("molecule_id", sort=False):
            if len(group) < 2:
                continue
            rel = group["energy_kcal_mol"] - group["energy_kcal_mol"].min()
            rel_dft = group["e_dft"] - group["e_dft"].min()
            out.append(pd.DataFrame({
                "molecule_id": molecule_id, "conformer_id": group["conformer_id"].values,
                "method": method, "relative_energy_kcal_mol": rel.values,
                "dft_relative_energy_kcal_mol": rel_dft.values,
                "error_kcal_mol": (rel - rel_dft).values,
            }))
    columns = ["molecule_id", "conformer_id", "method", "relative_energy_kcal_mol",
               "dft_relative_energy_kcal_mol", "error_kcal_mol"]
    return pd.concat(out, ignore_index=True)[columns] if out else pd.DataFrame(columns=columns)
