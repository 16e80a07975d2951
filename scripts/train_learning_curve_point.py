"""Snakemake script: one point of the learning curves (rule learning_curve_point).

The wildcard ``p{k}_s{seed}`` picks the k-th of the log-spaced training sizes and the seed of
the subset and of the training. Stage 1 is trained on the subset, then four stage-2 models
(total and kinetic energy, on the frozen stage-1 embeddings and from scratch), each evaluated
on the whole test split.
"""

import json
from pathlib import Path

from virialff.config_keys import EMBEDDING_KEYS
from virialff.evaluate.learning_curve import learning_curve_sizes
from virialff.logs import setup_logging
from virialff.train.data import load_dataset
from virialff.train.evaluate import evaluate_model
from virialff.train.stages import train_embedding, train_potential

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0], threads=snakemake.threads)
p = snakemake.params
index, seed = (int(part[1:]) for part in snakemake.wildcards.lc_point.split("_"))
_, split, meta = load_dataset(snakemake.input.dataset)
n_compounds = len({meta["group_ids"][i] for i in split["train"].tolist()})
lc = p.learning_curve
size = learning_curve_sizes(n_compounds, lc["min_compounds"], lc["n_sizes"])[
    min(index, lc["n_sizes"] - 1)]
work = Path(snakemake.output.points).with_suffix("")
device = snakemake.resources.device
embedding = {**p.embedding, "epochs": lc["embedding_epochs"]}
potential = {**p.potential, "epochs": lc["potential_epochs"]}
common = {"seed": seed, "device": device, "training_compounds": size}
train_embedding(snakemake.input.dataset, work / "embedding.pt", work / "embedding.csv",
                settings=embedding, **common)
points = []
for target in ("total", "kinetic"):
    for variant in ("pretrained", "scratch"):
        model = work / f"{target}_{variant}.pt"
        train_potential(
            snakemake.input.dataset, model, work / f"{target}_{variant}.csv", target=target,
            settings=potential,
            embedding_path=work / "embedding.pt" if variant == "pretrained" else None,
            embedding_sizes={k: embedding[k] for k in EMBEDDING_KEYS}, **common)
        metrics = evaluate_model(
            model, snakemake.input.dataset, work / f"{target}_{variant}_test.csv",
            work / f"{target}_{variant}.json", run_name="learning_curve",
            data_scale=meta.get("data_scale", ""), device=device)
        points.append({"target": target, "variant": variant, "size": size, "seed": seed,
                       "n_test": metrics["n"], "mae_kcal_mol": metrics["mae_kcal_mol"]})
Path(snakemake.output.points).write_text(json.dumps(
    {"size_index": index, "seed": seed, "n_training_compounds": n_compounds, "points": points},
    indent=1) + "\n")
