"""Load and validate workflow configuration files against ``schemas/config.schema.yaml``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"


class ConfigError(ValueError):
    """A configuration file does not match the schema; the message names the key."""


def _key_path(error) -> str:  # noqa: ANN001 - jsonschema.ValidationError
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def validate_config(config: dict[str, Any], schema_path: Path | str = SCHEMA_PATH) -> None:
    """Raise :class:`ConfigError` listing every violation as ``key: problem``.

    Cross-field rules the schema cannot express (split fractions summing to 1, heavy-atom
    range order) are checked here too.
    """
    import jsonschema

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    for error in sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path)):
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            unknown = sorted(set(error.instance) - set(allowed))
            for key in unknown:
                where = _key_path(error)
                full = key if where == "<top level>" else f"{where}.{key}"
                problems.append(f"unknown key '{full}' (allowed here: {', '.join(allowed)})")
        elif error.validator == "required":
            problems.append(f"{_key_path(error)}: {error.message}")
        else:
            problems.append(f"key '{_key_path(error)}': {error.message}")
    if not problems:
        split = config["split"]
        total = split["train"] + split["val"] + split["test"]
        if abs(total - 1.0) > 1e-6:
            problems.append(f"key 'split': train + val + test = {total:g}, must be 1")
        filters = config["filters"]
        if filters["min_heavy_atoms"] > filters["max_heavy_atoms"]:
            problems.append(
                "key 'filters.min_heavy_atoms' is larger than 'filters.max_heavy_atoms'"
            )
        if config["source"] == "qmugs" and not config["qmugs"]["root"]:
            problems.append("key 'qmugs.root': required when source is 'qmugs'")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def load_config(path: Path | str) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    config = yaml.safe_load(Path(path).read_text())
    validate_config(config)
    return config
