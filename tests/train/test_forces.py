"""Force-matched training: forces are −∇E by autograd, the loss adds w_F·force MAE where the
DFT gave forces, w_F is chosen on validation away from the edge of its grid, and the guards
are placed from the training geometries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from synthetic_data import synthetic_dataset, synthetic_molecules, write_synthetic_dataset
from train_support import CHO_SMILES, GUARDS, embed, potential, small_config

from virialff.forcefield.pair_potential import CORE_CLASSES
from virialff.formats.model_file import read_model_file
from virialff.train.data import load_dataset
from virialff.train.stages import (
    class_distance_range,
    energy_and_force_errors,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forces")
    dataset = write_synthetic_dataset(folder / "dataset.pt", n_molecules=24, smiles=CHO_SMILES)
    config = small_config(embedding={"epochs": 3}, potential={"epochs": 6})
    embed(dataset, folder / "embedding.pt", folder / "embedding.csv", config)
    return {"folder": folder, "dataset": dataset, "config": config,
            "embedding": folder / "embedding.pt"}


def test_synthetic_forces_are_minus_the_gradient_of_the_synthetic_energy():
    """The test data's own forces (the Morse sum and the bond terms of −T) by central
    differences, so that the training tests below compare against a true gradient."""
    mol = synthetic_molecules(1, ("CCO",), seed=2)[0]
    reference = synthetic_dataset(1, ("CCO",), seed=2, split_fractions=(1.0, 0.0, 0.0))
    forces = reference["graphs"].atom_targets["forces_kcal_mol_angstrom"].numpy()
    x = mol.GetConformer().GetPositions()

    def energy(positions):  # noqa: ANN001, ANN202
        from rdkit.Geometry import Point3D

        moved = type(mol)(mol)
        for k, p in enumerate(positions):
            moved.GetConformer().SetAtomPosition(k, Point3D(*p))
        from virialff.chem.graph import graph_from_rdkit

        graph = graph_from_rdkit(moved, "m")
        i, j = graph.bond_index
        r_bond = np.linalg.norm(positions[i] - positions[j], axis=1)
        kd_bond = 20.0 * (graph.bond_type + 1) - 30.0 * (r_bond - 1.2)
        first, second = np.triu_indices(len(positions), 1)
        r = np.linalg.norm(positions[first] - positions[second], axis=1)
        return -kd_bond.sum() / 2.0 + float(np.sum(5.0 * (np.exp(-2.0 * (r - 1.5)) - 1) ** 2))

    numeric = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        up, down = x.copy(), x.copy()
        up[index] += 1e-5
        down[index] -= 1e-5
        numeric[index] = -(energy(up) - energy(down)) / 2e-5
    np.testing.assert_allclose(forces, numeric, atol=1e-5)


def test_forces_of_the_loss_are_minus_the_gradient_of_the_model_energy(trained):
    from virialff.chem.graph import select_molecules
    from virialff.model.predictor import Predictor

    predictor = Predictor.untrained("total", seed=7).astype(torch.float64)
    graphs, _, _ = load_dataset(trained["dataset"])
    batch = select_molecules(graphs, torch.tensor([0, 1]))
    energy_error, force_error, has = energy_and_force_errors(
        predictor.model, batch, batch.positions_angstrom, None, True, create_graph=False)
    positions = batch.positions_angstrom.double().requires_grad_(True)
    energy = predictor.model(batch, positions, fragment=batch.atom_targets["_fragment"])
    (gradient,) = torch.autograd.grad(energy["energy_kcal_mol"].sum(), positions)
    expected = (-gradient - batch.atom_targets["forces_kcal_mol_angstrom"].double()).abs()
    sizes = [int(n) for n in batch.atom_ptr[1:] - batch.atom_ptr[:-1]]
    per_molecule = [part.mean() for part in torch.split(expected, sizes)]
    torch.testing.assert_close(force_error, torch.stack(per_molecule))
    assert has.tolist() == [1.0, 1.0]


def test_a_geometry_without_dft_forces_contributes_its_energy_error_only(trained):
    from virialff.chem.graph import select_molecules
    from virialff.model.predictor import Predictor

    predictor = Predictor.untrained("total", seed=7).astype(torch.float64)
    graphs, _, _ = load_dataset(trained["dataset"])
    batch = select_molecules(graphs, torch.tensor([0, 1]))
    batch.molecule_targets["has_forces"] = torch.tensor([0.0, 1.0], dtype=torch.float64)
    _, force_error, has = energy_and_force_errors(
        predictor.model, batch, batch.positions_angstrom, None, True, create_graph=False)
    assert force_error[0] == 0.0 and force_error[1] > 0.0 and has.tolist() == [0.0, 1.0]


def test_force_matching_chooses_an_interior_weight_and_learns_the_forces(trained, caplog):
    folder, config = trained["folder"], trained["config"]
    config = small_config(embedding={"epochs": 3}, potential={
        "epochs": 6, "force_weight": [0.3, 1.0, 3.0], "max_grid_extensions": 2})
    potential(trained["dataset"], folder / "forces.pt", folder / "forces.csv", config, "total",
              embedding_path=trained["embedding"])
    payload = read_model_file(folder / "forces.pt")
    selection = payload["force_weight_selection"]
    grid, chosen = selection["grid"], selection["chosen"]
    # either the first grid had an interior best, or it was extended until it did (or ran
    # out of extensions, which the file says)
    assert chosen in grid and set(grid) >= {0.3, 1.0, 3.0}
    assert selection["interior"] == (grid[0] < chosen < grid[-1])
    assert len(grid) <= 5
    assert payload["state_dict"]["charge_net.0.weight"].dtype == torch.float64
    energy_only = small_config(embedding={"epochs": 3}, potential={"epochs": 6})
    potential(trained["dataset"], folder / "energy.pt", folder / "energy.csv", energy_only,
              "total", embedding_path=trained["embedding"])
    force_mae = {name: read_model_file(folder / f"{name}.pt")["validation"][
        "force_mae_kcal_mol_angstrom"] for name in ("forces", "energy")}
    assert force_mae["forces"] < force_mae["energy"]


def test_guards_are_placed_below_every_training_distance_of_their_class(trained):
    folder = trained["folder"]
    config = small_config(embedding={"epochs": 3}, potential={
        "epochs": 2, "force_weight": 1.0, "guards": True, "guard_settings": GUARDS})
    potential(trained["dataset"], folder / "guarded.pt", folder / "guarded.csv", config,
              "total", embedding_path=trained["embedding"])
    guards = read_model_file(folder / "guarded.pt")["config"]["potential"]["guards"]
    graphs, split, _ = load_dataset(trained["dataset"])
    shortest, longest = class_distance_range(graphs, split["train"])
    assert guards["shortest_training_distance_angstrom"] == shortest
    assert guards["longest_training_distance_angstrom"] == longest
    for name, radius in zip(CORE_CLASSES, guards["core_radius_angstrom"], strict=True):
        assert radius == pytest.approx(0.95 * shortest[name])
    from virialff.chem.elements import SUPPORTED_ELEMENTS
    from virialff.forcefield.pair_potential import PairGuards

    walls, _ = PairGuards.from_dict(guards).stretch_tables()
    carbon, hydrogen = SUPPORTED_ELEMENTS.index("C"), SUPPORTED_ELEMENTS.index("H")
    assert walls[carbon, hydrogen] == pytest.approx(longest["H-C"] / 0.95)
    assert 1.0 < longest["H-C"] < 1.2 < longest["C-C"] < 1.7
    assert 0.9 < shortest["bonded_hydrogen"] < 1.2 < shortest["bonded_heavy"] < 1.6
    assert shortest["nonbonded"] > shortest["bonded_hydrogen"]
    # the guarded model reads back with its guards, and predicts the training energies with
    # the core and the stretch wall exactly zero there
    from virialff.model.predictor import Predictor

    predictor = Predictor.from_file(folder / "guarded.pt")
    assert predictor.model.guards is not None
    batch = load_dataset(trained["dataset"])[0]
    from virialff.chem.graph import select_molecules

    sub = select_molecules(batch, split["train"]).to(torch.device("cpu"))
    core = predictor.model.core_energy(sub.positions_angstrom.double(), sub, sub.pair_type > 0)
    assert float(core.abs().max()) == 0.0


def test_the_simulation_check_runs_on_a_model_the_workflow_trained(trained):
    """The check of rule simulation_stability on a force-trained, guarded model from
    train_potential (not a hand-built one): the guards keep every bond below 1.5× and above
    0.6× its length, and the run reports the steps it made."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    from virialff.evaluate.simulation import study_molecule
    from virialff.model.predictor import Predictor

    folder = trained["folder"]
    config = small_config(embedding={"epochs": 3}, potential={
        "epochs": 8, "force_weight": 1.0, "guards": True, "guard_settings": GUARDS})
    potential(trained["dataset"], folder / "simulated.pt", folder / "simulated.csv", config,
              "total", embedding_path=trained["embedding"])
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    AllChem.EmbedMolecule(mol, randomSeed=5)
    AllChem.MMFFOptimizeMolecule(mol)
    row = study_molecule(Predictor.from_file(folder / "simulated.pt"), "ethanol", mol,
                         {"md_time_ps": 0.5, "temperature_k": 300.0, "timestep_fs": 0.5},
                         seed=1)
    assert row["optimise_error"] is None
    assert row["md_compressed_bonds"] == 0 and row["md_min_bond_ratio"] > 0.6
    assert row["md_stretched_bonds"] == 0 and row["md_max_bond_ratio"] < 1.5
    assert row["md_steps"] == row["md_steps_planned"] == 1000


def test_the_dipole_of_the_charges_is_compared_with_the_dft_dipole(trained):
    """μ = Σ Q_i r_i (e·Å → Debye) about the DFT dipole's origin; the error is |Δμ|."""
    from virialff.chem.graph import select_molecules
    from virialff.model.predictor import Predictor
    from virialff.train.evaluate import dipole_errors_debye
    from virialff.train.stages import DEBYE_PER_E_ANGSTROM

    predictor = Predictor.untrained("total", seed=7).astype(torch.float64)
    graphs, _, _ = load_dataset(trained["dataset"])
    batch = select_molecules(graphs, torch.tensor([0, 1]))
    charges = predictor.model(batch, fragment=batch.atom_targets["_fragment"])["charges_e"]
    first = slice(0, int(batch.atom_ptr[1]))
    own = (charges[first, None].double() * batch.positions_angstrom[first].double()).sum(0)
    batch.molecule_targets["dipole_debye"] = torch.stack(
        [own * DEBYE_PER_E_ANGSTROM + torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64),
         torch.zeros(3, dtype=torch.float64)])
    batch.molecule_targets["has_dipole"] = torch.tensor([1.0, 0.0], dtype=torch.float64)
    errors = dipole_errors_debye(predictor.model, batch)
    assert float(errors[0]) == pytest.approx(0.0, abs=1e-9)
    assert torch.isnan(errors[1])  # no DFT dipole: not scored
    batch.molecule_targets["dipole_debye"][0, 0] += 1.0
    assert float(dipole_errors_debye(predictor.model, batch)[0]) == pytest.approx(1.0)


def test_the_dipole_term_adds_w_times_the_dipole_error_and_trains_the_charges(trained):
    """errors = |ΔE| + w_μ·|Δμ| for molecules with a DFT dipole, and its gradient reaches
    charge_net (the term trains the charges); molecules without a dipole are unchanged."""
    from virialff.chem.graph import select_molecules
    from virialff.model.predictor import Predictor
    from virialff.train.stages import charge_dipole_errors_debye, potential_errors

    predictor = Predictor.untrained("total", seed=7).astype(torch.float64)
    model = predictor.model
    graphs, _, _ = load_dataset(trained["dataset"])
    data = select_molecules(graphs, torch.tensor([0, 1]))
    data.molecule_targets["dipole_debye"] = torch.tensor([[1.0, -2.0, 0.5], [0.0, 0.0, 0.0]],
                                                         dtype=torch.float64)
    data.molecule_targets["has_dipole"] = torch.tensor([1.0, 0.0], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    indices = torch.tensor([0, 1])
    device = torch.device("cpu")
    plain = potential_errors(model, data, device, None, 0.0, generator)(indices, False)
    weighted = potential_errors(model, data, device, None, 0.0, generator,
                                dipole_weight=2.5)(indices, False)
    dipole, has = charge_dipole_errors_debye(model, data)
    assert has.tolist() == [True, False]
    assert float(dipole[0].detach()) > 0.1
    torch.testing.assert_close(weighted - plain, 2.5 * dipole * has)
    model.zero_grad()
    weighted[0].backward()
    charge_gradient = sum(float(p.grad.abs().sum()) for p in model.charge_net.parameters()
                          if p.grad is not None)
    assert charge_gradient > 0.0
