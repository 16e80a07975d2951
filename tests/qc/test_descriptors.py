"""Descriptor stage: E, T = Tr(DK) and its exact partition into K·D atoms and pairs (Psi4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qc_support import needs_psi4, needs_xtb
from rdkit import Chem

from virialff.formats.descriptors_npz import (
    SUM_RULE_TOLERANCE_HARTREE,
    pair_position,
    read_descriptors_npz,
)
from virialff.formats.geometry_sdf import read_geometry_sdf, write_geometry_sdf
from virialff.formats.status_table import read_status
from virialff.qc.descriptors import (
    ONE_ELECTRON_TOLERANCE_HARTREE,
    kd_partition,
    one_electron_tolerance_hartree,
    run_descriptor_shard,
)

psi4_and_xtb = [pytest.mark.psi4, pytest.mark.xtb, needs_psi4, needs_xtb]


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
            assert int(data["format_version"]) == 2
        assert (descriptors["method"], descriptors["basis"]) == ("wb97x-d", "def2-svp")
        for entry in descriptors["entries"]:
            assert entry.scf_iterations > 0 and entry.wall_s > 0
            assert entry.engine.startswith("psi4 ")

    def test_sum_rule_holds(self, descriptors):
        for entry in descriptors["entries"]:
            assert abs(entry.sum_rule_residual_hartree) < SUM_RULE_TOLERANCE_HARTREE

    def test_bonded_kd_is_the_pair_kd_of_the_graph_bonds(self, descriptor_shard, geometry_shard):
        """The stored KD of each bond is the pair KD Psi4 computed for those two atoms."""
        raw = json.loads((descriptor_shard["workdir"] / "results" / "1.json").read_text())
        with np.load(descriptor_shard["workdir"] / "results" / "1.npz") as arrays:
            kd_pair = arrays["kd_pair_hartree"]
        assert raw["job_id"] == "demo_001"
        entries, _ = read_descriptors_npz(descriptor_shard["npz"])
        ethanol = entries[1]
        expected = kd_pair[pair_position(ethanol.bond_index[:, 0], ethanol.bond_index[:, 1], 9)]
        np.testing.assert_array_equal(ethanol.kd_bond_hartree, expected)
        assert ethanol.kd_nonbonded_hartree == pytest.approx(kd_pair.sum() - expected.sum(),
                                                             abs=1e-12)

    def test_density_and_kinetic_matrix_share_the_ao_basis(self, descriptor_shard):
        # Independent of the partition: Tr(D S) = N electrons and Tr(D (K + V)) = Psi4's
        # "ONE-ELECTRON ENERGY", so D is the converged total density in K's basis.
        for index, n_electrons in ((0, 10), (1, 26)):
            raw = json.loads(
                (descriptor_shard["workdir"] / "results" / f"{index}.json").read_text())
            assert raw["n_electrons_from_density"] == pytest.approx(n_electrons, abs=1e-6)
            assert abs(raw["one_electron_residual_hartree"]) < 1e-5

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
        psi4_view = json.loads((descriptor_shard["workdir"] / "results" / "1.json").read_text())
        assert psi4_view["job_id"] == "demo_001"
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
