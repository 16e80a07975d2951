"""The benchmark stages behind the Snakemake rules (scripts stay thin; the logic is here).

Files (``results/benchmarks/{s66,base_pairs}/``):

- ``geometries.json`` (:func:`virialff.evaluate.systems.write_systems_json`): GFN2-xTB geometries;
  S66 monomers are cut out of the optimised dimer (vertical, as in the counterpoise DFT),
  base-pair monomers are optimised on their own (the paper's Eq. 25, "isolated molecules in
  their equilibrium geometry"). ``geometries.status.csv``: one row per system.
- ``predictions/{method}.csv`` and (S66) ``dft_cp.csv``: :mod:`virialff.evaluate.interactions`.
- ``interaction_energies.csv``: one row per system, one column per method (kcal/mol,
  E_int = E_A + E_B − E_AB, positive = bound).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from virialff.errors import MoleculeRejected
from virialff.evaluate.interactions import PREDICTION_COLUMNS, read_prediction_table
from virialff.evaluate.methods import BENCHMARK_METHODS
from virialff.evaluate.metrics import error_stats, method_entry
from virialff.evaluate.systems import System, read_xyz_system
from virialff.formats.status_table import StatusTable

BENCHMARKS_DIR = Path(__file__).resolve().parents[3] / "data" / "benchmarks"


def load_bundled_systems(benchmark: str, root: Path | str = BENCHMARKS_DIR) -> list[System]:
    """The bundled S66 dimers or base pairs, with their reference E_int (positive = bound)."""
    root = Path(root)
    if benchmark == "s66":
        table = pd.read_csv(root / "s66" / "s66.csv")
        return [read_xyz_system(root / "s66" / row.xyz, float(row.interaction_energy_kcal_mol))
                for row in table.itertuples()]
    if benchmark == "base_pairs":
        table = pd.read_csv(root / "base_pairs" / "base_pairs.csv")
        return [read_xyz_system(root / "base_pairs" / row.xyz,
                                float(row.jsch_interaction_energy_kcal_mol))
                for row in table.itertuples()]
    raise ValueError(f"unknown benchmark {benchmark!r}")


def optimize_systems(systems: list[System], *, relax_monomers: bool, xtb_settings,  # noqa: ANN001
                     log_path: str | Path | None = None) -> tuple[list[System], StatusTable]:
    """GFN2-xTB optimisation of every complex (and of each monomer when ``relax_monomers``).

    Returns the optimised systems that succeeded (energies in ``extra``) and a status table
    with one row per input system.
    """
    from virialff.qc.xtb import optimize

    settings = xtb_settings
    table = StatusTable("benchmark_geometry")
    done: list[System] = []
    for system in systems:
        start = time.perf_counter()
        try:
            charge = int(sum(system.fragment_charges))
            positions, energy = optimize(system.symbols, system.positions_angstrom,
                                         charge=charge, settings=settings,
                                         molecule_id=system.system_id, log_path=log_path)
            extra = {**system.extra, "xtb_complex_energy_hartree": energy,
                     "monomers": "relaxed" if relax_monomers else "vertical"}
            monomer_positions = None
            if relax_monomers:
                monomer_positions, monomer_energies = [], []
                for index, sl in enumerate(system.fragment_slices()):
                    mono, mono_energy = optimize(
                        system.symbols[sl], system.positions_angstrom[sl],
                        charge=system.fragment_charges[index], settings=settings,
                        molecule_id=f"{system.system_id}_monomer{index}", log_path=log_path)
                    monomer_positions.append(mono)
                    monomer_energies.append(mono_energy)
                extra["xtb_monomer_energies_hartree"] = monomer_energies
            extra["xtb_opt_wall_s"] = time.perf_counter() - start
            done.append(System(system.system_id, system.name, system.symbols, positions,
                               system.fragment_sizes, system.fragment_charges,
                               monomer_positions, system.reference_kcal_mol, extra))
            table.ok(system.system_id, time.perf_counter() - start)
        except MoleculeRejected as error:
            table.rejected(error, time.perf_counter() - start)
    return done, table


def smallest_systems(systems: list[System], n: int) -> list[System]:
    """The ``n`` systems with the fewest atoms (ties: by id)."""
    return sorted(systems, key=lambda s: (s.n_atoms, s.system_id))[:max(0, int(n))]


def dft_cp_table(systems: list[System], n_max: int, settings, *, method: str, basis: str,  # noqa: ANN001
                 chunk_size: int = 8, workdir: str | Path | None = None,
                 log_path: str | Path | None = None) -> pd.DataFrame:
    """Counterpoise-corrected DFT E_int of the ``n_max`` smallest systems (prediction format,
    method ``dft``); the others get ``status = skipped`` with the reason."""
    from virialff.qc.psi4_energies import cp_interaction_energies

    chosen = smallest_systems(systems, n_max)
    chosen_ids = {s.system_id for s in chosen}
    items = [{"item_id": s.system_id, "symbols": s.symbols,
              "positions_angstrom": s.positions_angstrom, "fragment_sizes": s.fragment_sizes,
              "fragment_charges": s.fragment_charges} for s in chosen]
    outcomes = {o.item_id: o for o in cp_interaction_energies(
        items, settings, method=method, basis=basis, chunk_size=chunk_size, workdir=workdir,
        log_path=log_path)}
    rows = []
    for system in systems:
        row = {"system_id": system.system_id, "method": "dft", "available": True, "reason": "",
               "e_complex_kcal_mol": np.nan, "e_monomer_a_kcal_mol": np.nan,
               "e_monomer_b_kcal_mol": np.nan}
        if system.system_id not in chosen_ids:
            row.update(status="skipped", interaction_energy_kcal_mol=np.nan, wall_s=0.0,
                       message=f"{system.system_id}: DFT-CP not run (only the {n_max} smallest "
                               "dimers, evaluation.s66.dft_max_dimers)")
        else:
            outcome = outcomes[system.system_id]
            row.update(status="ok" if outcome.ok else "failed",
                       interaction_energy_kcal_mol=outcome.value_kcal_mol,
                       wall_s=outcome.wall_s, message=outcome.message)
        rows.append(row)
    return pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS))


def combine_interactions(systems: list[System], prediction_paths: dict[str, str | Path],
                         dft_path: str | Path | None = None,
                         reference_column: str = "reference_kcal_mol") -> pd.DataFrame:
    """One row per system: reference, DFT-CP (if any), and every method's E_int (kcal/mol)."""
    frame = pd.DataFrame({
        "system_id": [s.system_id for s in systems], "name": [s.name for s in systems],
        "n_atoms": [s.n_atoms for s in systems],
        reference_column: [s.reference_kcal_mol for s in systems],
    })
    if dft_path is not None:
        dft = read_prediction_table(dft_path)
        frame = frame.merge(dft[["system_id", "interaction_energy_kcal_mol"]].rename(
            columns={"interaction_energy_kcal_mol": "dft"}), on="system_id", how="left")
    for method, path in prediction_paths.items():
        table = read_prediction_table(path)
        frame = frame.merge(table[["system_id", "interaction_energy_kcal_mol"]].rename(
            columns={"interaction_energy_kcal_mol": method}), on="system_id", how="left")
    return frame


def methods_metrics(combined: pd.DataFrame, prediction_paths: dict[str, str | Path],
                    reference_column: str, **secondary_references: str) -> dict[str, dict]:
    """``methods`` block of a metrics file: every method against ``reference_column`` (and,
    as ``vs_<name>`` sub-blocks, against each column in ``secondary_references``)."""
    from virialff.evaluate.interactions import method_status

    out: dict[str, dict] = {}
    for method in BENCHMARK_METHODS:
        if method not in prediction_paths:
            out[method] = method_entry(False, "not run")
            continue
        available, reason = method_status(read_prediction_table(prediction_paths[method]))
        entry = method_entry(available, reason, combined[method], combined[reference_column])
        if available:
            failed = combined[method].isna().sum()
            entry["n_failed"] = int(failed)
            for name, column in secondary_references.items():
                entry[f"vs_{name}"] = error_stats(combined[method], combined[column])
        out[method] = entry
    return out
