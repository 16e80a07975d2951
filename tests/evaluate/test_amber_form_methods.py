"""GB-FFs as a benchmark method, the simulation check of the Amber-form force fields, and the
figure that puts them beside this model (real RDKit, OpenMM, ASE, AmberTools; an untrained
GB-FFs model file stands in for a trained one)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from virialff.evaluate.baselines import make_baseline
from virialff.evaluate.interactions import interaction_table
from virialff.evaluate.methods import BENCHMARK_METHODS, METHOD_LABELS, TABLE01_METHODS
from virialff.evaluate.systems import read_xyz_system, system_mols
from virialff.forcefield.antechamber import available

REPO = Path(__file__).resolve().parents[2]
WATER_DIMER = REPO / "data" / "benchmarks" / "s66" / "geometries" / "S66-01.xyz"
HAS_AMBERTOOLS = available()[0]


@pytest.fixture(scope="module")
def gbffs_file(tmp_path_factory) -> Path:
    from virialff.formats.model_file import write_model_file
    from virialff.model.gbffs import gbffs_payload, untrained_gbffs_model

    model, config = untrained_gbffs_model({"hidden_width": 16, "message_passing_steps": 2})
    return write_model_file(tmp_path_factory.mktemp("gbffs") / "gbffs.pt",
                            gbffs_payload(model, config))


def ethanol():  # noqa: ANN201 - rdkit Mol at an MMFF minimum
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=3)
    AllChem.MMFFOptimizeMolecule(mol)
    return mol


def test_the_registry_compares_gaff2_and_gbffs_everywhere():
    assert {"gaff2", "gbffs"} <= set(BENCHMARK_METHODS) and {"gaff2", "gbffs"} <= set(
        TABLE01_METHODS)
    assert METHOD_LABELS["gaff2"] == "GAFF2/AM1-BCC" and METHOD_LABELS["gbffs"] == "GB-FFs"


def test_gbffs_without_its_model_file_is_not_available(tmp_path):
    ok, reason = make_baseline("gbffs", model_path=tmp_path / "gbffs.pt").available()
    assert not ok and "not found" in reason


def test_gbffs_gives_a_monomer_its_parameters_of_the_complex(gbffs_file):
    method = make_baseline("gbffs", model_path=gbffs_file)
    assert method.available() == (True, "")
    dimer = read_xyz_system(WATER_DIMER)
    table = interaction_table(method, [dimer])
    assert table["status"].tolist() == ["ok"], table["message"].tolist()
    assert np.isfinite(table["interaction_energy_kcal_mol"]).all()
    mols = system_mols(dimer)
    in_complex, _ = method.system_parameters(mols.complex)
    alone = method.system_parameters(mols.monomers[1])[0][0]
    assert np.array_equal(in_complex[1].charges_e, alone.charges_e)


@pytest.mark.skipif(not HAS_AMBERTOOLS, reason="AmberTools not installed")
def test_the_simulation_check_runs_a_force_field_like_a_model():
    from virialff.evaluate.amber_simulation import study_force_field
    from virialff.evaluate.simulation import summarize
    from virialff.forcefield.antechamber import gaff2_parameters

    mol = ethanol()
    settings = {"md_time_ps": 0.1, "temperature_k": 300.0, "timestep_fs": 0.5}
    rows, failed = study_force_field(
        lambda molecule_id, m: (gaff2_parameters(m, molecule_id, timeout_s=120)
                                if molecule_id == "ethanol" else "no parameters here"),
        ["ethanol", "other"], {"ethanol": mol, "other": mol}, settings, seed=1)
    assert failed == [{"molecule": "other", "reason": "no parameters here"}]
    (row,) = rows
    assert row["molecule"] == "ethanol" and row["bfgs_converged"]
    assert 0.0 < row["rmsd_to_xtb_angstrom"] < 0.5  # GAFF2's minimum is near MMFF94's
    assert row["md_steps"] == 200 and row["md_stretched_bonds"] == 0
    assert row["md_compressed_bonds"] == 0 and row["md_error"] is None
    assert summarize(rows)["n_molecules_with_broken_bonds"] == 0


def test_the_force_field_figure_draws_from_metrics_and_says_why_a_method_is_missing(tmp_path):
    from virialff.plots.force_fields import draw_force_field_comparison
    from virialff.plots.style import apply_theme, save_figure

    apply_theme()
    s66 = pd.DataFrame({"system_id": ["S66-01", "S66-02"], "ccsdt_cbs": [4.9, 5.6],
                        "virialff": [4.0, 6.0], "gaff2": [5.2, 4.6], "gbffs": [np.nan, np.nan]})
    stats = {"available": True, "reason": None, "n": 2, "mae_kcal_mol": 0.5,
             "rmse_kcal_mol": 0.6, "vs_ccsdt_cbs": {"n": 2, "rmse_kcal_mol": 0.7}}
    s66_metrics = {"run_name": "t", "data_scale": "demo", "methods": {
        "virialff": stats, "gaff2": stats,
        "gbffs": {"available": False, "reason": "model file results/models/gbffs.pt not found"}}}
    relative = pd.DataFrame({"molecule_id": ["m"] * 4, "method": ["virialff", "virialff",
                                                                  "gaff2", "gaff2"],
                             "dft_relative_energy_kcal_mol": [0.0, 1.0, 0.0, 1.0],
                             "relative_energy_kcal_mol": [0.0, 1.5, 0.0, 0.8]})
    conformer_metrics = {"methods": {"virialff": stats, "gaff2": stats,
                                     "gbffs": {"available": False, "reason": "not run"}}}
    simulation = {"settings": {"md_time_ps": 10.0, "temperature_k": 300.0},
                  "summary": {"n_molecules": 2, "n_molecules_with_broken_bonds": 0,
                              "rmsd_threshold_angstrom": 0.25},
                  "molecules": [{"rmsd_to_xtb_angstrom": 0.05}, {"rmsd_to_xtb_angstrom": 0.2}]}
    fig = draw_force_field_comparison(s66, s66_metrics, relative, conformer_metrics,
                                      {"total": simulation, "gaff2": simulation})
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "GB-FFs: not available: model file results/models/gbffs.pt not found" in texts
    save_figure(fig, tmp_path / "fig16.png")
    assert (tmp_path / "fig16.png").stat().st_size > 0 and (tmp_path / "fig16.pdf").exists()


def test_the_per_method_figures_have_a_panel_for_every_registered_method(tmp_path):
    from virialff.plots.evaluation import draw_conformers, draw_s66_methods

    combined = pd.DataFrame({"system_id": ["S66-01"], "ccsdt_cbs": [4.9], "dft": [5.3],
                             **{m: [4.0] for m in BENCHMARK_METHODS}})
    entry = {"available": True, "reason": None, "n": 1, "mae_kcal_mol": 0.1,
             "rmse_kcal_mol": 0.1, "vs_ccsdt_cbs": {"n": 1, "mae_kcal_mol": 0.1,
                                                     "rmse_kcal_mol": 0.1}}
    metrics = {"run_name": "t", "data_scale": "demo", "dft_max_dimers": 1,
               "methods": {m: entry for m in BENCHMARK_METHODS}}
    fig = draw_s66_methods(combined, metrics)
    titles = [ax.get_title() for ax in fig.axes]
    assert [t.split(") ", 1)[1] for t in titles] == [METHOD_LABELS[m] for m in BENCHMARK_METHODS]
    relative = pd.DataFrame({"molecule_id": ["m"] * 2, "method": ["gaff2"] * 2,
                             "dft_relative_energy_kcal_mol": [0.0, 1.0],
                             "relative_energy_kcal_mol": [0.0, 1.2]})
    fig = draw_conformers(relative, {**metrics, "n_molecules": 1})
    assert len(fig.axes) == len(BENCHMARK_METHODS)


def test_a_force_field_is_a_row_of_the_simulation_table_without_test_errors():
    from virialff.evaluate.simulation import ablation_markdown, ablation_rows

    summary = {"n_molecules": 5, "rmsd_to_xtb_angstrom_median": 0.08,
               "rmsd_to_xtb_angstrom_max": 0.45, "n_rmsd_within_threshold": 4,
               "n_optimisation_collapsed": 0, "n_molecules_with_stretched_bonds": 0,
               "n_molecules_with_compressed_bonds": 0, "md_time_ps_min": 10.0}
    (row,) = ablation_rows({"gaff2": {"summary": summary, "seed": 1}}, {}, {})
    assert row["label"] == "GAFF2/AM1-BCC" and row["energy_mae_kcal_mol"] is None
    assert "| GAFF2/AM1-BCC | – | – | – | 0.080 | 0.450 | 4/5 |" in ablation_markdown(
        [row], 10.0, 300.0)
