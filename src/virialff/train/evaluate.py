"""Test-set predictions and metrics of a stage-2 model (docs/data-formats.md).

Predictions are computed on the collated dataset in vectorised batches (no RDKit), writing
``results/predictions/<name>_test.csv`` and ``results/metrics/<name>.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from virialff.formats.model_file import read_model_file
from virialff.model.potential_model import TARGET_KEYS, potential_model_from_payload
from virialff.train.data import load_dataset
from virialff.train.stages import (
    _batch,
    _place_dataset,
    charge_dipole_errors_debye,
    energy_and_force_errors,
    select_device,
)


def predict_dataset(
    model_path: str | Path,
    dataset_path: str | Path,
    split: str,
    device: str,
    batch_size: int = 512,
) -> tuple[pd.DataFrame, dict]:
    """Reference and predicted target energies of one split, and the force MAE of each
    molecule with DFT forces (NaN without): ``(table, model metadata)``. Forces are
    −∇Ê by autograd (:func:`virialff.train.stages.energy_and_force_errors`)."""
    payload = read_model_file(model_path, kind="potential")
    dev = select_device(device)
    model = potential_model_from_payload(payload, str(model_path)).to(dev).eval()
    metadata = {k: v for k, v in payload.items() if k != "state_dict"}
    graphs, splits, _ = load_dataset(dataset_path)
    indices = splits[split]
    key = TARGET_KEYS[model.target]
    data = _place_dataset(graphs, dev)
    predicted, force_errors, dipole_errors = [], [], []
    for start in range(0, indices.numel(), batch_size):
        batch = _batch(data, indices[start : start + batch_size], dev)
        dipole_errors.append(dipole_errors_debye(model, batch).cpu())
        energy_error, force_error, has = energy_and_force_errors(
            model, batch, batch.positions_angstrom, None, model.target == "total",
            create_graph=False)
        predicted.append((batch.molecule_targets[key].double()
                          + energy_error.detach().double()).cpu())
        force_errors.append(torch.where(has > 0, force_error.detach().double(),
                                        torch.full_like(force_error, float("nan"),
                                                        dtype=torch.float64)).cpu())
    predicted_np = torch.cat(predicted).numpy() if predicted else np.zeros(0)
    reference = graphs.molecule_targets[key][indices].double().numpy()
    table = pd.DataFrame(
        {
            "molecule_id": [graphs.molecule_ids[i] for i in indices.tolist()],
            "split": split,
            "reference_kcal_mol": reference,
            "predicted_kcal_mol": predicted_np,
            "error_kcal_mol": predicted_np - reference,
            "n_atoms": (graphs.atom_ptr[indices + 1] - graphs.atom_ptr[indices]).numpy(),
            "force_mae_kcal_mol_angstrom": (torch.cat(force_errors).numpy() if force_errors
                                            else np.zeros(0)),
            "dipole_error_debye": (torch.cat(dipole_errors).numpy() if dipole_errors
                                   else np.zeros(0)),
        }
    )
    return table, metadata


def dipole_errors_debye(model, batch) -> torch.Tensor:  # noqa: ANN001 - PotentialModel, batch
    """|μ(charges) − μ(DFT)| per molecule (Debye; NaN where the DFT gave no dipole);
    :func:`~virialff.train.stages.charge_dipole_errors_debye`."""
    with torch.no_grad():
        error, has = charge_dipole_errors_debye(model, batch)
    return torch.where(has, error, torch.full_like(error, float("nan")))


def dipole_metrics(table: pd.DataFrame, worst: int = 5) -> dict:
    """MAE of |Δμ| (Debye) over the molecules with a DFT dipole, and the ``worst`` of them."""
    rows = table[table["dipole_error_debye"].notna()].sort_values("dipole_error_debye",
                                                                  ascending=False)
    return {"n_with_dipole": int(len(rows)),
            "dipole_mae_debye": float(rows["dipole_error_debye"].mean()) if len(rows) else None,
            "dipole_worst_debye": [{"molecule_id": r.molecule_id,
                                    "error_debye": float(r.dipole_error_debye)}
                                   for r in rows.head(worst).itertuples()]}


def force_metrics(table: pd.DataFrame) -> dict:
    """Force MAE (kcal/mol/Å, per Cartesian component, over every atom of the molecules with
    DFT forces; None without any) and how many molecules it covers."""
    has = table["force_mae_kcal_mol_angstrom"].notna()
    atoms = table.loc[has, "n_atoms"].to_numpy(dtype=float)
    errors = table.loc[has, "force_mae_kcal_mol_angstrom"].to_numpy(dtype=float)
    return {"n_with_forces": int(has.sum()),
            "force_mae_kcal_mol_angstrom": (float(np.sum(errors * atoms) / atoms.sum())
                                            if atoms.size else None)}


def error_metrics(errors_kcal_mol: np.ndarray) -> dict:
    """``n``, ``mae_kcal_mol``, ``rmse_kcal_mol`` (NaN when empty)."""
    errors = np.asarray(errors_kcal_mol, dtype=np.float64)
    if errors.size == 0:
        return {"n": 0, "mae_kcal_mol": float("nan"), "rmse_kcal_mol": float("nan")}
    return {
        "n": int(errors.size),
        "mae_kcal_mol": float(np.mean(np.abs(errors))),
        "rmse_kcal_mol": float(np.sqrt(np.mean(errors**2))),
    }


def evaluate_model(
    model_path: str | Path,
    dataset_path: str | Path,
    predictions_csv: str | Path,
    metrics_json: str | Path,
    *,
    run_name: str,
    data_scale: str,
    device: str,
    split: str = "test",
) -> dict:
    """Write the predictions CSV and metrics JSON of ``split``; return the metrics."""
    table, metadata = predict_dataset(model_path, dataset_path, split, device)
    for path in (predictions_csv, metrics_json):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(predictions_csv, index=False, float_format="%.6f")
    metrics = {
        "run_name": run_name,
        "data_scale": data_scale,
        "model": metadata.get("name", Path(model_path).stem),
        "target": metadata["target"],
        "split": split,
        **error_metrics(table["error_kcal_mol"].to_numpy()),
        **force_metrics(table),
        **dipole_metrics(table),
        "pretrained_embeddings": bool(metadata["config"].get("pretrained_embeddings", True)),
        "model_path": str(model_path),
    }
    Path(metrics_json).write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
