"""K·D from stored Psi4 wavefunctions (``descriptors.source: wavefunction``).

Fixture files are written by the installed Psi4 (``wfn.to_file``) in this session: water,
ethanol and CH3SCl from the descriptor worker (C1, input frame), and a C2v water that Psi4 ran
with symmetry in its own reoriented frame, as QMugs' files may have been made.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from psi4_reference import REFERENCE_MOLECULES, psi4_reference
from qc_support import needs_psi4

from virialff.errors import MoleculeRejected
from virialff.qc.descriptors import check_result
from virialff.qc.psi4_conventions import psi4_ao_order
from virialff.qc.pyscf_engine import build_molecule
from virialff.qc.wavefunction import (
    WavefunctionError,
    descriptors_from_wavefunctions,
    load_wavefunction_dict,
    read_psi4_wavefunction,
    read_sdf_energies_hartree,
    wavefunction_path,
)

pytestmark = [pytest.mark.psi4, needs_psi4]
KD_TOLERANCE_HARTREE = 1e-10


@pytest.fixture(scope="module")
def reference():
    return psi4_reference()


def _molecule(name: str) -> tuple[str, list[str], np.ndarray, int]:
    symbols, positions = REFERENCE_MOLECULES[name]
    return (name, list(symbols), np.array(positions, dtype=float), 0)


def _from_file(reference, name: str, molecule=None, path=None, energy=None, **kwargs):
    live = reference[name]
    (result,) = descriptors_from_wavefunctions(
        [molecule or _molecule(name)],
        [path or live.wavefunction_path],
        [live.energy_hartree if energy is None else energy],
        **kwargs,
    )
    return result


@pytest.mark.parametrize("name", list(REFERENCE_MOLECULES))
def test_kd_from_the_file_equals_kd_from_the_live_scf(reference, name):
    live = reference[name]
    result = _from_file(reference, name)
    assert result.ok, result
    np.testing.assert_allclose(
        result.arrays["kd_atom_hartree"],
        live.arrays["kd_atom_hartree"],
        rtol=0,
        atol=KD_TOLERANCE_HARTREE,
    )
    np.testing.assert_allclose(
        result.arrays["kd_pair_hartree"],
        live.arrays["kd_pair_hartree"],
        rtol=0,
        atol=KD_TOLERANCE_HARTREE,
    )
    assert result.kinetic_hartree == pytest.approx(live.kinetic_hartree, abs=KD_TOLERANCE_HARTREE)
    assert result.energy_hartree == live.energy_hartree  # E is the SDF's, passed through
    # Virial theorem at a stationary-ish geometry: T ≈ −E (within a few per cent).
    assert result.kinetic_hartree / -result.energy_hartree == pytest.approx(1.0, abs=0.02)
    assert result.engine.startswith("psi4-wavefunction file, pyscf 2.")
    _, symbols, positions, _ = _molecule(name)
    check_result(result, symbols, positions, name)  # the descriptor stage accepts it as is


def test_psi4_ao_order_maps_pyscf_overlap_onto_the_stored_one(reference):
    stored = read_psi4_wavefunction(reference["methanesulfenyl_chloride"].wavefunction_path)
    mol = build_molecule(stored.symbols, stored.positions_bohr, "def2-svp")
    overlap = mol.intor_symmetric("int1e_ovlp")
    order = psi4_ao_order(mol)
    assert sorted(order) == list(range(mol.nao_nr()))
    assert np.max(np.abs(overlap[np.ix_(order, order)] - stored.overlap_blocks[0])) < 1e-12
    # without the reordering the p and d blocks do not line up
    assert np.max(np.abs(overlap - stored.overlap_blocks[0])) > 0.1


_SYMMETRIC_WATER_INPUT = """\
import json, numpy as np, psi4
psi4.set_memory("500 MB")
psi4.set_options({"basis": "def2-svp", "scf_type": "df", "e_convergence": 1e-8,
                  "d_convergence": 1e-8})
mol = psi4.geometry('''
0 1
O 0.0 0.0 0.117
H 0.0 0.757 -0.469
H 0.0 -0.757 -0.469
''')
energy, wfn = psi4.energy("wb97x-d", return_wfn=True)
wfn.to_file("water_c2v")
basis = wfn.basisset()
kinetic = np.asarray(psi4.core.MintsHelper(basis).ao_kinetic())
density = np.asarray(wfn.Da_subset("AO")) + np.asarray(wfn.Db_subset("AO"))
centre = [basis.function_to_center(mu) for mu in range(basis.nbf())]
kd = kinetic * density
kd_atom = [float(kd[np.ix_([c == a for c in centre], [c == a for c in centre])].sum())
           for a in range(3)]
json.dump({"energy": energy, "nirrep": wfn.nirrep(), "kd_atom": kd_atom,
           "kinetic": float(kd.sum())}, open("water_c2v.json", "w"))
"""


@pytest.fixture(scope="module")
def symmetric_water(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("water_c2v")
    (folder / "input.py").write_text(_SYMMETRIC_WATER_INPUT)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["OMP_NUM_THREADS"] = "1"
    subprocess.run(
        [shutil.which("psi4") or "psi4", "-k", "-n", "1", "-i", "input.py", "-o", "output.dat"],
        cwd=folder,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )
    live = json.loads((folder / "water_c2v.json").read_text())
    return {"path": folder / "water_c2v.npy", **live}


def test_file_with_symmetry_blocks_in_psi4s_own_frame(symmetric_water):
    assert symmetric_water["nirrep"] == 4  # C2v: the matrices are stored per irrep
    stored = read_psi4_wavefunction(symmetric_water["path"])
    assert stored.aotoso_blocks is not None and len(stored.overlap_blocks) == 4
    sdf_positions = np.array([[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
    # Psi4 moved the molecule to its centre of mass: coordinates differ, distances do not
    assert np.max(np.abs(stored.positions_bohr * 0.52917721067 - sdf_positions)) > 0.01
    (result,) = descriptors_from_wavefunctions(
        [("water", ["O", "H", "H"], sdf_positions, 0)],
        [symmetric_water["path"]],
        [symmetric_water["energy"]],
    )
    assert result.ok, result
    np.testing.assert_allclose(
        result.arrays["kd_atom_hartree"],
        symmetric_water["kd_atom"],
        rtol=0,
        atol=KD_TOLERANCE_HARTREE,
    )
    assert result.kinetic_hartree == pytest.approx(symmetric_water["kinetic"], abs=1e-10)
    # both hydrogens are equivalent by symmetry
    assert result.arrays["kd_atom_hartree"][1] == pytest.approx(
        result.arrays["kd_atom_hartree"][2], abs=1e-9
    )


# ------------------------------------------------------------------------------ bad input


def _tampered(reference, tmp_path: Path, name: str, change) -> Path:
    data = load_wavefunction_dict(reference[name].wavefunction_path)
    change(data)
    path = tmp_path / f"{name}_tampered.npy"
    np.save(path, data, allow_pickle=True)
    return path


def _rejection(result) -> tuple[str, str]:
    assert isinstance(result, MoleculeRejected), result
    assert "\n" not in str(result)
    return result.reason, str(result)


def test_missing_file_and_missing_energy_are_missing_input(reference, tmp_path):
    reason, message = _rejection(_from_file(reference, "water", path=tmp_path / "nope.npy"))
    assert reason == "missing_input" and "nope.npy" in message and "molecule water" in message
    (result,) = descriptors_from_wavefunctions(
        [_molecule("water")], [reference["water"].wavefunction_path], [None]
    )
    assert _rejection(result)[0] == "missing_input"


def test_truncated_file_is_rejected(reference, tmp_path):
    source = reference["ethanol"].wavefunction_path
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    reason, message = _rejection(_from_file(reference, "ethanol", path=truncated))
    assert reason == "bad_wavefunction" and "truncated" in message


def test_file_that_would_run_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.npy"
    with open(path, "wb") as handle:
        np.lib.format.write_array_header_1_0(
            handle, {"descr": "|O", "fortran_order": False, "shape": ()}
        )
        pickle.dump(Exploit(), handle)
    with pytest.raises(WavefunctionError, match="refusing to load"):
        read_psi4_wavefunction(path)
    assert not marker.exists()


def test_plain_array_file_is_not_a_wavefunction(tmp_path):
    path = tmp_path / "plain.npy"
    np.save(path, np.zeros((3, 3)))
    with pytest.raises(WavefunctionError, match="not a Psi4 wavefunction"):
        read_psi4_wavefunction(path)


@pytest.mark.parametrize(
    ("change", "basis", "fragment"),
    [
        (lambda d: d["string"].update(basisname="CC-PVDZ"), "def2-svp", "basis 'CC-PVDZ'"),
        (lambda d: d["boolean"].update(basispuream=False), "def2-svp", "Cartesian"),
        (lambda d: d["string"].update(basisname="DEF2-TZVP"), "def2-tzvp", "basis functions"),
        (lambda d: d["matrix"].update(Da=1.02 * d["matrix"]["Da"]), "def2-svp", "Tr(D S)"),
        (lambda d: d["matrix"].pop("Da"), "def2-svp", "not a complete Psi4 wavefunction"),
        (lambda d: d["matrix"].update(S=d["matrix"]["S"][::-1, ::-1]), "def2-svp", "overlap"),
        (lambda d: d["matrix"].update(H=1.001 * d["matrix"]["H"]), "def2-svp", "converged density"),
    ],
)
def test_mismatched_file_is_rejected_with_the_reason(reference, tmp_path, change, basis, fragment):
    path = _tampered(reference, tmp_path, "ethanol", change)
    reason, message = _rejection(_from_file(reference, "ethanol", path=path, basis=basis))
    assert reason == "bad_wavefunction"
    assert fragment in message


def test_wrong_atom_count_order_conformer_charge_or_energy_is_rejected(reference):
    name, symbols, positions, charge = _molecule("ethanol")
    cases = {
        "atoms, the SDF has": (name, symbols[:-1], positions[:-1], charge),
        "element order differs": (
            name,
            [symbols[2], symbols[1], symbols[0], *symbols[3:]],
            positions[[2, 1, 0, 3, 4, 5, 6, 7, 8]],
            charge,
        ),
        # same elements, two inequivalent hydrogens swapped (methyl H and hydroxyl H)
        "interatomic distances": (name, symbols, positions[[0, 1, 2, 8, 4, 5, 6, 7, 3]], charge),
        "charge 0, the SDF has 1": (name, symbols, positions, 1),
    }
    for fragment, molecule in cases.items():
        reason, message = _rejection(_from_file(reference, "ethanol", molecule=molecule))
        assert reason == "bad_wavefunction" and fragment in message, message
    other_conformer = positions.copy()
    other_conformer[8] += [0.0, 0.05, 0.0]
    reason, message = _rejection(
        _from_file(reference, "ethanol", molecule=(name, symbols, other_conformer, charge))
    )
    assert "interatomic distances" in message
    shifted_energy = reference["ethanol"].energy_hartree + 1e-3
    reason, message = _rejection(_from_file(reference, "ethanol", energy=shifted_energy))
    assert "file energy" in message


def test_rigid_motion_and_sdf_rounding_are_accepted(reference):
    name, symbols, positions, charge = _molecule("ethanol")
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))
    moved = np.round(positions @ rotation.T + 5.0, 4)  # V2000 keeps 4 decimals
    result = _from_file(reference, "ethanol", molecule=(name, symbols, moved, charge))
    assert result.ok, result


def test_run_goes_on_past_bad_files_and_keeps_the_order(reference, tmp_path):
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes(reference["water"].wavefunction_path.read_bytes()[:1000])
    molecules = [
        _molecule("water"),
        _molecule("ethanol"),
        _molecule("methanesulfenyl_chloride"),
        _molecule("water"),
    ]
    paths = [
        truncated,
        tmp_path / "missing.npy",
        reference["methanesulfenyl_chloride"].wavefunction_path,
        reference["water"].wavefunction_path,
    ]
    energies = [reference[m[0]].energy_hartree for m in molecules]
    results = descriptors_from_wavefunctions(molecules, paths, energies)
    assert [getattr(r, "reason", "ok") for r in results] == [
        "bad_wavefunction",
        "missing_input",
        "ok",
        "ok",
    ]
    with pytest.raises(ValueError, match="must run parallel"):
        descriptors_from_wavefunctions(molecules, paths[:2], energies)


def test_geometry_records_with_their_sdf_energy_plug_in_directly(reference, tmp_path):
    from rdkit import Chem
    from rdkit.Geometry import Point3D

    from virialff.formats.geometry_sdf import read_geometry_sdf
    from virialff.qc.wavefunction import energy_from_properties

    _, symbols, positions, _ = _molecule("ethanol")
    mol = Chem.AddHs(Chem.MolFromSmiles("CCO"))  # the atom order of REFERENCE_MOLECULES
    assert [a.GetSymbol() for a in mol.GetAtoms()] == symbols
    conformer = Chem.Conformer(mol.GetNumAtoms())
    for index, xyz in enumerate(positions):
        conformer.SetAtomPosition(index, Point3D(*xyz))
    mol.AddConformer(conformer)
    mol.SetProp("_Name", "CHEMBL545_conf00")
    mol.SetProp("DFT:TOTAL_ENERGY", repr(reference["ethanol"].energy_hartree))
    writer = Chem.SDWriter(str(tmp_path / "qmugs.sdf"))
    writer.write(mol)
    writer.close()
    records = read_geometry_sdf(tmp_path / "qmugs.sdf")
    energies = [energy_from_properties(r.properties) for r in records]
    (result,) = descriptors_from_wavefunctions(
        records, [reference["ethanol"].wavefunction_path], energies
    )
    assert result.ok and result.job_id == "CHEMBL545_conf00"
    np.testing.assert_allclose(
        result.arrays["kd_atom_hartree"], reference["ethanol"].arrays["kd_atom_hartree"], atol=1e-8
    )


def test_sdf_energies_and_path_pattern(tmp_path):
    from rdkit import Chem

    writer = Chem.SDWriter(str(tmp_path / "confs.sdf"))
    for index, energy in enumerate(["-76.3369776", None, "n/a"]):
        mol = Chem.AddHs(Chem.MolFromSmiles("O"))
        mol.SetProp("_Name", f"conf{index}")
        if energy is not None:
            mol.SetProp("DFT:TOTAL_ENERGY", energy)
        writer.write(mol)
    writer.close()
    assert read_sdf_energies_hartree(tmp_path / "confs.sdf") == [-76.3369776, None, None]
    pattern = "{root}/wavefunctions/{chembl_id}/conf_{conf:02d}.npy"
    assert wavefunction_path(pattern, root="/data", chembl_id="CHEMBL25", conf=3) == Path(
        "/data/wavefunctions/CHEMBL25/conf_03.npy"
    )
    with pytest.raises(ValueError, match="needs field 'conf'"):
        wavefunction_path(pattern, root="/data", chembl_id="CHEMBL25")
