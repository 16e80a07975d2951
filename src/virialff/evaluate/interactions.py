"""Interaction energies of complexes, in one prediction-table format for every method.

Prediction table (``results/benchmarks/{s66,base_pairs}/predictions/{method}.csv``), one row per
system, the same columns for every method (:data:`PREDICTION_COLUMNS`):

| column | meaning |
|---|---|
| ``system_id`` | ``S66-01`` … or ``A-T``, ``G-C`` |
| ``method`` | method key (``virialff``, ``gfn2_xtb``, ``ani1x``, ``mmff94``, ``dft``) |
| ``available`` | whether the method could run on this machine at all |
| ``reason`` | why not (empty when available) |
| ``status`` | ``ok`` or ``failed`` for this system |
| ``message`` | failure message (names the system and the cause) |
| ``e_complex_kcal_mol`` | total energy of the complex (NaN for DFT-CP rows) |
| ``e_monomer_a_kcal_mol``, ``e_monomer_b_kcal_mol`` | total energies of the monomers |
| ``interaction_energy_kcal_mol`` | E_int = E_A + E_B − E_AB (positive = bound) |
| ``wall_s`` | seconds spent on this system |
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from virialff.evaluate.baselines.base import Baseline, BaselineUnavailableError
from virialff.evaluate.systems import System, interaction_energy_kcal_mol, system_mols

PREDICTION_COLUMNS: tuple[str, ...] = (
    "system_id", "method", "available", "reason", "status", "message", "e_complex_kcal_mol",
    "e_monomer_a_kcal_mol", "e_monomer_b_kcal_mol", "interaction_energy_kcal_mol", "wall_s",
)


def unavailable_table(method: str, system_ids: list[str], reason: str) -> pd.DataFrame:
    """A prediction table for a method that cannot run: every row NaN with the reason."""
    rows = [{"system_id": sid, "method": method, "available": False, "reason": reason,
             "status": "failed", "message": f"not available: {reason}",
             "e_complex_kcal_mol": np.nan, "e_monomer_a_kcal_mol": np.nan,
             "e_monomer_b_kcal_mol": np.nan, "interaction_energy_kcal_mol": np.nan,
             "wall_s": 0.0} for sid in system_ids]
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))


def interaction_table(baseline: Baseline, systems: list[System],
                      topologies: dict[str, System] | None = None) -> pd.DataFrame:
    """Interaction energies of ``systems`` with one method.

    Args:
        baseline: the method.
        systems: complexes with monomer geometries (vertical or relaxed).
        topologies: system_id -> geometry to perceive bonds on (the bundled reference
            geometry); default: each system itself.

    Returns:
        A table with :data:`PREDICTION_COLUMNS`, one row per system.
    """
    ids = [s.system_id for s in systems]
    ok, reason = baseline.available()
    if not ok:
        return unavailable_table(baseline.key, ids, reason)
    rows = []
    for system in systems:
        start = time.perf_counter()
        row = {"system_id": system.system_id, "method": baseline.key, "available": True,
               "reason": "", "status": "ok", "message": "", "e_complex_kcal_mol": np.nan,
               "e_monomer_a_kcal_mol": np.nan, "e_monomer_b_kcal_mol": np.nan,
               "interaction_energy_kcal_mol": np.nan}
        try:
            mols = system_mols(system, (topologies or {}).get(system.system_id))
        except ValueError as error:
            row.update(status="failed", message=f"{system.system_id}: {error}")
            rows.append({**row, "wall_s": time.perf_counter() - start})
            continue
        for mol, label in zip([mols.complex, *mols.monomers], ["complex", "A", "B"],
                              strict=False):
            mol.SetProp("_Name", f"{system.system_id}_{label}")
        try:
            energies = baseline.energies([mols.complex, *mols.monomers])
        except BaselineUnavailableError as error:  # became unavailable mid-run
            return unavailable_table(baseline.key, ids, str(error))
        problems = [m for m in baseline.messages if m]
        row["e_complex_kcal_mol"] = energies[0]
        row["e_monomer_a_kcal_mol"] = energies[1]
        row["e_monomer_b_kcal_mol"] = energies[2] if len(energies) > 2 else np.nan
        if problems or not np.all(np.isfinite(energies)):
            row.update(status="failed",
                       message=f"{system.system_id}: " + "; ".join(problems or ["NaN energy"]))
        else:
            row["interaction_energy_kcal_mol"] = interaction_energy_kcal_mol(energies[0],
                                                                             energies[1:])
        rows.append({**row, "wall_s": time.perf_counter() - start})
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))


def read_prediction_table(path) -> pd.DataFrame:  # noqa: ANN001
    """Read a prediction table (``available`` as bool, ``reason``/``message`` as str)."""
    table = pd.read_csv(path, dtype={"reason": str, "message": str, "status": str})
    table["available"] = table["available"].astype(str).str.lower().isin(["true", "1"])
    for column in ("reason", "message"):
        table[column] = table[column].fillna("").astype(str)
    return table


def method_status(table: pd.DataFrame) -> tuple[bool, str]:
    """``(available, reason)`` of the method behind a prediction table."""
    if table.empty:
        return False, "no predictions"
    available = bool(table["available"].iloc[0])
    return available, "" if available else str(table["reason"].iloc[0])
