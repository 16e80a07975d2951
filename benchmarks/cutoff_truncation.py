"""How much the intermolecular cutoff changes S66 and base-pair interaction energies.

For every complex of ``data/benchmarks/s66/`` (66 dimers) and ``data/benchmarks/base_pairs/``
(A–T, G–C) and every cutoff r_c (switch from r_c − 1.5 Å), prints the largest
|ΔE_int| = |E_int(r_c) − E_int(no cutoff)| in kcal/mol, with E_int = E_A + E_B − E_AB.

Only pairs between molecules feel the cutoff; a monomer has none, so E_A and E_B do not
change and ΔE_int = −ΔE_AB, computed from one parametrisation of each complex.

Models (each row of the table):

- ``untrained``: ``Predictor.untrained()`` as initialised (charges ~1e-3 e, tiny C0/C1);
- ``random heads``: the same network with O(1) random last layers (charges ~0.5 e, molecules
  carry net charges of ~1 e): a stress test of the Coulomb tail, not a physical model;
- ``random heads, neutral``: the same with charges made neutral per molecule (dipolar tails);
- ``results/models/total.pt`` when it exists, and any ``--model`` files.

The default cutoff passes when every physical model (untrained, trained) stays below
0.01 kcal/mol; the stress-test rows show what a model with large charges would lose.

    python benchmarks/cutoff_truncation.py [--model M] [--cutoffs 6 8 10 12 14] [--output F]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from virialff.forcefield.paper_system import (  # noqa: E402
    DEFAULT_CUTOFF_ANGSTROM,
    DEFAULT_SWITCH_WIDTH_ANGSTROM,
)
from virialff.model.potential_model import SMALL_MODEL_CONFIG  # noqa: E402
from virialff.model.predictor import Predictor, load_model, read_xyz  # noqa: E402

GOAL_KCAL_MOL = 0.01
CUTOFFS_ANGSTROM = (6.0, 8.0, 10.0, 12.0, 14.0, 16.0)


def benchmark_complexes() -> list:
    """(name, RDKit Mol) of every S66 dimer and base pair, bonds perceived by RDKit."""
    paths = sorted((REPO / "data" / "benchmarks" / "s66" / "geometries").glob("S66-*.xyz"))
    paths += sorted((REPO / "data" / "benchmarks" / "base_pairs").glob("*.xyz"))
    complexes = []
    for path in paths:
        (mol,) = read_xyz(path)
        complexes.append((path.stem, mol))
    return complexes


def random_heads(neutral: bool) -> Predictor:
    """Untrained network whose last layers are O(1) random (see module docstring)."""
    config = copy.deepcopy(SMALL_MODEL_CONFIG)
    config["potential"]["neutral_charges"] = neutral
    predictor = Predictor.untrained("total", model_config=config, seed=3).astype(torch.float64)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for layer in (predictor.model.charge_net[-1], predictor.model.feats_net.rest[-1]):
            layer.weight.copy_(0.5 * torch.randn(layer.weight.shape, generator=generator))
    return predictor


def models(extra: list[str]) -> list[tuple[str, Predictor, bool]]:
    """(label, predictor, physical?) to measure."""
    found = [
        ("untrained", Predictor.untrained("total").astype(torch.float64), True),
        ("random heads (stress test)", random_heads(neutral=False), False),
        ("random heads, neutral (stress test)", random_heads(neutral=True), False),
    ]
    paths = list(extra)
    default = REPO / "results" / "models" / "total.pt"
    if default.exists() and str(default) not in paths:
        paths.insert(0, str(default))
    for path in paths:
        found.append((path, load_model(path, device="cpu").astype(torch.float64), True))
    return found


def truncation_errors(
    predictor: Predictor, complexes: list, cutoffs: tuple[float, ...]
) -> tuple[dict[float, dict], list[int]]:
    """Largest |ΔE_int| (kcal/mol) and where, per cutoff; and the number of atom types."""
    worst = {c: {"max_abs_delta_kcal_mol": 0.0, "system": None} for c in cutoffs}
    n_types = []
    for name, mol in complexes:
        system = predictor.parametrize(mol, cutoff_angstrom=None)
        n_types.append(system.n_types)
        x = mol.GetConformer().GetPositions()
        reference = system.energy_kcal_mol(x)
        for cutoff in cutoffs:
            delta = -(system.with_cutoff(cutoff).energy_kcal_mol(x) - reference)
            if abs(delta) >= worst[cutoff]["max_abs_delta_kcal_mol"]:
                worst[cutoff] = {"max_abs_delta_kcal_mol": abs(delta), "system": name}
    return worst, n_types


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], help="extra model file(s)")
    parser.add_argument("--cutoffs", type=float, nargs="+", default=list(CUTOFFS_ANGSTROM))
    parser.add_argument("--output", help="JSON file to write")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cutoffs = tuple(sorted(set(args.cutoffs) | {DEFAULT_CUTOFF_ANGSTROM}))
    complexes = benchmark_complexes()
    largest = max(
        np.linalg.norm((x := mol.GetConformer().GetPositions())[:, None] - x[None], axis=-1)[
            np.subtract.outer(frag := _fragments(mol), frag) != 0
        ].max()
        for _, mol in complexes
    )
    print(
        f"{len(complexes)} complexes; largest intermolecular distance {largest:.2f} Å; "
        f"switch from r_c − {DEFAULT_SWITCH_WIDTH_ANGSTROM} Å\n"
    )
    header = "| model | " + " | ".join(f"r_c = {c:g} Å" for c in cutoffs) + " |"
    print("max |ΔE_int| (kcal/mol) over S66 and base pairs against no cutoff\n")
    print(header)
    print("|---|" + "---|" * len(cutoffs))
    report = {"cutoffs_angstrom": cutoffs, "goal_kcal_mol": GOAL_KCAL_MOL, "models": {}}
    type_counts = None
    for label, predictor, physical in models(args.model):
        worst, n_types = truncation_errors(predictor, complexes, cutoffs)
        type_counts = type_counts or n_types
        cells = [
            f"{worst[c]['max_abs_delta_kcal_mol']:.2g} ({worst[c]['system']})" for c in cutoffs
        ]
        print(f"| {label} | " + " | ".join(cells) + " |")
        report["models"][label] = {
            "physical": physical,
            "per_cutoff": {str(c): worst[c] for c in cutoffs},
            "passing_cutoffs": [
                c for c in cutoffs if worst[c]["max_abs_delta_kcal_mol"] < GOAL_KCAL_MOL
            ],
        }
    physical = [m for m in report["models"].values() if m["physical"]]
    passing = sorted(set.intersection(*(set(m["passing_cutoffs"]) for m in physical)))
    default_ok = DEFAULT_CUTOFF_ANGSTROM in passing
    print(
        f"\ncutoffs with max |ΔE_int| < {GOAL_KCAL_MOL} kcal/mol for every physical model: "
        f"{', '.join(f'{c:g}' for c in passing) or 'none'} Å; default r_c = "
        f"{DEFAULT_CUTOFF_ANGSTROM:g} Å: {'pass' if default_ok else 'FAIL'}"
    )
    counts = np.array(type_counts[:-2])
    print(
        f"atom types per S66 dimer: min {counts.min()}, median {np.median(counts):g}, "
        f"max {counts.max()}; base pairs: {type_counts[-2]} (A-T), {type_counts[-1]} (G-C) "
        "(untrained model)"
    )
    report["default_cutoff_passes"] = default_ok
    report["largest_intermolecular_distance_angstrom"] = float(largest)
    report["atom_types_untrained"] = dict(
        zip([name for name, _ in complexes], type_counts, strict=True)
    )
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n")
    return 0 if default_ok else 1


def _fragments(mol) -> np.ndarray:  # noqa: ANN001
    from rdkit import Chem

    labels = np.zeros(mol.GetNumAtoms(), dtype=int)
    for number, atoms in enumerate(Chem.GetMolFrags(mol)):
        labels[list(atoms)] = number
    return labels


if __name__ == "__main__":
    sys.exit(main())
