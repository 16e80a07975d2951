"""Specification of the Amber-form (GAFF2-form) engine: AmberTools parameters, the NumPy
system, the OpenMM system and the Amber/GROMACS exports, checked against each other and
against Amber's own prmtop read by OpenMM."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import openmm
import parmed
import pytest
from openmm import app
from rdkit import Chem
from rdkit.Chem import AllChem

from virialff.errors import MoleculeRejected
from virialff.forcefield import antechamber
from virialff.forcefield.amber_export import export_amber, export_gromacs
from virialff.forcefield.amber_openmm import (
    energy_and_forces,
    energy_terms,
    openmm_topology,
    to_openmm_system,
)
from virialff.forcefield.amber_system import TERM_NAMES, AmberFormSystem
from virialff.formats.amber_parameters import AmberFormParameters
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

pytestmark = pytest.mark.skipif(not antechamber.available()[0],
                                reason=antechamber.available()[1] or "AmberTools")

#: name → SMILES: impropers (amide, aromatic rings, carboxylic acid), sulfur, chlorine, a
#: three-membered ring (1-4 pairs that are also 1-3), an anion.
MOLECULES = {
    "ethanol": "CCO",
    "benzene": "c1ccccc1",
    "n_methylacetamide": "CC(=O)NC",
    "acetic_acid": "CC(=O)O",
    "pyridine": "c1ccncc1",
    "methanethiol": "CS",
    "chloroethane": "CCCl",
    "cyclopropane": "C1CC1",
    "acetate": "CC(=O)[O-]",
}


def mmff_molecule(smiles: str, seed: int = 17) -> Chem.Mol:
    """RDKit molecule with explicit H, one ETKDG conformer (fixed seed), MMFF-optimised."""
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    assert AllChem.EmbedMolecule(mol, params) == 0
    AllChem.MMFFOptimizeMolecule(mol)
    return mol


def positions(mol: Chem.Mol) -> np.ndarray:
    return mol.GetConformer().GetPositions()


@pytest.fixture(scope="module")
def gaff2(tmp_path_factory) -> dict[str, tuple[Chem.Mol, AmberFormParameters, Path]]:
    """Every molecule of :data:`MOLECULES`: (mol, parameters, the AmberTools folder)."""
    root = tmp_path_factory.mktemp("gaff2")
    out = {}
    for name, smiles in MOLECULES.items():
        mol = mmff_molecule(smiles)
        out[name] = (mol, antechamber.gaff2_parameters(mol, name, workdir=root / name),
                     root / name)
    return out


def prmtop_system(prmtop: Path) -> openmm.System:
    return app.AmberPrmtopFile(str(prmtop)).createSystem(nonbondedMethod=app.NoCutoff,
                                                         constraints=None)


def assert_same_energy_and_forces(first: tuple[float, np.ndarray],
                                  second: tuple[float, np.ndarray], energy_rel: float = 1e-6,
                                  force_rel: float = 1e-5) -> None:
    """Energies to ``energy_rel`` relative, forces to ``force_rel`` of the largest force."""
    assert first[0] == pytest.approx(second[0], rel=energy_rel, abs=1e-9)
    scale = max(np.abs(second[1]).max(), 1e-9)
    assert np.abs(first[1] - second[1]).max() <= force_rel * scale


def placed(x: np.ndarray, shift: tuple[float, float, float]) -> np.ndarray:
    return x - x.mean(axis=0) + np.asarray(shift, dtype=float)


def permuted(parameters: AmberFormParameters, order: np.ndarray) -> AmberFormParameters:
    """The same molecule with atom ``order[n]`` as its atom n."""
    new_index = np.empty_like(order)
    new_index[order] = np.arange(len(order))
    per_atom = {name: getattr(parameters, name)[order]
                for name in ("atomic_numbers", "atom_types", "charges_e", "sigma_angstrom",
                             "epsilon_kcal_mol")}
    indices = {name: new_index[getattr(parameters, name)]
               for name in ("bond_index", "angle_index", "torsion_index", "improper_index",
                            "pair14_index")}
    return replace(parameters, **per_atom, **indices)


# -- parameters from AmberTools -----------------------------------------------------------
def test_parameters_keep_the_molecules_atoms_bonds_and_charge(gaff2):
    for name, (mol, parameters, _) in gaff2.items():
        parameters.check()
        assert parameters.molecule_id == name
        assert parameters.atomic_numbers.tolist() == [a.GetAtomicNum() for a in mol.GetAtoms()]
        assert ({tuple(sorted(b)) for b in parameters.bond_index.tolist()}
                == {tuple(sorted((b.GetBeginAtomIdx(), b.GetEndAtomIdx())))
                    for b in mol.GetBonds()})
        assert all(re.fullmatch(r"[a-z][a-z0-9+]*", t) for t in parameters.atom_types)
        assert (parameters.scee, parameters.scnb) == (1.2, 2.0)
        assert np.all(parameters.bond_k > 0) and np.all(parameters.angle_k > 0)
        assert np.all(parameters.torsion_periodicity >= 1)
        assert np.all(parameters.sigma_angstrom >= 0) and np.all(parameters.epsilon_kcal_mol >= 0)
        # the AM1-BCC charges sum to the formal charge (acetate: antechamber -nc -1)
        formal = Chem.GetFormalCharge(mol)
        assert parameters.formal_charge == formal
        assert parameters.charges_e.sum() == pytest.approx(formal, abs=1e-6)
        assert parameters.extra["source"] == f"{antechamber.ambertools_version()} gaff2 am1-bcc"
    assert gaff2["acetate"][1].formal_charge == -1


def test_impropers_have_their_centre_third_and_amides_and_rings_have_them(gaff2):
    for name in ("benzene", "n_methylacetamide", "acetic_acid", "pyridine", "acetate"):
        parameters = gaff2[name][1]
        assert len(parameters.improper_index) > 0, name
        bonded = {tuple(sorted(b)) for b in parameters.bond_index.tolist()}
        for i, j, k, ll in parameters.improper_index.tolist():
            assert all(tuple(sorted((k, a))) in bonded for a in (i, j, ll)), name
    # one improper per sp2 ring carbon (with its H) in benzene
    assert len(gaff2["benzene"][1].improper_index) == 6


def test_torsion_rows_cover_every_path_and_1_4_pairs_are_the_graphs(gaff2):
    from virialff.chem.valence_terms import valence_terms

    for name, (_, parameters, _) in gaff2.items():
        terms = valence_terms(parameters.bond_index, parameters.n_atoms)
        paths = {tuple(p) if p[1] < p[2] else tuple(p[::-1]) for p in terms.propers.tolist()}
        rows = {tuple(p) if p[1] < p[2] else tuple(p[::-1])
                for p in parameters.torsion_index.tolist()}
        assert rows == paths, name
        assert np.array_equal(parameters.pair14_index, terms.pairs14), name
    # cyclopropane: paths H-C-C-C end on a 1-3 pair, and no pair is 1-4
    assert len(gaff2["cyclopropane"][1].pair14_index) == 6 * 2


def _gaff2_keys(section: int) -> set[tuple[str, ...]]:
    """Bond (section 0) or angle (1) keys of gaff2.dat, either direction."""
    lines = antechamber.gaff2_dat().read_text().splitlines()[1:]
    blocks, current = [], []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    # blocks: masses; one line of hydrophilic types, then the bonds; the angles; ...
    block = blocks[1][1:] if section == 0 else blocks[2]
    width = 5 if section == 0 else 8
    keys = {tuple(t.strip() for t in line[:width].split("-")) for line in block}
    return keys | {key[::-1] for key in keys}


def test_parmchk2_adds_only_parameters_gaff2_lacks(gaff2):
    """The frcmod must not override gaff2.dat (parmchk2 -s gaff2 alone reads GAFF1's gaff.dat
    in some runs of this AmberTools build; N-methylacetamide's c-ns bond shows it)."""
    bonds, angles = _gaff2_keys(0), _gaff2_keys(1)
    assert ("c", "ns") in bonds
    for name, (_, _, folder) in gaff2.items():
        text = (folder / "molecule.frcmod").read_text()
        section = None
        for line in text.splitlines():
            if line.strip() in ("BOND", "ANGLE", "DIHE", "IMPROPER", "NONBON", "MASS"):
                section = line.strip()
            elif line.strip() and section == "BOND":
                assert tuple(t.strip() for t in line[:5].split("-")) not in bonds, (name, line)
            elif line.strip() and section == "ANGLE":
                assert tuple(t.strip() for t in line[:8].split("-")) not in angles, (name, line)


# -- the OpenMM system equals Amber's own prmtop ------------------------------------------
@pytest.mark.parametrize("name", list(MOLECULES))
def test_openmm_system_equals_the_prmtop_read_by_openmm(gaff2, name):
    mol, parameters, folder = gaff2[name]
    x = positions(mol)
    assert_same_energy_and_forces(energy_and_forces(to_openmm_system([parameters]), x),
                                  energy_and_forces(prmtop_system(folder / "molecule.prmtop"),
                                                    x))


def test_dimer_equals_tleaps_combined_prmtop(gaff2, tmp_path):
    (mol_a, a, folder_a), (mol_b, b, folder_b) = gaff2["n_methylacetamide"], gaff2["pyridine"]
    x = np.concatenate([placed(positions(mol_a), (0, 0, 0)),
                        placed(positions(mol_b), (4.5, 0.5, 0))])
    prmtop, inpcrd = antechamber.combine_prmtop([folder_a, folder_b], tmp_path / "d.prmtop",
                                                tmp_path / "d.inpcrd")
    assert inpcrd.is_file()
    reference = energy_and_forces(prmtop_system(prmtop), x)
    assert_same_energy_and_forces(energy_and_forces(to_openmm_system([a, b]), x), reference)
    assert_same_energy_and_forces(AmberFormSystem([a, b]).energy_and_forces(x), reference)


def test_write_prmtop_gives_tleaps_files_named_after_the_molecule(gaff2, tmp_path):
    mol, parameters, _ = gaff2["ethanol"]
    prmtop, inpcrd = antechamber.write_prmtop(mol, "ethanol/1", tmp_path)
    assert prmtop == tmp_path / "ethanol_1.prmtop" and inpcrd == tmp_path / "ethanol_1.inpcrd"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ethanol_1.inpcrd", "ethanol_1.prmtop"]
    x = positions(mol)
    assert_same_energy_and_forces(energy_and_forces(prmtop_system(prmtop), x),
                                  energy_and_forces(to_openmm_system([parameters]), x))
    coordinates = parmed.load_file(str(inpcrd)).coordinates.reshape(-1, 3)
    np.testing.assert_allclose(coordinates, x, atol=2e-3)  # tleap's: antechamber's mol2


# -- the NumPy system equals OpenMM -------------------------------------------------------
def test_coulomb_constant_agrees_with_openmms():
    system = openmm.System()
    force = openmm.NonbondedForce()
    for _ in range(2):
        system.addParticle(1.0)
        force.addParticle(1.0, 0.1, 0.0)
    system.addForce(force)
    energy, _ = energy_and_forces(system, np.array([[0.0, 0, 0], [1.0, 0, 0]]))
    assert abs(energy - COULOMB_KCAL_MOL_ANGSTROM) / energy < 1e-7  # OpenMM: 332.063713


def _lennard_jones_only(system: openmm.System) -> openmm.System:
    """A copy without charges (every exception's charge product zeroed too)."""
    copy = openmm.XmlSerializer.clone(system)
    (force,) = [f for f in copy.getForces() if isinstance(f, openmm.NonbondedForce)]
    for i in range(force.getNumParticles()):
        _, sigma, epsilon = force.getParticleParameters(i)
        force.setParticleParameters(i, 0.0, sigma, epsilon)
    for n in range(force.getNumExceptions()):
        i, j, _, sigma, epsilon = force.getExceptionParameters(n)
        force.setExceptionParameters(n, i, j, 0.0, sigma, epsilon)
    return copy


@pytest.mark.parametrize("name", ["n_methylacetamide", "acetate", "cyclopropane", "benzene"])
def test_numpy_system_equals_openmm_term_by_term(gaff2, name):
    mol, parameters, _ = gaff2[name]
    x = positions(mol) + np.random.default_rng(3).normal(scale=0.05, size=(mol.GetNumAtoms(), 3))
    system = AmberFormSystem([parameters])
    mine = system.energy_terms(x)
    assert tuple(mine) == TERM_NAMES
    reference_system = to_openmm_system([parameters])
    reference = energy_terms(reference_system, x)
    for term in ("bond", "angle", "torsion", "improper"):
        assert mine[term] == pytest.approx(reference[term], rel=1e-9, abs=1e-9), term
    lj = energy_terms(_lennard_jones_only(reference_system), x)["nonbonded"]
    assert mine["lennard_jones"] == pytest.approx(lj, rel=1e-9, abs=1e-9)
    # Coulomb: 332.0637 here, OpenMM's constant differs by 4e-8 relative
    assert mine["coulomb"] == pytest.approx(reference["nonbonded"] - lj, rel=1e-7)
    energy, forces = system.energy_and_forces(x)
    assert energy == pytest.approx(sum(mine.values()), rel=1e-12)
    scale = sum(abs(v) for v in mine.values())
    openmm_energy, openmm_forces = energy_and_forces(reference_system, x)
    assert abs(energy - openmm_energy) <= 1e-6 * scale
    assert np.abs(forces - openmm_forces).max() <= 1e-5 * np.abs(openmm_forces).max()


def test_numpy_system_of_several_molecules_equals_openmm(gaff2):
    names = ["ethanol", "acetate", "chloroethane", "methanethiol"]
    parameters = [gaff2[n][1] for n in names]
    x = np.concatenate([placed(positions(gaff2[n][0]), (5.0 * k, 0.3 * k, -0.2 * k))
                        for k, n in enumerate(names)])
    system = AmberFormSystem(parameters)
    assert system.n_atoms == len(x)
    assert system.charges_e.sum() == pytest.approx(-1.0, abs=1e-6)
    assert system.elements[:3] == ("C", "C", "O")
    assert_same_energy_and_forces(system.energy_and_forces(x),
                                  energy_and_forces(to_openmm_system(parameters), x))


# -- properties of the energy -------------------------------------------------------------
def _numerical_forces(system: AmberFormSystem, x: np.ndarray, step: float = 1e-5) -> np.ndarray:
    forces = np.zeros_like(x)
    for atom in range(len(x)):
        for axis in range(3):
            plus, minus = x.copy(), x.copy()
            plus[atom, axis] += step
            minus[atom, axis] -= step
            forces[atom, axis] = -(system.energy_and_forces(plus)[0]
                                   - system.energy_and_forces(minus)[0]) / (2 * step)
    return forces


@pytest.mark.parametrize("names", [["n_methylacetamide"], ["cyclopropane"],
                                   ["acetate", "pyridine"]])
def test_forces_are_minus_the_gradient(gaff2, names):
    rng = np.random.default_rng(5)
    x = np.concatenate([placed(positions(gaff2[n][0]), (4.0 * k, 1.0, 0.0))
                        for k, n in enumerate(names)])
    x += rng.normal(scale=0.1, size=x.shape)  # off the minimum: every term has a gradient
    system = AmberFormSystem([gaff2[n][1] for n in names])
    _, forces = system.energy_and_forces(x)
    np.testing.assert_allclose(forces, _numerical_forces(system, x), rtol=0,
                               atol=1e-6 * np.abs(forces).max() + 1e-7)


def test_energy_is_invariant_under_translation_and_rotation(gaff2):
    names = ["acetic_acid", "pyridine"]
    x = np.concatenate([placed(positions(gaff2[n][0]), (4.5 * k, 0.0, 0.0))
                        for k, n in enumerate(names)])
    system = AmberFormSystem([gaff2[n][1] for n in names])
    energy, forces = system.energy_and_forces(x)
    q, r = np.linalg.qr(np.random.default_rng(2).normal(size=(3, 3)))
    rotation = q * np.sign(np.diag(r))
    moved = x @ rotation.T + np.array([3.0, -7.0, 11.0])
    moved_energy, moved_forces = system.energy_and_forces(moved)
    assert moved_energy == pytest.approx(energy, rel=1e-10, abs=1e-10)
    np.testing.assert_allclose(moved_forces, forces @ rotation.T, atol=1e-8)
    assert np.abs(forces.sum(axis=0)).max() < 1e-9  # no net force


def test_renumbering_atoms_and_molecules_keeps_the_energy(gaff2):
    (mol_a, a, _), (mol_b, b, _) = gaff2["n_methylacetamide"], gaff2["chloroethane"]
    x_a, x_b = placed(positions(mol_a), (0, 0, 0)), placed(positions(mol_b), (4.0, 1.0, 0))
    energy = AmberFormSystem([a, b]).energy_and_forces(np.concatenate([x_a, x_b]))[0]
    order_a = np.random.default_rng(1).permutation(a.n_atoms)
    order_b = np.random.default_rng(2).permutation(b.n_atoms)
    renumbered = [permuted(b, order_b), permuted(a, order_a)]
    x = np.concatenate([x_b[order_b], x_a[order_a]])
    assert AmberFormSystem(renumbered).energy_and_forces(x)[0] == pytest.approx(energy,
                                                                               rel=1e-12)
    assert energy_and_forces(to_openmm_system(renumbered), x)[0] == pytest.approx(energy,
                                                                                  rel=1e-6)


def test_interaction_of_neutral_molecules_vanishes_far_apart(gaff2):
    (mol_a, a, _), (mol_b, b, _) = gaff2["ethanol"], gaff2["pyridine"]
    x_a = placed(positions(mol_a), (0, 0, 0))
    apart = np.concatenate([x_a, placed(positions(mol_b), (1e4, 0, 0))])
    near = np.concatenate([x_a, placed(positions(mol_b), (4.5, 0, 0))])
    dimer = AmberFormSystem([a, b])
    alone = (AmberFormSystem([a]).energy_and_forces(x_a)[0]
             + AmberFormSystem([b]).energy_and_forces(apart[a.n_atoms:])[0])
    assert abs(dimer.energy_and_forces(apart)[0] - alone) < 1e-3
    assert abs(dimer.energy_and_forces(near)[0] - alone) > 0.1  # they do interact when near


def test_the_ase_calculator_drives_an_amber_form_system(gaff2):
    from ase.optimize import BFGS

    from virialff.forcefield.ase import EV_PER_KCAL_MOL, VirialFFCalculator, atoms_from_rdkit

    mol, parameters, _ = gaff2["n_methylacetamide"]
    system = AmberFormSystem([parameters])
    atoms = atoms_from_rdkit(mol)
    atoms.calc = VirialFFCalculator(system=system)
    energy, forces = system.energy_and_forces(atoms.positions)
    assert atoms.get_potential_energy() == pytest.approx(energy * EV_PER_KCAL_MOL, rel=1e-12)
    np.testing.assert_allclose(atoms.get_forces(), forces * EV_PER_KCAL_MOL, rtol=1e-12)
    BFGS(atoms, logfile=None).run(fmax=0.5, steps=20)
    assert atoms.get_potential_energy() < energy * EV_PER_KCAL_MOL
    atoms.pbc = True
    atoms.cell = [30.0, 30.0, 30.0]
    with pytest.raises(ValueError, match="not periodic"):
        atoms.get_potential_energy()


# -- exports ------------------------------------------------------------------------------
def test_exported_amber_and_gromacs_files_give_the_same_energy(gaff2, tmp_path):
    names = ["n_methylacetamide", "cyclopropane", "benzene", "acetate"]
    parameters = [gaff2[n][1] for n in names]
    x = np.concatenate([placed(positions(gaff2[n][0]), (5.5 * k, 0.5 * k, 0.0))
                        for k, n in enumerate(names)])
    reference = energy_and_forces(to_openmm_system(parameters), x)

    prmtop, inpcrd = export_amber(parameters, x, tmp_path / "s.prmtop", tmp_path / "s.inpcrd")
    assert_same_energy_and_forces(energy_and_forces(prmtop_system(prmtop), x), reference)
    coordinates = parmed.load_file(str(inpcrd)).coordinates.reshape(-1, 3)
    np.testing.assert_allclose(coordinates, x, atol=1e-6)
    amber = parmed.load_file(str(prmtop))
    assert [a.type for a in amber.atoms] == [t for p in parameters for t in p.atom_types]

    top, gro = export_gromacs(parameters, x, tmp_path / "s.top", tmp_path / "s.gro")
    gromacs = parmed.load_file(str(top), xyz=str(gro))
    np.testing.assert_allclose(gromacs.coordinates, x, atol=5.1e-3)  # gro: 3 decimals in nm
    system = gromacs.createSystem(nonbondedMethod=app.NoCutoff, constraints=None)
    assert_same_energy_and_forces(energy_and_forces(system, x), reference)


def test_topology_has_one_residue_per_molecule_with_elements_and_bonds(gaff2):
    parameters = [gaff2["ethanol"][1], gaff2["pyridine"][1]]
    topology = openmm_topology(parameters)
    assert [r.name for r in topology.residues()] == ["MOL", "MOL"]
    assert [len(list(r.atoms())) for r in topology.residues()] == [9, 11]
    assert [a.element.atomic_number for a in topology.atoms()] == [
        int(z) for p in parameters for z in p.atomic_numbers]
    assert topology.getNumBonds() == sum(len(p.bond_index) for p in parameters)


# -- periodic cells -----------------------------------------------------------------------
def _ethanol_cell(gaff2) -> tuple[list[AmberFormParameters], np.ndarray, np.ndarray]:
    """8 ethanol copies, rotated, on a 2×2×2 grid in a 14 Å cube."""
    mol, parameters, _ = gaff2["ethanol"]
    x = placed(positions(mol), (0, 0, 0))
    rng = np.random.default_rng(4)
    copies = []
    for index in np.ndindex(2, 2, 2):
        q, r = np.linalg.qr(rng.normal(size=(3, 3)))
        copies.append(x @ (q * np.sign(np.diag(r))).T + 7.0 * (np.asarray(index) + 0.5))
    return [parameters] * 8, np.concatenate(copies), np.full(3, 14.0)


def test_pme_matches_ewald_in_a_periodic_cell(gaff2):
    parameters, x, box = _ethanol_cell(gaff2)
    pme = energy_and_forces(to_openmm_system(parameters, box, cutoff_angstrom=6.5,
                                             nonbonded_method="PME",
                                             ewald_error_tolerance=1e-6), x)
    ewald = energy_and_forces(to_openmm_system(parameters, box, cutoff_angstrom=6.5,
                                               nonbonded_method="Ewald",
                                               ewald_error_tolerance=1e-6), x)
    assert pme[0] == pytest.approx(ewald[0], rel=1e-4)
    assert np.abs(pme[1] - ewald[1]).max() <= 1e-3 * np.abs(ewald[1]).max()
    # the cell matters: without it the energy differs
    assert abs(energy_and_forces(to_openmm_system(parameters), x)[0] - ewald[0]) > 1e-3
    with pytest.raises(ValueError, match="half the smallest box edge"):
        to_openmm_system(parameters, box, cutoff_angstrom=7.5)


def test_periodic_amber_export_gives_the_same_pme_energy(gaff2, tmp_path):
    parameters, x, box = _ethanol_cell(gaff2)
    reference = energy_and_forces(to_openmm_system(parameters, box, cutoff_angstrom=6.5), x)
    prmtop, _ = export_amber(parameters, x, tmp_path / "c.prmtop", tmp_path / "c.inpcrd", box)
    read = app.AmberPrmtopFile(str(prmtop))
    np.testing.assert_allclose(
        read.topology.getUnitCellDimensions().value_in_unit(openmm.unit.angstrom), box)
    system = read.createSystem(nonbondedMethod=app.PME,
                               nonbondedCutoff=0.65 * openmm.unit.nanometer,
                               ewaldErrorTolerance=1e-6, constraints=None)
    assert_same_energy_and_forces(energy_and_forces(system, x, box), reference)


# -- molecules AmberTools cannot handle ---------------------------------------------------
def _rejection(smiles: str, name: str, **options) -> MoleculeRejected:  # noqa: ANN003
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    AllChem.EmbedMolecule(mol, randomSeed=7)
    with pytest.raises(MoleculeRejected) as caught:
        antechamber.gaff2_parameters(mol, name, **options)
    error = caught.value
    assert error.molecule_id == name and error.stage == "gaff2"
    assert "\n" not in str(error) and name in str(error)
    return error


def test_unsupported_elements_and_open_shells_are_rejected_before_antechamber():
    assert _rejection("C[Si](C)(C)C", "tetramethylsilane").reason == "unsupported_element"
    assert "Si" in _rejection("C[Si](C)(C)C", "tetramethylsilane").detail
    assert _rejection("[CH3]", "methyl_radical").reason == "open_shell"


def test_a_failing_or_slow_program_rejects_the_molecule_naming_the_program():
    error = _rejection("[H][H]", "dihydrogen")  # sqm gives antechamber no charges
    assert error.reason == "antechamber_failed"
    assert error.detail.startswith("antechamber exited with status")
    assert "sqm" in error.detail
    slow = _rejection("CCO", "ethanol", timeout_s=0.001)
    assert slow.reason == "antechamber_failed" and "antechamber ran past" in slow.detail


def test_parameters_parmchk2_cannot_estimate_are_missing_parameters():
    error = _rejection("O=Cl(=O)(=O)[O-]", "perchlorate")
    assert error.reason == "missing_parameter"
    assert "o-cl-o" in error.detail
