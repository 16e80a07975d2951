"""The seeded studies: every compared model trained per seed, reported as mean ± SD, with a
comparison called separated only when the seeds' spread allows it."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdkit import Chem
from rdkit.Chem import AllChem
from synthetic_data import write_synthetic_dataset
from train_support import CHO_SMILES, GUARDS, small_config

from virialff.config import default_config
from virialff.evaluate.runs import load_bundled_systems
from virialff.train.dimer_databases import prepare_dimers
from virialff.train.studies import (
    STUDY_MODELS,
    BenchmarkSets,
    run_seed,
    studies_markdown,
    summarize,
)

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO / "data" / "benchmarks"


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
    rows = {row["b"] + "-" + row["a"]: row for row in summary["comparisons"]
            if row["metric"] == "energy_mae_kcal_mol"}
    assert rows["total-total_scratch"]["separated"]  # 2 kcal/mol apart, SDs ~0.2 and 0.3
    assert not rows["total_forces-total"]["separated"]  # 0.17 apart within the spread
    table = studies_markdown(summary)
    assert "4.00 ± 0.20" in table and "| yes |" in table and "| no |" in table


def test_one_seed_trains_scores_and_simulates_every_model(tmp_path):
    """Every row of the studies, the charge controls and stage 3 included, from one seed;
    each scored on the test split and on S66 and the base pairs."""
    dataset = write_synthetic_dataset(tmp_path / "dataset.pt", n_molecules=16,
                                      smiles=CHO_SMILES)
    dimers = tmp_path / "dimers.pt"
    prepare_dimers(REPO / "tests" / "fixtures" / "psi4_databases", dimers,
                   tmp_path / "dimers.json", names=("SSI",), val_fraction=0.25, seed=2,
                   benchmarks_dir=BENCHMARKS)
    config = small_config(embedding={"epochs": 2}, potential={"epochs": 2})
    training = config["training"]
    interactions = {**default_config()["training"]["interactions"], "epochs": 2,
                    "interaction_weight": [1.0], "batch_size": 3, "molecule_batch_size": 4}
    s66 = load_bundled_systems("s66", BENCHMARKS)[:2]
    base_pairs = load_bundled_systems("base_pairs", BENCHMARKS)
    sets = BenchmarkSets(s66=s66, s66_topologies={s.system_id: s for s in s66},
                         base_pairs=base_pairs,
                         base_pair_topologies={s.system_id: s for s in base_pairs})
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=2)
    result = run_seed(dataset, tmp_path / "seed7", 7, embedding=training["embedding"],
                      potential={**training["potential"], "force_weight": 0.0,
                                 "guards": False},
                      forces={"force_weight_grid": [0.3, 1.0, 3.0], "max_grid_extensions": 0},
                      guards=GUARDS,
                      simulation={"md_time_ps": 0.05, "temperature_k": 300.0,
                                  "timestep_fs": 0.5},
                      test_molecules=[("ethanol", mol)], device="cpu",
                      interactions=interactions, dimers=dimers, benchmarks=sets)
    assert result["seed"] == 7 and set(result["models"]) == set(STUDY_MODELS)
    for name, row in result["models"].items():
        assert row["energy_mae_kcal_mol"] > 0
        assert row["s66_rmse_kcal_mol"] > 0 and row["s66_n"] == 2
        assert row["at_error_kcal_mol"] is not None and row["gc_error_kcal_mol"] is not None
        assert ("md_stretched_molecules" in row) == STUDY_MODELS[name].simulated
    assert result["models"]["total_forces"]["force_mae_kcal_mol_angstrom"] > 0
    # c): the same weights as a), only the charges shifted to neutral
    from virialff.model.predictor import load_model

    free = load_model(tmp_path / "seed7" / "total.pt")
    neutralised = load_model(tmp_path / "seed7" / "total_neutralised_after.pt")
    assert neutralised.model.neutral_charges and not free.model.neutral_charges
    assert load_model(tmp_path / "seed7" / "interactions_pair_class.pt"
                      ).model.intermolecular_pair_class
    summary = summarize([result, result, result])
    assert {row["metric"] for row in summary["comparisons"]} >= {"s66_rmse_kcal_mol"}
    assert "S66 RMSE" in studies_markdown(summary)


def test_stage3_rows_start_from_the_controls_they_name():
    from virialff.train import studies

    stage3 = {n for n, m in STUDY_MODELS.items() if m.kind.startswith("stage3")}
    assert stage3 == {"interactions", "interactions_from_neutral", "interactions_pair_class"}
    assert all(STUDY_MODELS[m.base].kind == "" or m.base == "total_neutral_charges"
               for n, m in STUDY_MODELS.items() if n in stage3)
    assert studies.STUDY_MODELS["total_neutralised_after"].base == "total"


def test_the_gbffs_embedding_ablation_reports_mean_sd_and_separation():
    def run(seed: int, force: float, energy: float) -> dict:
        return {"seed": seed, "evaluation": {"test": {"gbffs": {
            "force_mae_kcal_mol_angstrom": force, "relative_energy_mae_kcal_mol": energy}}}}

    from virialff.train.studies import gbffs_ablation, gbffs_ablation_markdown

    summary = gbffs_ablation({
        "frozen": [run(1, 10.0, 2.0), run(2, 10.2, 2.5), run(3, 9.8, 1.5)],
        "fine_tuned": [run(1, 6.0, 2.1), run(2, 6.4, 2.4), run(3, 5.6, 1.8)]})
    frozen = summary["modes"]["frozen"]["force_mae_kcal_mol_angstrom"]
    assert frozen["mean"] == pytest.approx(10.0) and frozen["sd"] == pytest.approx(0.2)
    verdict = {c["metric"]: c["separated"] for c in summary["comparisons"]}
    assert verdict == {"force_mae_kcal_mol_angstrom": True,
                       "relative_energy_mae_kcal_mol": False}
    table = gbffs_ablation_markdown(summary)
    assert "10.00 ± 0.20" in table and "within the spread" in table


def test_job_time_sums_the_benchmark_files_and_lists_the_missing_ones(tmp_path):
    from virialff.train.studies import job_time

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    paths = []
    for seed, (wall, cpu) in {1: (3037.5, 1745.98), 2: (2900.0, 1700.0)}.items():
        path = tmp_path / "study_seed" / f"seed{seed}.benchmark.tsv"
        path.parent.mkdir(exist_ok=True)
        path.write_text(header + f"{wall}\t0:50:37\t1\t1\t1\t1\t1\t1\t57\t{cpu}\n")
        paths.append(path)
    paths.append(tmp_path / "study_seed" / "seed3.benchmark.tsv")
    timing = job_time(paths)
    assert timing["wall_s"] == pytest.approx(5937.5) and timing["cpu_s"] == pytest.approx(3445.98)
    assert set(timing["jobs"]) == {"study_seed/seed1", "study_seed/seed2"}
    assert timing["missing"] == [str(paths[2])]
