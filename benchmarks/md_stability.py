"""Is a virialff model usable for geometry optimisation and MD? Minima vs GFN2-xTB, 1 ps at 300 K.

For every molecule:

1. the GFN2-xTB minimum: from ``results/geometries/*.sdf`` for the test molecules of
   ``results/dataset/split.json`` when the workflow has run, else ``xtb --opt`` on an RDKit
   conformer of a bundled list of drug-like molecules;
2. a virialff minimum: ASE BFGS (fmax 0.01 eV/Å, ≤ 2,000 steps) started at the xtb minimum,
   with :class:`virialff.ase.VirialFFCalculator`; reported: the largest force at the start
   (a model whose force there is already below fmax is flat, and its RMSD of 0 proves
   nothing), the steps, and the all-atom RMSD to the xtb minimum after optimal superposition
   (Kabsch). Goal: ≤ 0.1 Å;
3. 1 ps of Langevin dynamics at 300 K (0.5 fs steps, friction 0.01/fs) from the virialff
   minimum: the largest change of any covalent bond length from that minimum (a bond
   that stretches by more than 0.5 Å is reported broken).

The script prints what it finds, good or bad; a model with nearly flat bonded curves (the
untrained or demo model) drifts apart in MD, and the table says so.

    python benchmarks/md_stability.py [--model results/models/total.pt] [--max-molecules 5]
        [--output results/benchmarks/md_stability.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

RMSD_GOAL_ANGSTROM = 0.1
FMAX_EV_ANGSTROM = 0.01
BROKEN_BOND_ANGSTROM = 0.5
BUNDLED = {
    "aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "caffeine": "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "lidocaine": "CCN(CC)CC(=O)Nc1c(C)cccc1C",
}


def kabsch_rmsd(first: np.ndarray, second: np.ndarray) -> float:
    """RMSD (Å) of two [A, 3] geometries of the same atoms after optimal rotation."""
    a = first - first.mean(axis=0)
    b = second - second.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    sign = np.sign(np.linalg.det(u @ vt))
    rotation = u @ np.diag([1.0, 1.0, sign]) @ vt
    return float(np.sqrt(((a @ rotation - b) ** 2).sum(axis=1).mean()))


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


def study(predictor, name: str, mol, seed: int) -> dict:  # noqa: ANN001
    from ase import units
    from ase.constraints import FixCom
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import Stationary, ZeroRotation, thermalize_momenta
    from ase.optimize import BFGS

    from virialff.ase import EV_PER_KCAL_MOL, VirialFFCalculator, atoms_from_rdkit

    reference = mol.GetConformer().GetPositions()
    atoms = atoms_from_rdkit(mol)
    calculator = VirialFFCalculator(predictor, mol)
    atoms.calc = calculator
    start_force = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
    optimiser = BFGS(atoms, logfile=None)
    t0 = time.perf_counter()
    optimise_error = None
    try:
        converged = bool(optimiser.run(fmax=FMAX_EV_ANGSTROM, steps=2000))
    except ValueError as error:  # the model pulled two atoms onto each other
        converged, optimise_error = False, str(error)
    optimise_s = time.perf_counter() - t0
    rmsd = float("nan") if optimise_error else kabsch_rmsd(atoms.positions, reference)
    if optimise_error:  # the MD then starts from the GFN2-xTB minimum
        atoms.positions = reference
    minimum = atoms.positions.copy()

    bonds = calculator.system.bond_index
    rest = np.linalg.norm(minimum[bonds[0]] - minimum[bonds[1]], axis=1)
    thermalize_momenta(atoms, 300.0, rng=np.random.default_rng(seed))
    Stationary(atoms)
    ZeroRotation(atoms)
    atoms.set_constraint(FixCom())
    dynamics = Langevin(
        atoms,
        0.5 * units.fs,
        temperature_K=300.0,
        friction=0.01 / units.fs,
        fixcm=False,
        rng=np.random.default_rng(seed + 1),
    )
    largest = np.zeros(bonds.shape[1])

    def record() -> None:
        lengths = np.linalg.norm(atoms.positions[bonds[0]] - atoms.positions[bonds[1]], axis=1)
        np.maximum(largest, np.abs(lengths - rest), out=largest)

    dynamics.attach(record, interval=10)
    t0 = time.perf_counter()
    md_error = None
    try:
        dynamics.run(2000)
    except ValueError as error:  # e.g. atoms collapsing onto each other
        md_error = str(error)
    md_s = time.perf_counter() - t0
    worst = int(np.argmax(largest))
    symbols = atoms.get_chemical_symbols()
    i, j = bonds[:, worst]
    return {
        "molecule": name,
        "n_atoms": len(atoms),
        "start_max_force_kcal_mol_angstrom": start_force / EV_PER_KCAL_MOL,
        "flat_at_xtb_minimum": start_force < FMAX_EV_ANGSTROM,
        "bfgs_converged": converged,
        "bfgs_steps": optimiser.nsteps,
        "optimise_s": optimise_s,
        "optimise_error": optimise_error,
        "rmsd_to_xtb_angstrom": rmsd,
        "rmsd_goal_met": bool(rmsd <= RMSD_GOAL_ANGSTROM and not start_force < FMAX_EV_ANGSTROM),
        "md_max_bond_change_angstrom": float(largest[worst]),
        "md_worst_bond": f"{symbols[i]}{i}-{symbols[j]}{j}",
        "md_broken_bonds": int((largest > BROKEN_BOND_ANGSTROM).sum()),
        "md_error": md_error,
        "md_s": md_s,
    }


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
    rows = [study(predictor, name, mol, args.seed) for name, mol in molecules]
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
            json.dumps({"model": model_name, "source": source, "molecules": rows}, indent=1) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
