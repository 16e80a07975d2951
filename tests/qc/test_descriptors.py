"""Descriptor stage: E, T = Tr(DK) and its exact partition into K·D atoms and pairs (Psi4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qc_support import needs_psi4, needs_xtb
from rdkit import Chem

from virialff.formats.descriptors_npz import (
    FORMAT_VERSION,
    SUM_RULE_TOLERANCE_HARTREE,
    pair_position,
    read_descriptors_npz,
)
from virialff.formats.geometry_sdf import read_geometry_sdf, write_geometry_sdf
from virialff.formats.status_table import read_status
from virialff.qc.descriptors import run_descriptor_shard
from virialff.qc.kd import (
    ONE_ELECTRON_TOLERANCE_HARTREE,
    kd_partition,
    one_electron_tolerance_hartree,
)

psi4_and_xtb = [pytest.mark.psi4, pytest.mark.xtb, needs_psi4, needs_xtb]


#: |Σ F| of a stored geometry (kcal/mol/Å). Translating a molecule changes no energy, so Σ F = 0
#: for the exact functional; Psi4 1.3.2's DFT gradient leaves out the derivative of the grid
#: weights, and the grid moves with the atoms, so Σ F is the quadrature error of a translation.
#: On the default (75, 302) grid it reaches 0.73 kcal/mol/Å (ref00200, 15 atoms) in the
#: reference set and 0.13 for ethanol; a finer grid shrinks it (the test below), and spread over
#: the atoms it is far below the 2 kcal/mol/Å force MAE the model aims at.
NET_FORCE_TOLERANCE_KCAL_MOL_ANGSTROM = 1.5


def psi4_result(workdir, job_id: str):  # noqa: ANN001, ANN201 - (raw JSON dict, its path)
    """The raw result the Psi4 worker wrote for ``job_id`` in a kept work folder."""
    for path in sorted((workdir / "results").glob("*.json")):
        raw = json.loads(path.read_text())
        if raw["job_id"] == job_id:
            return raw, path
    raise AssertionError(f"no result for {job_id} in {workdir}")


def test_kd_partition_sums_exactly_to_the_trace_and_pairs_sum_both_orders():
    rng = np.random.default_rng(0)
    function_to_atom = [0, 0, 1, 2, 2, 2]
    k = rng.normal(size=(6, 6))
    d = rng.normal(size=(6, 6))
    kd_atom, kd_pair, trace = kd_partition(k + k.T, d + d.T, function_to_atom, 3)
    kd = (k + k.T) * (d + d.T)
    assert trace == pytest.approx(np.trace((d + d.T) @ (k + k.T)))
    assert kd_atom[0] == pytest.approx(kd[:2, :2].sum())
    # pairs in numpy.triu_indices(3, 1) order: (0,1), (0,2), (1,2)
    assert kd_pair[1] == pytest.approx(kd[:2, 3:].sum() + kd[3:, :2].sum())
    assert kd_atom.sum() + kd_pair.sum() == pytest.approx(trace, abs=1e-12)


def test_one_electron_check_is_absolute_for_light_and_relative_for_heavy_molecules():
    # water: |E_1e| ≈ 123 Eh → the absolute floor; a basis mismatch (~1 Eh) is always caught
    assert one_electron_tolerance_hartree(-123.0) == ONE_ELECTRON_TOLERANCE_HARTREE
    assert one_electron_tolerance_hartree(None) == ONE_ELECTRON_TOLERANCE_HARTREE
    # halothane-like (Br, Cl): 1.2e-5 Eh of residual at |E_1e| ≈ 6,800 Eh is convergence noise
    heavy = one_electron_tolerance_hartree(-6800.0)
    assert 1.2e-5 < heavy < 1e-3


def test_one_electron_check_loosens_with_the_scf_density_convergence_only():
    # ethanol at d_convergence 1e-6 leaves 9.7e-5 Eh; a basis mismatch (~1 Eh) is still caught
    loose = one_electron_tolerance_hartree(-160.0, d_convergence=1e-6)
    assert 9.7e-5 < loose < 1e-2
    assert one_electron_tolerance_hartree(-160.0, d_convergence=1e-10) == (
        one_electron_tolerance_hartree(-160.0))


@pytest.fixture(scope="module")
def descriptors(descriptor_shard):
    entries, meta = read_descriptors_npz(descriptor_shard["npz"])
    return {"entries": entries, **meta}


@pytest.mark.usefixtures("descriptor_shard")
class TestComputedShard:
    pytestmark = psi4_and_xtb

    def test_both_molecules_converged(self, descriptor_shard, descriptors):
        records = read_status(descriptor_shard["status"])
        assert [(r.molecule_id, r.stage, r.status) for r in records] == [
            ("demo_000", "descriptors", "ok"), ("demo_001", "descriptors", "ok")]
        assert [e.molecule_id for e in descriptors["entries"]] == ["demo_000", "demo_001"]

    def test_npz_follows_the_data_format_contract(self, descriptor_shard, descriptors):
        with np.load(descriptor_shard["npz"], allow_pickle=False) as data:
            assert data["n_atoms"].tolist() == [3, 9]
            assert data["atom_ptr"].tolist() == [0, 3, 12]
            assert data["n_bonds"].tolist() == [2, 8]  # the bonds of each graph, once
            assert data["bond_index"].shape == (10, 2)
            assert data["kd_nonbonded_hartree"].shape == (2,)
            assert int(data["format_version"]) == FORMAT_VERSION
            assert data["has_forces"].tolist() == [True, True]
            assert data["forces_kcal_mol_angstrom"].shape == (12, 3)
            assert data["dipole_debye"].shape == (2, 3)
        assert (descriptors["method"], descriptors["basis"]) == ("wb97x-d", "def2-svp")
        for entry in descriptors["entries"]:
            assert entry.scf_iterations > 0 and entry.wall_s > 0
            assert entry.engine.startswith("psi4 ")

    def test_sum_rule_holds(self, descriptors):
        for entry in descriptors["entries"]:
            assert abs(entry.sum_rule_residual_hartree) < SUM_RULE_TOLERANCE_HARTREE

    def test_bonded_kd_is_the_pair_kd_of_the_graph_bonds(self, descriptor_shard, geometry_shard):
        """The stored KD of each bond is the pair KD Psi4 computed for those two atoms."""
        raw, path = psi4_result(descriptor_shard["workdir"], "demo_001")
        with np.load(path.with_suffix(".npz")) as arrays:
            kd_pair = arrays["kd_pair_hartree"]
        entries, _ = read_descriptors_npz(descriptor_shard["npz"])
        ethanol = entries[1]
        expected = kd_pair[pair_position(ethanol.bond_index[:, 0], ethanol.bond_index[:, 1], 9)]
        np.testing.assert_array_equal(ethanol.kd_bond_hartree, expected)
        assert ethanol.kd_nonbonded_hartree == pytest.approx(kd_pair.sum() - expected.sum(),
                                                             abs=1e-12)

    def test_density_and_kinetic_matrix_share_the_ao_basis(self, descriptor_shard):
        # Independent of the partition: Tr(D S) = N electrons and Tr(D (K + V)) = Psi4's
        # "ONE-ELECTRON ENERGY", so D is the converged total density in K's basis.
        for molecule_id, n_electrons in (("demo_000", 10), ("demo_001", 26)):
            raw, _ = psi4_result(descriptor_shard["workdir"], molecule_id)
            assert raw["n_electrons_from_density"] == pytest.approx(n_electrons, abs=1e-6)
            assert abs(raw["one_electron_residual_hartree"]) < 1e-5

    def test_forces_and_dipole_come_from_the_same_scf(self, descriptor_shard, descriptors):
        """Stored forces are −∇E of the energy Psi4 reported, converted to kcal/mol/Å."""
        for entry in descriptors["entries"]:
            raw, path = psi4_result(descriptor_shard["workdir"], entry.molecule_id)
            with np.load(path.with_suffix(".npz")) as arrays:
                gradient = arrays["gradient_hartree_per_bohr"]
            np.testing.assert_allclose(entry.forces_kcal_mol_angstrom,
                                       -gradient * 627.5094740631 / 0.529177210903, rtol=1e-12)
            assert entry.energy_hartree == raw["energy_hartree"]
            assert entry.dipole_debye.shape == (3,)
        # water's ωB97X-D/def2-SVP dipole is about 2 D; ethanol's about 1.5 D
        water, ethanol = (np.linalg.norm(e.dipole_debye) for e in descriptors["entries"])
        assert 1.8 < water < 2.3 and 1.2 < ethanol < 2.0

    def test_net_force_vanishes_to_the_quadrature_error(self, descriptors):
        """Σ F = 0 for any translation-invariant energy; see :data:`NET_FORCE_TOLERANCE`."""
        for entry in descriptors["entries"]:
            net = np.linalg.norm(entry.forces_kcal_mol_angstrom.sum(axis=0))
            assert net < NET_FORCE_TOLERANCE_KCAL_MOL_ANGSTROM, (entry.molecule_id, net)
            assert np.abs(entry.forces_kcal_mol_angstrom).max() > 1.0  # not all zero

    def test_virial_ratio_is_close_to_one(self, descriptors):
        for entry in descriptors["entries"]:
            assert 0.97 < entry.kinetic_hartree / -entry.energy_hartree < 1.01

    def test_energies_are_those_of_wb97x_d_def2_svp(self, descriptors):
        water, ethanol = (e.energy_hartree for e in descriptors["entries"])
        assert water == pytest.approx(-76.337, abs=5e-3)
        assert ethanol == pytest.approx(-154.876, abs=5e-3)

    def test_core_electrons_dominate_the_atomic_kinetic_energy(self, descriptors):
        oxygen, h1, h2 = descriptors["entries"][0].kd_atom_hartree
        # By the virial theorem an O atom has T = -E(O) ~ 75 Eh, almost all of it in the core.
        assert oxygen > 70.0
        assert 0.0 < h1 < 2.0 and h1 == pytest.approx(h2, abs=0.05)

    def test_atom_order_is_preserved_from_smiles_through_xtb_to_psi4(self, geometry_shard,
                                                                     descriptor_shard):
        ethanol = read_geometry_sdf(geometry_shard["sdf"])[1].mol
        reference = Chem.AddHs(Chem.MolFromSmiles("CCO"))
        expected = [a.GetAtomicNum() for a in reference.GetAtoms()]
        assert [a.GetAtomicNum() for a in ethanol.GetAtoms()] == expected
        # Psi4's own read-back of the molecule it computed (kept work folder, job 1 = ethanol)
        psi4_view, _ = psi4_result(descriptor_shard["workdir"], "demo_001")
        assert psi4_view["atomic_numbers"] == expected
        np.testing.assert_allclose(np.array(psi4_view["positions_angstrom"]),
                                   ethanol.GetConformer().GetPositions(), atol=1e-8)


def _run(sdf, tmp_path, descriptors, **changes):  # noqa: ANN001, ANN003, ANN202
    return run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "d.status.csv",
                                {**descriptors, **changes})


@pytest.mark.psi4
@pytest.mark.xtb
@needs_psi4
@needs_xtb
def test_scf_not_converged_is_recorded_and_nothing_is_written_for_it(tmp_path, geometry_shard,
                                                                     config):
    water = read_geometry_sdf(geometry_shard["sdf"])[0].mol
    sdf = write_geometry_sdf(tmp_path / "w.sdf", [water])
    _run(sdf, tmp_path, config["descriptors"], maxiter=2)
    (record,) = read_status(tmp_path / "d.status.csv")
    assert (record.molecule_id, record.status, record.reason) == (
        "demo_000", "failed", "scf_not_converged")
    assert "demo_000" in record.message
    assert read_descriptors_npz(tmp_path / "d.npz")[0] == []


@pytest.mark.psi4
@needs_psi4
def test_a_psi4_error_fails_one_molecule_and_the_shard_goes_on(tmp_path, config):
    # A methyl radical given as a closed-shell singlet: Psi4 refuses it, water still runs.
    radical = Chem.AddHs(Chem.MolFromSmiles("[CH3]"))
    radical.GetAtomWithIdx(0).SetNumRadicalElectrons(0)
    water = Chem.AddHs(Chem.MolFromSmiles("O"))
    mols = []
    for name, mol in (("radical", radical), ("water", water)):
        Chem.AllChem.EmbedMolecule(mol, randomSeed=1)
        mol.SetProp("molecule_id", name)
        mols.append(mol)
    sdf = write_geometry_sdf(tmp_path / "m.sdf", mols)
    _run(sdf, tmp_path, config["descriptors"], basis="sto-3g", method="hf")
    records = {r.molecule_id: r for r in read_status(tmp_path / "d.status.csv")}
    assert records["radical"].status == "failed"
    assert records["radical"].reason == "psi4_failed"
    assert "radical" in records["radical"].message
    assert records["water"].status == "ok"
    assert [e.molecule_id for e in read_descriptors_npz(tmp_path / "d.npz")[0]] == ["water"]


def test_an_empty_geometry_shard_gives_an_empty_npz_without_running_psi4(tmp_path, config):
    (tmp_path / "g.sdf").write_text("")
    assert read_geometry_sdf(tmp_path / "g.sdf") == []
    table = _run(tmp_path / "g.sdf", tmp_path, config["descriptors"],
                 psi4_executable=str(tmp_path / "not-called"))
    assert table.records == []
    entries, meta = read_descriptors_npz(tmp_path / "d.npz")
    assert entries == [] and meta["method"] == config["descriptors"]["method"]


@pytest.mark.psi4
@needs_psi4
def test_stored_forces_are_central_differences_of_the_dft_energy(tmp_path, config):
    """F = −∇E: each stored force component of water against (E(x − h) − E(x + h)) / 2h of
    the same ωB97X-D/def2-SVP energy, h = 0.005 Bohr, to 1e-3 Eh/Bohr (the issue's bound;
    the finite-difference error at this h is ~1e-6 Eh/Bohr and the SCF noise ~1e-8 / h)."""
    from virialff.qc.psi4_process import Psi4Job, psi4_settings_from_config, run_psi4_jobs
    from virialff.units import BOHR_TO_ANGSTROM, HARTREE_TO_KCAL_MOL

    water = Chem.AddHs(Chem.MolFromSmiles("O"))
    Chem.AllChem.EmbedMolecule(water, randomSeed=3)
    water.SetProp("molecule_id", "water")
    sdf = write_geometry_sdf(tmp_path / "w.sdf", [water])
    _run(sdf, tmp_path, config["descriptors"], gradient=True)
    (entry,), _ = read_descriptors_npz(tmp_path / "d.npz")
    gradient = -entry.forces_kcal_mol_angstrom / HARTREE_TO_KCAL_MOL * BOHR_TO_ANGSTROM
    record = read_geometry_sdf(sdf)[0]
    step = 0.005 * BOHR_TO_ANGSTROM
    jobs = []
    for atom in range(3):
        for axis in range(3):
            for sign in (1, -1):
                moved = record.positions_angstrom.copy()
                moved[atom, axis] += sign * step
                jobs.append(Psi4Job(f"{atom}{axis}{sign}", record.symbols, moved,
                                    config["descriptors"]["method"],
                                    config["descriptors"]["basis"]))
    results = run_psi4_jobs(jobs, psi4_settings_from_config(config["descriptors"]))
    energies = np.array([r.energy_hartree for r in results]).reshape(3, 3, 2)
    central = (energies[..., 0] - energies[..., 1]) / (2 * 0.005)
    np.testing.assert_allclose(gradient, central, atol=1e-3, rtol=0)
    assert np.abs(central).max() > 1e-3  # an embedded, not optimised, geometry: real forces


def test_energy_only_settings_store_no_forces_and_say_so(tmp_path):
    from virialff.formats.descriptors_npz import from_pair_matrix, write_descriptors_npz

    entry = from_pair_matrix("m", "psi4 1.3.2", -1.0, 1.0, [1, 1], np.array([0.4, 0.4]),
                             np.array([0.2]), np.array([[0, 1]]))
    write_descriptors_npz(tmp_path / "e.npz", [entry], "wb97x-d", "def2-svp")
    (back,), _ = read_descriptors_npz(tmp_path / "e.npz")
    assert not back.has_forces and back.forces_kcal_mol_angstrom is None
    assert back.dipole_debye is None


@pytest.mark.psi4
@needs_psi4
def test_the_net_force_is_the_grid_error_and_shrinks_on_a_finer_grid(tmp_path, config):
    from virialff.qc.psi4_process import Psi4Job, psi4_settings_from_config, run_psi4_jobs

    ethanol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    Chem.AllChem.EmbedMolecule(ethanol, randomSeed=7)
    symbols = [a.GetSymbol() for a in ethanol.GetAtoms()]
    positions = ethanol.GetConformer().GetPositions()
    section = config["descriptors"]
    jobs = [Psi4Job(name, symbols, positions, section["method"], section["basis"],
                    gradient=True, options=options)
            for name, options in (("default", {}), ("fine", {"dft_spherical_points": 974,
                                                               "dft_radial_points": 150}))]
    default, fine = run_psi4_jobs(jobs, psi4_settings_from_config(section))
    net = {r.job_id: np.linalg.norm(r.arrays["gradient_hartree_per_bohr"].sum(axis=0))
           for r in (default, fine)}
    assert net["fine"] < net["default"] / 3, net
