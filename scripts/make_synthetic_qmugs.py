"""Write a synthetic QMugs-format tree, to test the workflow's scaling without the download.

    python scripts/make_synthetic_qmugs.py /tmp/qmugs-synthetic --molecules 300000

writes ``<root>/summary.csv`` and ``<root>/structures/CHEMBL<n>/conf_XX.sdf`` the way QMugs
lays them out (Isert et al., Sci. Data 9, 273, 2022; see virialff.data.qmugs), so that
``qmugs.root: <root>`` in a config makes the workflow index, shard and plan a QMugs-sized
run. The structures are a handful of small real molecules (RDKit ETKDG + MMFF94 geometries,
fixed seed) repeated under made-up CHEMBL ids with made-up energies: good for dry runs and
I/O tests, meaningless as chemistry. Generated on demand, never committed.

``--summary-only`` skips the SDF files: the DAG is built from summary.csv alone (no SDF is
opened while Snakemake plans), so a dry run needs nothing else and the tree is written in
seconds instead of a minute.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

# Small neutral closed-shell molecules over the paper's elements; name, SMILES.
TEMPLATES = (
    ("ethanol", "CCO"),
    ("acetamide", "CC(N)=O"),
    ("fluorobenzene", "Fc1ccccc1"),
    ("thiophene", "c1ccsc1"),
    ("chloroacetone", "CC(=O)CCl"),
    ("bromoethane", "CCBr"),
    ("trimethyl phosphate", "COP(=O)(OC)OC"),
    ("pyridine", "c1ccncc1"),
)
# Rough GFN2 and DFT total energies (Hartree) per heavy atom, only to make plausible numbers.
HARTREE_PER_HEAVY_ATOM = {"C": -38.0, "N": -54.6, "O": -75.1, "F": -99.7, "S": -398.1,
                          "Cl": -460.2, "Br": -2574.0, "P": -341.3}


def template_blocks(seed: int) -> list[tuple[str, str, int, float]]:
    """(SMILES, mol block with explicit H, heavy atoms, base DFT energy) per template."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    blocks = []
    for _, smiles in TEMPLATES:
        mol = Chem.AddHs(Chem.MolFromSmiles(smiles))
        params = AllChem.ETKDGv3()
        params.randomSeed = seed
        if AllChem.EmbedMolecule(mol, params) != 0:
            raise RuntimeError(f"RDKit could not embed {smiles}")
        AllChem.MMFFOptimizeMolecule(mol)
        heavy = [atom.GetSymbol() for atom in mol.GetAtoms() if atom.GetAtomicNum() > 1]
        energy = sum(HARTREE_PER_HEAVY_ATOM[s] for s in heavy) - 0.5 * mol.GetNumAtoms()
        blocks.append((smiles, Chem.MolToMolBlock(mol), len(heavy), energy))
    return blocks


def sdf_text(block: str, chembl_id: str, conf_id: str, tags: dict[str, float]) -> str:
    lines = block.splitlines()
    lines[0] = f"{chembl_id}_{conf_id}"  # title line, as QMugs names its records
    out = ["\n".join(lines)]
    for name, value in (("CHEMBL_ID", chembl_id), ("CONF_ID", conf_id), *tags.items()):
        out.append(f">  <{name}>\n{value}\n")
    return "\n".join(out) + "\n$$$$\n"


def write_tree(root: Path, molecules: int, conformers: int, seed: int, sdf: bool) -> dict:
    rng = random.Random(seed)
    templates = template_blocks(seed)
    root.mkdir(parents=True, exist_ok=True)
    structures = root / "structures"
    started = time.monotonic()
    n_files = 0
    with open(root / "summary.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["chembl_id", "conf_id", "smiles", "heavy_atoms", "atoms",
                         "GFN2_TOTAL_ENERGY", "DFT_TOTAL_ENERGY"])
        for index in range(molecules):
            # Real ChEMBL ids are sparse integers; any unique ones will do here.
            chembl_id = f"CHEMBL{1000 + 7 * index}"
            smiles, block, heavy, base = templates[index % len(templates)]
            n_atoms = int(block.splitlines()[3][:3])
            folder = structures / chembl_id
            if sdf:
                folder.mkdir(parents=True, exist_ok=True)
            for conf in range(conformers):
                conf_id = f"conf_{conf:02d}"
                dft = base + rng.uniform(-0.01, 0.01)
                gfn2 = dft / 7.0  # GFN2 totals are a different scale; the ratio is arbitrary
                writer.writerow([chembl_id, conf_id, smiles, heavy, n_atoms,
                                 f"{gfn2:.8f}", f"{dft:.8f}"])
                if sdf:
                    tags = {"GFN2:TOTAL_ENERGY": f"{gfn2:.8f}", "DFT:TOTAL_ENERGY": f"{dft:.8f}"}
                    (folder / f"{conf_id}.sdf").write_text(sdf_text(block, chembl_id, conf_id,
                                                                    tags))
                    n_files += 1
    return {"root": str(root), "molecules": molecules, "conformers_per_molecule": conformers,
            "sdf_files": n_files, "wall_s": round(time.monotonic() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder to write (created)")
    parser.add_argument("--molecules", type=int, default=300_000,
                        help="number of molecules (default: 300000, QMugs-subset scale)")
    parser.add_argument("--conformers", type=int, default=1,
                        help="conformers per molecule (QMugs has 3; default 1)")
    parser.add_argument("--seed", type=int, default=20260708)
    parser.add_argument("--summary-only", action="store_true",
                        help="write summary.csv only, no SDF files")
    args = parser.parse_args(argv)
    if args.molecules < 1 or args.conformers < 1:
        parser.error("--molecules and --conformers must be >= 1")
    if (args.root / "summary.csv").exists():
        print(f"{args.root}/summary.csv exists; writing over it", file=sys.stderr)
    info = write_tree(args.root, args.molecules, args.conformers, args.seed,
                      sdf=not args.summary_only)
    print(f"wrote {info['molecules']} molecules x {info['conformers_per_molecule']} conformers "
          f"({info['sdf_files']} SDF files) under {info['root']} in {info['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
