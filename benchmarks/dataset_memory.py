"""Dataset size and peak training memory per 100,000 QMugs-sized molecules.

The data set stores atoms and bonds only; the atom pairs of each batch are derived when the
batch is cut (:func:`virialff.chem.graph.molecule_pairs`). This benchmark replicates drug-sized
molecules (~37 atoms, as QMugs) to ``--n-molecules``, writes the data set in its real format
(:mod:`virialff.formats.dataset`), and reports:

- bytes per molecule on disk and in memory, with the pairs derived (as stored) and, for
  comparison, with the pair arrays stored;
- the peak resident memory of the process over ``--steps`` stage-2 training steps at the
  paper's network sizes and batch size 400 (dataset in memory, frozen embeddings);

and scales both to 100,000 molecules against the goal of at most 2 GB of data set.

    python benchmarks/dataset_memory.py --output results/benchmarks/dataset_memory.json
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from training_throughput import PAPER_SIZES, replicated_dataset  # noqa: E402

from virialff.chem.graph import select_molecules  # noqa: E402
from virialff.formats.dataset import write_dataset  # noqa: E402
from virialff.model.potential_model import build_potential_model  # noqa: E402
from virialff.train.data import tensor_bytes  # noqa: E402
from virialff.train.stages import potential_errors  # noqa: E402

GOAL_GB_PER_100K = 2.0
PER = 100_000


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB → GB (Linux)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-molecules", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=400)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    data, sizes = replicated_dataset("drug", args.n_molecules)
    with_pairs = tensor_bytes(data)
    stored = data.without_pairs()
    without_pairs = tensor_bytes(stored)
    with tempfile.TemporaryDirectory() as tmp:
        path = write_dataset(Path(tmp) / "dataset.pt", data, {"train": torch.arange(10)})
        file_bytes = path.stat().st_size
    del data
    model = build_potential_model({**PAPER_SIZES, "pretrained_embeddings": True,
                                   "potential": {**PAPER_SIZES["potential"],
                                                 "neutral_charges": False}}, "total", True)
    cache = torch.randn(int(stored.atom_ptr[-1]), PAPER_SIZES["embedding"]["hidden_width"])
    errors = potential_errors(model, stored, torch.device("cpu"), cache, 0.005,
                              torch.Generator().manual_seed(0))
    optimizer = torch.optim.Adam(model.trainable_parameters(), lr=1e-3)
    before = peak_rss_gb()
    start = time.perf_counter()
    for step in range(args.steps):
        chunk = torch.arange(step * args.batch_size, (step + 1) * args.batch_size)
        optimizer.zero_grad(set_to_none=True)
        loss = errors(chunk % stored.n_molecules, True).mean()
        loss.backward()
        optimizer.step()
    elapsed = time.perf_counter() - start
    scale = PER / args.n_molecules
    result = {
        "n_molecules": args.n_molecules, **sizes,
        "dataset_bytes_per_molecule_in_memory": without_pairs / args.n_molecules,
        "dataset_bytes_per_molecule_with_stored_pairs": with_pairs / args.n_molecules,
        "dataset_file_bytes_per_molecule": file_bytes / args.n_molecules,
        "dataset_gb_per_100k_molecules": without_pairs * scale / 1e9,
        "dataset_gb_per_100k_molecules_with_stored_pairs": with_pairs * scale / 1e9,
        "dataset_file_gb_per_100k_molecules": file_bytes * scale / 1e9,
        "goal_gb_per_100k_molecules": GOAL_GB_PER_100K,
        "meets_goal": without_pairs * scale / 1e9 <= GOAL_GB_PER_100K,
        "peak_rss_gb_training": peak_rss_gb(),
        "peak_rss_gb_before_training": before,
        "training_batch_size": args.batch_size,
        "training_steps": args.steps,
        "seconds_per_step_cpu_1_thread": elapsed / args.steps,
        "check_select_molecules_derives_pairs": select_molecules(stored, [0]).pair_index
        is not None,
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text + "\n")
    return result


if __name__ == "__main__":
    main()
