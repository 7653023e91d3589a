"""Config validation with one-line errors (Snakemake's own ``validate`` prints the whole schema on failure)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from seqstruct.common.errors import InputError


class ConfigError(InputError, ValueError):
    """A config value breaks the schema; the message is one line naming the key and the fix."""


def check_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Validate ``config`` against the YAML JSON-schema at ``schema_path``; raise ``ConfigError`` on the first
    (most relevant) problem, e.g. ``config: crop: unknown key 'test_yeras' (allowed: crop, datasets, ...)``.

    Before validating, numbers written as strings where the schema wants a number are converted in place (see
    ``coerce_numbers``)."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    coerce_numbers(config, schema)
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return
    where = "config: " + ("/".join(map(str, error.absolute_path)) + ": " if error.absolute_path else "")
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        raise ConfigError(f"{where}unknown key(s) {extra} (allowed: {', '.join(allowed)}); see {schema_path}")
    raise ConfigError(f"{where}{error.message}; see {schema_path}")


def coerce_numbers(config: Any, schema: dict[str, Any], root: dict[str, Any] | None = None) -> Any:
    """Turn numeric strings into numbers wherever ``schema`` asks for an integer or a number; returns ``config``
    (dicts and lists are changed in place).

    Two sources of such strings: ``snakemake --config 'crop={test_years: [2017]}'`` parses nested values with
    YAML's BaseLoader (every scalar a string), and PyYAML reads ``1e-3`` (no dot) as a string."""
    root = schema if root is None else root
    if "$ref" in schema:
        node: Any = root
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. [number, "null"]: a numeric string is still meant as a number
        kind = next((k for k in ("number", "integer") if k in kind), None)
    if isinstance(config, dict) and kind == "object":
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, value in config.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                config[key] = coerce_numbers(value, sub, root)
    elif isinstance(config, list) and kind == "array" and isinstance(schema.get("items"), dict):
        config[:] = [coerce_numbers(v, schema["items"], root) for v in config]
    elif isinstance(config, str) and kind in ("integer", "number"):
        try:
            number = float(config)
        except ValueError:
            return config
        if kind == "number":  # "100" stays an integer (a grid of sizes), "1e-3" becomes a float
            return int(number) if config.strip().lstrip("+-").isdigit() else number
        return int(number) if number.is_integer() and config.strip().lstrip("+-").isdigit() else config
    return config


def merge_configs(*paths: str | Path) -> dict[str, Any]:
    """Read YAML config files and merge them left to right as Snakemake's ``--configfile`` does: mappings are
    merged key by key, any other value (lists included) is replaced by the later file's."""
    merged: dict[str, Any] = {}
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        # a JSON round trip: YAML aliases (`lstm_1y: *grid`) load as one shared dict, which merging a later
        # file into would change for every alias at once
        _merge_into(merged, json.loads(json.dumps(yaml.safe_load(path.read_text()) or {})))
    return merged


def _merge_into(base: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value)
        else:
            base[key] = value
