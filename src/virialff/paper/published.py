"""The numbers published by Terets' & Nikolayenko (2026): ``data/published/terets2026.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PUBLISHED_PATH = Path(__file__).resolve().parents[3] / "data" / "published" / "terets2026.yaml"
PUBLISHED_SOURCE = "data/published/terets2026.yaml"


def load_published(path: Path | str = PUBLISHED_PATH) -> dict[str, Any]:
    """Return the published numbers and citation as a nested dict."""
    return yaml.safe_load(Path(path).read_text())
