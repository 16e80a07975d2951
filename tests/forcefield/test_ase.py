"""Specification of the ASE calculator: units, optimisation and energy-conserving dynamics."""

from __future__ import annotations

import numpy as np
import pytest
from ase import units
from ase.calculators.calculator import PropertyNotImplementedError
from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS
from forcefield_support import ASPIRIN, combine, embedded, positions, translated

from virialff.forcefield.ase import EV_PER_KCAL_MOL, VirialFFCalculator, atoms_from_rdkit
from virialff.model.predictor import load_model


def test_energy_and_forces_are_the_parametrised_ones_in_ev(predictor, fluoroethanol):
    system = predictor.parametrize(fluoroethanol)
    energy, forces = system.energy_and_forces(positions(fluoroethanol))
    atoms = atoms_from_rdkit(fluoroethanol)
    atoms.calc = VirialFFCalculator(predictor, fluoroethanol)
    assert abs(EV_PER_KCAL_MOL - 0.0433641) < 1e-7
    assert atoms.get_potential_energy() == pytest.approx(energy * EV_PER_KCAL_MOL, rel=1e-12)
    np.testing.assert_allclose(atoms.get_forces(), forces * EV_PER_KCAL_MOL, rtol=1e-12)


def test_calculator_takes_a_loaded_model_file_but_not_its_path(predictor, fluoroethanol,
                                                               tmp_path):
    """The calculator is torch-free: a model file is loaded by the caller
    (virialff.model.predictor.load_model); a path is refused with that advice."""
    path = tmp_path / "total.pt"
    predictor.save(path)
    atoms = atoms_from_rdkit(fluoroethanol)
    loaded = load_model(path)  # float32 weights, as every model file holds
    atoms.calc = VirialFFCalculator(loaded, fluoroethanol)
    expected = loaded.parametrize(fluoroethanol).energy_kcal_mol(positions(fluoroethanol))
    assert atoms.get_potential_energy() == pytest.approx(expected * EV_PER_KCAL_MOL, rel=1e-12)
    with pytest.raises(TypeError, match="load a model file with virialff.model.predictor"):
        VirialFFCalculator(str(path), fluoroethanol)


class _EnergyAndForcesOnly:
    """A system that offers only what the calculator needs: ``n_atoms`` and
    ``energy_and_forces`` (as the Amber-form systems do), here those of a paper-form system."""

    def __init__(self, system) -> None:  # noqa: ANN001 - ParametrizedSystem
        self._system = system
        self.n_atoms = system.n_atoms

    def energy_and_forces(self, positions_angstrom):  # noqa: ANN001, ANN201
        return self._system.energy_and_forces(positions_angstrom)


def test_any_system_with_energy_and_forces_and_n_atoms_drives_the_calculator(stiff):
    ethanol = embedded("CCO")
    system = stiff.parametrize(ethanol)
    atoms = atoms_from_rdkit(ethanol)
    atoms.calc = VirialFFCalculator(system=_EnergyAndForcesOnly(system))
    energy, forces = system.energy_and_forces(atoms.positions)
    assert atoms.get_potential_energy() == pytest.approx(energy * EV_PER_KCAL_MOL, rel=1e-12)
    np.testing.assert_allclose(atoms.get_forces(), forces * EV_PER_KCAL_MOL, rtol=1e-12)
    assert BFGS(atoms, logfile=None).run(fmax=0.05, steps=200)
    shorter = atoms[:-1]
    shorter.calc = VirialFFCalculator(system=_EnergyAndForcesOnly(system))
    with pytest.raises(ValueError, match="has 8 atoms but the parametrised topology has 9"):
        shorter.get_potential_energy()
    atoms.set_cell([20.0, 20.0, 20.0])
    atoms.set_pbc(True)
    with pytest.raises(ValueError, match="has no periodic form"):
        atoms.get_potential_energy()
    atoms.set_pbc(False)
    with pytest.raises(PropertyNotImplementedError, match="stress needs a periodic cell"):
        atoms.get_stress()


def test_bfgs_optimisation_of_a_drug_like_molecule_converges(stiff):
    aspirin = embedded(ASPIRIN)
    atoms = atoms_from_rdkit(aspirin)
    atoms.calc = VirialFFCalculator(stiff, aspirin)
    start_energy = atoms.get_potential_energy()
    assert np.abs(atoms.get_forces()).max() > 0.5  # not already at a minimum
    optimiser = BFGS(atoms, logfile=None)
    assert optimiser.run(fmax=0.01, steps=500)
    assert np.linalg.norm(atoms.get_forces(), axis=1).max() < 0.01
    assert atoms.get_potential_energy() < start_energy
    bonds = atoms.calc.system.bond_index
    lengths = np.linalg.norm(atoms.positions[bonds[0]] - atoms.positions[bonds[1]], axis=1)
    assert lengths.min() > 1.0 and lengths.max() < 1.5  # every bond kept, none broken


def test_nve_dynamics_of_a_dimer_conserves_the_total_energy(stiff):
    """1 ps of velocity Verlet (0.5 fs) for water–methanol at 300 K, with r_s = 3 Å and
    r_c = 4 Å so that intermolecular pairs cross the switch and the cutoff many times."""
    dimer = combine(embedded("O"), translated(embedded("CO"), (3.0, 0.0, 0.0)))
    atoms = atoms_from_rdkit(dimer)
    atoms.calc = VirialFFCalculator(stiff, dimer, cutoff_angstrom=4.0, switch_distance_angstrom=3.0)
    BFGS(atoms, logfile=None).run(fmax=0.01, steps=500)
    thermalize_momenta(atoms, 300.0, rng=np.random.default_rng(0))
    Stationary(atoms)
    ZeroRotation(atoms)
    dynamics = VelocityVerlet(atoms, timestep=0.5 * units.fs)
    total, closest = [], []
    water = slice(0, 3)

    def record() -> None:
        total.append(atoms.get_total_energy())
        d = atoms.positions[water, None] - atoms.positions[None, 3:]
        closest.append(np.linalg.norm(d, axis=-1))

    dynamics.attach(record, interval=5)
    dynamics.run(2000)
    total = np.array(total)
    distances = np.array(closest)
    crossed_cutoff = ((distances[1:] < 4.0) != (distances[:-1] < 4.0)).sum()
    assert crossed_cutoff > 0
    drift = abs(total[-1] - total[0])
    fluctuation = np.abs(total - total[0]).max()
    kinetic_scale = 1.5 * atoms.get_global_number_of_atoms() * units.kB * 300.0
    assert drift < 2e-3, f"drift {drift:.2e} eV"  # 0.05 kcal/mol over 1 ps
    assert fluctuation < 0.05 * kinetic_scale, f"fluctuation {fluctuation:.2e} eV"


def test_atoms_that_do_not_match_the_topology_are_rejected(predictor, fluoroethanol):
    calculator = VirialFFCalculator(predictor, fluoroethanol)
    atoms = atoms_from_rdkit(fluoroethanol)
    atoms.calc = calculator
    atoms.symbols[1] = "N"
    with pytest.raises(ValueError, match="atom 1 is N in the Atoms object but C"):
        atoms.get_potential_energy()
    shorter = atoms_from_rdkit(fluoroethanol)[:-1]
    shorter.calc = calculator
    with pytest.raises(ValueError, match="has 17 atoms but the parametrised topology has 18"):
        shorter.get_potential_energy()


def test_kinetic_models_cannot_drive_dynamics(fluoroethanol):
    from virialff.model.predictor import Predictor

    with pytest.raises(ValueError, match="needs a 'total' energy model"):
        VirialFFCalculator(Predictor.untrained("kinetic"), fluoroethanol)
