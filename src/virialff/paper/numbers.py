"""Read result files and quote their numbers, recording the file and key of each one.

Every number the paper prints goes through :class:`Quoter`: it reads the value from a results
file (or the published-numbers YAML), formats it, and keeps a record ``{text, value, source,
key}``. The notebook prints the records at the end ("where every number comes from") and a test
checks each record against its file. Missing values never print as ``nan`` or ``None``: they
become ``not available: <reason>``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NOT_AVAILABLE = "not available"


class MissingValueError(LookupError):
    """A quoted value is missing from its file (or the file is missing); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def is_number(value: Any) -> bool:
    """True for a finite int or float (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(float(value))


def format_number(value: Any, digits: int = 2) -> str:
    """Format ``value`` for the text: integers with thousands separators, floats with ``digits``.

    Non-numbers, NaN and infinities raise :class:`MissingValueError` (callers print
    ``not available: ...`` instead).
    """
    if not is_number(value):
        raise MissingValueError("the value is missing or not a finite number")
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):.{digits}f}"


def get_path(data: Mapping[str, Any], key: str) -> Any:
    """Look up a dotted ``key`` (``methods.gfn2_xtb.rmse_kcal_mol``; a number indexes a list:
    ``rows.0.label``) in nested mappings and lists."""
    node: Any = data
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            raise MissingValueError(f"no '{key}'")
    return node


def load_file(path: Path) -> Any:
    """Read a JSON or YAML file; a missing file raises :class:`MissingValueError`."""
    if not path.exists():
        raise MissingValueError(f"{path.name} was not produced")
    text = path.read_text()
    if path.suffix in {".yaml", ".yml"}:
        return yaml.safe_load(text)
    return json.loads(text)


@dataclass
class Quoter:
    """Quote numbers from files under ``root`` and remember where each one came from.

    ``root`` is the directory that relative ``source`` paths are resolved against (the
    repository root for ``data/published/...``; the results directory for ``metrics/...``
    when ``results`` is given).
    """

    root: Path
    results: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    _cache: dict[Path, Any] = field(default_factory=dict)

    def _resolve(self, source: str) -> tuple[Path, str]:
        """Map a source label (``results/metrics/total.json``) to a path and a display label."""
        if source.startswith("results/"):
            return self.results / source.removeprefix("results/"), source
        return self.root / source, source

    def data(self, source: str) -> Any:
        """Parsed content of ``source`` (cached); raises :class:`MissingValueError` if absent."""
        path, _ = self._resolve(source)
        if path not in self._cache:
            self._cache[path] = load_file(path)
        return self._cache[path]

    def has(self, source: str, key: str | None = None) -> bool:
        """Whether ``source`` exists (and holds a finite number at ``key`` when given)."""
        try:
            data = self.data(source)
            return key is None or is_number(get_path(data, key))
        except MissingValueError:
            return False

    def raw(self, source: str, key: str) -> Any:
        """The raw value at ``key`` in ``source`` (not recorded, not formatted)."""
        return get_path(self.data(source), key)

    def quote(self, source: str, key: str, digits: int = 2) -> str:
        """The number at ``key`` of ``source``, formatted and recorded (or MissingValueError)."""
        value = self.raw(source, key)
        text = format_number(value, digits)
        self.record(text, value, source, key)
        return text

    def q(self, source: str, key: str, digits: int = 2, missing: str | None = None) -> str:
        """Like :meth:`quote`, but a missing value returns ``not available: <reason>``."""
        try:
            return self.quote(source, key, digits)
        except MissingValueError as error:
            return f"{NOT_AVAILABLE}: {missing or error.reason}"

    def t(self, source: str, key: str, missing: str | None = None) -> str:
        """A text value (a name, a source) at ``key`` of ``source``, recorded; ``not
        available: <reason>`` when absent."""
        try:
            value = self.raw(source, key)
        except MissingValueError as error:
            return f"{NOT_AVAILABLE}: {missing or error.reason}"
        if not isinstance(value, str) or not value:
            return f"{NOT_AVAILABLE}: {missing or 'no text at ' + key}"
        return self.record(value, value, source, key)

    def record(self, text: str, value: Any, source: str, key: str) -> str:
        """Record a number computed from a file (for example a count of table rows)."""
        self.records.append({"text": text, "value": value, "source": source, "key": key})
        return text

    def count(self, text_value: int, source: str, what: str) -> str:
        """Format and record a count derived from ``source`` (``what`` says how it was counted)."""
        text = format_number(int(text_value))
        return self.record(text, int(text_value), source, what)

    def as_rows(self) -> list[dict[str, Any]]:
        """Unique records in first-quoted order, for the provenance table."""
        seen: set[tuple[str, str, str]] = set()
        rows = []
        for rec in self.records:
            ident = (rec["text"], rec["source"], rec["key"])
            if ident not in seen:
                seen.add(ident)
                rows.append(rec)
        return rows


def metric_value(results: Path, name: str, key: str) -> Any:
    """Raw value ``key`` of ``results/metrics/{name}.json`` (helper for tests and scripts)."""
    return get_path(load_file(Path(results) / "metrics" / f"{name}.json"), key)
