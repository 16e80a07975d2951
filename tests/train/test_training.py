"""Specification of training: learning, resumption, determinism and the output formats."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch
from synthetic_data import synthetic_molecules, write_synthetic_dataset
from train_support import CHO_SMILES, embed, potential, small_config

import virialff
from virialff.train.evaluate import evaluate_model
from virialff.train.loop import HISTORY_COLUMNS, TrainingInterruptedError


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
    history = potential(
        data, tmp_path / "total.pt", tmp_path / "h.csv", config, "total", progress=False
    )
    first, last = history[0]["train_loss"], min(row["train_loss"] for row in history[-20:])
    print(f"overfit: first {first:.3f} kcal/mol, last {last:.4f}, ratio {first / last:.1f}")
    assert first / last >= 10.0


def test_killed_and_resumed_training_equals_an_uninterrupted_run(dataset, tmp_path):
    config = small_config(potential={"pretrained_embeddings": False})
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    embed(dataset, whole / "embedding.pt", whole / "e.csv", config, progress=False)
    with pytest.raises(TrainingInterruptedError):
        embed(
            dataset,
            parts / "embedding.pt",
            parts / "e.csv",
            config,
            stop_after_epoch=_interrupt_after(2),
            progress=False,
        )
    assert (parts / "embedding.pt.ckpt").exists() and not (parts / "embedding.pt").exists()
    embed(dataset, parts / "embedding.pt", parts / "e.csv", config, progress=False)
    assert _same_state(whole / "embedding.pt", parts / "embedding.pt")
    pd.testing.assert_frame_equal(_losses(whole / "e.csv"), _losses(parts / "e.csv"))
    assert not (parts / "embedding.pt.ckpt").exists()

    # stage 2 from scratch exercises the noise generator and the learning-rate scheduler
    potential(dataset, whole / "total.pt", whole / "t.csv", config, "total", progress=False)
    with pytest.raises(TrainingInterruptedError):
        potential(
            dataset,
            parts / "total.pt",
            parts / "t.csv",
            config,
            "total",
            stop_after_epoch=_interrupt_after(3),
            progress=False,
        )
    potential(dataset, parts / "total.pt", parts / "t.csv", config, "total", progress=False)
    assert _same_state(whole / "total.pt", parts / "total.pt")
    pd.testing.assert_frame_equal(_losses(whole / "t.csv"), _losses(parts / "t.csv"))


def test_two_stage_training_writes_the_documented_files(dataset, tmp_path):
    config = small_config()
    embed(
        dataset,
        tmp_path / "embedding.pt",
        tmp_path / "embedding_history.csv",
        config,
        progress=False,
    )
    for target in ("total", "kinetic"):
        potential(
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
        assert {"config", "elements", "normalisation", "split", "version", "inputs",
                "state_digest", "state_dict"} <= set(payload)
        assert set(payload["inputs"]) == {"dataset", "embedding"}
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
            run_name="test",
            data_scale="custom",
            device="cpu",
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
            "n_atoms",
            "force_mae_kcal_mol_angstrom",
            "dipole_error_debye",
        ]
        assert len(predictions) == metrics["n"] > 0
        # the synthetic molecules carry forces: the total model's are scored, the kinetic
        # energy has none to compare with
        assert (metrics["n_with_forces"] > 0) == (target == "total")
        # the prediction API gives the energies of the vectorised evaluation
        predictor = virialff.load_model(tmp_path / f"{target}.pt", device="cpu")
        assert predictor.target == target
        mols = {m.GetProp("_Name"): m for m in synthetic_molecules(12)}
        energies = predictor.energies_kcal_mol([mols[i] for i in predictions["molecule_id"]])
        assert energies == pytest.approx(predictions["predicted_kcal_mol"].to_numpy(), abs=1e-3)
    with pytest.raises(ValueError, match="stage-1"):
        virialff.load_model(tmp_path / "embedding.pt")


def test_a_checkpoint_from_other_inputs_is_discarded_and_training_starts_fresh(dataset, tmp_path,
                                                                              caplog):
    """Stage 2 killed after epoch 2; then the embedding is retrained with other settings. The
    rerun must not resume on top of the old embedding: it starts fresh, says why, and ends
    exactly where an uninterrupted run on the new embedding ends."""
    config = small_config()
    embed(dataset, tmp_path / "embedding.pt", tmp_path / "e.csv", config, progress=False)
    with pytest.raises(TrainingInterruptedError):
        potential(dataset, tmp_path / "total.pt", tmp_path / "t.csv", config, "total",
                  embedding_path=tmp_path / "embedding.pt",
                  stop_after_epoch=_interrupt_after(2), progress=False)
    retrained = small_config(embedding={"learning_rate": 1e-2})
    embed(dataset, tmp_path / "embedding.pt", tmp_path / "e.csv", retrained, progress=False)
    with caplog.at_level("WARNING", logger="virialff.train"):
        history = potential(dataset, tmp_path / "total.pt", tmp_path / "t.csv", config,
                            "total", embedding_path=tmp_path / "embedding.pt", progress=False)
    assert "discarding checkpoint" in caplog.text and "the embedding changed" in caplog.text
    assert [row["epoch"] for row in history] == [1, 2, 3, 4]
    fresh = tmp_path / "fresh"
    potential(dataset, fresh / "total.pt", fresh / "t.csv", config, "total",
              embedding_path=tmp_path / "embedding.pt", progress=False)
    assert _same_state(tmp_path / "total.pt", fresh / "total.pt")


def test_a_checkpoint_from_another_configuration_is_discarded(dataset, tmp_path, caplog):
    config = small_config()
    with pytest.raises(TrainingInterruptedError):
        embed(dataset, tmp_path / "embedding.pt", tmp_path / "e.csv", config,
              stop_after_epoch=_interrupt_after(2), progress=False)
    changed = small_config(embedding={"learning_rate": 1e-2})
    with caplog.at_level("WARNING", logger="virialff.train"):
        history = embed(dataset, tmp_path / "embedding.pt", tmp_path / "e.csv", changed,
                        progress=False)
    assert "the training configuration changed" in caplog.text
    assert history[0]["epoch"] == 1


def test_early_stopping_keeps_the_weights_of_the_best_validation_epoch(dataset, tmp_path):
    """With a learning rate far too large the validation MAE stops improving early: training
    ends `patience` epochs after its best epoch and the model is that epoch's."""
    config = small_config(potential={"pretrained_embeddings": False, "epochs": 60,
                                     "learning_rate": 0.3, "early_stopping_patience": 3})
    history = potential(dataset, tmp_path / "total.pt", tmp_path / "t.csv", config, "total",
                        progress=False)
    val = [row["val_loss"] for row in history]
    best_epoch = 1 + val.index(min(val))
    assert len(history) == best_epoch + 3 < 60
    metrics = evaluate_model(tmp_path / "total.pt", dataset, tmp_path / "p.csv",
                             tmp_path / "m.json", run_name="t", data_scale="custom",
                             device="cpu", split="val")
    assert metrics["mae_kcal_mol"] == pytest.approx(min(val), rel=1e-6)


def test_a_training_subset_keeps_whole_compounds_and_grows_by_inclusion():
    from virialff.train.data import restrict_training_split

    groups = ["a", "a", "b", "c", "c", "c", "d", "e"]
    split = {"train": torch.arange(7), "val": torch.tensor([7]),
             "test": torch.tensor([], dtype=torch.long)}
    small = restrict_training_split(split, groups, 2, seed=4)
    large = restrict_training_split(split, groups, 3, seed=4)
    chosen = {groups[i] for i in small["train"].tolist()}
    assert len(chosen) == 2
    # every conformer of a chosen compound, and nothing of the others
    assert small["train"].tolist() == [i for i in range(7) if groups[i] in chosen]
    assert set(small["train"].tolist()) <= set(large["train"].tolist())
    assert torch.equal(small["val"], split["val"])
    with pytest.raises(ValueError, match="training split has 4"):
        restrict_training_split(split, groups, 5, seed=4)
