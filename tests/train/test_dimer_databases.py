"""The Psi4 database parser and the SSI/BBI training dimers of the interaction stage.

Fixtures: ``tests/fixtures/psi4_databases/{SSI,BBI}.py``, excerpts cut from Psi4 1.3.2's
modules (ten SSI members: eight neutral pairs, one charged pair and the methanol dimer
SER–SER, which is S66-05; two BBI members, both N-methylacetamide dimers like S66-15).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from virialff.train.dimer_databases import (
    SKIP_REASONS,
    build_training_dimers,
    check_training_database,
    geometry_fingerprint,
    held_out_systems,
    nuclear_repulsion_hartree,
    pair_key,
    parse_assignments,
    parse_geometries,
    parse_reaction_ids,
    prepare_dimers,
    read_database_module,
    same_geometry,
    split_dimers,
    split_monomer_counts,
)

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "psi4_databases"
BENCHMARKS = REPO / "data" / "benchmarks"
PSI4_DATABASES = Path("/usr/share/psi4/databases")


@pytest.fixture(scope="module")
def fixture_dimers():
    return build_training_dimers(FIXTURES, benchmarks_dir=BENCHMARKS)


@pytest.fixture(scope="module")
def held_out():
    return held_out_systems(BENCHMARKS)


# -- the parser ----------------------------------------------------------------------------


def test_parser_reads_members_reference_tables_and_geometries():
    module = read_database_module(FIXTURES / "SSI.py")
    assert module.name == "SSI"
    assert module.reaction_ids[:2] == ["001ARG-005ASP-1", "001LEU-154LEU-1"]
    assert len(module.reaction_ids) == 10 and set(module.geometries) == set(module.reaction_ids)
    assert module.default_table == "BIND_SILVER"  # the module's own `BIND = BIND_SILVER`
    silver = module.references_kcal_mol("BIND_SILVER")
    bronze = module.references_kcal_mol("BIND_BRONZE")
    assert silver["015THR-060HIE-1"] == -8.898 and bronze["015THR-060HIE-1"] == -8.974
    arg_asp = module.geometries["001ARG-005ASP-1"]
    assert [(f.charge, f.multiplicity, len(f.symbols)) for f in arg_asp] == [(1, 1, 16),
                                                                             (-1, 1, 7)]
    assert arg_asp[0].symbols[0] == "C" and arg_asp[0].xyz[0] == (-23.007, -14.394, -25.476)


def test_parser_reads_numbered_modules_and_their_nuclear_repulsion():
    """S66-style text: ``HRXN = range(...)``, ids quoted with padding, suffixed TAGL keys."""
    text = '''dbse = 'TOY'
HRXN = range(1, 3)
BIND['%s-%s'            % (dbse, '1'                     )] =   -4.918
BIND['%s-%s'            % (dbse, 2                       )] =   -5.592
TAGL['%s-%s-monoA-CP'   % (dbse, '1'                     )] = """Monomer A from Water Dimer """
GEOS['%s-%s-dimer' % (dbse, '1')] = qcdb.Molecule("""
0 1
O 0.0 0.0 0.0
H 0.96 0.0 0.0
--
0 1
H 0.0 0.0 3.0
units angstrom
""")
'''
    assert parse_reaction_ids(text) == ["1", "2"]
    assert parse_assignments(text, "BIND") == {"1": "-4.918", "2": "-5.592"}
    assert parse_assignments(text, "TAGL") == {"1-monoA-CP": '"""Monomer A from Water Dimer """'}
    fragments = parse_geometries(text)["1"]
    assert [len(f.symbols) for f in fragments] == [2, 1]
    # O–H at 0.96 Å, O–H 3 Å, H–H √(0.96² + 3²) Å: Σ Z_i Z_j / r in Hartree
    bohr = 0.529177210903
    expected = 8 / (0.96 / bohr) + 8 / (3.0 / bohr) + 1 / (np.hypot(0.96, 3.0) / bohr)
    symbols = [s for f in fragments for s in f.symbols]
    xyz = [p for f in fragments for p in f.xyz]
    assert nuclear_repulsion_hartree(symbols, xyz) == pytest.approx(expected, rel=1e-12)


@pytest.mark.skipif(not (PSI4_DATABASES / "S66.py").exists(), reason="no Psi4 database modules")
def test_parser_geometries_match_the_nuclear_repulsion_s66_lists():
    module = read_database_module(PSI4_DATABASES / "S66.py")
    listed = module.nuclear_repulsion()
    assert module.reaction_ids == [str(i) for i in range(1, 67)] and len(listed) == 66
    for reaction, fragments in module.geometries.items():
        symbols = [s for f in fragments for s in f.symbols]
        xyz = [p for f in fragments for p in f.xyz]
        assert nuclear_repulsion_hartree(symbols, xyz) == pytest.approx(listed[reaction],
                                                                        abs=2e-5), reaction


def test_bohr_geometries_are_converted_to_angstrom():
    text = '''GEOS['%s-%s-dimer' % (dbse, 'x')] = qcdb.Molecule("""
0 1
H 0.0 0.0 0.0
H 0.0 0.0 2.0
units bohr
""")
'''
    (fragment,) = parse_geometries(text)["x"]
    assert fragment.xyz[1][2] == pytest.approx(2.0 * 0.529177210903)


def test_unparsed_geometry_line_is_a_one_line_error_naming_the_system():
    text = '''GEOS['%s-%s-dimer' % (dbse, 'bad-1')] = qcdb.Molecule("""
0 1
C 0.0 0.0
""")
'''
    with pytest.raises(ValueError, match=r"system bad-1: unparsed geometry line 'C 0.0 0.0'"):
        parse_geometries(text)


def test_reference_value_that_is_no_number_is_named(tmp_path):
    (tmp_path / "SSI.py").write_text("dbse = 'SSI'\nHRXN = ['a-b-1']\n"
                                     "BIND_SILVER['%s-%s' % (dbse, 'a-b-1')] = None\n")
    module = read_database_module(tmp_path / "SSI.py")
    with pytest.raises(ValueError, match=r"BIND_SILVER\['a-b-1'\] = 'None' is not a number"):
        module.references_kcal_mol("BIND_SILVER")


# -- training dimers -----------------------------------------------------------------------


def test_only_ssi_and_bbi_may_be_used_for_training(tmp_path):
    assert check_training_database("SSI") == "SSI" and check_training_database("BBI") == "BBI"
    for name in ("S66", "JSCH", "S22", "HBC6", "ssi"):
        with pytest.raises(ValueError, match=f"database '{name}' may not be used for training"):
            check_training_database(name)
    # refused before any file is read (there is no S66.py in the fixture folder)
    with pytest.raises(ValueError, match="'S66' may not be used"):
        build_training_dimers(FIXTURES, names=("SSI", "S66"), benchmarks_dir=BENCHMARKS)
    with pytest.raises(ValueError, match="'JSCH' may not be used"):
        prepare_dimers(FIXTURES, tmp_path / "d.pt", tmp_path / "s.json", names=("JSCH",))
    assert not (tmp_path / "d.pt").exists()


def test_fixture_dimers_and_every_skip_reason(fixture_dimers):
    dimers, skipped, sources = fixture_dimers
    assert len(dimers) + len(skipped) == 12  # nothing dropped silently
    reasons = {s.dimer_id: (s.reason, s.detail) for s in skipped}
    assert reasons["SSI-001ARG-005ASP-1"] == ("charged_monomer", "monomer charges +1, -1")
    assert reasons["SSI-008SER-032SER-1"][0] == "test_set_pair"
    assert "S66-05" in reasons["SSI-008SER-032SER-1"][1]  # methanol dimer
    for bbi in ("BBI-004GLU-063LEU-2", "BBI-005ASP-008SER-2"):  # N-methylacetamide dimers
        assert reasons[bbi][0] == "test_set_pair" and "S66-15" in reasons[bbi][1]
    assert all(s.reason in SKIP_REASONS for s in skipped)
    assert sources["SSI"]["reference_table"] == "BIND_SILVER"
    assert sources["BBI"]["reference_table"] == "BIND_SILVER"
    assert sources["SSI"]["reference_info"]["method"] == "DWCCSDTF12"


def test_interaction_energy_sign_is_flipped_from_psi4(fixture_dimers):
    dimers = {d.dimer_id: d for d in fixture_dimers[0]}
    hist = dimers["SSI-015THR-060HIE-1"]  # BIND_SILVER = −8.898: bound
    assert hist.psi4_bind_kcal_mol == -8.898 and hist.interaction_energy_kcal_mol == 8.898
    cys = dimers["SSI-039ILE-109CYS-1"]  # BIND_SILVER = +2.170: repulsive
    assert cys.interaction_energy_kcal_mol == -2.170


def test_bonds_are_perceived_per_monomer_with_bond_orders(fixture_dimers):
    from rdkit import Chem

    dimers = {d.dimer_id: d for d in fixture_dimers[0]}
    hist = dimers["SSI-015THR-060HIE-1"]
    assert hist.monomer_keys == ("CO", "Cc1c[nH]cn1")  # methanol + 4-methylimidazole
    mol = hist.mol
    assert len(Chem.GetMolFrags(mol)) == 2 and mol.GetNumAtoms() == sum(hist.fragment_sizes)
    assert any(b.GetIsAromatic() for b in mol.GetBonds())
    asn = dimers["SSI-007SER-100ASN-1"].mol
    assert any(b.GetBondType() == Chem.BondType.DOUBLE for b in asn.GetBonds())  # C=O


def test_skip_reasons_of_injected_bad_entries(tmp_path):
    """Fake members, one per failure: each is counted with its reason, none raises."""

    def geometry(rxn: str, block: str) -> str:
        return f"GEOS['%s-%s-dimer' % (dbse, '{rxn}')] = qcdb.Molecule(\"\"\"\n{block}\"\"\")\n"

    water = "O 0.0 0.0 0.0\nH 0.96 0.0 0.0\nH -0.24 0.93 0.0\n"
    far_water = "O 0.0 0.0 3.0\nH 0.96 0.0 3.0\nH -0.24 0.93 3.0\n"
    methyl = "C 0.0 0.0 3.0\nH 1.09 0.0 3.0\nH -0.54 0.94 3.0\nH -0.54 -0.94 3.0\n"
    members = {
        "a-b-1": f"0 1\n{water}--\n0 2\n{methyl}",  # declared doublet
        "a-b-2": f"0 1\n{water}--\n0 1\nSi 0.0 0.0 3.0\nH 1.5 0.0 3.0\n"
                 "H -0.7 1.3 3.0\nH -0.7 -1.3 3.0\nH 0.0 0.0 4.5\n",
        "a-b-3": f"0 1\n{water}--\n0 1\n{far_water}",  # no reference value below
        "a-b-4": f"0 1\n{water}--\n0 1\n{methyl}",  # CH3 declared closed shell: no bond orders
        "a-b-5": f"0 1\n{water}",  # one fragment
        "a-b-6": f"0 1\n{water}--\n0 1\n{far_water}",  # water dimer = S66-01
    }
    text = "dbse = 'SSI'\nHRXN = [" + ", ".join(f"'{m}'" for m in members) + "]\n"
    text += "".join(f"BIND_SILVER['%s-%s' % (dbse, '{m}')] = -1.0\n" for m in members
                    if m != "a-b-3")
    text += "BIND = BIND_SILVER\n" + "".join(geometry(m, b) for m, b in members.items())
    (tmp_path / "SSI.py").write_text(text)
    dimers, skipped, _ = build_training_dimers(tmp_path, names=("SSI",),
                                               benchmarks_dir=BENCHMARKS)
    reasons = {s.dimer_id: s.reason for s in skipped}
    assert dimers == []
    assert reasons == {
        "SSI-a-b-1": "open_shell_monomer",
        "SSI-a-b-2": "unsupported_element",
        "SSI-a-b-3": "missing_reference",
        "SSI-a-b-4": "bond_perception_failed",
        "SSI-a-b-5": "not_a_dimer",
        "SSI-a-b-6": "test_set_pair",
    }


def test_no_s66_or_base_pair_system_in_the_prepared_training_data(tmp_path, held_out):
    summary = prepare_dimers(FIXTURES, tmp_path / "dimers.pt", tmp_path / "summary.json",
                             val_fraction=0.2, seed=3, benchmarks_dir=BENCHMARKS)
    payload = torch.load(tmp_path / "dimers.pt", weights_only=True)
    assert len(held_out) == 66 + 2
    held_keys = {h.pair_key for h in held_out}
    graphs = payload["graphs"]
    for index, dimer in enumerate(payload["dimers"]):
        assert pair_key(*dimer["monomer_keys"]) not in held_keys, dimer["dimer_id"]
        a0, a1 = int(graphs["atom_ptr"][index]), int(graphs["atom_ptr"][index + 1])
        from virialff.chem.elements import SUPPORTED_ELEMENTS

        symbols = [SUPPORTED_ELEMENTS[int(i)] for i in graphs["element_index"][a0:a1]]
        fingerprint = geometry_fingerprint(symbols, graphs["positions_angstrom"][a0:a1].numpy())
        assert not any(same_geometry(h.fingerprint, fingerprint) for h in held_out)
    assert summary["n_dimers"] == len(payload["dimers"]) == 8
    written = json.loads((tmp_path / "summary.json").read_text())
    assert written["n_entries"] == written["n_dimers"] + written["n_skipped"] == 12
    assert written["skipped_by_reason"] == {"charged_monomer": 1, "test_set_pair": 3}
    assert len(written["skipped"]) == 3 + 1
    assert written["databases"]["BBI"]["n_kept"] == 0


def test_geometry_fingerprint_ignores_rotation_translation_and_atom_order(held_out):
    from virialff.evaluate.runs import load_bundled_systems

    water_dimer = load_bundled_systems("s66", BENCHMARKS)[0]
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    order = rng.permutation(water_dimer.n_atoms)
    moved = water_dimer.positions_angstrom[order] @ q.T + np.array([5.0, -2.0, 1.0])
    symbols = [water_dimer.symbols[i] for i in order]
    original = geometry_fingerprint(water_dimer.symbols, water_dimer.positions_angstrom)
    assert same_geometry(original, geometry_fingerprint(symbols, moved))
    pulled = water_dimer.positions_angstrom.copy()
    pulled[3:] += np.array([0.0, 0.0, 0.3])  # monomer B 0.3 Å further away
    assert not same_geometry(original, geometry_fingerprint(water_dimer.symbols, pulled))
    assert held_out[0].system_id == "S66-01" and same_geometry(held_out[0].fingerprint, original)


def test_pair_split_keeps_each_monomer_pair_in_one_split_and_is_reproducible(fixture_dimers):
    dimers = fixture_dimers[0]
    split = split_dimers(dimers, val_fraction=0.2, seed=5, unit="pair")
    assert sorted(split["train"] + split["val"]) == list(range(len(dimers)))
    assert len(split["val"]) >= 0.2 * len(dimers) and split["train"]
    train_pairs = {pair_key(*dimers[i].monomer_keys) for i in split["train"]}
    val_pairs = {pair_key(*dimers[i].monomer_keys) for i in split["val"]}
    assert not train_pairs & val_pairs
    assert split_dimers(dimers, val_fraction=0.2, seed=5, unit="pair") == split
    with pytest.raises(ValueError, match="val_fraction"):
        split_dimers(dimers, val_fraction=0.0, seed=5)
    with pytest.raises(ValueError, match="split unit"):
        split_dimers(dimers, val_fraction=0.2, seed=5, unit="atom")


def test_monomer_split_validates_on_monomers_never_seen_in_training(fixture_dimers):
    dimers = fixture_dimers[0]
    split = split_dimers(dimers, val_fraction=0.2, seed=5)
    assert sorted(split["train"] + split["val"]) == list(range(len(dimers)))
    assert split["train"] and split["val"]
    assert len(split["val"]) <= 0.4 * len(dimers)
    train_monomers = {k for i in split["train"] for k in dimers[i].monomer_keys}
    for i in split["val"]:
        assert any(k not in train_monomers for k in dimers[i].monomer_keys), dimers[i].dimer_id
    counts = split_monomer_counts(dimers, split)
    assert counts["n_val_dimers_with_unseen_monomer"] == len(split["val"])
    assert counts["n_monomers_val_unseen_in_train"] >= 1
    assert split_dimers(dimers, val_fraction=0.2, seed=5) == split


@pytest.mark.slow
@pytest.mark.skipif(not (PSI4_DATABASES / "SSI.py").exists(), reason="no Psi4 database modules")
def test_real_ssi_and_bbi_hold_no_test_system(held_out):
    """The full SSI (3,380 members) and BBI (100): 2,555 neutral SSI pairs remain (about 11 s)."""
    dimers, skipped, _ = build_training_dimers(PSI4_DATABASES, benchmarks_dir=BENCHMARKS)
    held_keys = {h.pair_key for h in held_out}
    assert not any(pair_key(*d.monomer_keys) in held_keys for d in dimers)
    assert len(dimers) + len(skipped) == 3380 + 100
    counts = {}
    for entry in skipped:
        counts[entry.reason] = counts.get(entry.reason, 0) + 1
    assert counts["charged_monomer"] == 3380 - 2596
    assert len(dimers) == 2596 - counts["test_set_pair"] + 100
