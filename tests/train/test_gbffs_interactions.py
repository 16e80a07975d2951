"""The interaction stage for GB-FFs (virialff.train.gbffs_interactions).

Real components: the SSI excerpt of tests/fixtures/psi4_databases (eight neutral side-chain
pairs of Psi4's SSI module with their references) through prepare_dimers, RDKit, the GB-FFs
model and the Amber-form energy code. The molecular data set is the synthetic one of
tests/synthetic_data.py (real molecules, smooth synthetic energies and forces) with Amber-form
anchor parameters predicted by an untrained GB-FFs model (no AmberTools needed).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from rdkit import Chem
from synthetic_data import write_compound_dataset

from virialff.formats.amber_parameters import write_amber_parameters
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.formats.model_file import write_model_file
from virialff.model.amber_energy import amber_energy_terms
from virialff.model.gbffs import (
    HEAD_MODULES,
    GBFFsPredictor,
    gbffs_payload,
    predicted_amber_tensors,
    untrained_gbffs_model,
)
from virialff.model.potential_model import SMALL_MODEL_CONFIG
from virialff.train import gbffs_interactions as gi
from virialff.train.dimer_databases import build_training_dimers, prepare_dimers
from virialff.train.interactions import load_dimers

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "psi4_databases"
BENCHMARKS = REPO / "data" / "benchmarks"
SETTINGS = {
    "interaction_weight": [1.0, 3.0],
    "learning_rate": 1.0e-2,
    "epochs": 4,
    "early_stopping_patience": 4,
    "batch_size": 3,
    "molecule_batch_size": 4,
    "coordinate_noise_angstrom": 0.005,
    "max_molecular_mae_increase": 10.0,
    "max_grid_extensions": 0,
}
SMILES = ("CC(=O)N", "CCO", "c1ccccc1", "CC#N", "CCCl", "COC")
N_GEOMETRIES = 2 * len(SMILES)
SPLIT = {"train": (0, 1, 2, 3), "val": (4,), "test": (5,)}


def _lively_model(seed: int = 0):  # noqa: ANN202
    """An untrained GB-FFs model (float64) whose charge-transfer and VdW heads are scaled up, so
    the charges are far from zero and ε, σ vary from atom to atom."""
    model, config = untrained_gbffs_model(SMALL_MODEL_CONFIG["embedding"], hidden_width=16,
                                          seed=seed)
    with torch.no_grad():  # the heads' last layers start at a tenth of their size
        model.transfer_in.weight.mul_(5.0)
        model.transfer_head[-1].weight.mul_(100.0)
        model.vdw_head[-1].weight.mul_(10.0)
    return model.double(), config


@pytest.fixture(scope="module")
def predictor() -> GBFFsPredictor:
    model, config = _lively_model()
    return GBFFsPredictor(model, {"config": config})


@pytest.fixture(scope="module")
def dimers_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("dimers")
    prepare_dimers(FIXTURES, folder / "dimers.pt", folder / "summary.json", names=("SSI",),
                   val_fraction=0.25, seed=2, benchmarks_dir=BENCHMARKS, split_unit="pair")
    return folder / "dimers.pt"


@pytest.fixture(scope="module")
def source_dimers():  # noqa: ANN201
    return build_training_dimers(FIXTURES, names=("SSI",), benchmarks_dir=BENCHMARKS)[0]


def _direct(predictor: GBFFsPredictor, dimers: gi.GBFFsDimers) -> torch.Tensor:
    batch = dimers.select(torch.arange(dimers.n_dimers))
    with torch.no_grad():
        return gi.predicted_interaction_energies(
            predictor.model, batch, gi.dimer_embeddings(predictor.model, dimers))


def _energy(predictor: GBFFsPredictor, mol, name: str, positions=None) -> float:  # noqa: ANN001
    """The full Amber-form energy of one molecule with GB-FFs' parameters (kcal/mol)."""
    _, terms, parameters = predictor.predict_tensors(mol, name)
    if positions is None:
        positions = torch.as_tensor(mol.GetConformer().GetPositions(), dtype=torch.float64)
    with torch.no_grad():
        return float(amber_energy_terms(positions, predicted_amber_tensors(terms, parameters)
                                        )["total"][0])


def _e_int_of_mol(predictor: GBFFsPredictor, mol, monomer: np.ndarray,  # noqa: ANN001
                  positions: torch.Tensor) -> float:
    """E_int of a complex from the pure function, parameters of the complex as one molecule."""
    _, _, parameters = predictor.predict_tensors(mol, "complex")
    pairs = torch.as_tensor(gi.intermolecular_pairs(monomer))
    with torch.no_grad():
        return float(gi.amber_interaction_energy_kcal_mol(
            positions, parameters["charges_e"], parameters["sigma_angstrom"],
            parameters["epsilon_kcal_mol"], pairs, torch.zeros(len(pairs), dtype=torch.long),
            1)[0])


# -- the interaction energy ----------------------------------------------------------------
def test_direct_sum_equals_the_full_energy_difference(predictor, dimers_file, source_dimers):
    """−Σ_{A×B}(Coulomb + LJ) = E_A + E_B − E_AB of the full Amber-form energy (bonds, angles,
    torsions, impropers, 1-4 scaled pairs and all), to 1e-8 relative in float64."""
    dimers = gi.load_gbffs_dimers(dimers_file)
    direct = _direct(predictor, dimers)
    by_id = {d.dimer_id: d for d in source_dimers}
    assert len(dimers.dimer_ids) >= 6
    for value, dimer_id in zip(direct.tolist(), dimers.dimer_ids, strict=True):
        mol = by_id[dimer_id].mol
        monomer_a, monomer_b = Chem.GetMolFrags(mol, asMols=True, sanitizeFrags=False)
        full = (_energy(predictor, monomer_a, "A") + _energy(predictor, monomer_b, "B")
                - _energy(predictor, mol, "AB"))
        assert abs(value) > 0.05, dimer_id  # the pair terms between the monomers count
        assert value == pytest.approx(full, rel=1e-8, abs=0.0), dimer_id
    assert float(direct.abs().max()) > 0.5


def test_far_apart_neutral_monomers_do_not_interact(predictor, dimers_file):
    dimers = gi.load_gbffs_dimers(dimers_file)
    batch = dimers.select(torch.arange(dimers.n_dimers))
    h = gi.dimer_embeddings(predictor.model, dimers)
    far = batch.positions_angstrom.clone()
    monomer = dimers.monomer_index
    far[monomer == 1] += torch.tensor([1000.0, 0.0, 0.0], dtype=far.dtype)
    with torch.no_grad():
        charges = predictor.model.nonbonded_parameters(h, batch.bonds,
                                                       batch.formal_charge_e)["charges_e"]
        near = gi.predicted_interaction_energies(predictor.model, batch, h)
        tail = gi.predicted_interaction_energies(predictor.model, batch, h, far)
    assert float(charges.abs().max()) > 0.05  # real charges, not zeros
    assert float(near.abs().min()) > 0.05
    assert float(tail.abs().max()) < 1e-6


def test_rigid_motion_and_swapping_the_monomers_leave_it_unchanged(predictor, source_dimers):
    dimer = source_dimers[0]
    mol = dimer.mol
    positions = torch.as_tensor(mol.GetConformer().GetPositions(), dtype=torch.float64)
    monomer = np.repeat([0, 1], dimer.fragment_sizes)
    reference = _e_int_of_mol(predictor, mol, monomer, positions)
    assert abs(reference) > 0.1
    generator = torch.Generator().manual_seed(3)
    rotation, _ = torch.linalg.qr(torch.randn(3, 3, generator=generator, dtype=torch.float64))
    moved = positions @ rotation.T + torch.tensor([5.0, -7.0, 11.0], dtype=torch.float64)
    assert _e_int_of_mol(predictor, mol, monomer, moved) == pytest.approx(reference, rel=1e-10)
    order = [*np.nonzero(monomer == 1)[0].tolist(), *np.nonzero(monomer == 0)[0].tolist()]
    swapped = Chem.RenumberAtoms(mol, order)  # B's atoms first, B is now monomer 0
    assert _e_int_of_mol(predictor, swapped, 1 - monomer[order], positions[order]) == \
        pytest.approx(reference, rel=1e-10)


def test_an_old_dimer_file_is_refused_with_one_line(dimers_file, tmp_path):
    payload = torch.load(dimers_file, weights_only=True)
    payload.pop("molblocks")
    payload["version"] = 1
    old = tmp_path / "dimers.pt"
    torch.save(payload, old)
    with pytest.raises(ValueError, match="rerun prepare_dimers") as error:
        gi.load_gbffs_dimers(old)
    assert str(old) in str(error.value) and "\n" not in str(error.value)
    graphs, split, _ = load_dimers(old)  # the paper model's stage reads it as before
    assert graphs.n_molecules == len(payload["dimers"])
    assert split["train"].numel() + split["val"].numel() == graphs.n_molecules


def test_molblocks_hold_the_graphs_topology(dimers_file):
    """The MolBlocks give the same atoms and bonds as the graphs the paper's stage reads."""
    graphs, _, _ = load_dimers(dimers_file)
    dimers = gi.load_gbffs_dimers(dimers_file)
    assert torch.equal(dimers.element_index, graphs.element_index)
    ours = {tuple(sorted(p)) for p in dimers.directed_bonds.T.tolist()}
    theirs = {tuple(sorted(p)) for p in graphs.bond_index.T.tolist()}
    assert ours == theirs


# -- the fine-tune -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def molecular_inputs(tmp_path_factory) -> dict:
    """12 geometries (6 compounds × 2), their geometry SDF, anchor parameters per compound and
    a GB-FFs model file to fine-tune."""
    root = tmp_path_factory.mktemp("gbffs_mol")
    mols = write_compound_dataset(root / "dataset.pt", N_GEOMETRIES, SMILES, SPLIT, seed=2)
    model, config = _lively_model(seed=1)
    anchors = GBFFsPredictor(model, {"config": config})
    parameters = []
    for mol in mols:
        name = mol.GetProp("_Name")
        mol.SetProp("molecule_id", name)
        parameters.append(anchors.amber_parameters(mol, name))
    write_amber_parameters(root / "gaff2.npz", parameters, "untrained GB-FFs (test anchors)")
    write_geometry_sdf(root / "geometries.sdf", mols)
    write_model_file(root / "gbffs.pt", gbffs_payload(model, {**config, "training": {}},
                                                      seed=0, fine_tuned_embeddings=False))
    return {"root": root}


def _fine_tune(molecular_inputs: dict, dimers_file: Path, folder: Path) -> tuple[dict, dict]:
    from virialff.config import default_config

    root = molecular_inputs["root"]
    paths = {"output": folder / "gbffs_interactions.pt", "history": folder / "history.csv",
             "selection": folder / "selection.json"}
    gbffs = {**default_config()["training"]["gbffs"], "batch_size": 4}
    selection = gi.train_gbffs_interactions(
        root / "dataset.pt", dimers_file, root / "gbffs.pt", [root / "gaff2.npz"],
        paths["output"], paths["history"], paths["selection"], settings=SETTINGS,
        gbffs_settings=gbffs, seed=5, geometry_paths=[root / "geometries.sdf"], progress=False)
    return selection, paths


@pytest.fixture(scope="module")
def fine_tuned(molecular_inputs, dimers_file, tmp_path_factory) -> tuple[dict, dict]:
    return _fine_tune(molecular_inputs, dimers_file, tmp_path_factory.mktemp("run"))


def test_the_fine_tune_lowers_the_training_interaction_error(fine_tuned):
    selection, paths = fine_tuned
    assert selection["final"]["train_interaction_mae_kcal_mol"] < \
        0.9 * selection["initial"]["train_interaction_mae_kcal_mol"]
    assert selection["chosen_weight"] in SETTINGS["interaction_weight"]
    assert [r["weight"] for r in selection["runs"]] == SETTINGS["interaction_weight"]
    chosen = next(r for r in selection["runs"] if r["weight"] == selection["chosen_weight"])
    assert chosen["best_epoch"] >= 1
    assert chosen["val_interaction_mae_kcal_mol"] < \
        selection["initial"]["val_interaction_mae_kcal_mol"]
    written = json.loads(paths["selection"].read_text())
    assert written["chosen_weight"] == selection["chosen_weight"]
    assert set(written["molecular_errors"]) == {"before", "after"}
    with open(paths["history"]) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == chosen["epochs_run"]


def test_only_the_charge_transfer_and_vdw_heads_move(fine_tuned, molecular_inputs):
    _, paths = fine_tuned
    before = GBFFsPredictor.load(molecular_inputs["root"] / "gbffs.pt").model.state_dict()
    after_predictor = GBFFsPredictor.load(paths["output"])
    after = after_predictor.model.state_dict()
    moving = tuple(f"{m}." for kind in gi.FINE_TUNED_KINDS for m in HEAD_MODULES[kind])
    assert set(before) == set(after)
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith(moving) for k in changed), changed
    for key in before:
        if not key.startswith(moving):  # embeddings and bonded heads: byte-identical
            assert before[key].numpy().tobytes() == after[key].numpy().tobytes(), key
    assert after_predictor.metadata["kind"] == "gbffs"


def test_the_fine_tune_is_deterministic(fine_tuned, molecular_inputs, dimers_file, tmp_path):
    _, paths = fine_tuned
    _, again = _fine_tune(molecular_inputs, dimers_file, tmp_path)
    first = GBFFsPredictor.load(paths["output"]).model.state_dict()
    second = GBFFsPredictor.load(again["output"]).model.state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)
