"""The interaction-trained model (stage 3) beside the paper-faithful one: every benchmark, one file.

``results/metrics/interactions.json`` (:func:`interaction_model_metrics`)::

    {"run_name", "data_scale", "sign_convention", "models": {key: model file},
     "training": {chosen weight, dimers, reference table, validation MAEs},
     "molecular_test": {model: {"n", "mae_kcal_mol", "rmse_kcal_mol"}, "relative_mae_change",
                        and with the GB-FFs stage "gbffs", "gbffs_interactions": DFT errors of
                        the test split (relative energies, forces; virialff.train.gbffs.
                        dft_metrics)},
     "training_gbffs": {chosen weight, validation MAEs} (with the GB-FFs stage),
     "s66_vs_ccsdt_cbs": {"geometries", "reference", "methods": {key: error stats}},
     "s66_vs_dft_cp": {"geometries", "reference", "methods": {...}},
     "s66_xtb_geometries_vs_ccsdt_cbs": {"methods": {...}},
     "base_pairs": {"reference", "values_kcal_mol": {key: {pair: E_int}}, "methods": {...}},
     "conformers": {"reference", "methods": {key: error stats of relative energies}},
     "goals": {...}}

Method keys: :data:`PAPER_MODEL` (``virialff``, the paper-faithful stage-2 model),
:data:`INTERACTION_MODEL` (``virialff_interactions``) and the baselines of the benchmarks
(GFN2-xTB, ANI, MMFF94, GAFF2, GB-FFs), and :data:`GBFFS_INTERACTION_MODEL` (``gbffs_interactions``,
GB-FFs after the same stage; :mod:`virialff.train.gbffs_interactions`) where the run makes it.
Every block carries an entry per method (``available: false`` with the
reason where a method could not run); error statistics are :func:`virialff.evaluate.metrics.
error_stats` (predicted − reference, kcal/mol, over the systems where both are finite). The
interaction energies are E_int = E_A + E_B − E_AB (positive = bound).

``s66_comparison.csv`` (:func:`s66_comparison_table`): one row per S66 dimer, CCSD(T)/CBS,
DFT-CP and every method's E_int at the reference and at the GFN2-xTB geometries.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import yaml

from virialff.evaluate.interactions import method_status, read_prediction_table
from virialff.evaluate.metrics import SIGN_CONVENTION, method_entry

PAPER_MODEL = "virialff"
INTERACTION_MODEL = "virialff_interactions"
GBFFS_MODEL = "gbffs"
GBFFS_INTERACTION_MODEL = "gbffs_interactions"
#: the goals of the interaction stage (issue #13).
TARGET_S66_CCSDT_RMSE_KCAL_MOL = 0.9
MOLECULAR_MAE_TOLERANCE = 0.10


def _interaction_values(path: str | Path) -> tuple[pd.Series, bool, str]:
    """system_id → E_int (kcal/mol, NaN where not ok), and whether the method ran."""
    table = read_prediction_table(path)
    available, reason = method_status(table)
    values = table.set_index("system_id")["interaction_energy_kcal_mol"].astype(float)
    return values, available, reason


def compare_methods(prediction_paths: Mapping[str, str | Path],
                    reference: pd.Series) -> dict[str, dict]:
    """Error statistics of every method's E_int against ``reference`` (system_id → kcal/mol).

    A method that could not run gets ``available: false``, ``n: 0`` and its reason.
    """
    out = {}
    for method, path in prediction_paths.items():
        values, available, reason = _interaction_values(path)
        aligned = values.reindex(reference.index)
        entry = method_entry(available, reason, aligned.to_numpy(), reference.to_numpy())
        if available:
            entry["n_failed"] = int(aligned.isna().sum())
        out[method] = entry
    return out


def s66_comparison_table(systems: list, reference_paths: Mapping[str, str | Path],
                         xtb_paths: Mapping[str, str | Path],
                         dft_cp_path: str | Path | None) -> pd.DataFrame:
    """One row per S66 dimer: ``system_id, name, ccsdt_cbs, dft_cp`` and, per method,
    ``<method>@reference`` and ``<method>@xtb`` E_int (kcal/mol)."""
    frame = pd.DataFrame({"system_id": [s.system_id for s in systems],
                          "name": [s.name for s in systems],
                          "ccsdt_cbs": [s.reference_kcal_mol for s in systems]})
    index = frame["system_id"]
    if dft_cp_path is not None:
        frame["dft_cp"] = _interaction_values(dft_cp_path)[0].reindex(index).to_numpy()
    for suffix, paths in (("reference", reference_paths), ("xtb", xtb_paths)):
        for method, path in paths.items():
            frame[f"{method}@{suffix}"] = _interaction_values(path)[0].reindex(index).to_numpy()
    return frame


def conformer_metrics(dft_path: str | Path,
                      prediction_paths: Mapping[str, str | Path]) -> dict[str, dict]:
    """RMSE etc. of every method's relative conformer energies against DFT."""
    from virialff.evaluate.conformers import relative_energies

    dft = pd.read_csv(dft_path, dtype={"message": str, "reason": str, "status": str})
    tables, status = {}, {}
    for method, path in prediction_paths.items():
        table = read_prediction_table(path)
        status[method] = method_status(table)
        if status[method][0]:
            tables[method] = table
    relative = relative_energies(dft, tables)
    out = {}
    for method in prediction_paths:
        available, reason = status[method]
        rows = relative[relative["method"] == method]
        out[method] = method_entry(available, reason, rows["relative_energy_kcal_mol"],
                                   rows["dft_relative_energy_kcal_mol"])
    return out


def _rmse(block: dict, method: str) -> float:
    value = block["methods"].get(method, {}).get("rmse_kcal_mol")
    return float("nan") if value is None else float(value)


def goals(metrics: dict, published_s66_rmse_kcal_mol: float) -> dict:
    """Whether the interaction-trained model meets the goals of the stage (NaN-safe: a goal
    that cannot be measured is ``null``)."""

    def check(value: float, limit: float, strict: bool = False) -> bool | None:
        if not (math.isfinite(value) and math.isfinite(limit)):
            return None
        return bool(value < limit) if strict else bool(value <= limit)

    ccsdt = metrics["s66_vs_ccsdt_cbs"]
    dft = metrics["s66_vs_dft_cp"]
    molecular = metrics["molecular_test"]
    paper_mae = molecular.get(PAPER_MODEL, {}).get("mae_kcal_mol")
    ours_mae = molecular.get(INTERACTION_MODEL, {}).get("mae_kcal_mol")
    paper_mae = float("nan") if paper_mae is None else float(paper_mae)
    ours_mae = float("nan") if ours_mae is None else float(ours_mae)
    ours_ccsdt = _rmse(ccsdt, INTERACTION_MODEL)
    mmff = next((m for m in ccsdt["methods"] if m.startswith("mmff")), None)
    return {
        "s66_ccsdt_cbs_rmse_kcal_mol": ours_ccsdt,
        "s66_ccsdt_cbs_rmse_at_most_0.9": check(ours_ccsdt, TARGET_S66_CCSDT_RMSE_KCAL_MOL),
        "s66_dft_cp_rmse_below_published": check(_rmse(dft, INTERACTION_MODEL),
                                                 published_s66_rmse_kcal_mol, strict=True),
        "published_s66_rmse_kcal_mol": published_s66_rmse_kcal_mol,
        "s66_ccsdt_cbs_rmse_below_mmff94": None if mmff is None else check(
            ours_ccsdt, _rmse(ccsdt, mmff), strict=True),
        "molecular_test_mae_within_10_percent": check(
            ours_mae, (1.0 + MOLECULAR_MAE_TOLERANCE) * paper_mae),
    }


def gbffs_training_metrics(selection: str | Path) -> dict:
    """``{"training": ..., "molecular_test": {"gbffs": ..., "gbffs_interactions": ...}}`` from
    the GB-FFs interaction stage's selection JSON (molecular test errors of GB-FFs before and
    after the fine-tune: relative energies in kcal/mol, forces in kcal/mol/Å)."""
    data = json.loads(Path(selection).read_text())
    chosen = next((r for r in data["runs"] if r["weight"] == data["chosen_weight"]), {})
    errors = data["molecular_errors"]
    return {
        "training": {
            "chosen_weight": data["chosen_weight"],
            "weights": [r["weight"] for r in data["runs"]],
            "molecular_constraint_met": data["molecular_constraint_met"],
            "fine_tuned_heads": data.get("fine_tuned_heads"),
            "val_interaction_mae_kcal_mol": {
                GBFFS_MODEL: data["initial"]["val_interaction_mae_kcal_mol"],
                GBFFS_INTERACTION_MODEL: chosen.get("val_interaction_mae_kcal_mol")},
            "val_molecular_score": {
                GBFFS_MODEL: data["initial"].get("val_molecular_score"),
                GBFFS_INTERACTION_MODEL: chosen.get("val_molecular_score")},
            "best_epoch": chosen.get("best_epoch"),
            "epochs_run": chosen.get("epochs_run"),
        },
        "molecular_test": {GBFFS_MODEL: errors["before"]["test"],
                           GBFFS_INTERACTION_MODEL: errors["after"]["test"]},
    }


def interaction_model_metrics(
    *,
    model_paths: Mapping[str, str | Path],
    molecular_metrics: Mapping[str, str | Path],
    s66_systems: list,
    s66_reference_predictions: Mapping[str, str | Path],
    s66_xtb_predictions: Mapping[str, str | Path],
    s66_dft_cp: str | Path,
    base_pair_systems: list,
    base_pair_reference: str | Path,
    base_pair_predictions: Mapping[str, str | Path],
    conformer_dft: str | Path,
    conformer_predictions: Mapping[str, str | Path],
    selection: str | Path,
    dimer_summary: str | Path,
    published: str | Path,
    run_name: str,
    data_scale: str,
    gbffs_selection: str | Path | None = None,
) -> tuple[dict, pd.DataFrame]:
    """The metrics dict (module docstring) and the S66 comparison table.

    ``gbffs_selection``: the selection JSON of the GB-FFs interaction stage
    (``results/training/gbffs_interactions_selection.json``), or None where the run has none.
    """
    from virialff.evaluate.metrics import json_ready

    ccsdt = pd.Series({s.system_id: s.reference_kcal_mol for s in s66_systems})
    dft_values, dft_ok, dft_reason = _interaction_values(s66_dft_cp)
    dft_values = dft_values.reindex(ccsdt.index)
    molecular = {}
    for key, path in molecular_metrics.items():
        entry = json.loads(Path(path).read_text())
        molecular[key] = {k: entry.get(k) for k in ("n", "mae_kcal_mol", "rmse_kcal_mol")}
    paper_mae = molecular.get(PAPER_MODEL, {}).get("mae_kcal_mol")
    ours_mae = molecular.get(INTERACTION_MODEL, {}).get("mae_kcal_mol")
    if paper_mae and ours_mae is not None:
        molecular["relative_mae_change"] = float(ours_mae) / float(paper_mae) - 1.0
    refs = yaml.safe_load(Path(base_pair_reference).read_text())
    pair_reference = pd.Series({pair: float(v["interaction_energy_kcal_mol"])
                                for pair, v in refs["base_pairs"].items()})
    jsch = pd.Series({s.system_id: s.reference_kcal_mol for s in base_pair_systems})
    pair_values = {method: _interaction_values(path)[0].reindex(pair_reference.index).to_dict()
                   for method, path in base_pair_predictions.items()}
    selection_data = json.loads(Path(selection).read_text())
    summary = json.loads(Path(dimer_summary).read_text())
    chosen = next((r for r in selection_data["runs"]
                   if r["weight"] == selection_data["chosen_weight"]), {})
    metrics = {
        "run_name": run_name,
        "data_scale": data_scale,
        "sign_convention": SIGN_CONVENTION,
        "models": {k: str(v) for k, v in model_paths.items()},
        "training": {
            "databases": {name: {k: db.get(k) for k in ("reference_table", "reference_info",
                                                         "n_members", "n_kept", "n_train",
                                                         "n_val", "skipped_by_reason")}
                          for name, db in summary["databases"].items()},
            "n_dimers": summary["n_dimers"],
            "n_skipped": summary["n_skipped"],
            "split": summary["split"],
            "chosen_weight": selection_data["chosen_weight"],
            "weights": [r["weight"] for r in selection_data["runs"]],
            "molecular_constraint_met": selection_data["molecular_constraint_met"],
            "val_interaction_mae_kcal_mol": {
                PAPER_MODEL: selection_data["initial"]["val_interaction_mae_kcal_mol"],
                INTERACTION_MODEL: chosen.get("val_interaction_mae_kcal_mol")},
            "val_molecular_mae_kcal_mol": {
                PAPER_MODEL: selection_data["initial"]["val_molecular_mae_kcal_mol"],
                INTERACTION_MODEL: chosen.get("val_molecular_mae_kcal_mol")},
            "best_epoch": chosen.get("best_epoch"),
            "epochs_run": chosen.get("epochs_run"),
        },
        "molecular_test": molecular,
        "s66_vs_ccsdt_cbs": {
            "geometries": "the original S66 geometries (Rezac, Riley & Hobza 2011), monomers "
                          "cut out of the dimer",
            "reference": "CCSD(T)/CBS, Rezac, Riley & Hobza, JCTC 7, 2427 (2011)",
            "methods": compare_methods(s66_reference_predictions, ccsdt),
        },
        "s66_vs_dft_cp": {
            "geometries": "GFN2-xTB-optimised dimers, monomers cut out (the paper's Fig. 9)",
            "reference": "wB97X-D/def2-SVP counterpoise-corrected (Psi4)",
            "n_dft": int(dft_values.notna().sum()),
            "dft_available": dft_ok, "dft_reason": dft_reason or None,
            "methods": compare_methods(s66_xtb_predictions, dft_values),
        },
        "s66_xtb_geometries_vs_ccsdt_cbs": {
            "methods": compare_methods(s66_xtb_predictions, ccsdt),
        },
        "base_pairs": {
            "reference": refs["citation"],
            "reference_values_kcal_mol": pair_reference.to_dict(),
            "jsch_ccsdt_cbs_kcal_mol": jsch.to_dict(),
            "geometries": "GFN2-xTB optimised complex and monomers (paper Eq. 25)",
            "values_kcal_mol": pair_values,
            "methods": compare_methods(base_pair_predictions, pair_reference),
        },
        "conformers": {
            "reference": "wB97X-D/def2-SVP relative energies (Psi4)",
            "methods": conformer_metrics(conformer_dft, conformer_predictions),
        },
    }
    if gbffs_selection is not None:
        gbffs_metrics = gbffs_training_metrics(gbffs_selection)
        metrics["training_gbffs"] = gbffs_metrics["training"]
        metrics["molecular_test"].update(gbffs_metrics["molecular_test"])
    published_s66 = float(yaml.safe_load(Path(published).read_text())["s66"]["rmse_kcal_mol"])
    metrics["goals"] = goals(metrics, published_s66)
    table = s66_comparison_table(s66_systems, s66_reference_predictions, s66_xtb_predictions,
                                 s66_dft_cp)
    return json_ready(metrics), table


def write_interaction_model_metrics(metrics_path: str | Path, table_path: str | Path,
                                    **inputs) -> dict:  # noqa: ANN003 - see the function above
    """:func:`interaction_model_metrics`, written to ``metrics_path`` (JSON) and
    ``table_path`` (CSV)."""
    metrics, table = interaction_model_metrics(**inputs)
    for path in (metrics_path, table_path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(metrics_path).write_text(json.dumps(metrics, indent=2) + "\n")
    table.to_csv(table_path, index=False, float_format="%.4f")
    return metrics

