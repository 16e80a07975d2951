"""The seeded studies: every comparison between trained models, repeated per seed.

One seed (:func:`run_seed`) retrains stage 1 and every compared model of :data:`STUDY_MODELS`
from that seed, scores each on the test split (energy MAE, force MAE, dipole MAE of the
charges), on the benchmarks when they are given (:class:`BenchmarkSets`: S66 at the CCSD(T)
reference geometries against the database's reference, the A–T and G–C base pairs, the
conformers' relative energies against DFT) and runs the simulation check
(:mod:`virialff.evaluate.simulation`) on the total-energy models that are meant to simulate.
:func:`summarize` turns the seeds into mean ± standard deviation per model and, per
comparison of :data:`COMPARISONS`, says whether the seeds separate the two models: a
difference of means larger than the sum of the two standard deviations.

The charge controls of the interaction stage (Table 2): a) stage 2 with free charges
(``total``), b) stage 2 trained with neutral charges (``total_neutral_charges``), c) a) with its
charges neutralised after training (``total_neutralised_after``: no retraining, the model's
switch turned on), d) stage 3 started from b) (``interactions_from_neutral``) and e) stage 3 as
the workflow runs it, from a) (``interactions``); and two more rows: stage 3 with a pair class
of its own for pairs between molecules (``interactions_pair_class``) and stage 2 with the dipole
term in its loss (``total_dipole``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from virialff.config_keys import EMBEDDING_KEYS


@dataclass(frozen=True)
class StudyModel:
    """One compared model: ``kind`` says how it is made from the seed's data and models."""

    label: str
    pretrained: bool
    kind: str  # "", "neutral", "neutralise_after", "dipole", "forces", "forces_guards",
    #            "stage3", "stage3_pair_class"
    simulated: bool
    base: str = ""  # the stage-2 model that stage 3 (or "neutralise_after") starts from


STUDY_MODELS: dict[str, StudyModel] = {
    "total": StudyModel("a) stage 2, free charges (paper-faithful)", True, "", True),
    "total_scratch": StudyModel("no K·D pretraining", False, "", False),
    "total_neutral_charges": StudyModel("b) stage 2, neutral charges", True, "neutral", False),
    "total_neutralised_after": StudyModel("c) stage 2, charges neutralised after training",
                                          True, "neutralise_after", False, base="total"),
    "total_dipole": StudyModel("stage 2 + dipole term", True, "dipole", False),
    "total_forces": StudyModel("+ forces", True, "forces", True),
    "total_forces_guards": StudyModel("+ forces + guards", True, "forces_guards", True),
    "interactions_from_neutral": StudyModel("d) stage 3 from b)", True, "stage3", False,
                                            base="total_neutral_charges"),
    "interactions": StudyModel("e) stage 3 as the workflow (from a))", True, "stage3", False,
                               base="total"),
    "interactions_pair_class": StudyModel("stage 3 + intermolecular pair class", True,
                                          "stage3_pair_class", False, base="total"),
}
#: (question, model A, model B, metric): each row of the comparison table is B against A.
COMPARISONS: tuple[tuple[str, str, str, str], ...] = (
    ("does K·D pretraining help?", "total_scratch", "total", "energy_mae_kcal_mol"),
    ("do neutral charges change the energy?", "total", "total_neutral_charges",
     "energy_mae_kcal_mol"),
    ("do forces change the energy?", "total", "total_forces", "energy_mae_kcal_mol"),
    ("do the guards change the energy?", "total_forces", "total_forces_guards",
     "energy_mae_kcal_mol"),
    ("does the dipole term change the energy?", "total", "total_dipole", "energy_mae_kcal_mol"),
    ("does the dipole term change the dipoles?", "total", "total_dipole", "dipole_mae_debye"),
    ("do neutral charges alone improve S66?", "total", "total_neutral_charges",
     "s66_rmse_kcal_mol"),
    ("does neutralising after training do the same?", "total_neutral_charges",
     "total_neutralised_after", "s66_rmse_kcal_mol"),
    ("what does stage 3 add beyond neutral charges?", "total_neutral_charges",
     "interactions_from_neutral", "s66_rmse_kcal_mol"),
    ("does the stage-3 start matter?", "interactions_from_neutral", "interactions",
     "s66_rmse_kcal_mol"),
    ("does the intermolecular pair class help?", "interactions", "interactions_pair_class",
     "s66_rmse_kcal_mol"),
)
METRICS: tuple[str, ...] = ("energy_mae_kcal_mol", "force_mae_kcal_mol_angstrom",
                            "dipole_mae_debye", "s66_rmse_kcal_mol", "at_error_kcal_mol",
                            "gc_error_kcal_mol", "conformer_rmse_kcal_mol",
                            "bfgs_rmsd_median_angstrom", "md_stretched_molecules",
                            "md_compressed_molecules")


@dataclass
class BenchmarkSets:
    """The benchmark systems one seed's models are scored on (from the workflow's files)."""

    s66: list  # virialff.evaluate.systems.System at the CCSD(T) reference geometries
    s66_topologies: dict
    base_pairs: list  # A–T and G–C
    base_pair_topologies: dict
    conformers: dict | None = None  # virialff.evaluate.conformers payload
    conformer_dft: Any = None  # pandas DataFrame of the DFT conformer energies


def benchmark_scores(model_path: str | Path, sets: BenchmarkSets) -> dict:
    """S66 RMSE against the database reference, the A–T and G–C errors (predicted − reference,
    kcal/mol) and the conformer RMSE against DFT of one model file."""
    from virialff.evaluate.baselines import make_baseline
    from virialff.evaluate.interactions import interaction_table

    baseline = make_baseline("virialff", model_path=model_path)
    out: dict[str, float | None] = {}
    table = interaction_table(baseline, sets.s66, sets.s66_topologies)
    predicted = table["interaction_energy_kcal_mol"].to_numpy(dtype=float)
    reference = np.array([s.reference_kcal_mol for s in sets.s66], dtype=float)
    ok = np.isfinite(predicted) & np.isfinite(reference)
    out["s66_rmse_kcal_mol"] = (float(np.sqrt(np.mean((predicted[ok] - reference[ok]) ** 2)))
                                if ok.any() else None)
    out["s66_n"] = int(ok.sum())
    table = interaction_table(baseline, sets.base_pairs, sets.base_pair_topologies)
    for system, value in zip(sets.base_pairs, table["interaction_energy_kcal_mol"], strict=True):
        key = {"A-T": "at", "G-C": "gc"}.get(system.system_id)
        if key is None:
            continue
        error = float(value) - float(system.reference_kcal_mol)
        out[f"{key}_error_kcal_mol"] = error if math.isfinite(error) else None
    if sets.conformers is not None and sets.conformer_dft is not None:
        from virialff.evaluate.conformers import conformer_table, relative_energies

        rows = relative_energies(sets.conformer_dft,
                                 {"virialff": conformer_table(baseline, sets.conformers)})
        rows = rows[rows["method"] == "virialff"]
        out["conformer_rmse_kcal_mol"] = (
            float(np.sqrt(np.mean(rows["error_kcal_mol"].to_numpy(dtype=float) ** 2)))
            if len(rows) else None)
    return out


def model_settings(name: str, potential: Mapping, forces: Mapping, guards: Mapping,
                   dipole_weight: float = 1.0) -> dict:
    """The ``training.potential`` settings of one stage-2 study model."""
    kind = STUDY_MODELS[name].kind
    settings = dict(potential)
    if kind == "neutral":
        settings["neutral_charges"] = not potential["neutral_charges"]
    if kind == "dipole":
        settings["dipole_weight"] = float(dipole_weight)
    if kind.startswith("forces"):
        settings.update(force_weight=list(forces["force_weight_grid"]),
                        max_grid_extensions=forces["max_grid_extensions"],
                        guards=kind == "forces_guards", guard_settings=dict(guards))
    return settings


def neutralised_copy(model_path: str | Path, output_path: str | Path) -> None:
    """The model of ``model_path`` with its charges made neutral per molecule after training
    (the model's ``neutral_charges`` switch on; no weight changes)."""
    from virialff.formats.model_file import read_model_file, write_model_file

    payload = read_model_file(model_path, kind="potential")
    payload["config"]["potential"]["neutral_charges"] = True
    payload["name"] = Path(output_path).stem
    write_model_file(output_path, payload)


def run_seed(dataset: str | Path, work: str | Path, seed: int, *, embedding: Mapping,
             potential: Mapping, forces: Mapping, guards: Mapping, simulation: Mapping,
             test_molecules: Sequence[tuple[str, Any]], device: str,
             interactions: Mapping | None = None, dimers: str | Path | None = None,
             benchmarks: BenchmarkSets | None = None, dipole_weight: float = 1.0) -> dict:
    """Train, score and simulate every model of :data:`STUDY_MODELS` from ``seed``.

    ``test_molecules``: ``(molecule id, RDKit Mol at its GFN2-xTB minimum)`` of the
    simulation check. ``interactions`` (the ``training.interactions`` section) and ``dimers``
    (``dimers.pt``) are needed for the stage-3 rows, which are left out without them;
    ``benchmarks`` adds the S66, base-pair and conformer scores. Writes the models under
    ``work``; returns one row per model.
    """
    from virialff.evaluate.simulation import study_molecule, summarize
    from virialff.model.predictor import Predictor
    from virialff.train.evaluate import evaluate_model
    from virialff.train.interactions import train_interactions
    from virialff.train.stages import train_embedding, train_potential

    work = Path(work)
    train_embedding(dataset, work / "embedding.pt", work / "embedding_history.csv",
                    settings=embedding, seed=seed, device=device, progress=False)
    rows = {}
    for name, spec in STUDY_MODELS.items():
        model = work / f"{name}.pt"
        if spec.kind.startswith("stage3"):
            if interactions is None or dimers is None:
                continue
            settings = {**interactions,
                        "intermolecular_pair_class": spec.kind == "stage3_pair_class"}
            train_interactions(dataset, dimers, work / f"{spec.base}.pt", model,
                               work / f"{name}_history.csv", work / f"{name}_selection.json",
                               settings=settings, seed=seed, device=device, progress=False)
        elif spec.kind == "neutralise_after":
            neutralised_copy(work / f"{spec.base}.pt", model)
        else:
            train_potential(
                dataset, model, work / f"{name}_history.csv", target="total",
                settings=model_settings(name, potential, forces, guards, dipole_weight),
                seed=seed, device=device,
                embedding_path=work / "embedding.pt" if spec.pretrained else None,
                embedding_sizes={k: embedding[k] for k in EMBEDDING_KEYS}, progress=False)
        metrics = evaluate_model(model, dataset, work / f"{name}_test.csv",
                                 work / f"{name}.json", run_name=f"study seed {seed}",
                                 data_scale="", device=device)
        row = {"model": name, "label": spec.label, "seed": seed,
               "energy_mae_kcal_mol": metrics["mae_kcal_mol"],
               "force_mae_kcal_mol_angstrom": metrics["force_mae_kcal_mol_angstrom"],
               "dipole_mae_debye": metrics.get("dipole_mae_debye")}
        if benchmarks is not None:
            row.update(benchmark_scores(model, benchmarks))
        if spec.simulated:
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
    for name, spec in STUDY_MODELS.items():
        rows = [seed["models"][name] for seed in seeds if name in seed["models"]]
        if not rows:
            continue
        models[name] = {"label": spec.label, "seeds": [r["seed"] for r in rows],
                        **{metric: _stats([r.get(metric) for r in rows]) for metric in METRICS}}
    comparisons = []
    for question, first, second, metric in COMPARISONS:
        if first not in models or second not in models:
            continue
        a, b = models[first][metric], models[second][metric]
        if a["mean"] is None or b["mean"] is None:
            continue
        difference = b["mean"] - a["mean"]
        comparisons.append({
            "question": question, "a": first, "b": second, "metric": metric,
            "difference": difference,
            "separated": abs(difference) > a["sd"] + b["sd"],
        })
    return {"seeds": [seed["seed"] for seed in seeds], "models": models,
            "comparisons": comparisons,
            "rule": "separated: |mean_B − mean_A| > SD_A + SD_B (SD over seeds, n − 1)"}


def job_time(benchmark_paths: Sequence[str | Path]) -> dict:
    """Wall and CPU time (s) of the target's jobs from Snakemake's benchmark files (``s`` and
    ``cpu_time`` columns), per file stem and in total; a missing file is listed, not guessed."""
    import csv

    jobs, missing = {}, []
    for path in map(Path, benchmark_paths):
        if not path.exists():
            missing.append(str(path))
            continue
        with open(path, newline="") as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        jobs[f"{path.parent.name}/{path.name.removesuffix('.benchmark.tsv')}"] = {
            "wall_s": float(row["s"]), "cpu_s": float(row["cpu_time"])}
    return {"jobs": jobs, "missing": missing,
            "wall_s": sum(j["wall_s"] for j in jobs.values()),
            "cpu_s": sum(j["cpu_s"] for j in jobs.values())}


#: (metric, column header, digits) of the studies table.
TABLE_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("energy_mae_kcal_mol", "MAE_E", 2), ("force_mae_kcal_mol_angstrom", "MAE_F", 2),
    ("dipole_mae_debye", "dipole MAE (D)", 2), ("s66_rmse_kcal_mol", "S66 RMSE", 2),
    ("at_error_kcal_mol", "A–T error", 2), ("gc_error_kcal_mol", "G–C error", 2),
    ("conformer_rmse_kcal_mol", "conformer RMSE", 2),
    ("bfgs_rmsd_median_angstrom", "BFGS RMSD", 3),
    ("md_stretched_molecules", "MD stretched", 1), ("md_compressed_molecules", "MD compressed", 1),
)


def studies_markdown(summary: Mapping) -> str:
    """The studies as Markdown: one table of models (mean ± SD) and one of comparisons."""

    def cell(stats: Mapping, digits: int = 2) -> str:
        if stats["mean"] is None:
            return "–"
        return f"{stats['mean']:.{digits}f} ± {stats['sd']:.{digits}f}"

    seeds = ", ".join(str(s) for s in summary["seeds"])
    columns = [c for c in TABLE_COLUMNS
               if any(m[c[0]]["mean"] is not None for m in summary["models"].values())]
    lines = [f"Seeded studies (seeds {seeds}; mean ± SD over the seeds). Test split: MAE_E in "
             "kcal/mol, MAE_F in kcal/mol/Å, dipole MAE of Σ Q_i r_i against the DFT dipole. "
             "S66 RMSE against the database's CCSD(T)/CBS at its geometries, A–T and G–C "
             "errors (predicted − reference) and the conformer RMSE against DFT, kcal/mol. "
             "BFGS RMSD (median over the simulated molecules) in Å; MD: molecules with a "
             "stretched or compressed bond.", "",
             "| model | " + " | ".join(c[1] for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for model in summary["models"].values():
        lines.append(f"| {model['label']} | "
                     + " | ".join(cell(model[c[0]], c[2]) for c in columns) + " |")
    headers = {c[0]: c[1] for c in TABLE_COLUMNS}
    lines += ["", f"Comparisons ({summary['rule']}):", "",
              "| question | metric | B − A | separated by the seeds |", "|---|---|---|---|"]
    for row in summary["comparisons"]:
        lines.append(f"| {row['question']} ({row['b']} − {row['a']}) | "
                     f"{headers[row['metric']]} | {row['difference']:+.2f} | "
                     f"{'yes' if row['separated'] else 'no'} |")
    return "\n".join(lines) + "\n"


#: the test-split errors of the GB-FFs embedding ablation (keys of the gbffs metrics files).
GBFFS_METRICS: tuple[tuple[str, str], ...] = (
    ("force_mae_kcal_mol_angstrom", "force MAE (kcal/mol/Å)"),
    ("relative_energy_mae_kcal_mol", "relative-energy MAE (kcal/mol)"),
)


def gbffs_ablation(runs: Mapping[str, Sequence[Mapping]]) -> dict:
    """Mean ± SD over the seeds of GB-FFs with frozen and with fine-tuned stage-1 embeddings
    (``runs``: mode → the ``train_gbffs`` metrics of each seed), and whether the seeds
    separate the two (the rule of :func:`summarize`)."""
    modes = {}
    for mode, metrics in runs.items():
        modes[mode] = {"seeds": [m.get("seed") for m in metrics], **{
            key: _stats([m["evaluation"]["test"]["gbffs"].get(key) for m in metrics])
            for key, _ in GBFFS_METRICS}}
    comparisons = []
    for key, label in GBFFS_METRICS:
        a, b = modes["frozen"][key], modes["fine_tuned"][key]
        if a["mean"] is None or b["mean"] is None:
            continue
        difference = b["mean"] - a["mean"]
        comparisons.append({"metric": key, "label": label, "difference": difference,
                            "separated": abs(difference) > a["sd"] + b["sd"]})
    return {"modes": modes, "comparisons": comparisons,
            "rule": "separated: |mean_B − mean_A| > SD_A + SD_B (SD over seeds, n − 1)"}


def gbffs_ablation_markdown(summary: Mapping) -> str:
    """The ablation as a Markdown table (mean ± SD) and its comparisons."""

    def cell(stats: Mapping) -> str:
        return "–" if stats["mean"] is None else f"{stats['mean']:.2f} ± {stats['sd']:.2f}"

    labels = " | ".join(label for _, label in GBFFS_METRICS)
    lines = [f"| GB-FFs embeddings | seeds | {labels} |",
             "|---|---|" + "---|" * len(GBFFS_METRICS)]
    for mode, row in summary["modes"].items():
        lines.append(f"| {mode.replace('_', '-')} | {len(row['seeds'])} | "
                     + " | ".join(cell(row[k]) for k, _ in GBFFS_METRICS) + " |")
    lines += ["", f"Fine-tuned − frozen ({summary['rule']}):", ""]
    lines += [f"- {c['label']}: {c['difference']:+.2f} "
              f"({'separated' if c['separated'] else 'within the spread'})"
              for c in summary["comparisons"]]
    return "\n".join(lines) + "\n"
