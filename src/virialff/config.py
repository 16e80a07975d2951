"""Workflow configuration: validation, the schema's defaults, and what each rule may see.

``schemas/config.schema.yaml`` owns every default. :func:`load_config` (and
``rules/common.smk``) first report every violation at once with the key named
(:func:`validate_config`), then let ``snakemake.utils.validate(..., set_default=True)`` fill in
the defaults, then check what the schema cannot express (:func:`check_cross_fields`).

Keys annotated ``x-execution`` in the schema decide how a job runs, not what it computes
(threads, memory, timeouts, executables, device). :func:`result_settings` drops them from a
section, so a rule's ``params:`` carry only result-affecting settings and changing an
execution setting reruns nothing.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "config.schema.yaml"
EXECUTION_ANNOTATION = "x-execution"


class ConfigError(ValueError):
    """A configuration file does not match the schema; the message names the key."""


@lru_cache(maxsize=4)
def _schema(schema_path: str) -> dict:
    return yaml.safe_load(Path(schema_path).read_text())


def _key_path(error) -> str:  # noqa: ANN001 - jsonschema.ValidationError
    parts = [str(p) for p in error.absolute_path]
    return ".".join(parts) if parts else "<top level>"


def validate_config(config: dict[str, Any], schema_path: Path | str = SCHEMA_PATH) -> None:
    """Raise :class:`ConfigError` listing every schema violation as ``key: problem``."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(_schema(str(schema_path)))
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
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def apply_defaults(config: dict[str, Any], schema_path: Path | str = SCHEMA_PATH) -> None:
    """Fill in the schema's defaults, in place (``snakemake.utils.validate``)."""
    from snakemake.utils import validate

    validate(config, str(schema_path), set_default=True)


def check_cross_fields(config: dict[str, Any]) -> None:
    """Rules the schema cannot express; :class:`ConfigError` naming the keys."""
    problems = []
    split = config["split"]
    total = split["train"] + split["val"] + split["test"]
    if abs(total - 1.0) > 1e-6:
        problems.append(f"key 'split': train + val + test = {total:g}, must be 1")
    filters = config["filters"]
    if filters["min_heavy_atoms"] > filters["max_heavy_atoms"]:
        problems.append("key 'filters.min_heavy_atoms' is larger than 'filters.max_heavy_atoms'")
    if config["source"] == "qmugs" and not config["qmugs"]["root"]:
        problems.append("key 'qmugs.root': required when source is 'qmugs'")
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))


def prepare_config(config: dict[str, Any], schema_path: Path | str = SCHEMA_PATH) -> None:
    """Validate, fill in defaults and check cross-field rules, in place."""
    validate_config(config, schema_path)
    apply_defaults(config, schema_path)
    check_cross_fields(config)


def default_config() -> dict[str, Any]:
    """The configuration of an empty config file: every default of the schema."""
    config: dict[str, Any] = {}
    prepare_config(config)
    return config


def load_config(path: Path | str) -> dict[str, Any]:
    """Read a YAML config file and :func:`prepare_config` it."""
    config = yaml.safe_load(Path(path).read_text()) or {}
    prepare_config(config)
    return config


def _section_schema(path: str, schema_path: Path | str) -> dict:
    node = _schema(str(schema_path))
    for part in path.split("."):
        node = node["properties"][part]
    return node


def execution_keys(path: str, schema_path: Path | str = SCHEMA_PATH) -> dict[str, str]:
    """``{key: reason}`` of the keys of section ``path`` (e.g. ``"descriptors"``) that the
    schema marks ``x-execution``."""
    properties = _section_schema(path, schema_path).get("properties", {})
    return {k: v[EXECUTION_ANNOTATION] for k, v in properties.items()
            if isinstance(v, dict) and EXECUTION_ANNOTATION in v}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    return copy.deepcopy(value)


def result_settings(config: dict[str, Any], path: str,
                    schema_path: Path | str = SCHEMA_PATH) -> dict[str, Any]:
    """A copy of section ``path`` of ``config`` without its execution keys, keys sorted (for
    ``params:``: Snakemake compares params as text, so the order of keys in a YAML file must
    not count as a change)."""
    section: Any = config
    for part in path.split("."):
        section = section[part]
    drop = execution_keys(path, schema_path)
    return _sorted({k: v for k, v in section.items() if k not in drop})


def repeated_defaults(config: dict[str, Any], defaults: dict[str, Any] | None = None,
                      prefix: str = "") -> list[str]:
    """Dotted keys of ``config`` (a config file as written) whose value is the schema's
    default: a file that repeats a default would keep an old value when the schema changes."""
    defaults = default_config() if defaults is None else defaults
    found = []
    for key, value in config.items():
        default = defaults.get(key) if isinstance(defaults, dict) else None
        if isinstance(value, dict) and isinstance(default, dict):
            found += repeated_defaults(value, default, f"{prefix}{key}.")
        elif isinstance(defaults, dict) and key in defaults and value == default:
            found.append(f"{prefix}{key}")
    return found


def configuration_markdown(schema_path: Path | str = SCHEMA_PATH) -> str:
    """Every key of the schema with its type, default and description, as Markdown
    (``docs/configuration.md``; ``python -m virialff.config`` writes it)."""
    import json

    lines = [
        "# Configuration keys",
        "",
        "Written by `python -m virialff.config` from `schemas/config.schema.yaml`, the one source",
        "of every default; a test fails when this page and the schema differ. A configuration",
        "file holds only what differs from these defaults (`config.yaml` for the demo,",
        "`config/reference.yaml`, `config/paper.yaml`); keys marked *execution* reach the rules",
        "as threads or resources and rerun nothing when changed.",
        "",
    ]

    def kind(node: dict) -> str:
        if "$ref" in node:
            return node["$ref"].rsplit("/", 1)[-1].replace("_", " ")
        value = node.get("type", "")
        return " or ".join(value) if isinstance(value, list) else str(value)

    def walk(node: dict, prefix: str, depth: int) -> None:
        rows = []
        for key, child in node.get("properties", {}).items():
            if child.get("type") == "object" and "properties" in child:
                continue
            text = " ".join(str(child.get("description", "")).split())
            if EXECUTION_ANNOTATION in child:
                text = (text.rstrip(".") + ". " if text else "") + (
                    f"*Execution*: {child[EXECUTION_ANNOTATION]}.")
            if "enum" in child:
                text = (text.rstrip(".") + "; one of " if text else "One of ") + ", ".join(
                    f"`{v}`" for v in child["enum"]) + "."
            default = json.dumps(child.get("default"), ensure_ascii=False)
            rows.append(f"| `{prefix}{key}` | {kind(child)} | `{default}` | {text} |")
        if rows:
            lines.extend(["| key | type | default | meaning |", "|---|---|---|---|", *rows, ""])
        for key, child in node.get("properties", {}).items():
            if child.get("type") == "object" and "properties" in child:
                lines.append(f"{'#' * min(depth + 2, 4)} `{prefix}{key}`")
                lines.append("")
                description = " ".join(str(child.get("description", "")).split())
                if description:
                    lines.extend([description, ""])
                walk(child, f"{prefix}{key}.", depth + 1)

    lines += ["## Top level", ""]
    walk(_schema(str(schema_path)), "", 0)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    (SCHEMA_PATH.parents[1] / "docs" / "configuration.md").write_text(configuration_markdown())
