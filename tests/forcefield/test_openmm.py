"""Specification of the OpenMM export of the paper form: the same energy and forces, dynamics,
the CLI command (periodic cells and their PME Coulomb: test_periodic.py)."""

from __future__ import annotations

import numpy as np
import openmm
import pytest
from forcefield_support import (
    BASE_PAIRS,
    benchmark_complex,
    combine,
    embedded,
    positions,
    translated,
)
from rdkit import Chem

from virialff.cli import main
from virialff.forcefield.paper_openmm import (
    CONSTANT_GROUP,
    INTERMOLECULAR_GROUP,
    INTRAMOLECULAR_GROUP,
    energy_and_forces,
    to_openmm_system,
)
from virialff.model.predictor import load_model

RELATIVE_TOLERANCE = 1e-4


def _context(system: openmm.System, platform: str) -> openmm.Context:
    return openmm.Context(
        system, openmm.VerletIntegrator(0.0005), openmm.Platform.getPlatformByName(platform)
    )


def _assert_same(parametrized, x: np.ndarray, platform: str) -> None:
    energy, forces = parametrized.energy_and_forces(x)
    context = _context(to_openmm_system(parametrized), platform)
    omm_energy, omm_forces = energy_and_forces(context, x)
    pair_energy = energy - parametrized.linear_energy_kcal_mol
    omm_pair_energy, _ = energy_and_forces(
        context, x, groups={INTRAMOLECULAR_GROUP, INTERMOLECULAR_GROUP}
    )
    constant, constant_forces = energy_and_forces(context, x, groups={CONSTANT_GROUP})
    assert omm_energy == pytest.approx(energy, rel=RELATIVE_TOLERANCE)
    assert omm_pair_energy == pytest.approx(pair_energy, rel=RELATIVE_TOLERANCE)
    assert constant == pytest.approx(parametrized.linear_energy_kcal_mol, rel=1e-6)
    assert np.all(constant_forces == 0.0)
    scale = np.abs(forces).max()
    assert np.abs(omm_forces - forces).max() <= RELATIVE_TOLERANCE * scale


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
def test_molecule_energy_and_forces_equal_virialff(predictor, fluoroethanol, platform):
    _assert_same(predictor.parametrize(fluoroethanol), positions(fluoroethanol), platform)


@pytest.mark.parametrize("platform", ["Reference", "CPU"])
@pytest.mark.parametrize("cutoff", [None, 14.0, 5.0])
def test_dimer_energy_and_forces_equal_virialff(predictor, platform, cutoff):
    """Water–methanol; with r_c = 5 Å (switch from 3.5 Å) many pairs lie in the switch."""
    dimer = combine(embedded("O"), translated(embedded("CO"), (3.0, 0.0, 0.0)))
    parametrized = predictor.parametrize(dimer, cutoff_angstrom=cutoff)
    _assert_same(parametrized, positions(dimer), platform)


def test_base_pair_with_all_atom_types_equals_virialff(predictor):
    mol = benchmark_complex(BASE_PAIRS / "G-C.xyz")
    parametrized = predictor.parametrize(mol, cutoff_angstrom=8.0)
    assert parametrized.n_types > 10
    _assert_same(parametrized, positions(mol), "CPU")


def test_exported_system_has_one_exclusion_per_intramolecular_pair(predictor):
    dimer = combine(embedded("O"), translated(embedded("CO"), (3.0, 0.0, 0.0)))
    parametrized = predictor.parametrize(dimer)
    system = to_openmm_system(parametrized)
    bonds, nonbonded = (
        next(f for f in system.getForces() if isinstance(f, kind))
        for kind in (openmm.CustomBondForce, openmm.CustomNonbondedForce)
    )
    assert bonds.getNumBonds() == 3 + 15
    assert nonbonded.getNumExclusions() == 3 + 15
    assert nonbonded.getCutoffDistance().value_in_unit(openmm.unit.angstrom) == pytest.approx(14)
    assert nonbonded.getUseSwitchingFunction()
    assert not any(isinstance(f, openmm.NonbondedForce) for f in system.getForces())  # no cell
    assert system.getNumParticles() == 9
    assert system.getParticleMass(0).value_in_unit(openmm.unit.dalton) == pytest.approx(
        15.999, rel=1e-4
    )


def test_short_langevin_dynamics_runs_and_keeps_the_molecules_whole(stiff):
    dimer = combine(embedded("CCO"), translated(embedded("O"), (3.5, 0.0, 0.0)))
    parametrized = stiff.parametrize(dimer)
    system = to_openmm_system(parametrized)
    integrator = openmm.LangevinMiddleIntegrator(300.0, 5.0, 0.0005)
    integrator.setRandomNumberSeed(7)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("CPU"))
    context.setPositions(positions(dimer) * 0.1)
    openmm.LocalEnergyMinimizer.minimize(context, 1.0)
    context.setVelocitiesToTemperature(300.0, 3)
    integrator.step(1000)  # 0.5 ps
    state = context.getState(getPositions=True, getEnergy=True)
    x = state.getPositions(asNumpy=True).value_in_unit(openmm.unit.angstrom)
    assert np.all(np.isfinite(x))
    bonds = parametrized.bond_index
    lengths = np.linalg.norm(x[bonds[0]] - x[bonds[1]], axis=1)
    assert lengths.min() > 0.9 and lengths.max() < 1.6
    energy = state.getPotentialEnergy().value_in_unit(openmm.unit.kilocalorie_per_mole)
    assert energy == pytest.approx(parametrized.energy_kcal_mol(x), abs=1e-3)


# -- command line ---------------------------------------------------------------------------
def _write_sdf(path, *mols: Chem.Mol) -> None:
    writer = Chem.SDWriter(str(path))
    for mol in mols:
        writer.write(mol)
    writer.close()


def test_export_command_writes_a_system_with_the_virialff_energy(predictor, tmp_path):
    model = tmp_path / "total.pt"
    predictor.save(model)
    dimer = combine(embedded("O"), translated(embedded("CO"), (3.0, 0.0, 0.0)), name="dimer")
    sdf, xml = tmp_path / "dimer.sdf", tmp_path / "out" / "system.xml"
    _write_sdf(sdf, dimer)
    assert main(["export-openmm", str(sdf), "-o", str(xml), "--model", str(model)]) == 0
    system = openmm.XmlSerializer.deserialize(xml.read_text())
    (mol,) = Chem.SDMolSupplier(str(sdf), removeHs=False)
    x = positions(mol)
    energy, _ = energy_and_forces(_context(system, "Reference"), x)
    expected = load_model(model).parametrize(mol).energy_kcal_mol(x)
    assert energy == pytest.approx(expected, rel=1e-9)
    command = ["export-openmm", str(sdf), "-o", str(xml), "--model", str(model)]
    assert main([*command, "--box", "30", "31", "32"]) == 0
    periodic = openmm.XmlSerializer.deserialize(xml.read_text())
    assert periodic.usesPeriodicBoundaryConditions()
    (coulomb,) = [f for f in periodic.getForces() if isinstance(f, openmm.NonbondedForce)]
    assert coulomb.getNonbondedMethod() == openmm.NonbondedForce.PME
    edges = periodic.getDefaultPeriodicBoxVectors()
    assert [edges[k][k].value_in_unit(openmm.unit.angstrom) for k in range(3)] == pytest.approx(
        [30.0, 31.0, 32.0]
    )


def test_export_command_errors_are_one_line_with_exit_code_2(predictor, tmp_path, capsys):
    sdf = tmp_path / "two.sdf"
    _write_sdf(sdf, embedded("O"), embedded("CO"))
    missing = tmp_path / "missing.pt"
    code = main(["export-openmm", str(sdf), "-o", str(tmp_path / "s.xml"), "--model", str(missing)])
    assert code == 2
    message = capsys.readouterr().err.strip()
    assert message.count("\n") == 0 and "missing.pt does not exist" in message
    heavy = tmp_path / "heavy.sdf"
    _write_sdf(heavy, Chem.RemoveHs(embedded("CCO")))
    model = tmp_path / "total.pt"
    predictor.save(model)
    dimer = tmp_path / "dimer.sdf"
    _write_sdf(dimer, combine(embedded("O"), translated(embedded("CO"), (3.0, 0.0, 0.0))))
    for path, expected, extra in (
        (sdf, "2 records", []),
        (heavy, "missing_hydrogens", []),
        (dimer, "shorter than twice the cutoff", ["--box", "20", "30", "30"]),
    ):
        code = main(
            ["export-openmm", str(path), "-o", str(tmp_path / "s.xml"), "--model", str(model)]
            + extra
        )
        assert code == 2
        message = capsys.readouterr().err.strip()
        assert message.count("\n") == 0 and expected in message
