"""Specification of periodic cells: minimum images between molecules, whole molecules inside,
the same energy through ASE, OpenMM with the Ewald sum (PME) for the Coulomb term between
molecules, and clear refusals of cells that cannot work."""

from __future__ import annotations

import numpy as np
import openmm
import pytest
from ase import Atoms, units
from ase.calculators.calculator import PropertyNotImplementedError
from ase.md.velocitydistribution import Stationary, thermalize_momenta
from ase.md.verlet import VelocityVerlet
from ase.optimize import BFGS
from forcefield_support import combine, embedded, positions, random_rotation, with_positions

from virialff.forcefield.ase import VirialFFCalculator, atoms_from_rdkit
from virialff.forcefield.pair_potential import (
    pair_displacements_angstrom,
    pair_forces_kcal_mol_angstrom,
    switching_function,
)
from virialff.forcefield.paper_openmm import (
    CONSTANT_GROUP,
    ELECTROSTATICS_GROUP,
    INTERMOLECULAR_GROUP,
    INTRAMOLECULAR_GROUP,
    energy_and_forces,
    to_openmm_system,
)
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

BOX = np.array([12.0, 13.0, 14.0])  # Å; every edge ≥ 2·r_c
CUTOFF, SWITCH = 5.0, 3.5  # Å: many pairs in the switch and across faces of the cell


def _placed(smiles: str, centre, seed: int):  # noqa: ANN001, ANN202 - rdkit Mol
    mol = embedded(smiles, seed=seed)
    x = positions(mol)
    x = (x - x.mean(axis=0)) @ random_rotation(seed).T + np.asarray(centre, dtype=float)
    return with_positions(mol, x)


def _liquid_cell():  # noqa: ANN202 - rdkit Mol
    """Six small molecules filling the cell; several sit on a face, corner or edge."""
    specs = [
        ("O", (0.5, 0.5, 0.5)),  # a corner: its nearest neighbours are images
        ("CO", (6.0, 6.5, 7.0)),
        ("CCO", (11.6, 4.0, 3.0)),  # on the x face
        ("O", (3.0, 12.8, 10.0)),  # on the y face
        ("CC(F)O", (8.5, 2.0, 13.5)),  # on the z face
        ("C#N", (3.5, 7.0, 1.5)),
    ]
    return combine(*(_placed(s, c, seed) for seed, (s, c) in enumerate(specs, start=1)))


@pytest.fixture(scope="module")
def cell(predictor):
    mol = _liquid_cell()
    system = predictor.parametrize(
        mol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=BOX
    )
    return mol, system


def _wrapped(x: np.ndarray) -> np.ndarray:
    return x - BOX * np.floor(x / BOX)


def test_a_dimer_across_a_face_interacts_through_its_nearest_image(predictor):
    """Methanol at x ≈ 1 Å and water at x ≈ L − 2 Å are neighbours through the x face: the
    periodic energy is the non-periodic energy with water moved by −L."""
    methanol = _placed("CO", (1.0, 6.0, 7.0), 3)
    water = _placed("O", (BOX[0] - 2.0, 6.5, 7.0), 4)
    inside = combine(methanol, water)
    nearest = combine(methanol, with_positions(water, positions(water) - [BOX[0], 0, 0]))
    periodic = predictor.parametrize(
        inside, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=BOX
    )
    plain = predictor.parametrize(nearest, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH)
    energy, forces = periodic.energy_and_forces(positions(inside))
    reference, reference_forces = plain.energy_and_forces(positions(nearest))
    far_apart, _ = plain.with_cutoff(CUTOFF, SWITCH).energy_and_forces(positions(inside))
    assert abs(reference - far_apart) > 1e-3  # the image interaction is not negligible
    assert energy == pytest.approx(reference, rel=1e-12, abs=1e-10)
    np.testing.assert_allclose(forces, reference_forces, rtol=1e-10, atol=1e-10)


def test_a_cell_much_larger_than_the_molecules_changes_nothing(predictor):
    mol = combine(_placed("CO", (50.0, 50.0, 50.0), 3), _placed("O", (53.0, 50.5, 50.0), 4))
    plain = predictor.parametrize(mol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH)
    boxed = plain.with_box([100.0, 100.0, 100.0])
    expected, expected_forces = plain.energy_and_forces(positions(mol))
    energy, forces = boxed.energy_and_forces(positions(mol))
    assert energy == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(forces, expected_forces, rtol=1e-10, atol=1e-12)


def test_wrapping_atoms_or_shifting_molecules_by_cell_vectors_changes_nothing(cell):
    mol, system = cell
    x = positions(mol)
    energy, forces = system.energy_and_forces(x)
    wrapped = _wrapped(x)
    assert (np.abs(wrapped - x) > 1.0).any()  # some molecules are cut by a face
    shifted = x.copy()
    shifted[system.fragment_index == 1] += BOX * [1, -2, 3]
    moved = _wrapped(x + [4.3, -7.1, 2.2])  # a rigid translation of everything
    for y in (wrapped, shifted, moved):
        fresh = system.with_box(BOX)  # no neighbour list carried over
        e, f = fresh.energy_and_forces(y)
        assert e == pytest.approx(energy, rel=1e-12, abs=1e-10)
        np.testing.assert_allclose(f, forces, rtol=1e-9, atol=1e-9)


def test_periodic_forces_are_minus_the_gradient(cell):
    mol, system = cell
    x = _wrapped(positions(mol))
    _, forces = system.energy_and_forces(x)
    rng = np.random.default_rng(0)
    step = 1e-5
    for atom in rng.choice(system.n_atoms, 8, replace=False):
        for axis in range(3):
            plus, minus = x.copy(), x.copy()
            plus[atom, axis] += step
            minus[atom, axis] -= step
            gradient = (
                system.energy_kcal_mol(plus) - system.energy_kcal_mol(minus)
            ) / (2 * step)
            assert -gradient == pytest.approx(forces[atom, axis], rel=1e-5, abs=1e-6)


def test_a_molecule_moving_through_a_face_keeps_a_continuous_energy(predictor):
    """Water walks through the +x face of a 20 Å long cell towards methanol near the −x face,
    wrapped into the cell at every step, with one parametrised system throughout (its
    neighbour list rebuilt as atoms jump by L); the periodic energy equals the non-periodic
    energy along the unwrapped path of the image that approaches methanol."""
    box = np.array([20.0, 13.0, 14.0])
    methanol = _placed("CO", (2.5, 6.0, 7.0), 3)
    water = _placed("O", (14.0, 6.2, 7.1), 4)
    mol = combine(methanol, water)
    periodic = predictor.parametrize(
        mol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=box
    )
    plain = periodic.with_box(None)
    x = positions(mol)
    moving = periodic.fragment_index == 1
    energies, wrapped_atoms = [], 0
    for shift in np.linspace(0.0, 5.8, 59):
        path = x.copy()
        path[moving] += [shift, 0.0, 0.0]
        image = path.copy()
        image[moving] -= [box[0], 0.0, 0.0]  # the image that approaches methanol
        inside = path - box * np.floor(path / box)
        wrapped_atoms = max(wrapped_atoms, int((inside != path).any(axis=1).sum()))
        energy = periodic.energy_kcal_mol(inside)
        assert energy == pytest.approx(plain.energy_kcal_mol(image), rel=1e-12, abs=1e-10)
        energies.append(energy)
    assert wrapped_atoms > 0  # part of the water did cross the face
    assert np.ptp(energies) > 1e-3  # and came within the cutoff of methanol


def test_stress_is_the_strain_derivative_of_the_energy_over_the_volume(cell):
    """Stretching atoms and cell along one axis (the cell fixture, molecules cut by faces)."""
    mol, system = cell
    x = _wrapped(positions(mol))
    _, _, stress = system.energy_forces_and_stress(x)
    step = 1e-6
    for axis in range(3):
        scale = np.ones(3)
        energies = []
        for sign in (1, -1):
            scale[axis] = 1 + sign * step
            energies.append(system.with_box(BOX * scale).energy_kcal_mol(x * scale))
        derivative = (energies[0] - energies[1]) / (2 * step)
        assert stress[axis, axis] * BOX.prod() == pytest.approx(derivative, rel=1e-5, abs=1e-6)


def test_virial_holds_every_shear_component(predictor):
    """Three molecules deep inside a 60 Å cell (no image within the cutoff), strained by a
    general ε: ∂E/∂ε from finite differences equals stress·V, component by component."""
    box = np.array([60.0, 60.0, 60.0])
    mol = combine(
        _placed("CO", (30.0, 30.0, 30.0), 3),
        _placed("O", (33.0, 30.5, 30.0), 4),
        _placed("CCO", (30.5, 33.5, 31.0), 5),
    )
    system = predictor.parametrize(
        mol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=box
    )
    x = positions(mol)
    _, _, stress = system.energy_forces_and_stress(x)
    virial = stress * box.prod()
    assert np.abs(virial).max() > 1.0
    np.testing.assert_allclose(virial, virial.T, atol=1e-10)
    step = 1e-6
    for a in range(3):
        for b in range(3):
            energies = []
            for sign in (1, -1):
                strain = np.eye(3)
                strain[a, b] += sign * step
                energies.append(system.energy_kcal_mol(x @ strain.T))
            derivative = (energies[0] - energies[1]) / (2 * step)
            assert virial[a, b] == pytest.approx(derivative, rel=1e-5, abs=1e-6)


def test_cells_that_cannot_work_are_refused_with_the_reason(predictor, cell):
    _, system = cell
    with pytest.raises(ValueError, match=r"shortest edge \(9.000 Å\) is shorter than twice"):
        system.with_box([9.0, 20.0, 20.0])
    with pytest.raises(ValueError, match="three positive edge lengths"):
        system.with_box([12.0, -1.0, 14.0])
    with pytest.raises(ValueError, match="three positive edge lengths"):
        system.with_box([12.0, 13.0])
    with pytest.raises(ValueError, match="needs a cutoff"):
        system.with_cutoff(None).with_box(BOX)
    decanol = _placed("CCCCCCCCCCO", (5.0, 5.0, 5.0), 5)  # ~13 Å long, in a 10.5 Å cube
    long = predictor.parametrize(
        decanol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=[10.5] * 3
    )
    with pytest.raises(ValueError, match="within the cutoff .* of its own periodic image"):
        long.energy_and_forces(positions(decanol))
    roomy = long.with_box([30.0, 30.0, 30.0])  # the same molecule clear of its images
    assert np.isfinite(roomy.energy_kcal_mol(positions(decanol)))


def test_ase_uses_the_cell_of_periodic_atoms(cell):
    mol, system = cell
    atoms = atoms_from_rdkit(mol)
    atoms.set_cell(BOX)
    atoms.set_pbc(True)
    atoms.wrap()
    atoms.calc = VirialFFCalculator(system=system.with_box(None))
    energy, forces = system.energy_and_forces(atoms.positions)
    kcal = units.kcal / units.mol
    assert atoms.get_potential_energy() == pytest.approx(energy * kcal, rel=1e-12)
    np.testing.assert_allclose(atoms.get_forces(), forces * kcal, rtol=1e-10, atol=1e-12)
    _, _, stress = system.energy_forces_and_stress(atoms.positions)
    voigt = stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]
    np.testing.assert_allclose(atoms.get_stress(), voigt * kcal, rtol=1e-10, atol=1e-14)
    atoms.set_pbc(False)
    with pytest.raises(PropertyNotImplementedError, match="stress needs a periodic cell"):
        atoms.get_stress()
    atoms.set_pbc([True, True, False])
    with pytest.raises(ValueError, match="periodic along xy only"):
        atoms.get_potential_energy()
    atoms.set_pbc(True)
    atoms.set_cell([[12.0, 0.0, 0.0], [3.0, 13.0, 0.0], [0.0, 0.0, 14.0]])
    with pytest.raises(ValueError, match="not orthorhombic"):
        atoms.get_potential_energy()


def test_nve_dynamics_in_a_periodic_cell_conserves_the_total_energy(stiff):
    """Eight waters in a 10 Å cell (r_c = 4.5 Å), 0.5 ps at 300 K, atoms wrapped back into
    the cell every 10 steps: molecules cross faces and pairs cross the cutoff."""
    box = np.array([10.0, 10.0, 10.0])
    centres = [(x, y, z) for x in (2.5, 7.5) for y in (2.5, 7.5) for z in (2.5, 7.5)]
    waters = combine(*(_placed("O", c, seed) for seed, c in enumerate(centres, start=1)))
    atoms = Atoms(
        [a.GetSymbol() for a in waters.GetAtoms()],
        positions=positions(waters),
        cell=box,
        pbc=True,
    )
    atoms.calc = VirialFFCalculator(stiff, waters, cutoff_angstrom=4.5)
    BFGS(atoms, logfile=None).run(fmax=0.05, steps=300)
    thermalize_momenta(atoms, 300.0, rng=np.random.default_rng(1))
    Stationary(atoms)
    dynamics = VelocityVerlet(atoms, timestep=0.5 * units.fs)
    total = []
    crossings = []

    def record() -> None:
        total.append(atoms.get_total_energy())
        before = atoms.positions.copy()
        atoms.wrap()
        crossings.append(int((np.abs(atoms.positions - before) > 1.0).any(axis=1).sum()))

    dynamics.attach(record, interval=10)
    dynamics.run(1000)
    total = np.array(total)
    drift = abs(total[-1] - total[0])
    assert sum(crossings) > 0  # atoms did leave the cell and were wrapped back
    assert drift < 2e-3, f"drift {drift:.2e} eV"


def _switched_coulomb_between_molecules(system, x: np.ndarray) -> tuple[float, np.ndarray]:  # noqa: ANN001
    """The Coulomb term between molecules as :class:`ParametrizedSystem` evaluates it in a cell:
    minimum images, 332.0637·QiQj/r switched to zero at r_c (kcal/mol, forces [A, 3])."""
    first, second = np.triu_indices(system.n_atoms, k=1)
    between = system.fragment_index[first] != system.fragment_index[second]
    index = np.stack([first[between], second[between]])
    delta, r = pair_displacements_angstrom(x, index, system.box_angstrom)
    products = COULOMB_KCAL_MOL_ANGSTROM * system.charges_e[index[0]] * system.charges_e[index[1]]
    switch, d_switch = switching_function(
        r, system.switch_distance_angstrom, system.cutoff_angstrom
    )
    energy = products / r * switch
    de_dr = -products / r**2 * switch + products / r * d_switch
    forces = pair_forces_kcal_mol_angstrom(delta, r, de_dr, index, system.n_atoms)
    return float(energy.sum()), forces


def _ewald_context(system: openmm.System, platform: str, ewald: bool = False) -> openmm.Context:
    """A context of ``system``, or of a copy whose Coulomb is OpenMM's Ewald sum (error
    tolerance 1e-6) instead of PME."""
    if ewald:
        system = openmm.XmlSerializer.clone(system)
        (coulomb,) = [f for f in system.getForces() if isinstance(f, openmm.NonbondedForce)]
        coulomb.setNonbondedMethod(openmm.NonbondedForce.Ewald)
        coulomb.setEwaldErrorTolerance(1e-6)
    return openmm.Context(
        system, openmm.VerletIntegrator(0.0005), openmm.Platform.getPlatformByName(platform)
    )


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
def test_openmm_export_of_a_periodic_cell_is_virialff_with_the_ewald_coulomb(cell, platform):
    """In a cell, the export's Coulomb between molecules is the Ewald sum (PME, its own force
    group); everything else equals virialff's energy and forces without its switched, truncated
    Coulomb between molecules. The two differ by design by that term."""
    mol, system = cell
    x = positions(mol)  # whole molecules, as OpenMM keeps them
    energy, forces = system.energy_and_forces(x)
    coulomb, coulomb_forces = _switched_coulomb_between_molecules(system, x)
    assert abs(coulomb) > 1.0  # the replaced term matters in this cell
    omm_system = to_openmm_system(system)
    box = omm_system.getDefaultPeriodicBoxVectors()
    np.testing.assert_allclose(
        [box[k][k].value_in_unit(openmm.unit.angstrom) for k in range(3)], BOX
    )
    (ewald,) = [f for f in omm_system.getForces() if isinstance(f, openmm.NonbondedForce)]
    assert ewald.getNonbondedMethod() == openmm.NonbondedForce.PME
    assert ewald.getForceGroup() == ELECTROSTATICS_GROUP
    assert ewald.getNumExceptions() == system.intra_pair_index.shape[1]
    assert ewald.getCutoffDistance().value_in_unit(openmm.unit.angstrom) == pytest.approx(CUTOFF)
    context = _ewald_context(omm_system, platform)
    rest, rest_forces = energy_and_forces(
        context, x, groups={INTRAMOLECULAR_GROUP, INTERMOLECULAR_GROUP, CONSTANT_GROUP}
    )
    assert rest == pytest.approx(energy - coulomb, rel=1e-4)
    expected = forces - coulomb_forces
    assert np.abs(rest_forces - expected).max() <= 1e-4 * np.abs(expected).max()
    total, _ = energy_and_forces(context, x)
    pme, _ = energy_and_forces(context, x, groups={ELECTROSTATICS_GROUP})
    assert total == pytest.approx(rest + pme, rel=1e-9)


def test_pme_coulomb_of_a_box_of_copies_equals_the_ewald_sum(predictor):
    """Eight methanols (each with a net charge: the paper leaves totals free, and the Ewald sum
    then has a neutralising background) in a 12 Å cell: PME within 1e-4 of OpenMM's Ewald sum
    at error tolerance 1e-6, energy and forces."""
    box = np.array([12.0, 12.0, 12.0])
    centres = [(x, y, z) for x in (3.0, 9.0) for y in (3.0, 9.0) for z in (3.0, 9.0)]
    mol = combine(*(_placed("CO", c, seed) for seed, c in enumerate(centres, start=1)))
    system = predictor.parametrize(
        mol, cutoff_angstrom=CUTOFF, switch_distance_angstrom=SWITCH, box_angstrom=box
    )
    x = positions(mol)
    omm_system = to_openmm_system(system)
    groups = {ELECTROSTATICS_GROUP}
    pme, pme_forces = energy_and_forces(_ewald_context(omm_system, "CPU"), x, groups=groups)
    ewald, ewald_forces = energy_and_forces(
        _ewald_context(omm_system, "Reference", ewald=True), x, groups=groups
    )
    assert abs(ewald) > 1.0
    assert pme == pytest.approx(ewald, rel=1e-4)
    assert np.abs(pme_forces - ewald_forces).max() <= 1e-4 * np.abs(ewald_forces).max()


def test_ewald_coulomb_of_molecules_far_from_their_images_is_the_plain_sum_between_them(stiff):
    """A neutral dimer alone in a 60 Å cell: the Ewald Coulomb is the plain Coulomb sum between
    the two molecules (images 60 Å away add 5e-4 of it); the molecules' own Coulomb, large,
    is not in it (an exception for every intramolecular pair)."""
    box = np.array([60.0, 60.0, 60.0])
    mol = combine(_placed("CO", (30.0, 30.0, 30.0), 3), _placed("O", (33.0, 30.5, 30.0), 4))
    system = stiff.parametrize(mol, box_angstrom=box)
    x = positions(mol)
    q = system.charges_e
    first, second = np.triu_indices(system.n_atoms, k=1)
    coulomb = COULOMB_KCAL_MOL_ANGSTROM * q[first] * q[second] / np.linalg.norm(
        x[first] - x[second], axis=1
    )
    between = system.fragment_index[first] != system.fragment_index[second]
    assert np.abs(np.bincount(system.fragment_index, q)).max() < 1e-12
    context = _ewald_context(to_openmm_system(system), "CPU")
    ewald, _ = energy_and_forces(context, x, groups={ELECTROSTATICS_GROUP})
    assert abs(coulomb[~between].sum()) > 20 * abs(coulomb[between].sum())
    assert ewald == pytest.approx(coulomb[between].sum(), rel=2e-3)
