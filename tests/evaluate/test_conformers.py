"""The conformer benchmark (paper section 5.4): molecules the model never saw, every method at the
geometries of the DFT reference, duplicates removed before and after a DFT optimisation,
relative energies in float64."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem
from rdkit.Chem import AllChem, rdMolTransforms

from virialff.chem.identity import canonical_key
from virialff.config import default_config, load_config, result_settings
from virialff.evaluate.conformers import (
    assign_stereo,
    candidate_molecules,
    conformer_source,
    relative_energies,
    spread_subset,
    training_keys,
)
from virialff.qc.conformers import ENGINE_FALLBACK, deduplicate, fallback_search
from virialff.qc.xtb import xtb_settings_from_config

XTB = xtb_settings_from_config(default_config()["geometry"])

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
HAS_XTB = shutil.which("xtb") is not None
HAS_PSI4 = shutil.which("psi4") is not None
CONFIG = load_config(REPO / "config.yaml")


def _conformers(smiles: str, n: int, seed: int = 7) -> tuple[Chem.Mol, list[np.ndarray]]:
    mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    ids = AllChem.EmbedMultipleConfs(mol, numConfs=n, params=params)
    AllChem.MMFFOptimizeMoleculeConfs(mol)
    return mol, [mol.GetConformer(i).GetPositions() for i in ids]


def _rotation(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _molecules_table(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """``results/dataset/molecules.csv``-like rows from (molecule_id, smiles, split)."""
    return pd.DataFrame([{"molecule_id": mid, "name": mid, "smiles": smiles,
                          "canonical_key": canonical_key(smiles), "split": split}
                         for mid, smiles, split in rows])


# -- which molecules ---------------------------------------------------------------------------

DATASET = [
    ("m_butanol", "CCCCO", "train"),
    ("m_s_butan2ol", "C[C@@H](O)CC", "train"),
    ("m_ether", "CCOCC", "val"),
    ("m_butanol_again", "OCCCC", "test"),        # 1-butanol written differently
    ("m_r_butan2ol", "C[C@H](O)CC", "test"),     # the enantiomer of a training molecule
    ("m_propanol", "CCCO", "test"),
    ("m_methyl_ethyl_sulfide", "CCSC", "test"),
]


def test_conformer_molecules_come_only_from_the_test_split_and_never_from_training():
    molecules = _molecules_table(DATASET)
    rows, provenance = conformer_source(molecules)
    assert provenance["source"] == "test_split" and provenance["split"] == "test"
    assert provenance["n_rows"] == 4
    assert provenance["seen_in_training"] == ["m_butanol_again", "m_r_butan2ol"]
    assert set(rows["molecule_id"]) == {"m_propanol", "m_methyl_ethyl_sulfide"}
    assert set(rows["split"]) == {"test"}
    trained = {canonical_key(s) for _, s, split in DATASET if split in ("train", "val")}
    assert not set(rows["canonical_key"]) & trained


def test_an_external_set_is_filtered_against_training_too():
    molecules = _molecules_table(DATASET)
    external = pd.DataFrame({"smiles": ["CCCCO", "CC(C)CO", "c1ccccc1O"]})
    rows, provenance = conformer_source(molecules, external, "pc9.csv")
    assert provenance["source"] == "external:pc9.csv" and provenance["split"] == "external"
    assert provenance["n_seen_in_training"] == 1
    assert list(rows["smiles"]) == ["CC(C)CO", "c1ccccc1O"]
    assert not set(rows["canonical_key"]) & training_keys(molecules)


def test_a_molecule_table_without_splits_is_refused():
    with pytest.raises(ValueError, match="no 'split' column"):
        conformer_source(pd.DataFrame({"smiles": ["CCO"]}))


def test_candidate_molecules_prefer_flexible_then_small_and_skip_duplicates():
    table = pd.DataFrame({"molecule_id": ["rigid", "big", "small", "tiny", "charged", "again"],
                          "smiles": ["c1ccccc1C", "CN(CCCl)CCCl", "O=C(O)CCCO", "CCO",
                                     "CCCCCC[NH3+]", "OCCCC(O)=O"]})
    chosen = candidate_molecules(table, min_heavy_atoms=7, max_heavy_atoms=9, elements=None,
                                 min_rotatable_bonds=2)
    assert list(chosen["molecule_id"]) == ["small", "big", "rigid"]


def test_unassigned_stereo_is_fixed_before_the_search():
    # ETKDG would otherwise embed both configurations: diastereomers, not conformers.
    smiles, n_fixed = assign_stereo("CC(O)C(O)CC")
    assert n_fixed == 2
    assert not any(info.specified == Chem.StereoSpecified.Unspecified
                   for info in Chem.FindPotentialStereo(Chem.MolFromSmiles(smiles)))
    assert canonical_key(smiles) == canonical_key("CC(O)C(O)CC")
    assert assign_stereo("C[C@H](O)CC") == ("C[C@H](O)CC", 0)


# -- conformers and relative energies ----------------------------------------------------------

def test_deduplicate_removes_copies_rotations_and_translations():
    mol, positions = _conformers("OCCOCCO", 1)
    base = positions[0]
    copies = [base, base @ _rotation(0.7).T + 3.0, base + np.array([10.0, 0.0, 0.0])]
    kept = deduplicate(mol, copies, [0.0, 0.1, 0.2], rmsd_threshold_angstrom=0.1)
    assert kept == [0]


def test_deduplicate_keeps_distinct_conformers_lowest_first():
    mol, positions = _conformers("CCCCCCO", 12)
    energies = list(np.linspace(5.0, 0.0, len(positions)))
    unique = deduplicate(mol, positions, energies, rmsd_threshold_angstrom=0.25)
    doubled = deduplicate(mol, positions + positions, energies + energies,
                          rmsd_threshold_angstrom=0.25)
    assert len(unique) >= 2
    assert len(doubled) == len(unique)  # every copy recognised
    assert unique[0] == int(np.argmin(energies))


@pytest.mark.xtb
@pytest.mark.skipif(not HAS_XTB, reason="xtb not on PATH")
def test_fallback_search_with_duplicated_starts():

    mol, positions = _conformers("CCCC", 2, seed=3)
    starts = [positions[0], positions[0].copy(), positions[0] + 5.0]
    result = fallback_search(mol, "butane", n_embed=3, energy_window_kcal_mol=10.0,
                             initial_positions=starts, xtb_settings=XTB,
                             rmsd_threshold_angstrom=0.1, seed=1)
    assert result.engine == ENGINE_FALLBACK
    assert result.counts["optimized"] == 3
    assert result.n_conformers == 1
    assert len(result.xtb_energies_hartree) == 1


def test_spread_subset():
    assert spread_subset(3, 5) == [0, 1, 2]
    assert spread_subset(10, None) == list(range(10))
    chosen = spread_subset(17, 5)
    assert chosen[0] == 0 and chosen[-1] == 16 and len(chosen) == 5


def test_relative_energies_each_against_own_minimum():
    dft = pd.DataFrame({"molecule_id": ["m"] * 4, "conformer_id": ["a", "b", "c", "d"],
                        "status": ["ok", "ok", "ok", "merged"],
                        "energy_kcal_mol": [-100.0, -99.0, -97.0, -100.0]})
    model = pd.DataFrame({"molecule_id": ["m"] * 4, "conformer_id": ["a", "b", "c", "d"],
                          "energy_kcal_mol": [10.0, 12.0, np.nan, 10.0]})
    rel = relative_energies(dft, {"virialff": model})
    ours = rel[rel["method"] == "virialff"].set_index("conformer_id")
    assert list(ours.index) == ["a", "b"]  # c has no model energy, d was merged away
    assert ours.loc["b", "relative_energy_kcal_mol"] == pytest.approx(2.0)
    assert ours.loc["b", "dft_relative_energy_kcal_mol"] == pytest.approx(1.0)
    assert ours.loc["b", "error_kcal_mol"] == pytest.approx(1.0)
    assert list(rel.loc[rel["method"] == "dft", "conformer_id"]) == ["a", "b", "c"]


def test_relative_energies_keep_float64_resolution():
    # totals of a 9-heavy-atom molecule (~-2.5e5 kcal/mol) 0.001 kcal/mol apart
    total = -251234.5678
    dft = pd.DataFrame({"molecule_id": ["m", "m"], "conformer_id": ["a", "b"],
                        "status": ["ok", "ok"], "energy_kcal_mol": [total, total + 0.5]})
    model = dft.assign(energy_kcal_mol=[total, total + 0.501])
    rel = relative_energies(dft, {"virialff": model})
    error = rel.loc[(rel["method"] == "virialff") & (rel["conformer_id"] == "b"), "error_kcal_mol"]
    assert float(error.iloc[0]) == pytest.approx(0.001, abs=1e-9)


# -- the rules' scripts, with real xtb, Psi4, RDKit and torchani on tiny molecules ------------

def _run_script(name: str, **snakemake) -> None:
    """Run ``scripts/{name}`` as Snakemake would, with a ``snakemake`` object of its own."""
    namespace = {key: SimpleNamespace(**value) if isinstance(value, dict) else value
                 for key, value in snakemake.items()}
    namespace.setdefault("threads", 1)
    runpy.run_path(str(SCRIPTS / name), init_globals={"snakemake": SimpleNamespace(**namespace)},
                   run_name="__main__")


def _conformer_settings(**changes) -> dict:
    return {**result_settings(CONFIG, "evaluation.conformers"), **changes}


GEOMETRY = result_settings(CONFIG, "geometry")
# Hartree-Fock/STO-3G stands in for ωB97X-D/def2-SVP: the same code path, seconds not minutes.
CHEAP_DFT = {**result_settings(CONFIG, "descriptors"), "method": "hf", "basis": "sto-3g"}
XTB_RESOURCES = {"xtb_executable": "xtb", "xtb_timeout_s": 600}
PSI4_RESOURCES = {"psi4_executable": "psi4", "psi4_memory": "500 MB", "psi4_timeout_s": 600,
                  "dft_chunk_size": 50}


def _predict(tmp_path: Path, reference: Path, methods: list[str]) -> dict[str, Path]:
    from virialff.model.predictor import Predictor

    model = tmp_path / "total.pt"
    if "virialff" in methods and not model.exists():
        Predictor.untrained().save(model)
    out = {}
    for method in methods:
        out[method] = tmp_path / "predictions" / f"{method}.csv"
        out[method].parent.mkdir(exist_ok=True)
        _run_script("run_benchmark_method.py",
                    input={"systems": str(reference),
                           **({"model": str(model)} if method == "virialff" else {})},
                    output={"predictions": str(out[method])},
                    params={"benchmark": "conformers", "method": method, "data_dir": None,
                            **({"geometry": GEOMETRY} if method == "gfn2_xtb" else {}),
                            **({"ani_model": "ANI1x"} if method == "ani1x" else {})},
                    resources={**XTB_RESOURCES, "device": "cpu"},
                    log=[str(tmp_path / f"{method}.log")])
    return out


@pytest.mark.slow
@pytest.mark.xtb
@pytest.mark.psi4
@pytest.mark.skipif(not (HAS_XTB and HAS_PSI4), reason="xtb and psi4 needed")
def test_benchmark_scripts_use_unseen_molecules_and_record_where_they_came_from(tmp_path):
    from virialff.formats.molecules_csv import write_molecules_csv

    rows = [{"molecule_id": mid, "name": mid, "smiles": smiles,
             "canonical_key": canonical_key(smiles), "chembl_id": "", "conf_id": "",
             "n_heavy_atoms": Chem.MolFromSmiles(smiles).GetNumHeavyAtoms(), "split": split,
             "shard": "shard00000", "source": "demo", "source_path": ""}
            for mid, smiles, split in DATASET]
    molecules_csv = write_molecules_csv(rows, tmp_path / "molecules.csv")
    settings = _conformer_settings(n_molecules=3, min_heavy_atoms=3, max_heavy_atoms=5,
                                   min_rotatable_bonds=1, min_conformers=2, max_conformers=3,
                                   n_embed=8, crest_executable="no-crest-here")
    conformers = tmp_path / "conformers.json"
    _run_script("run_conformer_search.py", input={"molecules": str(molecules_csv)},
                output={"conformers": str(conformers), "status": str(tmp_path / "s.csv")},
                params={"conformers": settings, "geometry": GEOMETRY,
                        "elements": CONFIG["filters"]["elements"], "seed": CONFIG["seed"]},
                resources=XTB_RESOURCES, log=[str(tmp_path / "search.log")])
    searched = json.loads(conformers.read_text())
    assert searched["metadata"]["source"] == "test_split"
    assert searched["metadata"]["split"] == "test"
    assert searched["metadata"]["seen_in_training"] == ["m_butanol_again", "m_r_butan2ol"]
    assert searched["molecules"], "no test molecule reached two conformers"
    trained = {canonical_key(s) for _, s, split in DATASET if split in ("train", "val")}
    for molecule in searched["molecules"]:
        assert molecule["split"] == "test" and molecule["source"] == "test_split"
        assert canonical_key(molecule["smiles"]) not in trained

    dft, reference = tmp_path / "dft.csv", tmp_path / "reference_conformers.json"
    _run_script("run_conformer_dft.py", input={"conformers": str(conformers)},
                output={"dft": str(dft), "reference": str(reference)},
                params={"descriptors": CHEAP_DFT, "conformers": settings},
                resources=PSI4_RESOURCES, log=[str(tmp_path / "dft.log")])
    at_reference = json.loads(reference.read_text())
    assert at_reference["metadata"]["geometry"] == "GFN2-xTB"
    assert at_reference["metadata"]["n_merged_after_dft"] == 0
    for before, after in zip(searched["molecules"], at_reference["molecules"], strict=True):
        for c_before, c_after in zip(before["conformers"], after["conformers"], strict=True):
            assert c_after["positions_angstrom"] == c_before["positions_angstrom"]

    methods = ["virialff", "gfn2_xtb", "ani1x", "mmff94"]  # virialff: an untrained model
    predictions = _predict(tmp_path, reference, methods)
    metrics = tmp_path / "metrics.json"
    _run_script("run_conformer_metrics.py",
                input={"conformers": str(conformers), "reference": str(reference),
                       "dft": str(dft), "predictions": [str(predictions[m]) for m in methods]},
                output={"relative": str(tmp_path / "relative.csv"), "metrics": str(metrics)},
                params={"methods": methods, "run_name": "t", "data_scale": "demo",
                        "dft_method": "hf/sto-3g"},
                log=[str(tmp_path / "metrics.log")])
    result = json.loads(metrics.read_text())
    assert result["source"] == "test_split" and result["split"] == "test"
    assert result["n_seen_in_training"] == 2
    assert {m["split"] for m in result["molecules"]} == {"test"}
    n_with_sulfur = sum("S" in m["symbols"] for m in at_reference["molecules"])
    ani = result["methods"]["ani1x"]
    assert ani["available"] is True
    assert ani["n_molecules_not_covered"] == n_with_sulfur
    for method in ("virialff", "gfn2_xtb", "mmff94"):
        assert result["methods"][method]["available"] is True
        assert result["methods"][method]["n"] > 0
        assert result["methods"][method].get("n_molecules_not_covered", 0) == 0


def _propanol_conformers() -> dict:
    """conformers.json with 1-propanol: C-C-C-O anti, gauche, and a displaced copy of anti."""
    mol, positions = _conformers("CCCO", 1, seed=5)
    geometries = []
    for dihedral in (180.0, 60.0):
        conf = Chem.Conformer(mol.GetConformer())
        rdMolTransforms.SetDihedralDeg(conf, 0, 1, 2, 3, dihedral)
        geometries.append(conf.GetPositions())
    noise = np.random.default_rng(1).normal(scale=0.03, size=geometries[0].shape)
    geometries.append(geometries[0] + noise)
    return {"metadata": {"engine": "test", "source": "test_split", "split": "test",
                         "n_seen_in_training": 0},
            "molecules": [{"molecule_id": "propanol", "name": "1-propanol", "smiles": "CCCO",
                           "canonical_key": canonical_key("CCCO"), "source": "test_split",
                           "split": "test", "counts": {},
                           "symbols": [a.GetSymbol() for a in mol.GetAtoms()],
                           "conformers": [{"conformer_id": f"propanol_c{k:02d}",
                                           "positions_angstrom": p.tolist(),
                                           "xtb_energy_hartree": 0.0}
                                          for k, p in enumerate(geometries)]}]}


@pytest.mark.slow
@pytest.mark.psi4
@pytest.mark.skipif(not HAS_PSI4, reason="psi4 not on PATH")
def test_after_a_dft_optimisation_every_method_sees_the_optimised_merged_conformers(tmp_path):
    from virialff.evaluate.baselines.mmff94 import MMFF94
    from virialff.evaluate.conformers import mol_for

    conformers = tmp_path / "conformers.json"
    payload = _propanol_conformers()
    conformers.write_text(json.dumps(payload))
    settings = _conformer_settings(dft_optimize=True, rmsd_threshold_angstrom=0.125)
    dft, reference = tmp_path / "dft.csv", tmp_path / "reference_conformers.json"
    _run_script("run_conformer_dft.py", input={"conformers": str(conformers)},
                output={"dft": str(dft), "reference": str(reference)},
                params={"descriptors": CHEAP_DFT, "conformers": settings},
                resources=PSI4_RESOURCES, log=[str(tmp_path / "dft.log")])
    table = pd.read_csv(dft)
    at_reference = json.loads(reference.read_text())
    meta = at_reference["metadata"]
    assert meta["geometry"] == "hf/sto-3g optimised"
    assert meta["n_merged_after_dft"] == 1  # the displaced copy of anti
    assert list(table["status"]) == ["ok", "ok", "merged"]
    kept = at_reference["molecules"][0]["conformers"]
    assert [c["conformer_id"] for c in kept] == ["propanol_c00", "propanol_c01"]

    mmff = pd.read_csv(_predict(tmp_path, reference, ["mmff94"])["mmff94"])
    for conformer, start in zip(kept, payload["molecules"][0]["conformers"], strict=False):
        optimised = np.asarray(conformer["positions_angstrom"])
        assert np.abs(optimised - np.asarray(start["positions_angstrom"])).max() > 0.01
        expected = MMFF94().energies([mol_for("CCCO", optimised)])[0]
        row = mmff[mmff["conformer_id"] == conformer["conformer_id"]].iloc[0]
        assert row["energy_kcal_mol"] == pytest.approx(expected, abs=1e-9)


def test_the_model_is_evaluated_in_float64(tmp_path):
    import torch

    from virialff.evaluate.baselines import make_baseline
    from virialff.model.predictor import Predictor

    Predictor.untrained().save(tmp_path / "total.pt")
    baseline = make_baseline("virialff", model_path=tmp_path / "total.pt")
    assert baseline.available() == (True, "")
    assert baseline.predictor.dtype == torch.float64
    assert {p.dtype for p in baseline.predictor.model.parameters()} == {torch.float64}


def test_fig10_counts_molecules_ani1x_does_not_cover():
    from virialff.evaluate.metrics import method_entry
    from virialff.plots.evaluation import draw_conformers

    covering = ("virialff", "gfn2_xtb", "mmff94", "gaff2", "gbffs")
    relative = pd.DataFrame({
        "molecule_id": ["propanol"] * 2 * len(covering),
        "conformer_id": ["a", "b"] * len(covering),
        "method": [m for m in covering for _ in range(2)],
        "relative_energy_kcal_mol": [0.0, 0.4] * len(covering),
        "dft_relative_energy_kcal_mol": [0.0, 0.5] * len(covering),
    })
    entry = {m: method_entry(True, "", [0.0, 0.4], [0.0, 0.5]) for m in covering}
    entry["ani1x"] = method_entry(True, "", [], [], n_molecules_not_covered=2,
                                  n_conformers_not_covered=7)
    metrics = {"methods": entry, "run_name": "t", "data_scale": "demo", "n_molecules": 2,
               "n_conformers": 9, "split": "test", "source": "test_split",
               "geometry": "GFN2-xTB", "engine": "rdkit-etkdg+gfn2-xtb"}
    fig = draw_conformers(relative, metrics)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "2 of 2 molecules (7 conformers)\nnot covered by ANI-1x" in texts
    assert not any("not available" in t for t in texts)
    assert "from the test split (none in training)" in fig.texts[0].get_text()
