"""Dataset assembly on a synthetic geometry SDF + descriptor npz (no xtb or Psi4 needed):
targets in kcal/mol on the right atoms and bonds, mismatches and NaN rejected with a
reason, nothing dropped silently, dataset.pt loadable with weights_only=True."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch
from data_support import subset
from rdkit import Chem
from rdkit.Chem import AllChem

from virialff.chem.graph import GraphBatch
from virialff.data.assemble import assemble_dataset
from virialff.formats.descriptors_npz import from_pair_matrix, pair_position, write_descriptors_npz
from virialff.formats.geometry_sdf import write_geometry_sdf
from virialff.formats.status_table import StatusTable
from virialff.units import HARTREE_TO_KCAL_MOL

MOLECULES = [  # name, smiles; demo ids demo_000 ...
    ("ethanol", "CCO"), ("methanol", "CO"), ("acetonitrile", "CC#N"), ("formaldehyde", "C=O"),
    ("water", "O"), ("ammonia", "N"), ("benzene", "c1ccccc1"),
]
GOOD = {"demo_000", "demo_002", "demo_006"}


def _read(path):  # noqa: ANN001, ANN202
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _descriptors(mol, rng: np.random.Generator) -> dict:  # noqa: ANN001
    n_atoms = mol.GetNumAtoms()
    kd_atom = rng.normal(20.0, 5.0, n_atoms)
    kd_pair = rng.normal(-0.5, 0.2, n_atoms * (n_atoms - 1) // 2)
    kinetic = kd_atom.sum() + kd_pair.sum()
    return {"energy": -1.003 * kinetic, "kinetic": kinetic, "n_atoms": n_atoms,
            "numbers": [a.GetAtomicNum() for a in mol.GetAtoms()],
            "bonds": [(b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in mol.GetBonds()],
            "kd_atom": kd_atom, "kd_pair": kd_pair}


@pytest.fixture
def synthetic_run(demo_config, subset_paths, tmp_path):  # noqa: ANN001, ANN201
    csv_path = tmp_path / "demo.csv"
    csv_path.write_text("name,smiles,chembl_id\n" + "".join(f"{n},{s},\n" for n, s in MOLECULES))
    demo_config["demo"]["molecules_csv"] = str(csv_path)
    demo_config["sharding"]["molecules_per_shard"] = 4
    subset(demo_config, subset_paths, n_shards=2)
    rows = _read(subset_paths["molecules_csv"])
    rng = np.random.default_rng(0)
    geometry_status, descriptor_status = StatusTable("geometry"), StatusTable("descriptors")
    mols, desc = {}, {}
    for row in rows:
        mid = row["molecule_id"]
        if mid == "demo_005":  # xtb failed upstream: recorded there, not here
            geometry_status.failed(mid, "xtb_failed", f"molecule {mid}: xtb crashed")
            continue
        if mid == "demo_004":  # vanished: no output, no status → missing_input
            continue
        mol = Chem.AddHs(Chem.MolFromSmiles(row["smiles"]))
        AllChem.EmbedMolecule(mol, randomSeed=1)
        mol.SetProp("_Name", mid)
        mol.SetProp("molecule_id", mid)
        mols[mid] = mol
        geometry_status.ok(mid)
        desc[mid] = _descriptors(mol, rng)
        descriptor_status.ok(mid)
    desc["demo_001"]["n_atoms"] += 1  # atom count disagrees with the SDF
    desc["demo_001"]["numbers"] = [*desc["demo_001"]["numbers"], 1]
    desc["demo_001"]["kd_atom"] = np.append(desc["demo_001"]["kd_atom"], 0.0)
    desc["demo_001"]["kd_pair"] = np.append(desc["demo_001"]["kd_pair"],
                                            np.zeros(desc["demo_001"]["n_atoms"] - 1))
    desc["demo_003"]["kd_atom"][0] = np.nan  # NaN from a broken calculation

    files = {"geometry_sdfs": [], "geometry_status": [], "descriptor_npzs": [],
             "descriptor_status": []}
    for shard in ("shard00000", "shard00001"):
        ids = [r["molecule_id"] for r in rows if r["shard"] == shard and r["molecule_id"] in mols]
        sdf = write_geometry_sdf(tmp_path / f"{shard}.sdf", [mols[mid] for mid in ids])
        # the first shard was computed with forces and dipoles, the second without
        for m in ids:
            with_forces = shard == "shard00000"
            desc[m]["forces"] = (rng.normal(size=(desc[m]["n_atoms"], 3)) if with_forces
                                 else None)
            desc[m]["dipole"] = rng.normal(size=3) if with_forces else None
        entries = [from_pair_matrix(m, "psi4 test", desc[m]["energy"], desc[m]["kinetic"],
                                    desc[m]["numbers"], desc[m]["kd_atom"], desc[m]["kd_pair"],
                                    desc[m]["bonds"], 12, 1.0, desc[m]["forces"],
                                    desc[m]["dipole"]) for m in ids]
        npz = write_descriptors_npz(tmp_path / f"{shard}.npz", entries, "wb97x-d", "def2-svp")
        files["geometry_sdfs"].append(sdf)
        files["descriptor_npzs"].append(npz)
    files["geometry_status"].append(geometry_status.write(tmp_path / "geometry.status.csv"))
    files["descriptor_status"].append(descriptor_status.write(tmp_path / "desc.status.csv"))
    out = {"dataset_pt": tmp_path / "dataset.pt", "descriptors_csv": tmp_path / "descriptors.csv",
           "status_csv": tmp_path / "dataset.status.csv"}
    counts = assemble_dataset(subset_paths["molecules_csv"], **files, **out, data_scale="demo")
    return {"rows": rows, "mols": mols, "desc": desc, "counts": counts, **out}


def test_good_molecules_enter_and_failures_are_recorded_with_reasons(synthetic_run):
    status = {r["molecule_id"]: r for r in _read(synthetic_run["status_csv"])}
    assert {m for m, r in status.items() if r["status"] == "ok"} == GOOD
    failed = {m: r["reason"] for m, r in status.items() if r["status"] == "failed"}
    assert failed == {"demo_001": "bad_sdf", "demo_003": "nan_value",
                      "demo_004": "missing_input"}
    assert "demo_005" not in status  # its failure belongs to the geometry table
    for mid in failed:
        assert mid in status[mid]["message"]
    counts = synthetic_run["counts"]
    assert counts["n_in_dataset"] == 3 and counts["n_failed_upstream"] == 1


def test_dataset_pt_format_and_targets(synthetic_run):
    data = torch.load(synthetic_run["dataset_pt"], weights_only=True)
    assert {"graphs", "split", "elements", "data_scale", "format_version"} <= set(data)
    batch = GraphBatch.from_state_dict(data["graphs"])
    assert sorted(batch.molecule_ids) == sorted(GOOD)
    assert set(batch.molecule_targets) == {"energy_kcal_mol", "kinetic_kcal_mol", "has_forces",
                                           "dipole_debye", "has_dipole"}
    assert set(batch.atom_targets) == {"kd_atom_kcal_mol", "forces_kcal_mol_angstrom"}
    assert set(batch.bond_targets) == {"kd_bond_kcal_mol"}
    for m, mid in enumerate(batch.molecule_ids):
        ref = synthetic_run["desc"][mid]
        atoms = slice(int(batch.atom_ptr[m]), int(batch.atom_ptr[m + 1]))
        np.testing.assert_allclose(batch.atom_targets["kd_atom_kcal_mol"][atoms].numpy(),
                                   ref["kd_atom"] * HARTREE_TO_KCAL_MOL)
        assert float(batch.molecule_targets["kinetic_kcal_mol"][m]) == pytest.approx(
            ref["kinetic"] * HARTREE_TO_KCAL_MOL)
        bonds = slice(int(batch.bond_ptr[m]), int(batch.bond_ptr[m + 1]))
        local = batch.bond_index[:, bonds].numpy() - int(batch.atom_ptr[m])
        expected = ref["kd_pair"][pair_position(local[0], local[1], ref["n_atoms"])]
        np.testing.assert_allclose(batch.bond_targets["kd_bond_kcal_mol"][bonds].numpy(),
                                   expected * HARTREE_TO_KCAL_MOL)
        mol = synthetic_run["mols"][mid]
        assert local.shape[1] == 2 * mol.GetNumBonds()
        forces = batch.atom_targets["forces_kcal_mol_angstrom"][atoms].numpy()
        if ref["forces"] is None:  # said per molecule, never invented
            assert float(batch.molecule_targets["has_forces"][m]) == 0.0
            assert np.all(forces == 0.0)
            assert float(batch.molecule_targets["has_dipole"][m]) == 0.0
        else:
            assert float(batch.molecule_targets["has_forces"][m]) == 1.0
            np.testing.assert_allclose(forces, ref["forces"])
            np.testing.assert_allclose(batch.molecule_targets["dipole_debye"][m].numpy(),
                                       ref["dipole"])
    assert {float(v) for v in batch.molecule_targets["has_forces"]} == {0.0, 1.0}


def test_pair_position_matches_numpy_triu_order():
    first, second = np.triu_indices(6, 1)
    assert list(pair_position(first, second, 6)) == list(range(len(first)))
    assert list(pair_position(second, first, 6)) == list(range(len(first)))


def test_split_indices_follow_molecules_csv(synthetic_run):
    data = torch.load(synthetic_run["dataset_pt"], weights_only=True)
    ids = data["graphs"]["molecule_ids"]
    split_of = {r["molecule_id"]: r["split"] for r in synthetic_run["rows"]}
    for name, index in data["split"].items():
        assert index.dtype == torch.long
        assert all(split_of[ids[i]] == name for i in index.tolist())
    assert sum(len(v) for v in data["split"].values()) == len(ids)


def test_descriptor_table_for_the_figures(synthetic_run):
    rows = {r["molecule_id"]: r for r in _read(synthetic_run["descriptors_csv"])}
    assert set(rows) == GOOD
    benzene = rows["demo_006"]
    assert (benzene["n_atoms"], benzene["n_C"], benzene["n_H"]) == ("12", "6", "6")
    energy = float(benzene["energy_kcal_mol"])
    assert float(benzene["energy_per_atom_kcal_mol"]) == pytest.approx(energy / 12, rel=1e-6)
    assert float(benzene["virial_ratio"]) == pytest.approx(1 / 1.003, rel=1e-6)
