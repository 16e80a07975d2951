"""The README's result tables are written from committed files, and a number edited by hand
fails here (``python -m virialff.paper.readme`` rewrites them from docs/results/)."""

from __future__ import annotations

import re

import pytest

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
