"""GFN2-xTB runner and the RDKit SMILES → 3D helper."""

from __future__ import annotations

import numpy as np
import pytest
from qc_support import default_xtb_settings, needs_xtb

from virialff.errors import MoleculeRejected
from virialff.qc import xtb

XTB = default_xtb_settings()


@pytest.mark.parametrize(
    ("smiles", "reason", "words"),
    [
        ("C1CC(O", "bad_smiles", "C1CC(O"),
        ("", "bad_smiles", "SMILES"),
        ("C[Si](C)(C)C", "unsupported_element", "Si"),
        ("CC(=O)[O-].[Na+]", "unsupported_element", "Na"),
        ("C[NH3+]", "charged", "+1"),
        ("[CH3]", "open_shell", "unpaired"),
    ],
)
def test_bad_molecules_are_rejected_with_a_reason_naming_the_molecule(smiles, reason, words):
    with pytest.raises(MoleculeRejected) as caught:
        xtb.mol_from_smiles(smiles, "demo_042")
    assert caught.value.reason == reason
    assert "demo_042" in str(caught.value)
    assert words in str(caught.value)


def test_smiles_embedding_keeps_the_rdkit_atom_order_with_hydrogens_last():
    mol = xtb.molecule_from_smiles("CCO", "ethanol", seed=7)
    symbols, positions = xtb.symbols_and_positions(mol)
    assert symbols == ["C", "C", "O"] + ["H"] * 6
    assert positions.shape == (9, 3)
    again = xtb.symbols_and_positions(xtb.molecule_from_smiles("CCO", "ethanol", seed=7))[1]
    np.testing.assert_allclose(positions, again)  # seeded: reproducible


@pytest.mark.xtb
@needs_xtb
def test_optimisation_keeps_atom_order_and_lowers_the_energy():
    mol = xtb.molecule_from_smiles("CCO", "ethanol", seed=1, mmff_preoptimize=False)
    symbols, start = xtb.symbols_and_positions(mol)
    start_energy = xtb.single_point(symbols, start, settings=XTB, molecule_id="ethanol")
    optimised, energy = xtb.optimize(symbols, start, settings=XTB, molecule_id="ethanol")
    assert optimised.shape == start.shape
    assert energy <= start_energy + 1e-8
    assert -12.0 < energy < -11.0  # GFN2-xTB ethanol is about -11.39 Eh
    # same atoms in the same order: every bond of the RDKit graph is still a bond
    for bond in mol.GetBonds():
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        assert 0.9 < np.linalg.norm(optimised[i] - optimised[j]) < 1.6, (i, j)
    d_co = np.linalg.norm(optimised[1] - optimised[2])
    assert 1.35 < d_co < 1.50  # C-O bond between atoms 1 and 2


@pytest.mark.xtb
@needs_xtb
def test_complexes_are_just_more_atoms():
    water = np.array([[0.0, 0.0, 0.1173], [0.0, 0.7572, -0.4692], [0.0, -0.7572, -0.4692]])
    dimer = np.vstack([water, water + [0.0, 0.0, 3.0]])
    symbols = ["O", "H", "H"] * 2
    e_monomer = xtb.single_point(symbols[:3], water, settings=XTB)
    e_dimer = xtb.single_point(symbols, dimer, settings=XTB)
    interaction_kcal_mol = (e_dimer - 2 * e_monomer) * 627.5094740631
    assert -10.0 < interaction_kcal_mol < 1.0


@pytest.mark.xtb
def test_a_failing_xtb_raises_xtb_failed_with_its_output(tmp_path):
    fake = tmp_path / "xtb"
    fake.write_text("#!/bin/sh\necho 'fake xtb: abnormal termination' >&2\nexit 3\n")
    fake.chmod(0o755)
    settings = default_xtb_settings(executable=str(fake))
    with pytest.raises(MoleculeRejected) as caught:
        xtb.optimize(["H", "H"], [[0, 0, 0], [0, 0, 0.74]], settings=settings, molecule_id="h2")
    assert caught.value.reason == "xtb_failed"
    assert "h2" in str(caught.value)
    assert "status 3" in str(caught.value) and "abnormal termination" in str(caught.value)


def test_a_missing_xtb_executable_is_an_xtb_failure_not_a_crash(tmp_path):
    settings = default_xtb_settings(executable=str(tmp_path / "no-such-xtb"))
    with pytest.raises(MoleculeRejected, match="not found") as caught:
        xtb.single_point(["H", "H"], [[0, 0, 0], [0, 0, 0.74]], settings=settings)
    assert caught.value.reason == "xtb_failed"
