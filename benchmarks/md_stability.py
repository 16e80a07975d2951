"""Is a virialff model usable for geometry optimisation and MD? Minima vs GFN2-xTB, 1 ps at 300 K.

For every molecule (the GFN2-xTB minimum: from ``results/geometries/*.sdf`` for the test
molecules of ``results/dataset/split.json`` when the workflow has run, else ``xtb --opt`` on an
RDKit conformer of a bundled list of drug-like molecules), the study of
:mod:`virialff.evaluate.simulation`: ASE BFGS from the xtb minimum (RMSD goal ≤ 0.1 Å) and 1 ps
of Langevin dynamics at 300 K (largest covalent bond change; > 0.5 Å counts as broken). The
workflow runs the same study as the rule ``simulation_stability``
(``results/metrics/simulation.json``); this script also works without a finished run.

The script prints what it finds, good or bad; a model with nearly flat bonded curves (the
untrained or demo model) drifts apart in MD, and the table says so.

    python benchmarks/md_stability.py [--model results/models/total.pt] [--max-molecules 5]
        [--output results/benchmarks/md_stability.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from virialff.evaluate.simulation import (  # noqa: E402
    RMSD_GOAL_ANGSTROM,
    json_ready,
    study_molecule,
    summarize,
)

#: the workflow's defaults (schemas/config.schema.yaml, evaluation.simulation).
SETTINGS = {"md_time_ps": 1.0, "temperature_k": 300.0, "timestep_fs": 0.5}

BUNDLED = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "lidocaine": "CCN(CC)CC(=O)Nc1c(C)cccc1C",
}


def workflow_molecules(limit: int) -> list[tuple[str, object]]:
    """(id, RDKit Mol at its GFN2-xTB minimum) of test-split molecules, if the workflow ran."""
    from rdkit import Chem

    split = REPO / "results" / "dataset" / "split.json"
    shards = sorted((REPO / "results" / "geometries").glob("*.sdf"))
    if not split.exists() or not shards:
        return []
    wanted = set(json.loads(split.read_text()).get("test", []))
    found = []
    for shard in shards:
        for mol in Chem.SDMolSupplier(str(shard), removeHs=False):
            if mol is None:
                continue
            name = (
                mol.GetProp("molecule_id") if mol.HasProp("molecule_id") else mol.GetProp("_Name")
            )
            if name in wanted:
                found.append((name, mol))
                if len(found) >= limit:
                    return found
    return found


def bundled_molecules(limit: int) -> list[tuple[str, object]]:
    """(name, RDKit Mol at its GFN2-xTB minimum) of the bundled list, optimised with xtb now."""
    from rdkit import Chem
    from rdkit.Chem import AllChem
    from rdkit.Geometry import Point3D

    from virialff.qc.xtb import XtbSettings, optimize

    settings = XtbSettings(
        executable="xtb", gfn=2, optimization_level="normal", threads=1, timeout_s=600.0
    )
    found = []
    for name, smiles in list(BUNDLED.items())[:limit]:
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        params = AllChem.ETKDGv3()
        params.randomSeed = 7
        AllChem.EmbedMolecule(mol, params)
        symbols = [a.GetSymbol() for a in mol.GetAtoms()]
        positions, _ = optimize(
            symbols, mol.GetConformer().GetPositions(), settings=settings, molecule_id=name
        )
        conformer = mol.GetConformer()
        for index, (x, y, z) in enumerate(positions):
            conformer.SetAtomPosition(index, Point3D(float(x), float(y), float(z)))
        mol.SetProp("_Name", name)
        found.append((name, mol))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="stage-2 total model (default results/models/total.pt)")
    parser.add_argument("--max-molecules", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", help="JSON file to write")
    args = parser.parse_args(argv)

    import torch

    from virialff.model.predictor import Predictor, load_model

    torch.set_num_threads(1)
    default = REPO / "results" / "models" / "total.pt"
    if args.model or default.exists():
        model_name = args.model or str(default)
        predictor = load_model(model_name, device="cpu")
    else:
        model_name = "untrained (no results/models/total.pt)"
        predictor = Predictor.untrained("total")
    molecules = workflow_molecules(args.max_molecules)
    source = "test split of results/dataset (GFN2-xTB geometries of results/geometries)"
    if not molecules:
        source = "bundled list, GFN2-xTB optimised now"
        molecules = bundled_molecules(args.max_molecules)
    print(f"model: {model_name}\nmolecules: {source}\n")
    rows = [study_molecule(predictor, name, mol, SETTINGS, args.seed) for name, mol in molecules]
    print(
        "| molecule | atoms | max force at xtb minimum (kcal/mol/Å) | BFGS steps "
        "| RMSD to xtb (Å) | ≤ 0.1 Å | 1 ps 300 K: max bond change (Å) | broken bonds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        goal = "flat" if r["flat_at_xtb_minimum"] else ("yes" if r["rmsd_goal_met"] else "no")
        steps = f"{r['bfgs_steps']}" + ("" if r["bfgs_converged"] else " (not converged)")
        md = f"{r['md_max_bond_change_angstrom']:.3f} ({r['md_worst_bond']})"
        if r["md_error"]:
            md += f"; stopped: {r['md_error']}"
        print(
            f"| {r['molecule']} | {r['n_atoms']} | {r['start_max_force_kcal_mol_angstrom']:.3g} "
            f"| {steps} | {r['rmsd_to_xtb_angstrom']:.3f} | {goal} | {md} "
            f"| {r['md_broken_bonds']} |"
        )
    met = sum(r["rmsd_goal_met"] for r in rows)
    flat = sum(r["flat_at_xtb_minimum"] for r in rows)
    print(
        f"\nRMSD ≤ {RMSD_GOAL_ANGSTROM} Å for {met} of {len(rows)} molecules"
        + (f"; {flat} flat at the xtb minimum (no evidence either way)" if flat else "")
        + f"; largest bond change in MD {max(r['md_max_bond_change_angstrom'] for r in rows):.3f} Å"
    )
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(
            json.dumps(
                json_ready(
                    {
                        "model": model_name,
                        "source": source,
                        "summary": summarize(rows),
                        "molecules": rows,
                    }
                ),
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
