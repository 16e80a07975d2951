"""The paper builds from fixture results, embeds every figure, and quotes only numbers from files.

One build of the notebook (``virialff.paper.build.build_paper``, the function the ``paper`` rule
calls) serves the checks of this module; it takes about 15 s.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from paper_fixtures import FIGURE_FILES, make_results_tree

from virialff.paper.build import REPO_ROOT, build_paper
from virialff.paper.numbers import format_number, get_path, load_file
from virialff.paper.tables import base_pair_values

pytestmark = pytest.mark.timeout(180)

NOTEBOOK = REPO_ROOT / "paper" / "paper.py"


def visible_text(page: str) -> str:
    """The text a reader sees: no scripts, styles or tags; entities decoded; spaces collapsed."""
    page = re.sub(r"<(script|style)\b[^>]*>.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Build the paper once from the fixture tree (with the ablation metrics)."""
    tmp = tmp_path_factory.mktemp("paper")
    results = make_results_tree(tmp / "results")
    html_path = build_paper(NOTEBOOK, tmp / "paper.ipynb", tmp / "paper.html", results=results)
    page = html_path.read_text(encoding="utf-8")
    nb = json.loads((tmp / "paper.ipynb").read_text())
    return {"results": results, "page": page, "text": visible_text(page), "nb": nb}


def provenance(nb: dict) -> list[dict]:
    """The ``application/json`` records of the notebook's last section."""
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "application/json" in data and "numbers" in data["application/json"]:
                return data["application/json"]["numbers"]
    raise AssertionError("no provenance records in the notebook")


def test_every_figure_is_embedded(built: dict) -> None:
    page = re.sub(r"\s", "", built["page"])
    for number, name in FIGURE_FILES.items():
        png = (built["results"] / "figures" / name).read_bytes()
        encoded = base64.b64encode(png).decode()
        assert f"data:image/png;base64,{encoded}" in page, f"Fig. {number} ({name}) not embedded"
        assert f"Fig. {number}." in built["text"]


def test_html_is_self_contained(built: dict) -> None:
    linked = re.search(r"<img[^>]+src=\"(?!data:)", built["page"])
    assert not linked, "an image is linked, not embedded"


def test_the_page_reads_offline_with_its_equations_rendered(built: dict) -> None:
    """No script from another host (MathJax, require.js): the equations are MathML, drawn
    by the browser itself, and no TeX delimiter is left for a script to find."""
    page = built["page"]
    assert not re.search(r"<script[^>]*src=[\"'](https?:)?//", page, re.I)
    assert page.count("<math") >= 10
    assert "$$" not in page
    assert "\\mathrm{KD}" not in page


def test_the_forces_ablation_is_a_table_of_every_simulated_model(built: dict) -> None:
    text = built["text"]
    assert "Table 4. Forces ablation" in text
    for label in ("paper-faithful (energies)", "+ forces + guards", "stage 3 (interactions)"):
        assert label in text


def test_every_table_has_a_number_of_its_own(built: dict) -> None:
    numbers = re.findall(r"<strong>Table (\d+[a-z]?)\.</strong>", built["page"])
    assert numbers and len(numbers) == len(set(numbers)), numbers


def test_tex_to_mathml_leaves_prices_and_code_alone():
    from virialff.paper.build import tex_to_mathml

    out = tex_to_mathml("costs $5 and $10; energy $E_{ij}$ and $$T = \\mathrm{Tr}(DK)$$")
    assert "$5 and $10" in out and out.count("<math") == 2


def test_table1_is_there(built: dict) -> None:
    text = built["text"]
    assert "Table 1." in text
    table = pd.read_csv(built["results"] / "tables" / "table01_base_pairs.csv", dtype=str)
    for cell in table.to_numpy().ravel():
        assert cell in text


def test_the_seeded_controls_are_a_table_with_their_spread_and_the_stage3_answer(built: dict
                                                                                ) -> None:
    """Section 3.8.1 from the studies' summary (a real one from `make studies` on the demo)."""
    studies = json.loads((built["results"] / "metrics" / "studies.json").read_text())
    text = built["text"]
    assert "Table 2b." in text
    total = studies["models"]["total"]["s66_rmse_kcal_mol"]
    assert f"{total['mean']:.2f} ± {total['sd']:.2f}" in text
    assert "What the interaction stage adds beyond charge neutrality." in text
    for model in studies["models"].values():
        assert model["label"] in text


def test_no_placeholders(built: dict) -> None:
    text = built["text"]
    for word in ("nan", "None", "TODO", "NaN", "Traceback", "undefined"):
        assert not re.search(rf"\b{word}\b", text), f"'{word}' appears in the paper"
    assert "not available: ANI-1x needs torchani 2.2.4, which is not installed" in text


def test_every_quoted_number_matches_its_file(built: dict) -> None:
    records = provenance(built["nb"])
    assert len(records) > 40
    results = built["results"]
    molecules = pd.read_csv(results / "dataset" / "molecules.csv")
    table_text = (results / "tables" / "table01_base_pairs.csv").read_text()
    table = base_pair_values(pd.read_csv(results / "tables" / "table01_base_pairs.csv",
                                         dtype=str))
    checked = 0
    for rec in records:
        source, key, text = rec["source"], rec["key"], rec["text"]
        quoted = text in built["text"] or key in {"run_name", "data_scale"}
        assert quoted, f"{text} ({source} {key})"
        if source.endswith((".json", ".yaml")) and " " not in source:
            path = (results / source.removeprefix("results/") if source.startswith("results/")
                    else REPO_ROOT / source)
            if key in {"run_name", "data_scale"}:
                assert text == get_path(load_file(path), key)
                checked += 1
                continue
            value = get_path(load_file(path), key)
            if isinstance(value, str):  # a name or a choice quoted as it stands (Quoter.t)
                assert text == value, rec
                checked += 1
                continue
            if isinstance(value, list):  # a list quoted as its items (the studies' seeds)
                assert text == ", ".join(str(v) for v in value), rec
                checked += 1
                continue
            digits = len(text.split(".")[1]) if "." in text else 0
            assert text == format_number(value, digits) if digits else text == f"{value:,}", rec
            checked += 1
        elif source.endswith("molecules.csv"):
            assert key == "rows" and text == f"{len(molecules):,}", rec
            checked += 1
        elif source.endswith("table01_base_pairs.csv"):
            if " − " in key:
                pair = key.split()[-1]
                expected = table["virialff"][pair] - table["reference"][pair]
            else:
                method, pair = key.split()
                expected = table[method][pair]
                assert text in table_text, rec  # printed exactly as the table writes it
            digits = len(text.split(".")[1])
            assert text == f"{expected:.{digits}f}", rec
            checked += 1
    assert checked == len(records) - 1  # the ablation difference is derived from two files


def test_key_metrics_are_quoted(built: dict) -> None:
    """Spot check: the headline numbers of each metrics file appear formatted in the text."""
    text = built["text"]
    for name in ("total", "kinetic", "s66", "conformers", "base_pairs", "total_scratch"):
        metrics = json.loads((built["results"] / "metrics" / f"{name}.json").read_text())
        assert f"{metrics['mae_kcal_mol']:.2f}" in text, name
        assert f"{metrics['rmse_kcal_mol']:.2f}" in text, name
    assert "2.2" in text and "6.1" in text and "1.7" in text and "1.4" in text  # published
    assert "used the demo configuration" in text and "not a reproduction" in text


def test_missing_ablation_and_baseline_say_not_available(tmp_path: Path) -> None:
    """Without total_scratch.json and with an empty methods block, the text says why."""
    results = make_results_tree(tmp_path / "results", with_scratch=False)
    s66 = json.loads((results / "metrics" / "s66.json").read_text())
    s66["methods"]["gfn2_xtb"] = {"available": False, "reason": None, "n": 0,
                                  "mae_kcal_mol": None, "rmse_kcal_mol": None}
    s66["rmse_kcal_mol"] = float("nan")
    (results / "metrics" / "s66.json").write_text(json.dumps(s66))
    out = build_paper(NOTEBOOK, tmp_path / "p.ipynb", tmp_path / "p.html", results=results)
    text = visible_text(out.read_text(encoding="utf-8"))
    assert "Ablation: not available: results/metrics/total_scratch.json was not produced" in text
    assert "not available: the method did not run" in text
    assert "RMSE of not available: the value is missing or not a finite number" in text
    for word in ("nan", "None", "NaN", "TODO"):
        assert not re.search(rf"\b{word}\b", text), word


def test_the_paper_lists_figures_1_to_13_under_their_design_names():
    assert sorted(FIGURE_FILES) == list(range(1, 14))
    assert all(name.startswith(f"fig{n:02d}_") and name.endswith(".png")
               for n, name in FIGURE_FILES.items())
