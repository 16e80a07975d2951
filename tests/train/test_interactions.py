"""Stage 3: interaction energies of dimers and the fine-tune on them.

Real components throughout: the SSI excerpt of tests/fixtures/psi4_databases (eight neutral
side-chain pairs with their CCSD(T)-F12 references), RDKit bond perception, the real model
code and training loop. The molecular data set is the synthetic one of
:func:`synthetic_data.write_synthetic_dataset` (tests/) (real molecules, smooth synthetic targets).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem
from synthetic_data import write_synthetic_dataset

from virialff.chem.graph import select_molecules
from virialff.model.potential import pair_energy_kcal_mol
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.model.predictor import Predictor, load_model
from virialff.train.data import FRAGMENT_KEY, fit_linear_reference
from virialff.train.dimer_databases import build_training_dimers, prepare_dimers
from virialff.train.interactions import (
    TRAINING_KEYS,
    interaction_energy_kcal_mol,
    intermolecular_pair_mask,
    load_dimers,
    load_stage2_total,
    select_weight,
    train_interactions,
)
from virialff.train.loop import HISTORY_COLUMNS, TrainingInterruptedError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "psi4_databases"
BENCHMARKS = REPO / "data" / "benchmarks"
SETTINGS = {
    "interaction_weight": [1.0],
    "learning_rate": 3.0e-3,
    "epochs": 6,
    "early_stopping_patience": 6,
    "batch_size": 3,
    "molecule_batch_size": 4,
    "coordinate_noise_angstrom": 0.005,
    "max_molecular_mae_increase": 0.10,
    "max_grid_extensions": 0,
    "neutral_charges": False,
    "intermolecular_pair_class": False,
}


@pytest.fixture(scope="module")
def dimers_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dimers")
    prepare_dimers(FIXTURES, folder / "dimers.pt", folder / "summary.json", names=("SSI",),
                   val_fraction=0.25, seed=2, benchmarks_dir=BENCHMARKS, split_unit="pair")
    return folder / "dimers.pt"


def _lively(predictor: Predictor) -> Predictor:
    """Scale the small random weights up so charges and pair terms are far from zero."""
    with torch.no_grad():
        for parameter in predictor.model.charge_net.parameters():
            parameter.mul_(30.0)
        for parameter in predictor.model.feats_net.parameters():
            parameter.mul_(5.0)
    return predictor


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return _lively(Predictor.untrained(seed=4)).astype(torch.float64)


@pytest.fixture(scope="module")
def stage2_files(tmp_path_factory) -> dict[str, Path]:
    """A synthetic data set and an untrained small total-energy model whose linear reference
    is fitted to it (so the molecular MAE is of the size of the synthetic residuals)."""
    folder = tmp_path_factory.mktemp("stage2")
    dataset = write_synthetic_dataset(folder / "dataset.pt", n_molecules=12, seed=1)
    from virialff.train.data import load_dataset

    graphs, split, _ = load_dataset(dataset)
    weights, bias = fit_linear_reference(graphs.element_counts, graphs.n_fragments,
                                         graphs.molecule_targets["energy_kcal_mol"])
    model = Predictor.untrained(seed=7)
    with torch.no_grad():
        model.model.element_weights_kcal_mol.copy_(torch.as_tensor(weights))
        model.model.bias_kcal_mol.fill_(bias)
    model.save(folder / "total.pt")
    return {"dataset": dataset, "model": folder / "total.pt"}


def _run(stage2_files: dict, dimers_file: Path, folder: Path, **changes) -> tuple[dict, dict]:
    settings = {**SETTINGS, **changes.pop("settings", {})}
    paths = {"output": folder / "total_interactions.pt",
             "history": folder / "total_interactions_history.csv",
             "selection": folder / "total_interactions_selection.json"}
    selection = train_interactions(
        stage2_files["dataset"], dimers_file, stage2_files["model"], paths["output"],
        paths["history"], paths["selection"], settings=settings, seed=11, device="cpu",
        progress=False, **changes)
    return selection, paths


# -- the interaction energy ----------------------------------------------------------------


def test_direct_sum_equals_the_models_own_monomer_difference(predictor, dimers_file):
    """E_int from the intermolecular pairs alone = E_A + E_B − E_AB of the full model."""
    graphs, _, _ = load_dimers(dimers_file)
    direct = interaction_energy_kcal_mol(predictor.model, graphs,
                                         fragment=graphs.atom_targets[FRAGMENT_KEY])
    dimers, _, _ = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)
    assert [d.dimer_id for d in dimers] == graphs.molecule_ids
    for value, dimer in zip(direct.tolist(), dimers, strict=True):
        monomers = Chem.GetMolFrags(dimer.mol, asMols=True, sanitizeFrags=False)
        e_ab, e_a, e_b = predictor.energies_kcal_mol([dimer.mol, *monomers])
        assert abs(value) > 1.0  # a real test: the pair terms are not negligible
        assert value == pytest.approx(e_a + e_b - e_ab, abs=1e-8), dimer.dimer_id


def test_interaction_energy_is_symmetric_in_the_two_monomers(predictor, dimers_file):
    graphs, _, _ = load_dimers(dimers_file)
    batch = select_molecules(graphs, torch.tensor([0]))
    near = float(interaction_energy_kcal_mol(predictor.model, batch).detach())
    monomer = batch.atom_targets["monomer_index"]
    order = torch.cat([torch.nonzero(monomer == 1).flatten(),
                       torch.nonzero(monomer == 0).flatten()])
    dimer = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)[0][0]
    swapped = Chem.RenumberAtoms(dimer.mol, order.tolist())  # B's atoms first
    e_ab, e_b, e_a = predictor.energies_kcal_mol(
        [swapped, *Chem.GetMolFrags(swapped, asMols=True, sanitizeFrags=False)])
    assert e_a + e_b - e_ab == pytest.approx(near, abs=1e-8)
    assert abs(near) > 1.0


def test_far_apart_only_the_net_charges_interact(predictor, dimers_file):
    """Monomer B 10⁶ Å away: E_int → −332.0637·Q_A·Q_B/R (the paper's charges are free, so the
    monomers carry net charges); with neutral charges it vanishes."""
    graphs, _, _ = load_dimers(dimers_file)
    batch = select_molecules(graphs, torch.tensor([0]))
    monomer = batch.atom_targets["monomer_index"]
    distance = 1.0e6
    far = batch.positions_angstrom.clone()
    far[monomer == 1] += torch.tensor([distance, 0.0, 0.0], dtype=far.dtype)
    charges = predictor.model(batch)["charges_e"].detach()
    q_a, q_b = float(charges[monomer == 0].sum()), float(charges[monomer == 1].sum())
    assert abs(q_a * q_b) > 0.1
    tail = float(interaction_energy_kcal_mol(predictor.model, batch, far).detach())
    assert tail == pytest.approx(-332.0637 * q_a * q_b / distance, rel=1e-4)
    config = {**SMALL_MODEL_CONFIG,
              "potential": {**SMALL_MODEL_CONFIG["potential"], "neutral_charges": True}}
    neutral = _lively(Predictor.untrained(model_config=config, seed=4)).astype(torch.float64)
    assert abs(float(interaction_energy_kcal_mol(neutral.model, batch).detach())) > 1.0
    assert abs(float(interaction_energy_kcal_mol(neutral.model, batch, far).detach())) < 1e-9


def test_gradient_of_the_interaction_loss_reaches_only_intermolecular_pairs(predictor,
                                                                           dimers_file):
    """With shared pair parameters C [P, 14] and charges Q [A] as leaves, the full
    E_A + E_B − E_AB has exactly zero gradient on every intramolecular pair (its terms cancel),
    and the same gradient on the intermolecular pairs and charges as the direct sum."""
    graphs, _, _ = load_dimers(dimers_file)
    batch = select_molecules(graphs, torch.tensor([5]))
    model = predictor.model
    h = model.embed(batch)
    charges, params = model.parameters_from_embeddings(h, batch, batch.atom_targets[FRAGMENT_KEY])
    charges = charges.detach().requires_grad_(True)
    params = params.detach().requires_grad_(True)
    positions = batch.positions_angstrom
    monomer = batch.atom_targets["monomer_index"]
    i, j = batch.pair_index
    bonded = batch.pair_type > 0
    energy = pair_energy_kcal_mol(positions, batch.pair_index, bonded, charges, params)
    in_a = (monomer[i] == 0) & (monomer[j] == 0)
    in_b = (monomer[i] == 1) & (monomer[j] == 1)
    between = intermolecular_pair_mask(batch)
    assert bool((in_a | in_b | between).all()) and int(between.sum()) > 0
    e_int_full = energy[in_a].sum() + energy[in_b].sum() - energy.sum()
    reference = torch.tensor(3.0, dtype=torch.float64)
    grad_c_full, grad_q_full = torch.autograd.grad((e_int_full - reference).abs(),
                                                   (params, charges), retain_graph=True)
    assert torch.equal(grad_c_full[~between], torch.zeros_like(grad_c_full[~between]))
    assert bool((grad_c_full[between].abs().sum(-1) > 0).any())
    e_int_direct = -energy[between].sum()
    grad_c, grad_q = torch.autograd.grad((e_int_direct - reference).abs(), (params, charges))
    assert e_int_direct.item() == pytest.approx(e_int_full.item(), abs=1e-9)
    assert torch.allclose(grad_c, grad_c_full, atol=1e-9)
    assert torch.allclose(grad_q, grad_q_full, atol=1e-9)


def test_network_gradients_equal_those_of_the_full_model(predictor, dimers_file):
    """d|E_int − ref|/dθ for charge_net and feats_net: direct sum vs the model's E_A+E_B−E_AB."""
    graphs, _, _ = load_dimers(dimers_file)
    dimer = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)[0][2]
    index = graphs.molecule_ids.index(dimer.dimer_id)
    batch = select_molecules(graphs, torch.tensor([index]))
    model = predictor.model
    parameters = model.trainable_parameters()
    direct = interaction_energy_kcal_mol(model, batch, fragment=batch.atom_targets[FRAGMENT_KEY])
    grads_direct = torch.autograd.grad((direct - 2.0).abs().sum(), parameters)
    from virialff.chem.graph import collate
    from virialff.model.predictor import graphs_from_mols

    monomers = Chem.GetMolFrags(dimer.mol, asMols=True, sanitizeFrags=False)
    full_batch = collate(graphs_from_mols([dimer.mol, *monomers]), dtype=torch.float64)
    e_ab, e_a, e_b = model(full_batch)["energy_kcal_mol"]
    grads_full = torch.autograd.grad((e_a + e_b - e_ab - 2.0).abs(), parameters)
    for got, want in zip(grads_direct, grads_full, strict=True):
        assert torch.allclose(got, want, atol=1e-6, rtol=1e-6)
    assert not any(p.requires_grad for p in model.embedding.parameters())


def test_intermolecular_pair_class_starts_equal_then_moves_only_pairs_between_molecules(
        predictor, dimers_file):
    """Adding the class changes no energy; changing its parameters changes every dimer's
    E_int and no single molecule's energy (its pairs are all intramolecular)."""
    import copy

    graphs, _, _ = load_dimers(dimers_file)
    dimers, _, _ = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)
    monomers = [m for d in dimers[:3]
                for m in Chem.GetMolFrags(d.mol, asMols=True, sanitizeFrags=False)]
    before = interaction_energy_kcal_mol(predictor.model, graphs,
                                         fragment=graphs.atom_targets[FRAGMENT_KEY])
    monomer_before = predictor.energies_kcal_mol(monomers)
    classed = copy.deepcopy(predictor)
    classed.model.add_intermolecular_pair_class()
    assert classed.model.intermolecular_pair_type == classed.model.feats_net.n_pair_types - 1
    same = interaction_energy_kcal_mol(classed.model, graphs,
                                       fragment=graphs.atom_targets[FRAGMENT_KEY])
    torch.testing.assert_close(same, before, rtol=0, atol=1e-9)
    with torch.no_grad():
        classed.model.feats_net.pair_type.weight[:, -1] += 1.0
    moved = interaction_energy_kcal_mol(classed.model, graphs,
                                        fragment=graphs.atom_targets[FRAGMENT_KEY])
    assert bool(((moved - before).abs() > 1e-3).all())
    np.testing.assert_allclose(classed.energies_kcal_mol(monomers), monomer_before,
                               rtol=0, atol=1e-9)


def test_fine_tune_with_the_intermolecular_class_records_it_in_the_model_file(
        stage2_files, dimers_file, tmp_path):
    selection, paths = _run(stage2_files, dimers_file, tmp_path,
                            settings={"intermolecular_pair_class": True})
    assert selection["settings"]["intermolecular_pair_class"] is True
    model = load_model(paths["output"])
    assert model.model.intermolecular_pair_class
    dimers, _, _ = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)
    mol = dimers[0].mol
    system = model.parametrize(mol, cutoff_angstrom=None)
    energy, _ = system.energy_and_forces(mol.GetConformer().GetPositions())
    assert energy == pytest.approx(float(model.energies_kcal_mol([mol])[0]), abs=1e-6)


# -- the fine-tune -------------------------------------------------------------------------


def test_tiny_fine_tune_lowers_the_interaction_loss(stage2_files, dimers_file, tmp_path):
    selection, paths = _run(stage2_files, dimers_file, tmp_path,
                            settings={"interaction_weight": [1.0, 3.0], "max_grid_extensions": 2})
    # the grid: extended past an edge by its own ratio while the choice sits there
    grid = selection["grid"]
    assert grid[grid.index(1.0):grid.index(3.0) + 1] == [1.0, 3.0]
    assert all(b / a == pytest.approx(3.0) for a, b in zip(grid, grid[1:], strict=False))
    assert len(grid) == 2 + selection["extensions"]
    assert selection["interior"] or selection["extensions"] == 2
    assert selection["interior"] == (selection["chosen_weight"] not in (grid[0], grid[-1]))
    assert sorted(r["weight"] for r in selection["runs"]) == pytest.approx(grid)
    initial = selection["initial"]["val_interaction_mae_kcal_mol"]
    chosen = next(r for r in selection["runs"] if r["weight"] == selection["chosen_weight"])
    assert chosen["best_epoch"] > 0
    assert chosen["val_interaction_mae_kcal_mol"] < initial
    history = selection["histories"][f"{selection['chosen_weight']:g}"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    with open(paths["history"]) as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == HISTORY_COLUMNS and len(rows) == chosen["epochs_run"]
    # the model file: a normal stage-2 total model, loadable for prediction
    fine = load_model(paths["output"])
    assert fine.target == "total"
    assert fine.metadata["config"]["interactions"]["chosen_weight"] == selection["chosen_weight"]
    assert set(fine.metadata["dimer_split"]) == {"train", "val"}
    graphs, split, _ = load_dimers(dimers_file)
    val = select_molecules(graphs, split["val"])
    with torch.no_grad():
        predicted = interaction_energy_kcal_mol(fine.model, val.to("cpu")).double()
    mae = (predicted - val.molecule_targets["interaction_energy_kcal_mol"]).abs().mean()
    assert float(mae) == pytest.approx(chosen["val_interaction_mae_kcal_mol"], rel=1e-5)
    # embeddings frozen: identical to the stage-2 model's; the heads moved
    start, _ = load_stage2_total(stage2_files["model"])
    for name, value in start.state_dict().items():
        same = torch.equal(value, fine.model.state_dict()[name])
        assert same == (not name.startswith(("charge_net", "feats_net"))), name
    written = json.loads(paths["selection"].read_text())
    assert written["chosen_weight"] == selection["chosen_weight"]
    assert not list(tmp_path.glob("*.ckpt")) and not list(tmp_path.glob("*.done"))


def test_neutral_charges_make_every_monomer_neutral(stage2_files, dimers_file, tmp_path):
    selection, paths = _run(stage2_files, dimers_file, tmp_path,
                            settings={"neutral_charges": True})
    assert selection["epoch_0"] != selection["initial"]  # free → neutral changes the start
    fine = load_model(paths["output"])
    assert fine.metadata["config"]["potential"]["neutral_charges"] is True
    dimer = build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)[0][5]
    prediction = fine.predict(dimer.mol)
    size_a = dimer.fragment_sizes[0]
    assert abs(prediction.charges_e[:size_a].sum()) < 1e-5
    assert abs(prediction.charges_e[size_a:].sum()) < 1e-5
    assert abs(prediction.charges_e).max() > 1e-3


def test_early_stopping_keeps_the_stage2_model_when_training_only_hurts(stage2_files,
                                                                        dimers_file, tmp_path):
    """A learning rate far too large: validation never improves, so the run stops after
    ``early_stopping_patience`` epochs and the written model is the stage-2 model (epoch 0)."""
    selection, paths = _run(stage2_files, dimers_file, tmp_path,
                            settings={"learning_rate": 5.0, "early_stopping_patience": 2,
                                      "epochs": 10})
    (run,) = selection["runs"]
    assert run["stopped_early"] and run["epochs_run"] == 2 and run["best_epoch"] == 0
    assert run["val_interaction_mae_kcal_mol"] == selection["initial"][
        "val_interaction_mae_kcal_mol"]
    start, _ = load_stage2_total(stage2_files["model"])
    fine, _ = load_stage2_total(paths["output"])
    for name, value in start.state_dict().items():
        assert torch.equal(value, fine.state_dict()[name]), name


def test_killed_run_resumes_to_the_same_weights(stage2_files, dimers_file, tmp_path):
    reference, ref_paths = _run(stage2_files, dimers_file, tmp_path / "whole")

    def kill_after_three(epoch: int) -> None:
        if epoch == 3:
            raise TrainingInterruptedError("killed")

    with pytest.raises(TrainingInterruptedError):
        _run(stage2_files, dimers_file, tmp_path / "killed", stop_after_epoch=kill_after_three)
    assert list((tmp_path / "killed").glob("*.ckpt"))
    resumed, paths = _run(stage2_files, dimers_file, tmp_path / "killed")
    assert resumed["runs"] == reference["runs"]
    whole, _ = load_stage2_total(ref_paths["output"])
    again, _ = load_stage2_total(paths["output"])
    for name, value in whole.state_dict().items():
        assert torch.equal(value, again.state_dict()[name]), name


def test_the_grid_grows_past_the_edge_the_choice_sits_on():
    from virialff.train.interactions import _extended

    assert _extended([0.3, 1.0, 3.0], 3.0) == pytest.approx([0.3, 1.0, 3.0, 9.0])
    assert _extended([0.3, 1.0, 3.0], 0.3) == pytest.approx([0.09, 0.3, 1.0, 3.0])
    assert _extended([0.3, 1.0, 3.0], 1.0) is None  # inside: nothing to do
    assert _extended([0.0, 1.0], 0.0) is None  # no weight below 0
    assert _extended([1.0], 1.0) is None  # one weight: nothing is scanned


def test_weight_choice_respects_the_molecular_tolerance():
    runs = [
        {"weight": 0.3, "val_interaction_mae_kcal_mol": 1.5, "val_molecular_mae_kcal_mol": 2.0},
        {"weight": 1.0, "val_interaction_mae_kcal_mol": 1.1, "val_molecular_mae_kcal_mol": 2.15},
        {"weight": 3.0, "val_interaction_mae_kcal_mol": 0.8, "val_molecular_mae_kcal_mol": 2.5},
    ]
    assert select_weight(runs, initial_molecular_val_mae=2.0, tolerance=0.10)["weight"] == 1.0
    assert [r["molecular_constraint_met"] for r in runs] == [True, True, False]
    assert select_weight(runs, initial_molecular_val_mae=1.0, tolerance=0.10)["weight"] == 0.3
    assert not any(r["molecular_constraint_met"] for r in runs)


def test_settings_and_inputs_are_checked(stage2_files, dimers_file, tmp_path):
    settings = {k: v for k, v in SETTINGS.items() if k != "early_stopping_patience"}
    with pytest.raises(ValueError, match="training.interactions lacks early_stopping_patience"):
        train_interactions(stage2_files["dataset"], dimers_file, stage2_files["model"],
                           tmp_path / "m.pt", tmp_path / "h.csv", tmp_path / "s.json",
                           settings=settings, seed=1, device="cpu")
    with pytest.raises(ValueError, match="interaction_weight must be"):
        _run(stage2_files, dimers_file, tmp_path, settings={"interaction_weight": []})
    kinetic = tmp_path / "kinetic.pt"
    Predictor.untrained("kinetic").save(kinetic)
    with pytest.raises(ValueError, match="'kinetic' model; the interaction stage fine-tunes"):
        load_stage2_total(kinetic)
    assert set(TRAINING_KEYS) == set(SETTINGS)


# -- the two models side by side -----------------------------------------------------------


def _prediction_csv(path: Path, method: str, values: dict[str, float]) -> Path:
    import pandas as pd

    from virialff.evaluate.interactions import PREDICTION_COLUMNS

    rows = [{"system_id": sid, "method": method, "available": True, "reason": "",
             "status": "ok", "message": "", "e_complex_kcal_mol": float("nan"),
             "e_monomer_a_kcal_mol": float("nan"), "e_monomer_b_kcal_mol": float("nan"),
             "interaction_energy_kcal_mol": value, "wall_s": 0.0}
            for sid, value in values.items()]
    pd.DataFrame(rows, columns=list(PREDICTION_COLUMNS)).to_csv(path, index=False)
    return path


def test_benchmark_errors_and_goals_of_the_two_models(tmp_path):
    import pandas as pd

    from virialff.evaluate.interaction_model import compare_methods, goals
    from virialff.evaluate.interactions import unavailable_table

    reference = pd.Series({"S66-01": 5.0, "S66-02": 6.0, "S66-03": 7.0})
    paths = {
        "virialff": _prediction_csv(tmp_path / "a.csv", "virialff",
                                    {"S66-01": 7.0, "S66-02": 4.0, "S66-03": 7.0}),
        "virialff_interactions": _prediction_csv(tmp_path / "b.csv", "virialff",
                                                 {"S66-01": 5.5, "S66-02": 6.5, "S66-03": 7.0}),
        "mmff94": _prediction_csv(tmp_path / "c.csv", "mmff94",
                                  {"S66-01": 4.0, "S66-02": 7.0, "S66-03": 8.0}),
    }
    unavailable_table("ani1x", list(reference.index), "no weights").to_csv(tmp_path / "d.csv",
                                                                          index=False)
    paths["ani1x"] = tmp_path / "d.csv"
    methods = compare_methods(paths, reference)
    assert methods["virialff"]["rmse_kcal_mol"] == pytest.approx((8.0 / 3.0) ** 0.5)
    assert methods["virialff_interactions"]["rmse_kcal_mol"] == pytest.approx((0.5 / 3) ** 0.5)
    assert methods["ani1x"]["available"] is False and methods["ani1x"]["n"] == 0
    assert methods["ani1x"]["reason"] == "no weights"
    block = {"methods": methods}
    metrics = {"s66_vs_ccsdt_cbs": block, "s66_vs_dft_cp": block,
               "molecular_test": {"virialff": {"mae_kcal_mol": 2.0},
                                  "virialff_interactions": {"mae_kcal_mol": 2.1}}}
    met = goals(metrics, published_s66_rmse_kcal_mol=1.7)
    assert met["s66_ccsdt_cbs_rmse_at_most_0.9"] is True
    assert met["s66_dft_cp_rmse_below_published"] is True
    assert met["s66_ccsdt_cbs_rmse_below_mmff94"] is True
    assert met["molecular_test_mae_within_10_percent"] is True
    metrics["molecular_test"]["virialff_interactions"]["mae_kcal_mol"] = 2.3
    assert goals(metrics, 1.7)["molecular_test_mae_within_10_percent"] is False
    metrics["molecular_test"]["virialff_interactions"]["mae_kcal_mol"] = None
    assert goals(metrics, 1.7)["molecular_test_mae_within_10_percent"] is None
