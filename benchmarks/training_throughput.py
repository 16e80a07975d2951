"""Training throughput (molecules/second) of stage 1 and stage 2 at the paper's network sizes.

Real molecules (the demo set, or a built-in list of drug-sized molecules closer to QMugs) are
embedded once with RDKit and replicated to ``--n-molecules`` (≥ 10,000) in one collated batch;
training steps (forward, backward, Adam) are timed on mini-batches cut from it exactly as in
training (:func:`virialff.chem.graph.select_molecules`). The CPU run is bounded by a number of
batches and a time limit; on CUDA more batches are timed after a warm-up.

For a GPU the script projects the wall time of stage 2 at paper scale
(227,613 training molecules × 400 epochs) from the drug-sized throughput, against the
3-hour goal.

    python benchmarks/training_throughput.py --output results/benchmarks/training_throughput.json
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from virialff.chem.graph import collate, graph_from_rdkit, select_molecules  # noqa: E402
from virialff.model.embedding import KineticDecompositionModel  # noqa: E402
from virialff.model.potential_model import build_potential_model, fragment_labels  # noqa: E402
from virialff.train.data import ATOM_INDEX_KEY, FRAGMENT_KEY  # noqa: E402
from virialff.train.stages import (  # noqa: E402
    cached_embeddings,
    embedding_errors,
    potential_errors,
)

PAPER_TRAIN_MOLECULES = 227_613
PAPER_EPOCHS = 400
GOAL_HOURS = 3.0
PAPER_SIZES = {
    "embedding": {
        "message_passing_steps": 4,
        "hidden_width": 350,
        "atom_head_layers": 3,
        "atom_head_width": 160,
        "edge_head_layers": 4,
        "edge_head_width": 199,
    },
    "potential": {
        "charge_net_layers": 3,
        "charge_net_width": 128,
        "feats_net_layers": 3,
        "feats_net_width": 256,
    },
}
#: well-known drugs of 13-35 heavy atoms (QMugs molecules are drug-like, ~30 heavy atoms).
DRUG_SMILES = (
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",  # ibuprofen
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",  # caffeine
    "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",  # diazepam
    "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",  # imatinib
    "CN(C)CCCN1c2ccccc2CCc2ccccc21",  # imipramine
    "O=C(O)Cc1ccccc1Nc1c(Cl)cccc1Cl",  # diclofenac
    "CC(C)NCC(O)COc1cccc2ccccc12",  # propranolol
    "COc1ccc2[nH]cc(CCNC(C)=O)c2c1",  # melatonin
    "CC1=C(C(=O)OC)C(c2cccc([N+](=O)[O-])c2)C(C(=O)OC)=C1C",  # nifedipine-like (neutral form)
    "Clc1ccc(C(c2ccccc2)n2ccnc2)cc1",  # clotrimazole-like
    "FC(F)(F)c1ccc(OC(CCNC)c2ccccc2)cc1",  # fluoxetine
)


def molecule_graphs(kind: str) -> list:
    """Featurised RDKit molecules (one ETKDG conformer each) of the chosen set."""
    import pandas as pd
    from rdkit import Chem
    from rdkit.Chem import AllChem

    if kind == "drug":
        smiles = DRUG_SMILES
    else:
        csv = Path(__file__).resolve().parents[1] / "data" / "demo" / "molecules.csv"
        smiles = tuple(pd.read_csv(csv)["smiles"])
    graphs = []
    for index, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi)
        if mol is None:
            continue
        mol = Chem.AddHs(mol)
        params = AllChem.ETKDGv3()
        params.randomSeed = index
        if AllChem.EmbedMolecule(mol, params) != 0:
            continue
        try:
            graph = graph_from_rdkit(mol, f"{kind}_{index}")
        except ValueError:
            continue  # e.g. formally charged groups
        graph.targets = {
            "energy_kcal_mol": np.array([-1000.0 * graph.n_atoms]),
            "kinetic_kcal_mol": np.array([1000.0 * graph.n_atoms]),
        }
        graphs.append(graph)
    return graphs


def replicated_dataset(kind: str, n_molecules: int):  # noqa: ANN201 - GraphBatch
    """One collated batch of ``n_molecules`` copies of the set (with the private atom keys)."""
    base = molecule_graphs(kind)
    graphs = [base[i % len(base)] for i in range(n_molecules)]
    data = collate(graphs)
    n_atoms = int(data.atom_ptr[-1])
    data.atom_targets[ATOM_INDEX_KEY] = torch.arange(n_atoms)
    data.atom_targets[FRAGMENT_KEY] = fragment_labels(data.bond_index, n_atoms)
    sizes = {
        "mean_atoms": float(np.mean([g.n_atoms for g in graphs])),
        "mean_heavy_atoms": float(np.mean([(g.element_index != 0).sum() for g in graphs])),
        "mean_pairs": float(np.mean([g.n_atoms * (g.n_atoms - 1) / 2 for g in graphs])),
    }
    return data, sizes


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(model, errors, n_total, batch_size, device, max_batches, max_seconds, warmup):  # noqa: ANN001, ANN201, PLR0913
    """Molecules/second of training steps on random mini-batches."""
    parameters = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(parameters, lr=1e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()

    def step() -> None:
        indices = torch.randint(0, n_total, (batch_size,), generator=generator)
        optimizer.zero_grad(set_to_none=True)
        errors(indices, True).mean().backward()
        optimizer.step()

    for _ in range(warmup):
        step()
    _sync(device)
    started, done = time.perf_counter(), 0
    while done < max_batches and (done == 0 or time.perf_counter() - started < max_seconds):
        step()
        done += 1
    _sync(device)
    elapsed = time.perf_counter() - started
    return {"batches": done, "seconds": elapsed, "molecules_per_s": done * batch_size / elapsed}


def run(device: torch.device, kind: str, args: argparse.Namespace) -> list[dict]:
    """Stage-1 and stage-2 (pretrained and from-scratch) throughput on one device."""
    data, sizes = replicated_dataset(kind, args.n_molecules)
    on_gpu = device.type == "cuda"
    max_batches = args.gpu_batches if on_gpu else args.cpu_batches
    warmup = 3 if on_gpu else 0
    data = data.to(device)
    rows = []
    torch.manual_seed(0)

    stage1 = KineticDecompositionModel(**PAPER_SIZES["embedding"]).to(device)
    result = time_steps(
        stage1,
        embedding_errors(stage1, data, device),
        data.n_molecules,
        64,
        device,
        max_batches,
        args.max_seconds,
        warmup,
    )
    rows.append({"stage": "1 (embedding)", "batch_size": 64, **result})

    for pretrained in (True, False):
        model = build_potential_model(PAPER_SIZES, "total", pretrained).to(device)
        subset, cache = data, None
        if pretrained:
            # the frozen embeddings are computed once per training run (timed separately); on
            # the CPU only for the molecules the timed batches can draw from
            n_cached = data.n_molecules if on_gpu else min(data.n_molecules, max_batches * 400)
            subset = select_molecules(data, torch.arange(n_cached, device=data.atom_ptr.device))
            _sync(device)
            started = time.perf_counter()
            cache = cached_embeddings(model, subset, device)
            _sync(device)
            cache_rate = n_cached / (time.perf_counter() - started)
        errors = potential_errors(model, subset, device, cache, 0.005, torch.Generator())
        result = time_steps(
            model, errors, subset.n_molecules, 400, device, max_batches, args.max_seconds, warmup
        )
        label = "2 (potential, frozen h)" if pretrained else "2 (potential, from scratch)"
        row = {"stage": label, "batch_size": 400, **result}
        if pretrained:
            row["embedding_cache_molecules_per_s"] = cache_rate
        rows.append(row)
    for row in rows:
        row.update(
            {"device": str(device), "molecules": kind, "n_molecules": data.n_molecules, **sizes}
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-molecules", type=int, default=10_000)
    parser.add_argument("--molecules", choices=["demo", "drug", "both"], default="both")
    parser.add_argument("--cpu-batches", type=int, default=3, help="timed batches per CPU case")
    parser.add_argument("--gpu-batches", type=int, default=30, help="timed batches per GPU case")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit per case")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--device",
        choices=["auto", "cpu", "cuda"],
        default="auto",
        help="auto: CPU, and CUDA when present",
    )
    parser.add_argument("--output", type=Path, default=None, help="JSON file to write")
    args = parser.parse_args(argv)
    if args.n_molecules < 10_000:
        parser.error("--n-molecules must be at least 10,000")
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = []
    if args.device in ("auto", "cpu"):
        devices.append(torch.device("cpu"))
    if args.device in ("auto", "cuda") and torch.cuda.is_available():
        devices.append(torch.device("cuda"))
    kinds = ["demo", "drug"] if args.molecules == "both" else [args.molecules]
    rows = [row for device in devices for kind in kinds for row in run(device, kind, args)]

    header = f"{'device':<7}{'molecules':<10}{'atoms':>7}{'stage':<30}{'batches':>8}{'mol/s':>10}"
    print(header.replace("stage", "  stage"))
    for r in rows:
        print(
            f"{r['device']:<7}{r['molecules']:<10}{r['mean_atoms']:>7.1f}  {r['stage']:<28}"
            f"{r['batches']:>8d}{r['molecules_per_s']:>10.1f}"
        )

    projections = []
    for r in rows:
        if r["stage"].startswith("2 (potential, frozen") and r["molecules"] == "drug":
            hours = PAPER_TRAIN_MOLECULES * PAPER_EPOCHS / r["molecules_per_s"] / 3600.0
            projections.append(
                {
                    "device": r["device"],
                    "stage": r["stage"],
                    "paper_train_molecules": PAPER_TRAIN_MOLECULES,
                    "epochs": PAPER_EPOCHS,
                    "projected_hours": hours,
                    "goal_hours": GOAL_HOURS,
                    "meets_goal": hours <= GOAL_HOURS,
                }
            )
            verdict = "meets" if hours <= GOAL_HOURS else "misses"
            print(
                f"projected stage 2 on {r['device']} at paper scale "
                f"({PAPER_TRAIN_MOLECULES:,} molecules × {PAPER_EPOCHS} epochs, drug-sized "
                f"molecules): {hours:.1f} h, {verdict} the {GOAL_HOURS:.0f}-hour goal"
            )
    needed = PAPER_TRAIN_MOLECULES * PAPER_EPOCHS / (GOAL_HOURS * 3600.0)
    print(
        f"the {GOAL_HOURS:.0f}-hour goal needs {needed:,.0f} molecules/s in stage 2 "
        "(validation and test evaluation not included)"
    )
    if not any(p["device"].startswith("cuda") for p in projections):
        print("no CUDA device here: the paper-scale projection for a GPU needs a run on one")
    report = {
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "cpu_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "paper_sizes": PAPER_SIZES,
        "rows": rows,
        "projections": projections,
        "goal_molecules_per_s": needed,
    }
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
