"""GAFF2/AM1-BCC as a benchmark method and as the ``gaff2`` stage, with the real AmberTools.

What is specified: finite energies; one parameter set per molecule, so a monomer has the same
charges alone and inside its complex and the interaction energy is exactly the non-bonded energy
between the fragments; E_int → 0 for monomers far apart; a molecule antechamber cannot handle
fails on its own with a one-line message while the others get energies; and the stage writes a
status row per molecule and a shard that ``read_amber_parameters`` reads back.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from virialff.evaluate.baselines import make_baseline
from virialff.evaluate.baselines.amber_form import molecule_key
from virialff.evaluate.gaff2_stage import parametrize_shard, run_gaff2_shard
from virialff.evaluate.interactions import interaction_table
from virialff.evaluate.systems import System, read_xyz_system, system_mols
from virialff.forcefield.antechamber import available
from virialff.formats.amber_parameters import read_amber_parameters
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.units import COULOMB_KCAL_MOL_ANGSTROM

pytestmark = pytest.mark.skipif(not available()[0], reason=available()[1] or "AmberTools")

REPO = Path(__file__).resolve().parents[2]
WATER_DIMER = REPO / "data" / "benchmarks" / "s66" / "geometries" / "S66-01.xyz"


def gaff2():  # noqa: ANN201
    return make_baseline("gaff2", charge_method="bcc", amber_timeout_s=120)


def embedded(smiles: str, name: str, seed: int = 7):  # noqa: ANN201 - rdkit Mol
    from rdkit import Chem
    from rdkit.Chem import AllChem

    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    assert AllChem.EmbedMolecule(mol, randomSeed=seed) == 0
    AllChem.MMFFOptimizeMolecule(mol)
    mol.SetProp("_Name", name)
    mol.SetProp("molecule_id", name)
    return mol


def overlapping_atoms(name: str):  # noqa: ANN201 - rdkit Mol
    """Propanol with two carbons on one point: sqm cannot compute charges for it."""
    mol = embedded("CCCO", name)
    conformer = mol.GetConformer()
    conformer.SetAtomPosition(1, conformer.GetAtomPosition(0))
    return mol


def intermolecular_energy(parameters_a, parameters_b, positions_a, positions_b) -> float:  # noqa: ANN001
    """Σ over atom pairs between two molecules of Coulomb + Lennard-Jones (Lorentz–Berthelot),
    kcal/mol: the only terms that couple two molecules in the Amber form."""
    r = np.linalg.norm(positions_a[:, None, :] - positions_b[None, :, :], axis=-1)
    qq = parameters_a.charges_e[:, None] * parameters_b.charges_e[None, :]
    sigma = 0.5 * (parameters_a.sigma_angstrom[:, None] + parameters_b.sigma_angstrom[None, :])
    epsilon = np.sqrt(parameters_a.epsilon_kcal_mol[:, None]
                      * parameters_b.epsilon_kcal_mol[None, :])
    lj = 4.0 * epsilon * ((sigma / r) ** 12 - (sigma / r) ** 6)
    return float((COULOMB_KCAL_MOL_ANGSTROM * qq / r + lj).sum())


def test_small_molecules_get_finite_energies():
    method = gaff2()
    assert method.available() == (True, "")
    energies = method.energies([embedded("O", "water"), embedded("CCO", "ethanol"),
                                embedded("c1ccccc1O", "phenol")])
    assert np.all(np.isfinite(energies)), method.messages
    assert method.statuses == ["ok", "ok", "ok"]


def test_a_monomer_has_its_parameters_of_the_complex_and_e_int_is_the_intermolecular_energy():
    dimer = read_xyz_system(WATER_DIMER)
    method = gaff2()
    table = interaction_table(method, [dimer])
    assert table["status"].tolist() == ["ok"], table["message"].tolist()
    mols = system_mols(dimer)
    in_complex, order = method.system_parameters(mols.complex)
    alone = [method.system_parameters(monomer)[0][0] for monomer in mols.monomers]
    assert np.array_equal(order, np.arange(dimer.n_atoms))
    for fragment, monomer in zip(in_complex, alone, strict=True):
        assert np.array_equal(fragment.charges_e, monomer.charges_e)
        assert abs(fragment.charges_e.sum()) < 1e-6  # neutral water
    a, b = dimer.fragment_slices()
    expected = -intermolecular_energy(in_complex[0], in_complex[1],
                                      dimer.positions_angstrom[a], dimer.positions_angstrom[b])
    e_int = float(table["interaction_energy_kcal_mol"].iloc[0])
    assert e_int == pytest.approx(expected, abs=1e-6)
    assert 3.0 < e_int < 8.0  # a hydrogen-bonded water dimer is bound (CCSD(T)/CBS: 4.9)


def test_relaxed_monomers_keep_the_charges_of_the_complex():
    """Base-pair style: monomers at their own (here: displaced) geometries still get the
    parameters their copy in the complex got, so E_int holds no charge difference."""
    dimer = read_xyz_system(WATER_DIMER)
    relaxed = [dimer.monomer_positions(k) * 1.02 for k in range(2)]
    system = System(dimer.system_id, dimer.name, dimer.symbols, dimer.positions_angstrom,
                    dimer.fragment_sizes, monomer_positions_angstrom=relaxed)
    method = gaff2()
    assert interaction_table(method, [system])["status"].tolist() == ["ok"]
    mols = system_mols(system)
    in_complex, _ = method.system_parameters(mols.complex)
    assert np.array_equal(in_complex[0].charges_e,
                          method.system_parameters(mols.monomers[0])[0][0].charges_e)
    assert method.n_parametrised == 1  # both waters, alone and together: one molecule


def test_far_apart_monomers_do_not_interact():
    dimer = read_xyz_system(WATER_DIMER)
    positions = dimer.positions_angstrom.copy()
    positions[dimer.fragment_slices()[1]] += np.array([500.0, 0.0, 0.0])
    far = System(dimer.system_id, dimer.name, dimer.symbols, positions, dimer.fragment_sizes)
    table = interaction_table(gaff2(), [far], {far.system_id: dimer})
    assert table["status"].tolist() == ["ok"]
    assert abs(float(table["interaction_energy_kcal_mol"].iloc[0])) < 1e-5


def test_a_molecule_antechamber_cannot_handle_fails_alone_with_a_one_line_message():
    from rdkit import Chem

    method = gaff2()
    boron = embedded("B(O)(O)O", "boric_acid")
    energies = method.energies([embedded("CCO", "ethanol"), overlapping_atoms("broken"),
                                embedded("O", "water"), boron])
    assert method.statuses == ["ok", "failed", "ok", "not_covered"]
    assert np.isfinite(energies[[0, 2]]).all() and np.isnan(energies[[1, 3]]).all()
    message = method.messages[1]
    assert "broken" in message and "antechamber_failed" in message and "\n" not in message
    assert method.messages[3].startswith("not covered by GAFF2/AM1-BCC: element B")
    # the failure is remembered: the same molecule fails again at once, with the same message
    again = method.energies([Chem.Mol(overlapping_atoms("broken"))])
    assert np.isnan(again[0]) and method.messages == [message]


def test_the_gaff2_stage_writes_a_status_row_per_molecule_and_a_readable_shard(tmp_path):
    ethanol = embedded("CCO", "ethanol_0")
    second = embedded("CCO", "ethanol_1", seed=11)  # another geometry of the same molecule
    records = [ethanol, second, overlapping_atoms("broken"), embedded("O", "water")]
    sdf = write_geometry_sdf(tmp_path / "shard00000.sdf", records)
    npz = tmp_path / "gaff2" / "shard00000.npz"
    status = tmp_path / "gaff2" / "shard00000.status.csv"
    table = run_gaff2_shard(sdf, npz, status, charge_method="bcc", timeout_s=120,
                            log_path=tmp_path / "gaff2.log")
    with open(status, newline="") as handle:
        rows = {row["molecule_id"]: row for row in csv.DictReader(handle)}
    assert list(rows) == ["ethanol_0", "ethanol_1", "broken", "water"]
    assert [rows[m]["status"] for m in rows] == ["ok", "ok", "failed", "ok"]
    assert rows["broken"]["reason"] == "antechamber_failed"
    assert "broken" in rows["broken"]["message"]
    assert "ethanol_0" in rows["ethanol_1"]["message"]  # whose parameters it has
    assert table.failed_ids == ["broken"]
    molecules, source = read_amber_parameters(npz)
    assert source.endswith("gaff2 am1-bcc")
    by_id = {m.molecule_id: m for m in molecules}
    assert list(by_id) == ["ethanol_0", "ethanol_1", "water"]
    for mol in (ethanol, second):
        assert by_id[mol.GetProp("molecule_id")].atomic_numbers.tolist() == [
            a.GetAtomicNum() for a in mol.GetAtoms()]
    # one parameter set per molecule: the second geometry has the first one's charges
    assert np.array_equal(by_id["ethanol_0"].charges_e, by_id["ethanol_1"].charges_e)
    assert molecule_key(ethanol) == molecule_key(second)


def test_an_empty_shard_is_a_valid_shard(tmp_path):
    sdf = tmp_path / "empty.sdf"
    sdf.write_text("")
    parameters, table = parametrize_shard(sdf, charge_method="bcc")
    assert parameters == [] and table.records == []
