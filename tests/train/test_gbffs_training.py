"""Specification of GB-FFs' training (virialff.train.gbffs): GAFF2 targets on GB-FFs' terms
from real antechamber runs, the three steps, the dynamic filter, the choice of epoch on the
validation split, and frozen embeddings that stay frozen."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from synthetic_data import write_compound_dataset

from virialff.chem.valence_terms import valence_terms
from virialff.config import default_config
from virialff.errors import MoleculeRejected
from virialff.forcefield import antechamber
from virialff.formats.amber_parameters import write_amber_parameters
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.formats.model_file import model_payload, read_model_file, write_model_file
from virialff.model.embedding import KineticDecompositionModel
from virialff.model.gbffs import ValenceTable, build_gbffs_model
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.train import gbffs as tg

pytestmark = pytest.mark.skipif(not antechamber.available()[0],
                                reason=antechamber.available()[1] or "AmberTools")

#: six compounds, two geometries each (ETKDG conformers): impropers (acetamide, acetic acid,
#: benzene), a nitrile, chlorine, an ether.
SMILES = ("CC(=O)N", "CC(=O)O", "c1ccccc1", "CC#N", "CCCl", "COC")
N_GEOMETRIES = 2 * len(SMILES)
#: compounds by split: 0-3 train, 4 validation, 5 test.
SPLIT = {"train": (0, 1, 2, 3), "val": (4,), "test": (5,)}


def small_settings(**changes) -> dict:  # noqa: ANN003
    """The schema's training.gbffs with a small head and short steps."""
    settings = {**default_config()["training"]["gbffs"], "hidden_width": 16, "batch_size": 4,
                "learning_rate": 1e-2, "step1_epochs": 2, "step2_epochs": 1, "step3_epochs": 2}
    settings.update(changes)
    return settings


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """A data set of 12 geometries (6 compounds × 2 conformers; synthetic energies and forces),
    GAFF2/AM1-BCC parameters from antechamber (one set per compound, from its first geometry,
    as the gaff2 stage makes them), the geometry SDF and an untrained small stage-1 model."""
    root = tmp_path_factory.mktemp("gbffs")
    mols = write_compound_dataset(root / "dataset.pt", N_GEOMETRIES, SMILES, SPLIT, seed=2)
    compound = [i % len(SMILES) for i in range(N_GEOMETRIES)]
    first = {}
    parameters = []
    for mol, c in zip(mols, compound, strict=True):
        name = mol.GetProp("_Name")
        mol.SetProp("molecule_id", name)
        if c not in first:
            first[c] = antechamber.gaff2_parameters(mol, name)
        parameters.append(replace(first[c], molecule_id=name, extra={}))
    write_amber_parameters(root / "gaff2.npz", parameters, "antechamber gaff2 am1-bcc")
    write_geometry_sdf(root / "geometries.sdf", mols)
    torch.manual_seed(0)
    stage1 = KineticDecompositionModel(**SMALL_MODEL_CONFIG["embedding"])
    write_model_file(root / "embedding.pt", model_payload(
        stage1, {"embedding": SMALL_MODEL_CONFIG["embedding"]}, kind="embedding", target="kd"))
    return {"root": root, "mols": mols, "parameters": parameters, "stage1": stage1}


@pytest.fixture(scope="module")
def prepared(inputs) -> tg.GBFFsData:
    gaff2, _ = tg.read_gaff2_shards([inputs["root"] / "gaff2.npz"])
    formal = tg.read_formal_charges([inputs["root"] / "geometries.sdf"])
    table = tg.StatusTable(tg.STAGE)
    data = tg.prepare_gbffs_data(inputs["root"] / "dataset.pt", gaff2, formal, table)
    assert [r.status for r in table.records] == ["ok"] * N_GEOMETRIES
    return data


def fresh_model(inputs, seed: int = 0):  # noqa: ANN001, ANN201
    torch.manual_seed(seed)
    config = {"embedding": SMALL_MODEL_CONFIG["embedding"],
              "gbffs": {"hidden_width": 16, "head_layers": 2}}
    model = build_gbffs_model(config)
    model.embedding.load_state_dict({k[len("mpnn."):]: v for k, v in
                                     inputs["stage1"].state_dict().items()
                                     if k.startswith("mpnn.")})
    model = model.double()
    for p in model.embedding.parameters():
        p.requires_grad_(False)
    return model


# -- GAFF2 targets ----------------------------------------------------------------------------
def test_gaff2_term_energies_add_up_to_gaff2s_energy(inputs, prepared):
    """The per-term targets of step 2 are GAFF2's energy split over GB-FFs' terms: their sum
    plus the constants of the phase mapping is GAFF2's total (NumPy reference)."""
    from virialff.forcefield.amber_system import AmberFormSystem

    for m in (0, 2, 7):
        parameters = inputs["parameters"][m]
        batch = tg.make_batch(prepared, torch.tensor([m]), None)
        x = batch.positions.numpy()
        reference = AmberFormSystem([parameters]).energy_and_forces(x)
        split_sum = sum(float(prepared.term_energies[name][batch.rows[block]].sum())
                        for name, block in tg.TERM_BLOCKS.items())
        terms = valence_terms(parameters.bond_index, parameters.n_atoms)
        mapped = tg.gaff2_term_targets(parameters, terms, parameters.atomic_numbers, "m")
        constant = mapped.torsion_row_offset.sum() + mapped.improper_row_offset.sum()
        assert split_sum + constant == pytest.approx(reference[0], abs=1e-9)
        assert float(prepared.gaff2_energy[m]) == pytest.approx(reference[0], abs=1e-9)
        np.testing.assert_allclose(prepared.gaff2_forces[batch.rows["atoms"]].numpy(),
                                   reference[1], rtol=0, atol=1e-9)


def test_torsion_rows_map_to_one_constant_per_path_and_periodicity(inputs):
    parameters = inputs["parameters"][0]  # acetamide
    terms = valence_terms(parameters.bond_index, parameters.n_atoms)
    base = tg.gaff2_term_targets(parameters, terms, parameters.atomic_numbers, "acetamide")
    assert base.messages == []
    path = terms.propers[0]
    extra = replace(
        parameters,
        torsion_index=np.vstack([parameters.torsion_index, [path[::-1]] * 3]),
        # n = 2 at γ = 0 (opposite to GB-FFs' π), n = 3 at γ = 0 (GB-FFs'), n = 6
        torsion_periodicity=np.concatenate([parameters.torsion_periodicity, [2, 3, 6]]),
        torsion_phase_rad=np.concatenate([parameters.torsion_phase_rad, [0.0, 0.0, math.pi]]),
        torsion_k_kcal_mol=np.concatenate([parameters.torsion_k_kcal_mol, [0.5, 0.25, 0.1]]))
    mapped = tg.gaff2_term_targets(extra, terms, parameters.atomic_numbers, "acetamide")
    change = mapped.values["torsion_k_kcal_mol"] - base.values["torsion_k_kcal_mol"]
    expected = np.zeros_like(change)
    expected[0, 1], expected[0, 2] = -0.5, 0.25
    np.testing.assert_allclose(change, expected, atol=1e-12)
    assert len(mapped.messages) == 1 and "periodicity 6" in mapped.messages[0]
    assert mapped.torsion_row_offset[-3] == pytest.approx(1.0)  # 2k of the opposite row


def test_impropers_are_zero_where_gaff2_has_none(inputs):
    parameters = inputs["parameters"][0]  # acetamide: GAFF2 impropers at C1 (c) and N3 (n)
    terms = valence_terms(parameters.bond_index, parameters.n_atoms)
    mapped = tg.gaff2_term_targets(parameters, terms, parameters.atomic_numbers, "acetamide")
    centres = dict(zip(terms.impropers[:, 2].tolist(), mapped.values["improper_k_kcal_mol"],
                       strict=True))
    gaff2 = dict.fromkeys(terms.impropers[:, 2].tolist(), 0.0)
    for index, k in zip(parameters.improper_index, parameters.improper_k_kcal_mol, strict=True):
        gaff2[int(index[2])] += k
    assert centres == pytest.approx(gaff2)
    assert 0.0 in centres.values() or len(centres) == len(parameters.improper_index)


def test_parameters_of_another_atom_order_are_a_mismatch(inputs):
    parameters = inputs["parameters"][0]
    terms = valence_terms(parameters.bond_index, parameters.n_atoms)
    shuffled = parameters.atomic_numbers[::-1].copy()
    with pytest.raises(MoleculeRejected) as error:
        tg.gaff2_term_targets(parameters, terms, shuffled, "acetamide")
    assert error.value.reason == "parameter_mismatch" and "acetamide" in str(error.value)
    other = valence_terms(inputs["parameters"][1].bond_index, parameters.n_atoms)
    with pytest.raises(MoleculeRejected, match="bonds"):
        tg.gaff2_term_targets(parameters, other, parameters.atomic_numbers, "acetamide")


# -- the steps --------------------------------------------------------------------------------
def _train_parameter_loss(model, data) -> float:  # noqa: ANN001
    batch = tg.make_batch(data, data.split["train"], tg.cached_embeddings(model, data))
    with torch.no_grad():
        losses = tg.parameter_losses(model(batch.h, batch.terms), data, batch)
    return float(sum(losses.values()))


def test_step_1_drives_the_parameters_to_gaff2s(inputs, prepared):
    """60 epochs of step 1 cut the scaled-parameter loss of the training geometries at least
    tenfold (about fortyfold when written). The training split doubles as the validation
    split here, so the kept epoch is the best one for the training geometries."""
    model = fresh_model(inputs)
    cache = tg.cached_embeddings(model, prepared)
    data = replace(prepared, split={**prepared.split, "val": prepared.split["train"]})
    before = _train_parameter_loss(model, data)
    history = tg.run_step(model, data, 1, small_settings(step1_epochs=60, learning_rate=0.03),
                          cache, torch.Generator().manual_seed(0))
    after = _train_parameter_loss(model, data)
    assert after < before / 10, (before, after)
    assert history[0]["epoch"] == 0  # the starting weights, scored but not trained
    assert history[-1]["train_loss"] < history[1]["train_loss"]


def test_the_dynamic_filter_drops_exactly_the_geometries_that_break_the_rule():
    # 4 geometries: 0 and 1 outliers among bonds and angles, 2 (one bond, one angle), and one
    # bond outlier with two VdW outliers
    energies = {"bond": torch.tensor([1.0, 150.0, 150.0, 5.0, 101.0]),
                "angle": torch.tensor([99.0, 20.0, 120.0, 30.0]),
                "lj": torch.tensor([49.0, 60.0, 1.0, 51.0, 52.0])}

    class Terms:
        bond_owner = torch.tensor([0, 1, 2, 3, 3])
        angle_owner = torch.tensor([0, 1, 2, 3])
        pair_owner = torch.tensor([0, 1, 2, 3, 3])

    keep = tg.outlier_filter(energies, Terms, 4, 100.0, 50.0, 1)
    assert keep.tolist() == [True, True, False, False]


def test_stretched_bonds_are_left_out_of_step_3_by_the_filter(inputs, prepared):
    """One geometry with two C–H bonds stretched by 1.2 Å (two bond terms ≫ 100 kcal/mol) is
    dropped; with one stretched bond it counts."""
    model = fresh_model(inputs)
    cache = tg.cached_embeddings(model, prepared)
    settings = small_settings()
    idx = torch.tensor([0, 6])  # acetamide's two geometries
    batch = tg.make_batch(prepared, idx, cache)
    bonds = batch.terms.bonds[batch.terms.bond_owner == 0]
    heavy = prepared.graphs.element_index[batch.rows["atoms"]] > 0
    with_h = [b for b in bonds.tolist() if heavy[b[0]] != heavy[b[1]]]
    for n_stretched, dropped in ((1, 0), (2, 1)):
        positions = batch.positions.clone()
        for i, j in with_h[:n_stretched]:
            h_atom = j if heavy[i] else i
            other = i if heavy[i] else j
            direction = positions[h_atom] - positions[other]
            positions[h_atom] += 1.2 * direction / direction.norm()
        moved = replace(batch, positions=positions)
        result = tg.batch_loss(model, prepared, moved, 3, settings)
        assert result.n_dropped == dropped


def test_the_validation_split_chooses_the_epoch(inputs, prepared):
    """Step 1 with frozen embeddings: each parameter kind keeps the weights of the epoch of its
    own lowest validation loss, and the model ends holding exactly those weights."""
    model = fresh_model(inputs)
    cache = tg.cached_embeddings(model, prepared)
    settings = small_settings(learning_rate=0.05, step1_epochs=12)
    history = tg.run_step(model, prepared, 1, settings, cache, torch.Generator().manual_seed(3))
    chosen = tg.selected_epochs(history)
    assert set(chosen) == set(tg.PARAMETER_KINDS)
    now = tg.validation_parts(model, prepared, prepared.split["val"], cache, 1, settings)
    for kind, epoch in chosen.items():
        scores = [row[f"val_{kind}"] for row in history]
        assert epoch == int(np.argmin(scores)), kind  # rows are epochs 0, 1, ...
        assert now[kind] == pytest.approx(min(scores), rel=1e-12), kind
    assert len(set(chosen.values())) > 1  # the kinds did not all stop at one epoch
    # the test split never enters: its molecules are not among the scored ones
    assert set(prepared.split["test"].tolist()).isdisjoint(prepared.split["val"].tolist())


def test_step_3_keeps_its_best_validation_epoch(inputs, prepared):
    model = fresh_model(inputs)
    cache = tg.cached_embeddings(model, prepared)
    settings = small_settings(step3_epochs=4, step3_learning_rate=0.02)
    history = tg.run_step(model, prepared, 3, settings, cache, torch.Generator().manual_seed(1))
    scores = [row["val_score"] for row in history]
    assert tg.selected_epochs(history) == {"all": int(np.argmin(scores))}
    now = tg.validation_score(model, prepared, prepared.split["val"], cache, 3, settings)
    assert now == pytest.approx(min(scores), rel=1e-12)


def _train(inputs, tmp_path, **changes):  # noqa: ANN001, ANN003, ANN202
    root = inputs["root"]
    paths = {name: tmp_path / name for name in ("gbffs.pt", "history.csv", "metrics.json",
                                                  "status.csv")}
    metrics = tg.train_gbffs(root / "dataset.pt", root / "embedding.pt", [tmp_path / "gaff2.npz"],
                             paths["gbffs.pt"], paths["history.csv"], paths["metrics.json"],
                             paths["status.csv"], settings=small_settings(**changes), seed=5,
                             geometry_paths=[root / "geometries.sdf"])
    return metrics, paths


def test_three_steps_end_to_end_with_frozen_embeddings_bit_identical(inputs, tmp_path):
    """The whole training writes its model, history, metrics and status; a molecule without
    GAFF2 parameters is a failed row; the stage-1 weights come out bit-identical."""
    write_amber_parameters(tmp_path / "gaff2.npz", inputs["parameters"][1:], "antechamber")
    metrics, paths = _train(inputs, tmp_path)
    payload = read_model_file(paths["gbffs.pt"])
    assert payload["kind"] == "gbffs" and payload["config"]["gbffs"]["hidden_width"] == 16
    stage1 = {k: v for k, v in read_model_file(inputs["root"] / "embedding.pt")[
        "state_dict"].items() if k.startswith("mpnn.")}
    for name, value in stage1.items():
        saved = payload["state_dict"]["embedding." + name[len("mpnn."):]]
        assert torch.equal(saved, value.double()), name
    assert payload["embedding_source"]["state_digest"] == read_model_file(
        inputs["root"] / "embedding.pt")["state_digest"]
    rows = list(csv.DictReader(paths["status.csv"].open()))
    failed = [r for r in rows if r["status"] != "ok"]
    assert [(r["molecule_id"], r["reason"]) for r in failed] == [("synthetic_0000",
                                                                  "missing_input")]
    history = list(csv.DictReader(paths["history.csv"].open()))
    assert [(int(r["step"]), int(r["epoch"])) for r in history] == [
        (1, 0), (1, 1), (1, 2), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]
    written = json.loads(paths["metrics.json"].read_text())
    assert set(written["steps"]) == {"1", "2", "3"}
    assert written["evaluation"]["test"]["gbffs"]["n_relative_energies"] == 1
    assert metrics["n_molecules"]["usable"] == N_GEOMETRIES - 1

    from virialff.model.gbffs import GBFFsPredictor

    predictor = GBFFsPredictor.load(paths["gbffs.pt"])
    parameters = predictor.amber_parameters(inputs["mols"][2], "benzene")
    assert parameters.n_atoms == 12 and abs(parameters.charges_e.sum()) < 1e-12


def test_fine_tuning_moves_the_embeddings(inputs, tmp_path):
    write_amber_parameters(tmp_path / "gaff2.npz", inputs["parameters"], "antechamber")
    _, paths = _train(inputs, tmp_path, fine_tune_embeddings=True, step2_epochs=1,
                      step3_epochs=1)
    payload = read_model_file(paths["gbffs.pt"])
    stage1 = read_model_file(inputs["root"] / "embedding.pt")["state_dict"]
    changed = [k for k, v in stage1.items() if k.startswith("mpnn.") and not torch.equal(
        payload["state_dict"]["embedding." + k[len("mpnn."):]], v.double())]
    assert changed


def test_valence_table_rows_follow_the_batch(prepared):
    table: ValenceTable = prepared.table
    rows = table.rows("bonds", [3, 1])
    batch = table.select([3, 1])
    assert rows.numel() == batch.bonds.shape[0]
    local = table.index["bonds"][rows]
    shift = batch.atom_ptr[batch.bond_owner].unsqueeze(1)
    assert torch.equal(local + shift, batch.bonds)
