"""The seeded studies: every compared model trained per seed, reported as mean ± SD, with a
comparison called separated only when the seeds' spread allows it."""

from __future__ import annotations

import pytest
from rdkit import Chem
from rdkit.Chem import AllChem
from train_support import CHO_SMILES, GUARDS, small_config

from virialff.train.data import write_synthetic_dataset
from virialff.train.studies import STUDY_MODELS, run_seed, studies_markdown, summarize


def _seed(seed: int, maes: dict[str, float]) -> dict:
    return {"seed": seed, "models": {
        name: {"model": name, "seed": seed, "energy_mae_kcal_mol": maes.get(name, 5.0),
               "force_mae_kcal_mol_angstrom": None}
        for name in STUDY_MODELS}}


def test_a_comparison_is_separated_only_beyond_the_spread_of_the_seeds():
    seeds = [_seed(1, {"total": 4.0, "total_scratch": 6.0, "total_forces": 4.5}),
             _seed(2, {"total": 4.2, "total_scratch": 6.4, "total_forces": 3.9}),
             _seed(3, {"total": 3.8, "total_scratch": 5.8, "total_forces": 4.1})]
    summary = summarize(seeds)
    total = summary["models"]["total"]["energy_mae_kcal_mol"]
    assert total["n"] == 3 and total["mean"] == pytest.approx(4.0)
    assert total["sd"] == pytest.approx(0.2)  # n − 1
    rows = {row["b"] + "-" + row["a"]: row for row in summary["comparisons"]}
    assert rows["total-total_scratch"]["separated"]  # 2 kcal/mol apart, SDs ~0.2 and 0.3
    assert not rows["total_forces-total"]["separated"]  # 0.17 apart within the spread
    table = studies_markdown(summary)
    assert "4.00 ± 0.20" in table and "| yes |" in table and "| no |" in table


def test_one_seed_trains_scores_and_simulates_every_model(tmp_path):
    dataset = write_synthetic_dataset(tmp_path / "dataset.pt", n_molecules=16,
                                      smiles=CHO_SMILES)
    config = small_config(embedding={"epochs": 2}, potential={"epochs": 2})
    training = config["training"]
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=2)
    result = run_seed(dataset, tmp_path / "seed7", 7, embedding=training["embedding"],
                      potential={**training["potential"], "force_weight": 0.0,
                                 "guards": False},
                      forces={"force_weight_grid": [0.3, 1.0, 3.0], "max_grid_extensions": 0},
                      guards=GUARDS,
                      simulation={"md_time_ps": 0.05, "temperature_k": 300.0,
                                  "timestep_fs": 0.5},
                      test_molecules=[("ethanol", mol)], device="cpu")
    assert result["seed"] == 7 and set(result["models"]) == set(STUDY_MODELS)
    for name, row in result["models"].items():
        assert row["energy_mae_kcal_mol"] > 0
        assert ("md_stretched_molecules" in row) == STUDY_MODELS[name][3]
    assert result["models"]["total_forces"]["force_mae_kcal_mol_angstrom"] > 0
