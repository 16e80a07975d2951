"""Descriptor stage: E, T = Tr(DK) and its exact partition into K·D atoms and pairs (Psi4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qc_support import needs_psi4, needs_xtb
from rdkit import Chem

from virialff.qc.descriptors import (
    NPZ_KEYS,
    kd_partition,
    load_descriptors,
    molecule_descriptors,
    read_geometry_sdf,
    run_descriptor_shard,
)
from virialff.qc.geometry import read_geometries
from virialff.qc.status import read_status

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


@pytest.fixture(scope="module")
def descriptors(descriptor_shard):
    return load_descriptors(descriptor_shard["npz"])


@pytest.mark.usefixtures("descriptor_shard")
class TestComputedShard:
    pytestmark = psi4_and_xtb

    def test_both_molecules_converged(self, descriptor_shard, descriptors):
        records = read_status(descriptor_shard["status"])
        assert [(r.molecule_id, r.stage, r.status) for r in records] == [
            ("demo_000", "descriptors", "ok"), ("demo_001", "descriptors", "ok")]
        assert list(descriptors["molecule_id"]) == ["demo_000", "demo_001"]

    def test_npz_follows_the_data_format_contract(self, descriptor_shard, descriptors):
        assert set(descriptors) == set(NPZ_KEYS)
        with np.load(descriptor_shard["npz"], allow_pickle=False) as data:
            assert sorted(data.files) == sorted(NPZ_KEYS)
        assert descriptors["n_atoms"].tolist() == [3, 9]
        assert descriptors["atom_ptr"].tolist() == [0, 3, 12]
        assert descriptors["pair_ptr"].tolist() == [0, 3, 39]
        assert descriptors["kd_atom_hartree"].shape == (12,)
        assert descriptors["kd_pair_hartree"].shape == (39,)
        assert str(descriptors["method"]) == "wb97x-d"
        assert str(descriptors["basis"]) == "def2-svp"
        assert np.all(descriptors["scf_iterations"] > 0)
        assert np.all(descriptors["wall_s"] > 0)

    def test_sum_rule_holds_to_1e_8_hartree(self, descriptors):
        for index in range(2):
            m = molecule_descriptors(descriptors, index)
            residual = m["kd_atom_hartree"].sum() + m["kd_pair_hartree"].sum()
            residual -= m["kinetic_hartree"]
            assert abs(residual) < 1e-8, m["molecule_id"]

    def test_density_and_kinetic_matrix_share_the_ao_basis(self, descriptor_shard):
        # Independent of the partition: Tr(D S) = N electrons and Tr(D (K + V)) = Psi4's
        # "ONE-ELECTRON ENERGY", so D is the converged total density in K's basis.
        for index, n_electrons in ((0, 10), (1, 26)):
            raw = json.loads(
                (descriptor_shard["workdir"] / "results" / f"{index}.json").read_text())
            assert raw["n_electrons_from_density"] == pytest.approx(n_electrons, abs=1e-6)
            assert abs(raw["one_electron_residual_hartree"]) < 1e-5

    def test_virial_ratio_is_close_to_one(self, descriptors):
        ratio = descriptors["kinetic_hartree"] / -descriptors["energy_hartree"]
        assert np.all((ratio > 0.97) & (ratio < 1.01)), ratio

    def test_energies_are_those_of_wb97x_d_def2_svp(self, descriptors):
        water, ethanol = descriptors["energy_hartree"]
        assert water == pytest.approx(-76.337, abs=5e-3)
        assert ethanol == pytest.approx(-154.876, abs=5e-3)

    def test_core_electrons_dominate_the_atomic_kinetic_energy(self, descriptors):
        water = molecule_descriptors(descriptors, 0)
        oxygen, h1, h2 = water["kd_atom_hartree"]
        # By the virial theorem an O atom has T = -E(O) ~ 75 Eh, almost all of it in the core.
        assert oxygen > 70.0
        assert 0.0 < h1 < 2.0 and h1 == pytest.approx(h2, abs=0.05)

    def test_atom_order_is_preserved_from_smiles_through_xtb_to_psi4(self, geometry_shard,
                                                                     descriptor_shard):
        ethanol = read_geometries(geometry_shard["sdf"])[1]
        reference = Chem.AddHs(Chem.MolFromSmiles("CCO"))
        expected = [a.GetAtomicNum() for a in reference.GetAtoms()]
        assert [a.GetAtomicNum() for a in ethanol.GetAtoms()] == expected
        # Psi4's own read-back of the molecule it computed (kept work folder, job 1 = ethanol)
        psi4_view = json.loads((descriptor_shard["workdir"] / "results" / "1.json").read_text())
        assert psi4_view["job_id"] == "demo_001"
        assert psi4_view["atomic_numbers"] == expected
        np.testing.assert_allclose(np.array(psi4_view["positions_angstrom"]),
                                   ethanol.GetConformer().GetPositions(), atol=1e-8)


def _write_sdf(path, mols):
    with Chem.SDWriter(str(path)) as writer:
        for mol in mols:
            writer.write(mol)
    return path


@pytest.mark.psi4
@pytest.mark.xtb
@needs_psi4
@needs_xtb
def test_scf_not_converged_is_recorded_and_nothing_is_written_for_it(tmp_path, geometry_shard,
                                                                     config):
    water = read_geometries(geometry_shard["sdf"])[0]
    sdf = _write_sdf(tmp_path / "w.sdf", [water])
    settings = {**config["descriptors"], "maxiter": 2}
    run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "d.status.csv", settings)
    (record,) = read_status(tmp_path / "d.status.csv")
    assert (record.molecule_id, record.status, record.reason) == (
        "demo_000", "failed", "scf_not_converged")
    assert "demo_000" in record.message
    assert load_descriptors(tmp_path / "d.npz")["molecule_id"].shape == (0,)


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
        mol.SetProp("_Name", name)
        mol.SetProp("molecule_id", name)
        mols.append(mol)
    sdf = _write_sdf(tmp_path / "m.sdf", mols)
    settings = {**config["descriptors"], "basis": "sto-3g", "method": "hf"}
    run_descriptor_shard(sdf, tmp_path / "d.npz", tmp_path / "d.status.csv", settings)
    records = {r.molecule_id: r for r in read_status(tmp_path / "d.status.csv")}
    assert records["radical"].status == "failed"
    assert records["radical"].reason == "psi4_failed"
    assert "radical" in records["radical"].message
    assert records["water"].status == "ok"
    assert load_descriptors(tmp_path / "d.npz")["molecule_id"].tolist() == ["water"]


def test_an_empty_geometry_shard_gives_an_empty_npz_without_running_psi4(tmp_path, config):
    (tmp_path / "g.sdf").write_text("")
    assert read_geometry_sdf(tmp_path / "g.sdf") == []
    settings = {**config["descriptors"], "psi4_executable": str(tmp_path / "not-called")}
    table = run_descriptor_shard(tmp_path / "g.sdf", tmp_path / "d.npz", tmp_path / "s.csv",
                                 settings)
    assert table.records == []
    arrays = load_descriptors(tmp_path / "d.npz")
    assert set(arrays) == set(NPZ_KEYS)
    assert arrays["atom_ptr"].tolist() == [0] and arrays["pair_ptr"].tolist() == [0]
    assert arrays["kd_atom_hartree"].shape == (0,)
