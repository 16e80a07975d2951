"""The seeded studies: every comparison between trained models, repeated per seed.

One seed (:func:`run_seed`) retrains stage 1 and every compared stage-2 model of
:data:`STUDY_MODELS` from that seed, scores each on the test split (energy MAE, force MAE) and
runs the simulation check (:mod:`virialff.evaluate.simulation`) on the total-energy models that
are meant to simulate. :func:`summarize` turns the seeds into mean ± standard deviation per
model and, per comparison of :data:`COMPARISONS`, says whether the seeds separate the two
models: a difference of means larger than the sum of the two standard deviations.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from virialff.config_keys import EMBEDDING_KEYS

#: name → (label, pretrained embeddings, training.potential overrides, simulated)
STUDY_MODELS: dict[str, tuple[str, bool, str, bool]] = {
    "total": ("paper-faithful (energies, K·D pretraining)", True, "", True),
    "total_scratch": ("no K·D pretraining", False, "", False),
    "total_neutral_charges": ("neutral charges", True, "neutral", False),
    "total_forces": ("+ forces", True, "forces", True),
    "total_forces_guards": ("+ forces + guards", True, "forces_guards", True),
}
#: (question, model A, model B): each row of the comparison table is B against A.
COMPARISONS: tuple[tuple[str, str, str], ...] = (
    ("does K·D pretraining help?", "total_scratch", "total"),
    ("do neutral charges change the energy?", "total", "total_neutral_charges"),
    ("do forces change the energy?", "total", "total_forces"),
    ("do the guards change the energy?", "total_forces", "total_forces_guards"),
)
METRICS: tuple[str, ...] = ("energy_mae_kcal_mol", "force_mae_kcal_mol_angstrom",
                            "bfgs_rmsd_median_angstrom", "md_stretched_molecules",
                            "md_compressed_molecules")


def model_settings(name: str, potential: Mapping, forces: Mapping, guards: Mapping) -> dict:
    """The ``training.potential`` settings of one study model."""
    kind = STUDY_MODELS[name][2]
    settings = dict(potential)
    if kind == "neutral":
        settings["neutral_charges"] = not potential["neutral_charges"]
    if kind.startswith("forces"):
        settings.update(force_weight=list(forces["force_weight_grid"]),
                        max_grid_extensions=forces["max_grid_extensions"],
                        guards=kind == "forces_guards", guard_settings=dict(guards))
    return settings


def run_seed(dataset: str | Path, work: str | Path, seed: int, *, embedding: Mapping,
             potential: Mapping, forces: Mapping, guards: Mapping, simulation: Mapping,
             test_molecules: Sequence[tuple[str, Any]], device: str) -> dict:
    """Train, score and simulate every model of :data:`STUDY_MODELS` from ``seed``.

    ``test_molecules``: ``(molecule id, RDKit Mol at its GFN2-xTB minimum)`` of the
    simulation check. Writes the models under ``work``; returns one row per model.
    """
    from virialff.evaluate.simulation import study_molecule, summarize
    from virialff.model.predictor import Predictor
    from virialff.train.evaluate import evaluate_model
    from virialff.train.stages import train_embedding, train_potential

    work = Path(work)
    train_embedding(dataset, work / "embedding.pt", work / "embedding_history.csv",
                    settings=embedding, seed=seed, device=device, progress=False)
    rows = {}
    for name, (label, pretrained, _, simulated) in STUDY_MODELS.items():
        model = work / f"{name}.pt"
        train_potential(dataset, model, work / f"{name}_history.csv", target="total",
                        settings=model_settings(name, potential, forces, guards), seed=seed,
                        device=device, embedding_path=work / "embedding.pt" if pretrained
                        else None, embedding_sizes={k: embedding[k] for k in EMBEDDING_KEYS},
                        progress=False)
        metrics = evaluate_model(model, dataset, work / f"{name}_test.csv",
                                 work / f"{name}.json", run_name=f"study seed {seed}",
                                 data_scale="", device=device)
        row = {"model": name, "label": label, "seed": seed,
               "energy_mae_kcal_mol": metrics["mae_kcal_mol"],
               "force_mae_kcal_mol_angstrom": metrics["force_mae_kcal_mol_angstrom"]}
        if simulated:
            predictor = Predictor.from_file(model, device="cpu")
            summary = summarize([study_molecule(predictor, molecule_id, mol, simulation,
                                                seed=seed + k)
                                 for k, (molecule_id, mol) in enumerate(test_molecules)])
            row.update(bfgs_rmsd_median_angstrom=summary["rmsd_to_xtb_angstrom_median"],
                       md_stretched_molecules=summary["n_molecules_with_stretched_bonds"],
                       md_compressed_molecules=summary["n_molecules_with_compressed_bonds"],
                       n_simulated=summary["n_molecules"])
        rows[name] = row
    return {"seed": seed, "models": rows}


def _stats(values: Sequence[float | None]) -> dict:
    finite = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    if not finite:
        return {"n": 0, "mean": None, "sd": None, "min": None, "max": None}
    return {"n": len(finite), "mean": float(np.mean(finite)),
            "sd": float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0,
            "min": min(finite), "max": max(finite)}


def summarize(seeds: Sequence[Mapping]) -> dict:
    """Mean, SD (n − 1), min and max of every metric of every model over the seeds, and the
    comparisons of :data:`COMPARISONS` with whether the seeds separate them."""
    models = {}
    for name, (label, *_rest) in STUDY_MODELS.items():
        rows = [seed["models"][name] for seed in seeds if name in seed["models"]]
        models[name] = {"label": label, "seeds": [r["seed"] for r in rows],
                        **{metric: _stats([r.get(metric) for r in rows]) for metric in METRICS}}
    comparisons = []
    for question, first, second in COMPARISONS:
        a, b = models[first]["energy_mae_kcal_mol"], models[second]["energy_mae_kcal_mol"]
        if a["mean"] is None or b["mean"] is None:
            continue
        difference = b["mean"] - a["mean"]
        comparisons.append({
            "question": question, "a": first, "b": second,
            "energy_mae_difference_kcal_mol": difference,
            "separated": abs(difference) > a["sd"] + b["sd"],
        })
    return {"seeds": [seed["seed"] for seed in seeds], "models": models,
            "comparisons": comparisons,
            "rule": "separated: |mean_B − mean_A| > SD_A + SD_B (SD over seeds, n − 1)"}


def studies_markdown(summary: Mapping) -> str:
    """The studies as Markdown: one table of models (mean ± SD) and one of comparisons."""

    def cell(stats: Mapping, digits: int = 2) -> str:
        if stats["mean"] is None:
            return "–"
        return f"{stats['mean']:.{digits}f} ± {stats['sd']:.{digits}f}"

    seeds = ", ".join(str(s) for s in summary["seeds"])
    lines = [f"Seeded studies (seeds {seeds}; mean ± SD over the seeds, test split). MAE_E in "
             "kcal/mol, MAE_F in kcal/mol/Å, BFGS RMSD (median over the simulated molecules) "
             "in Å; MD: molecules with a stretched or compressed bond.", "",
             "| model | MAE_E | MAE_F | BFGS RMSD | MD stretched | MD compressed |",
             "|---|---|---|---|---|---|"]
    for model in summary["models"].values():
        lines.append(f"| {model['label']} | {cell(model['energy_mae_kcal_mol'])} | "
                     f"{cell(model['force_mae_kcal_mol_angstrom'])} | "
                     f"{cell(model['bfgs_rmsd_median_angstrom'], 3)} | "
                     f"{cell(model['md_stretched_molecules'], 1)} | "
                     f"{cell(model['md_compressed_molecules'], 1)} |")
    lines += ["", f"Comparisons ({summary['rule']}):", "",
              "| question | B − A, MAE_E (kcal/mol) | separated by the seeds |", "|---|---|---|"]
    for row in summary["comparisons"]:
        lines.append(f"| {row['question']} ({row['b']} − {row['a']}) | "
                     f"{row['energy_mae_difference_kcal_mol']:+.2f} | "
                     f"{'yes' if row['separated'] else 'no'} |")
    return "\n".join(lines) + "\n"
