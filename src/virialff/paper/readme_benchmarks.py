"""The README's benchmark tables and sentences, written from ``benchmarks/results/``.

Each function renders one README block (registered in :data:`virialff.paper.readme.TABLES`)
from the JSON a committed benchmark script wrote; a missing file gives ``not available: ...``
instead of a number. Every number shown is recorded in the :class:`Quoter` with its file and
key. Times and rates keep three (rates of SCF: two) significant digits, as the scripts print
them; large numbers get thousands separators.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from statistics import median

from virialff.paper.numbers import NOT_AVAILABLE, Quoter
from virialff.paper.published import PUBLISHED_SOURCE as PUB

RESULTS = "benchmarks/results"
SPEED_RUN = re.compile(r"potential_speed_run(\d+)\.json$")
#: potential_speed systems → row label ({n}: atoms, {edge}: cube edge in Å).
SPEED_SYSTEMS: dict[str, str] = {
    "molecule_50": "{n}-atom drug (loratadine)",
    "cluster_1000": "{n}-atom cluster of drugs",
    "system_10000": "{n}-atom cluster, same density",
    "box_1000": "{n} atoms, periodic cube ({edge} Å)",
    "box_10000": "{n} atoms, periodic cube ({edge} Å)",
}
#: potential_speed methods → column header; periodic cells only where the method has them.
SPEED_METHODS: dict[str, str] = {
    "virialff": "virialff, parameters cached",
    "predict": "`predict` (networks every call)",
    "mmff": "MMFF94 (RDKit)",
    "xtb": "GFN2-xTB (`xtb`)",
    "openmm": "virialff via OpenMM (CPU)",
}
SPEED_PERIODIC = ("virialff", "openmm")
SPEED_WITH_MEMORY = ("virialff", "predict")
DESCRIPTOR_ENGINE_FILES: tuple[str, ...] = (
    "descriptor_engines_10.json", "descriptor_engines_20.json",
    "descriptor_engines_40_psi4.json", "descriptor_engines_40.json",
)
ENGINES: dict[str, str] = {"psi4": "Psi4 SCF", "pyscf": "PySCF SCF", "gpu4pyscf": "gpu4pyscf"}
#: training_throughput stages and molecule sets → README wording.
THROUGHPUT_STAGES: dict[str, str] = {
    "1 (embedding)": "stage 1",
    "2 (potential, frozen h)": "stage 2, frozen embeddings",
    "2 (potential, from scratch)": "stage 2, from scratch",
}
THROUGHPUT_MOLECULES: dict[str, str] = {"demo": "demo", "drug": "drug-sized"}
#: cutoff_truncation model files → README wording.
CUTOFF_MODELS: dict[str, str] = {
    "total": "paper-faithful (`total.pt`)",
    "total_interactions": "+ interactions (`total_interactions.pt`)",
    "total_neutral_charges": "neutral charges (`total_neutral_charges.pt`)",
}


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits, but never rounding the integer part
    (``2647.6`` → ``2,648``); thousands separators."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
    return f"{value:,.{decimals}f}"


def rounded(value: float, digits: int = 2) -> str:
    """``value`` rounded to ``digits`` significant digits also in its integer part
    (``133694`` → ``130,000``)."""
    if value == 0:
        return "0"
    places = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{round(value, places):,.{max(places, 0)}f}"


def scientific(value: float, digits: int = 2) -> str:
    """``2.5e-7`` rather than Python's ``2.5e-07``."""
    mantissa, exponent = f"{value:.{digits - 1}e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def small(value: float) -> str:
    """Two significant digits, scientific below 1e-3 (``170``, ``0.033``, ``6.6e-5``)."""
    return rounded(value) if value == 0 or abs(value) >= 1e-3 else scientific(value)


def duration(seconds: float) -> str:
    """A time with three significant digits, in ms below one second (``0.201 ms``,
    ``84.1 s``)."""
    return f"{significant(seconds * 1e3)} ms" if seconds < 1 else f"{significant(seconds)} s"


def span(values: list[float], digits: int = 2, unit: str = "") -> str:
    """``min–max`` of ``values`` (one value when they round alike)."""
    low, high = significant(min(values), digits), significant(max(values), digits)
    return (low if low == high else f"{low}–{high}") + unit


def _missing(*sources: str) -> str:
    return f"{NOT_AVAILABLE}: `{'`, `'.join(sources)}` was not produced.\n"


def _speed_runs(q: Quoter) -> list[tuple[int, str]]:
    """(run number, source) of every ``potential_speed_run<N>.json``, by run number."""
    folder = Path(q.root) / RESULTS
    runs = [(int(m.group(1)), f"{RESULTS}/{p.name}") for p in folder.glob("potential_speed_run*")
            if (m := SPEED_RUN.search(p.name))]
    return sorted(runs)


def _relative(path: str) -> str:
    """A model path as the README shows it (from ``results/`` on)."""
    return path[path.index("results/"):] if "results/" in path else Path(path).name


def potential_speed(q: Quoter) -> str:
    """The force field against ``predict``, MMFF94, GFN2-xTB and OpenMM (the last run)."""
    runs = _speed_runs(q)
    if not runs:
        return _missing(f"{RESULTS}/potential_speed_run*.json")
    number, source = runs[-1]
    results = q.raw(source, "results")
    model = next((e["model"] for s in results.values() for e in s.values() if "model" in e), "")
    intro = (f"Run {number} of {len(runs)} (`{source}`), model `{_relative(model)}`, cutoff "
             f"{q.q(source, 'cutoff_angstrom', 1)} Å: median time of one energy + forces call; "
             "for virialff and `predict` also the memory (peak resident size during the calls "
             "minus the size before the setup).")

    def cell(system: str, method: str) -> str:
        entry, key = results[system].get(method), f"results.{system}.{method}"
        if entry is None:
            periodic = "box_angstrom" in results[system].get("virialff", {})
            return "—" if periodic and method not in SPEED_PERIODIC else "not run"
        if "skipped" in entry or "median_s" not in entry:
            return "not run"
        text = q.record(duration(entry["median_s"]), entry["median_s"], source,
                       f"{key}.median_s")
        if method == "virialff":
            text = f"**{text}**"
        if method in SPEED_WITH_MEMORY and "memory_mb" in entry:
            text += ", " + q.record(f"{entry['memory_mb']:,.0f} MB", entry["memory_mb"], source,
                                   f"{key}.memory_mb")
        return text

    rows = []
    for system, methods in results.items():
        own = methods.get("virialff", {})
        box = own.get("box_angstrom")
        label = SPEED_SYSTEMS.get(system, system).format(
            n=f"{own.get('n_atoms', 0):,}", edge=f"{box[0]:.1f}" if box else "")
        rows.append(f"| {label} | " + " | ".join(cell(system, m) for m in SPEED_METHODS) + " |")
    header = ("| system | " + " | ".join(SPEED_METHODS.values()) + " |\n|"
              + "---|" * (len(SPEED_METHODS) + 1))
    return intro + "\n\n" + header + "\n" + "\n".join(rows) + "\n"


def potential_speed_targets(q: Quoter) -> str:
    """One-off parametrisation times and the force-field targets, over every run."""
    runs = _speed_runs(q)
    if not runs:
        return _missing(f"{RESULTS}/potential_speed_run*.json")
    setup: dict[int, list[float]] = {}
    for _, source in runs:
        for system, methods in q.raw(source, "results").items():
            own = methods.get("virialff", {})
            if "setup_s" in own:
                setup.setdefault(own["n_atoms"], []).append(own["setup_s"])
                q.record(f"{own['setup_s']:.2g}", own["setup_s"], source,
                         f"results.{system}.virialff.setup_s")
    sizes = ", ".join(f"{span(times, unit=' s')} ({n:,} atoms)"
                      for n, times in sorted(setup.items()))
    lines = [f"One-off parametrisation (networks and types, range over the {len(runs)} runs, "
             f"clusters and cubes): {sizes}.", "",
             "| target | " + " | ".join(f"run {n}" for n, _ in runs) + " |",
             "|---|" + "---|" * len(runs)]
    for name, target in q.raw(runs[-1][1], "targets").items():
        cells = []
        for _, source in runs:
            if not q.has(source, f"targets.{name}.value"):
                cells.append("—")
                continue
            entry = q.raw(source, f"targets.{name}")
            text = q.record(entry["measured"], entry["value"], source, f"targets.{name}.value")
            cells.append(text if entry["pass"] else f"{text}: **fail**")
        lines.append(f"| {target['target']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def cutoff_truncation(q: Quoter) -> str:
    """How much a cutoff changes the S66 and base-pair interaction energies."""
    source = f"{RESULTS}/cutoff_truncation.json"
    if not q.has(source):
        return _missing(source)
    cutoffs = q.raw(source, "cutoffs_angstrom")
    models = q.raw(source, "models")
    types = q.raw(source, "atom_types_untrained")
    s66 = [n for name, n in types.items() if name.startswith("S66")]
    pairs = {name: n for name, n in types.items() if not name.startswith("S66")}
    physical = [m for m in models.values() if m["physical"]]
    passing = sorted(set.intersection(*(set(m["passing_cutoffs"]) for m in physical)))
    lines = [
        f"Over the {len(types)} complexes the largest distance between two atoms of different "
        f"molecules is {q.q(source, 'largest_intermolecular_distance_angstrom', 1)} Å. Largest "
        "|ΔE_int| against no cutoff, kcal/mol (the complex in brackets):", "",
        "| model | " + " | ".join(f"r_c = {c:g} Å" for c in cutoffs) + " |",
        "|---|" + "---|" * len(cutoffs)]
    for key, model in models.items():
        label = CUTOFF_MODELS.get(Path(key).stem, key) if key.endswith(".pt") else key
        cells = []
        for c in cutoffs:
            entry = model["per_cutoff"][f"{c:.1f}"]
            value = entry["max_abs_delta_kcal_mol"]
            cells.append(q.record(small(value), value, source,
                                 f"models.{key}.per_cutoff.{c:.1f}.max_abs_delta_kcal_mol")
                         + f" ({entry['system']})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    verdict = "passes" if q.raw(source, "default_cutoff_passes") else "**fails**"
    lines += ["", f"Cutoffs that keep every physical model (not the stress tests) below "
              f"{q.raw(source, 'goal_kcal_mol'):g} kcal/mol: "
              f"{', '.join(f'{c:g}' for c in passing)} Å; the default cutoff {verdict}. Atom "
              f"types per S66 dimer (untrained model): {min(s66)} to {max(s66)} (median "
              f"{median(s66):g}); base pairs: "
              + ", ".join(f"{n} ({name})" for name, n in pairs.items()) + "."]
    return "\n".join(lines) + "\n"


def _engine_rows(q: Quoter) -> list[tuple[str, dict]]:
    rows = []
    for name in DESCRIPTOR_ENGINE_FILES:
        source = f"{RESULTS}/{name}"
        if q.has(source):
            rows += [(source, row) for row in q.data(source)]
    return rows


def descriptor_paths(q: Quoter) -> str:
    """K·D from stored wavefunctions against a live SCF with Psi4 and PySCF."""
    wave = f"{RESULTS}/wavefunction_descriptors.json"
    engines = _engine_rows(q)
    if not q.has(wave) or not engines:
        return _missing(wave, *(f"{RESULTS}/{n}" for n in DESCRIPTOR_ENGINE_FILES))
    stored = q.raw(wave, "rows")
    atoms, nbf, ms = ([r[k] for r in stored] for k in ("atoms", "nbf", "median_ms"))
    lines = ["| path | molecule | per molecule | rate |", "|---|---|---|---|",
             f"| stored wavefunction | {len(stored)} QMugs-sized molecules, "
             f"{min(atoms)}–{max(atoms)} atoms, {min(nbf)}–{max(nbf)} basis functions "
             f"| {min(ms):.0f}–{max(ms):.0f} ms | {q.q(wave, 'molecules_per_cpu_s', 1)} "
             f"molecules/s per core (goal {q.raw(wave, 'goal'):g}) |"]
    previous, not_measured = None, {}
    for source, row in engines:
        if "wall_s" not in row:
            not_measured.setdefault(row["engine"], row.get("note", "not measured"))
            continue
        if row["molecule"] == previous:
            molecule = "the same"
        else:
            molecule = f"{row['molecule']}, {row['heavy_atoms']} heavy atoms, {row['atoms']} atoms"
        previous = row["molecule"]
        if "delta_e_hartree" in row:
            molecule += (f" (\\|ΔE\\| {scientific(abs(row['delta_e_hartree']))} Eh, max "
                         f"\\|ΔKD_atom\\| {scientific(row['max_delta_kd_atom_hartree'])} Eh)")
        per = q.record(f"{significant(row['wall_s'])} s", row["wall_s"], source, "wall_s")
        if "cpu_s" in row:
            per += " (" + q.record(f"{significant(row['cpu_s'])} s", row["cpu_s"], source,
                                    "cpu_s") + " CPU)"
        rate = q.record(significant(row["molecules_per_s"], 2), row["molecules_per_s"], source,
                        "molecules_per_s")
        lines.append(f"| {ENGINES.get(row['engine'], row['engine'])} | {molecule} | {per} "
                     f"| {rate} molecules/s |")
    for engine, note in not_measured.items():
        lines.append(f"| {ENGINES.get(engine, engine)} | — | {note.split(' (')[0]} | |")
    return "\n".join(lines) + "\n"


def descriptor_cost(q: Quoter) -> str:
    """The paper's molecules at the stored-wavefunction rate and at the measured SCF cost."""
    wave = f"{RESULTS}/wavefunction_descriptors.json"
    scf = sorted(((row["heavy_atoms"], row["cpu_s"], source) for source, row in _engine_rows(q)
                  if row.get("engine") == "psi4" and "cpu_s" in row))
    if not q.has(wave) or not scf:
        return _missing(wave, *(f"{RESULTS}/{n}" for n in DESCRIPTOR_ENGINE_FILES))
    n = q.raw(PUB, "dataset.n_molecules")
    hours = n / q.raw(wave, "molecules_per_cpu_s") / 3600
    (few, few_s, _), (many, many_s, _) = scf[0], scf[-1]
    return (f"At the stored-wavefunction rate the {q.q(PUB, 'dataset.n_molecules', 0)} paper "
            f"molecules need about {hours:.1f} core-hours of K·D; a live Psi4 SCF at the CPU "
            f"times above would need about {rounded(n * few_s / 3600)} core-hours if every "
            f"molecule had {few} heavy atoms and {rounded(n * many_s / 3600)} if every one had "
            f"{many}.\n")


def training_throughput(q: Quoter) -> str:
    """Molecules per second of each training stage, demo-sized and drug-sized."""
    source = f"{RESULTS}/training_throughput.json"
    if not q.has(source):
        return _missing(source)
    rows = q.raw(source, "rows")
    stages = list(dict.fromkeys(r["stage"] for r in rows))
    several_devices = len({r["device"] for r in rows}) > 1
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for index, row in enumerate(rows):
        label = (f"{THROUGHPUT_MOLECULES.get(row['molecules'], row['molecules'])} "
                 f"({row['mean_atoms']:.0f} atoms)" + (f", {row['device']}" if several_devices
                                                        else ""))
        groups.setdefault((label, row["device"]), {})[row["stage"]] = q.record(
            f"{row['molecules_per_s']:,.0f} mol/s", row["molecules_per_s"], source,
            f"rows.{index}.molecules_per_s")
    devices = ", ".join(sorted({r["device"].upper() for r in rows}))
    intro = (f"Data replicated to {rows[0]['n_molecules']:,} molecules, the paper's network "
             f"sizes, {devices} with {q.q(source, 'cpu_threads', 0)} torch threads "
             f"(torch {q.t(source, 'torch')}):")
    table = ["| molecules | " + " | ".join(THROUGHPUT_STAGES.get(s, s) for s in stages) + " |",
             "|---|" + "---|" * len(stages)]
    table += [f"| {label} | " + " | ".join(cells.get(s, "") for s in stages) + " |"
              for (label, _), cells in groups.items()]
    return intro + "\n\n" + "\n".join(table) + "\n"


def training_projection(q: Quoter) -> str:
    """The paper-scale stage-2 time projected from the measured throughput."""
    source = f"{RESULTS}/training_throughput.json"
    if not q.has(source):
        return _missing(source)
    sentences = []
    for index, p in enumerate(q.raw(source, "projections")):
        key = f"projections.{index}"
        verdict = "meets" if p["meets_goal"] else "misses"
        sentences.append(
            f"The goal is stage 2 at paper scale ({q.q(source, f'{key}.paper_train_molecules', 0)}"
            f" molecules × {q.q(source, f'{key}.epochs', 0)} epochs) within "
            f"{p['goal_hours']:g} hours on a GPU, i.e. ≥ "
            f"{q.raw(source, 'goal_molecules_per_s'):,.0f} mol/s in stage 2; measured on "
            f"{p['device'].upper()}, it projects to "
            f"{q.q(source, f'{key}.projected_hours', 0)} h ({verdict} the goal).")
    return " ".join(sentences) + "\n"


def dataset_memory(q: Quoter) -> str:
    """Data-set size per 100,000 drug-sized molecules and peak training memory."""
    source = f"{RESULTS}/dataset_memory.json"
    if not q.has(source):
        return _missing(source)
    goal = "meets" if q.raw(source, "meets_goal") else "misses"
    return (f"`python benchmarks/dataset_memory.py` ({q.q(source, 'n_molecules', 0)} "
            f"drug-sized molecules, {q.q(source, 'mean_atoms', 0)} atoms on average): "
            f"{q.q(source, 'dataset_gb_per_100k_molecules')} GB per 100,000 molecules "
            f"({q.q(source, 'dataset_gb_per_100k_molecules_with_stored_pairs')} GB if the pairs "
            f"were stored; goal ≤ {q.raw(source, 'goal_gb_per_100k_molecules'):g} GB, which it "
            f"{goal}), and {q.q(source, 'peak_rss_gb_training', 1)} GB peak resident memory over "
            f"{q.q(source, 'training_steps', 0)} stage-2 training steps at the paper's sizes and "
            f"batch size {q.q(source, 'training_batch_size', 0)}.\n")


def workflow_time(q: Quoter) -> str:
    """Job time of the demo run by stage (Snakemake's per-job benchmark files)."""
    source = f"{RESULTS}/workflow_time_demo.json"
    if not q.has(source):
        return _missing(source)
    stages = sorted(q.raw(source, "per_stage_s").items(), key=lambda item: -item[1])
    shown = [(name, s) for name, s in stages if s >= 60]
    parts = [f"{name} " + q.record(f"{s / 60:.1f}", s, source, f"per_stage_s.{name}")
             + (" min" if i == 0 else "") for i, (name, s) in enumerate(shown)]
    if len(shown) < len(stages):
        parts.append("the rest under 1 min each")
    total = q.raw(source, "total_s")
    return (f"For the demo run the tables above come from, "
            f"{q.record(f'{total / 60:.1f}', total, source, 'total_s')} min of job time: "
            + "; ".join(parts) + ".\n")


def dft_minimum(q: Quoter) -> str:
    """How far the DFT minimum lies from the GFN2-xTB minimum (benchmarks/dft_minimum_rmsd.py):
    the RMSD a model that reproduced its DFT exactly would score in the simulation check."""
    source = f"{RESULTS}/dft_minimum_rmsd.json"
    if not q.has(source):
        return _missing(source)
    rows = q.raw(source, "molecules")
    n = q.q(source, "n_molecules", 0)
    goals = q.raw(source, "n_within")
    within = "; ".join(f"{q.count(count, source, f'n_within.{goal}')} within {goal} Å"
                       for goal, count in sorted(goals.items(), key=lambda g: float(g[0])))
    per_molecule = ", ".join(
        f"{r['molecule']} " + q.record(f"{r['dft_minimum_rmsd_to_xtb_angstrom']:.3f}",
                                       r["dft_minimum_rmsd_to_xtb_angstrom"], source,
                                       f"molecules.{i}.dft_minimum_rmsd_to_xtb_angstrom")
        for i, r in enumerate(rows) if r["dft_minimum_rmsd_to_xtb_angstrom"] is not None)
    return (f"The floor under these RMSDs: the DFT minimum itself ({q.t(source, 'method')}/"
            f"{q.t(source, 'basis')}, Psi4 `optimize` from the same GFN2-xTB minima of the same "
            f"{n} test molecules; `benchmarks/dft_minimum_rmsd.py`) lies at a median "
            f"{q.q(source, 'dft_minimum_rmsd_median_angstrom', 3)} Å and at most "
            f"{q.q(source, 'dft_minimum_rmsd_max_angstrom', 3)} Å from the GFN2-xTB minimum "
            f"({per_molecule} Å; {within}). A model that reproduced its DFT training data "
            "exactly would score that, so an RMSD goal below it cannot be met by fitting "
            "ωB97X-D better; the per-molecule table beside every model's BFGS RMSD is "
            f"`{RESULTS}/dft_minimum_rmsd.txt`.\n")


def force_field_speed(q: Quoter) -> str:
    """GB-FFs against GAFF2 as OpenMM systems of the same molecule (potential_speed.py)."""
    source = f"{RESULTS}/potential_speed_force_fields.json"
    if not q.has(source):
        return _missing(source)
    base = "results.molecule_50"
    gaff2 = q.raw(source, f"{base}.gaff2_openmm.median_s")

    def row(method: str, label: str) -> str:
        if not q.has(source, f"{base}.{method}.median_s"):
            return f"{label}: {NOT_AVAILABLE}"
        value = q.raw(source, f"{base}.{method}.median_s")
        rows = q.q(source, f"{base}.{method}.n_torsion_force_rows", 0)
        return (f"{label} {q.record(f'{value * 1e3:.3f}', value, source, f'{base}.{method}')} ms"
                f" ({q.record(f'{value / gaff2:.2f}', value / gaff2, source, 'ratio')}× "
                f"GAFF2; {rows} torsion rows)")

    atoms = q.q(source, f"{base}.gaff2_openmm.n_atoms", 0)
    return (f"Speed (`benchmarks/potential_speed.py`, the {atoms}-atom drug, OpenMM CPU "
            "platform, one thread, median of one energy + forces call): "
            f"GAFF2/AM1-BCC {q.record(f'{gaff2 * 1e3:.3f}', gaff2, source, base)} ms "
            f"({q.q(source, f'{base}.gaff2_openmm.n_torsion_force_rows', 0)} torsion rows); "
            + row("gbffs_openmm", "GB-FFs with periodic torsions") + "; "
            + row("gbffs_openmm_rb", "with `--torsions rb`") + ".\n")


def gradient_cost(q: Quoter) -> str:
    """What forces cost beside the energy (descriptor_engines.py --gradient)."""
    import glob

    paths = sorted(glob.glob(str(Path(q.root) / RESULTS / "descriptor_engines_gradient_*.json")))
    parts = []
    for path in paths:
        source = f"{RESULTS}/{Path(path).name}"
        for index, row in enumerate(q.data(source)):
            if "gradient_energy_cpu_ratio" not in row:
                continue
            key = f"{index}"
            parts.append(
                f"{row['heavy_atoms']} heavy atoms ({row['molecule']}): "
                + q.record(f"{row['cpu_s']:.0f}", row["cpu_s"], source, f"{key}.cpu_s")
                + " s of CPU for the gradient job against "
                + q.record(f"{row['energy_job_cpu_s']:.0f}", row["energy_job_cpu_s"], source,
                           f"{key}.energy_job_cpu_s")
                + " s for the energy, a ratio of "
                + q.record(f"{row['gradient_energy_cpu_ratio']:.2f}",
                           row["gradient_energy_cpu_ratio"], source,
                           f"{key}.gradient_energy_cpu_ratio"))
    if not parts:
        return _missing(f"{RESULTS}/descriptor_engines_gradient_*.json")
    return ("Forces beside the energy (`python benchmarks/descriptor_engines.py --engines psi4 "
            "--gradient`, one thread, each job's own CPU time): " + "; ".join(parts) + ".\n")
