"""Specification of training: learning, resumption, determinism and the output formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from train_support import CHO_SMILES, small_config

import virialff
from virialff.train.data import synthetic_molecules, write_synthetic_dataset
from virialff.train.evaluate import evaluate_model
from virialff.train.loop import HISTORY_COLUMNS, TrainingInterruptedError
from virialff.train.stages import train_embedding, train_potential


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_synthetic_dataset(tmp_path_factory.mktemp("data") / "dataset.pt", n_molecules=12)


def _interrupt_after(epoch_to_stop: int):
    def callback(epoch: int) -> None:
        if epoch == epoch_to_stop:
            raise TrainingInterruptedError(f"simulated kill after epoch {epoch}")

    return callback


def _same_state(a: str, b: str) -> bool:
    sa = torch.load(a, weights_only=True)["state_dict"]
    sb = torch.load(b, weights_only=True)["state_dict"]
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _losses(path) -> pd.DataFrame:
    return pd.read_csv(path).drop(columns="wall_s")


def test_overfitting_eight_molecules_reduces_the_loss_tenfold(tmp_path):
    data = write_synthetic_dataset(
        tmp_path / "cho.pt", n_molecules=8, smiles=CHO_SMILES, split_fractions=(1.0, 0.0, 0.0)
    )
    config = small_config(
        embedding={"hidden_width": 32},
        potential={
            "pretrained_embeddings": False,
            "batch_size": 8,
            "epochs": 300,
            "learning_rate": 1e-2,
            "lr_decay_every_epochs": 100,
            "feats_net_width": 32,
            "charge_net_width": 32,
            "coordinate_noise_angstrom": 0.0,
        },
    )
    history = train_potential(
        data, tmp_path / "total.pt", tmp_path / "h.csv", config, "total", progress=False
    )
    first, last = history[0]["train_loss"], min(row["train_loss"] for row in history[-20:])
    print(f"overfit: first {first:.3f} kcal/mol, last {last:.4f}, ratio {first / last:.1f}")
    assert first / last >= 10.0


def test_killed_and_resumed_training_equals_an_uninterrupted_run(dataset, tmp_path):
    config = small_config(potential={"pretrained_embeddings": False})
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    train_embedding(dataset, whole / "embedding.pt", whole / "e.csv", config, progress=False)
    with pytest.raises(TrainingInterruptedError):
        train_embedding(
            dataset,
            parts / "embedding.pt",
            parts / "e.csv",
            config,
            stop_after_epoch=_interrupt_after(2),
            progress=False,
        )
    assert (parts / "embedding.pt.ckpt").exists() and not (parts / "embedding.pt").exists()
    train_embedding(dataset, parts / "embedding.pt", parts / "e.csv", config, progress=False)
    assert _same_state(whole / "embedding.pt", parts / "embedding.pt")
    pd.testing.assert_frame_equal(_losses(whole / "e.csv"), _losses(parts / "e.csv"))
    assert not (parts / "embedding.pt.ckpt").exists()

    # stage 2 from scratch exercises the noise generator and the learning-rate scheduler
    train_potential(dataset, whole / "total.pt", whole / "t.csv", config, "total", progress=False)
    with pytest.raises(TrainingInterruptedError):
        train_potential(
            dataset,
            parts / "total.pt",
            parts / "t.csv",
            config,
            "total",
            stop_after_epoch=_interrupt_after(3),
            progress=False,
        )
    train_potential(dataset, parts / "total.pt", parts / "t.csv", config, "total", progress=False)
    assert _same_state(whole / "total.pt", parts / "total.pt")
    pd.testing.assert_frame_equal(_losses(whole / "t.csv"), _losses(parts / "t.csv"))


def test_two_stage_training_writes_the_documented_files(dataset, tmp_path):
    config = small_config()
    train_embedding(
        dataset,
        tmp_path / "embedding.pt",
        tmp_path / "embedding_history.csv",
        config,
        progress=False,
    )
    for target in ("total", "kinetic"):
        train_potential(
            dataset,
            tmp_path / f"{target}.pt",
            tmp_path / f"{target}_history.csv",
            config,
            target,
            embedding_path=tmp_path / "embedding.pt",
            progress=False,
        )
        history = pd.read_csv(tmp_path / f"{target}_history.csv")
        assert tuple(history.columns) == HISTORY_COLUMNS and len(history) == 4
        assert history["learning_rate"].tolist() == pytest.approx([3e-3, 3e-3, 2.4e-3, 2.4e-3])
        payload = torch.load(tmp_path / f"{target}.pt", weights_only=True)
        assert {"config", "elements", "normalisation", "split", "version", "state_dict"} <= set(
            payload
        )
        assert payload["config"]["pretrained_embeddings"] is True
        # the frozen embedding network is exactly the stage-1 MPNN
        stage1 = torch.load(tmp_path / "embedding.pt", weights_only=True)["state_dict"]
        assert torch.equal(
            payload["state_dict"]["embedding.gru.weight_hh"], stage1["mpnn.gru.weight_hh"]
        )
        metrics = evaluate_model(
            tmp_path / f"{target}.pt",
            dataset,
            tmp_path / f"{target}_test.csv",
            tmp_path / f"{target}.json",
        )
        assert json.loads((tmp_path / f"{target}.json").read_text()) == metrics
        assert {
            "run_name",
            "data_scale",
            "target",
            "split",
            "n",
            "mae_kcal_mol",
            "rmse_kcal_mol",
        } <= set(metrics)
        assert metrics["target"] == target and metrics["split"] == "test"
        predictions = pd.read_csv(tmp_path / f"{target}_test.csv")
        assert list(predictions.columns) == [
            "molecule_id",
            "split",
            "reference_kcal_mol",
            "predicted_kcal_mol",
            "error_kcal_mol",
        ]
        assert len(predictions) == metrics["n"] > 0
        # the prediction API gives the energies of the vectorised evaluation
        predictor = virialff.load_model(tmp_path / f"{target}.pt", device="cpu")
        assert predictor.target == target
        mols = {m.GetProp("_Name"): m for m in synthetic_molecules(12)}
        energies = predictor.energies_kcal_mol([mols[i] for i in predictions["molecule_id"]])
        assert energies == pytest.approx(predictions["predicted_kcal_mol"].to_numpy(), abs=1e-3)
    with pytest.raises(ValueError, match="stage-1"):
        virialff.load_model(tmp_path / "embedding.pt")
