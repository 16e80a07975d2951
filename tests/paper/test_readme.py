"""The README's result tables are written from committed files, and a number edited by hand
fails here (``python -m virialff.paper.readme`` rewrites them from docs/results/)."""

from __future__ import annotations

import re

import pytest

from virialff.paper import readme_benchmarks as bench
from virialff.paper.numbers import NOT_AVAILABLE, Quoter
from virialff.paper.readme import README, SNAPSHOT, TABLES, render, update


def test_every_table_of_the_readme_is_what_its_files_say():
    text = README.read_text()
    assert update(text, render()) == text, (
        "README.md differs from docs/results: run python -m virialff.paper.readme")


def test_a_number_edited_in_a_table_is_caught():
    text = README.read_text()
    block = re.search(r"<!-- begin: demo-results -->\n(.*?)<!-- end: demo-results -->", text,
                      re.DOTALL).group(1)
    number = re.search(r"\d+\.\d\d", block).group(0)
    edited = text.replace(block, block.replace(number, f"{float(number) + 1:.2f}", 1))
    assert update(edited, render()) != edited


def test_every_table_has_its_block_and_reads_the_snapshot():
    text = README.read_text()
    for name in TABLES:
        assert f"<!-- begin: {name} -->" in text and f"<!-- end: {name} -->" in text
    assert (SNAPSHOT / "metrics" / "total.json").exists()
    with pytest.raises(ValueError, match="no block"):
        update("no blocks here", {"demo-results": "x"})


#: blocks written from benchmarks/results/ (virialff.paper.readme_benchmarks) → a measured
#: number each shows (the group is the number a test edits).
BENCHMARK_BLOCKS = {
    "potential-speed": (bench.potential_speed, r"\*\*([\d.]+) ms\*\*"),
    "potential-speed-targets": (bench.potential_speed_targets, r"\| ([\d.]+) ms \|"),
    "cutoff-truncation": (bench.cutoff_truncation, r"molecules is ([\d.]+) Å"),
    "descriptor-paths": (bench.descriptor_paths, r"([\d.]+) molecules/s per core"),
    "descriptor-cost": (bench.descriptor_cost, r"about ([\d.]+) core-hours"),
    "dataset-memory": (bench.dataset_memory, r"([\d.]+) GB per 100,000"),
    "training-throughput": (bench.training_throughput, r"\| ([\d,]+) mol/s"),
    "training-projection": (bench.training_projection, r"projects to ([\d,]+) h"),
    "workflow-time": (bench.workflow_time, r"([\d.]+) min of job time"),
    "dft-minimum": (bench.dft_minimum, r"at a median ([\d.]+) Å"),
    "force-field-speed": (bench.force_field_speed, r"GAFF2/AM1-BCC ([\d.]+) ms"),
    "gradient-cost": (bench.gradient_cost, r"a ratio of (\d+\.\d+)"),
}


def _block(text: str, name: str) -> str:
    return re.search(rf"<!-- begin: {name} -->\n(.*?)<!-- end: {name} -->", text,
                     re.DOTALL).group(1)


@pytest.mark.parametrize("name", sorted(BENCHMARK_BLOCKS))
def test_a_number_edited_in_a_benchmark_block_is_caught(name):
    renderer, measured = BENCHMARK_BLOCKS[name]
    assert TABLES[name] is renderer
    text = README.read_text()
    block = _block(text, name)
    assert NOT_AVAILABLE not in block, f"{name}: a benchmark file the README reads is missing"
    match = re.search(measured, block)
    assert match, f"{name} shows no number like {measured!r}"
    number = match.group(1)
    changed = number[:-1] + str((int(number[-1]) + 1) % 10)
    edited_block = block[:match.start(1)] + changed + block[match.end(1):]
    edited = text.replace(block, edited_block)
    assert edited != text
    assert update(edited, render()) != edited, f"an edited number in {name} was not caught"


def test_the_speed_table_is_the_last_run_and_the_targets_cover_every_run():
    text = README.read_text()
    speed, targets = _block(text, "potential-speed"), _block(text, "potential-speed-targets")
    runs = sorted((SNAPSHOT.parents[2] / "benchmarks" / "results").glob(
        "potential_speed_run*.json"))
    assert f"`benchmarks/results/{runs[-1].name}`" in speed
    header = next(line for line in targets.splitlines() if line.startswith("| target |"))
    assert header.count("| run ") == len(runs)


def test_a_missing_benchmark_file_is_said_not_invented(tmp_path):
    q = Quoter(root=tmp_path, results=tmp_path)
    for name, (renderer, _) in BENCHMARK_BLOCKS.items():
        assert renderer(q).startswith(f"{NOT_AVAILABLE}: "), name


def test_numbers_keep_the_digits_the_benchmark_scripts_print():
    assert [bench.duration(s) for s in (0.000201232, 0.0000594, 0.0273, 5.4236, 84.0885)] == [
        "0.201 ms", "0.0594 ms", "27.3 ms", "5.42 s", "84.1 s"]
    assert bench.significant(2647.6) == "2,648" and bench.significant(0.0329, 2) == "0.033"
    assert bench.rounded(133694.0) == "130,000" and bench.rounded(2557.0) == "2,600"
    assert bench.scientific(2.5334e-7) == "2.5e-7" and bench.small(6.56e-5) == "6.6e-5"
    assert bench.span([0.1949, 0.2182, 0.2452], unit=" s") == "0.19–0.25 s"


#: prose blocks → a count each shows, taken from the run's files or data/ (never typed).
PROSE_BLOCKS = {
    "demo-scope": r"demo: (\d+) molecules",
    "demo-scale": r"Demo scale: (\d+) training",
    "reproducibility": r"with (\d+) test molecules",
    "demo-stages": r"All (\d+) molecules pass",
    "reference-set": r"\*\*([\d,]+) distinct",
}


@pytest.mark.parametrize("name", sorted(PROSE_BLOCKS))
def test_a_count_edited_in_the_readme_prose_is_caught(name):
    text = README.read_text()
    block = _block(text, name)
    match = re.search(PROSE_BLOCKS[name], block)
    assert match, f"{name} shows no count like {PROSE_BLOCKS[name]!r}"
    edited = text.replace(block, block[:match.start(1)] + "7" + block[match.start(1):])
    assert update(edited, render()) != edited


def test_no_count_of_the_demo_is_typed_into_the_prose_outside_the_blocks():
    outside = re.sub(r"<!-- begin: (\S+) -->\n.*?<!-- end: \1 -->", "", README.read_text(),
                     flags=re.DOTALL)
    typed = re.findall(r"\b\d[\d,]* (?:training|validation|test) molecules|All \d+ molecules"
                       r"|\b\d[\d,]* distinct", outside)
    assert not typed, f"counts typed into README.md instead of generated: {typed}"


def _studies_snapshot(tmp_path, s66: dict[str, list[float]]):
    """A snapshot folder whose studies.json holds three seeds with the given S66 RMSEs."""
    import json

    from virialff.train.studies import STUDY_MODELS, summarize

    seeds = [{"seed": k + 1, "models": {
        name: {"model": name, "seed": k + 1, "energy_mae_kcal_mol": 5.0,
               "s66_rmse_kcal_mol": s66.get(name, [6.0, 6.0, 6.0])[k]}
        for name in STUDY_MODELS}} for k in range(3)]
    summary = summarize(seeds)
    summary["job_time"] = {"jobs": {f"study_seed/seed{k}": {"wall_s": 1800.0 * k, "cpu_s": 900.0}
                                    for k in (1, 2, 3)}, "wall_s": 12600.0, "cpu_s": 3600.0}
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "studies.json").write_text(json.dumps(summary))
    return Quoter(root=README.parent, results=tmp_path)


def test_the_studies_block_says_what_stage3_adds_beyond_neutral_charges(tmp_path):
    from virialff.paper.readme import studies

    q = _studies_snapshot(tmp_path, {"total_neutral_charges": [5.0, 5.2, 4.8],
                                     "interactions_from_neutral": [3.0, 3.1, 2.9]})
    text = studies(q)
    assert "5.00 ± 0.20" in text and "3.00 ± 0.10" in text
    assert "-2.00 kcal/mol, larger than the seed spread" in text
    assert "ran 3.0 h for the 3 seeds (one job each, 30–90 min" in text
    assert "3.5 h in all with the GB-FFs ablation, 1.0 h of CPU" in text
    other = tmp_path / "within"
    other.mkdir()
    q = _studies_snapshot(other, {"total_neutral_charges": [5.0, 5.5, 4.5],
                                  "interactions_from_neutral": [4.8, 5.3, 4.6]})
    assert "do not show that stage 3 adds anything" in studies(q)


def test_without_studies_the_block_says_how_to_build_them(tmp_path):
    from virialff.paper.readme import studies

    assert "`make studies` builds it" in studies(Quoter(root=README.parent, results=tmp_path))


def test_trained_model_cells_carry_the_seed_spread_when_the_studies_exist(tmp_path):
    import json
    import shutil

    from virialff.paper.readme import demo_results, interaction_stage, seed_note
    from virialff.train.studies import STUDY_MODELS, summarize

    shutil.copytree(SNAPSHOT, tmp_path, dirs_exist_ok=True)
    seeds = [{"seed": k, "models": {
        name: {"model": name, "seed": k, "energy_mae_kcal_mol": 10.0 + k,
               "at_error_kcal_mol": -1.0 * k, "s66_rmse_kcal_mol": 3.0}
        for name in STUDY_MODELS}} for k in (1, 2, 3)]
    (tmp_path / "metrics" / "studies.json").write_text(json.dumps(summarize(seeds)))
    q = Quoter(root=README.parent, results=tmp_path)
    table = demo_results(q)
    energy_row = next(line for line in table.splitlines() if "total energy (kcal" in line)
    assert energy_row.count("[12.00 ± 1.00]") == 2  # paper-faithful and + forces + guards
    reference = json.loads((SNAPSHOT / "metrics" / "base_pairs.json").read_text())[
        "reference_values_kcal_mol"]["A-T"]
    assert f"[{reference - 2.0:.2f} ± 1.00]" in table  # A–T: reference + mean error
    stage = interaction_stage(q)
    s66_row = next(line for line in stage.splitlines() if "CCSD(T)/CBS" in line)
    assert s66_row.count("[3.00 ± 0.00]") == 1  # paper-faithful only, not the stage-3 column
    assert "seeds 1, 2, 3" in seed_note(q)
