"""Config validation with one-line errors (Snakemake's own ``validate`` prints the whole schema on failure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml
from seqstruct.common.errors import InputError


class ConfigError(InputError, ValueError):
    """A config value breaks the schema; the message is one line naming the key and the fix."""


def check_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Validate ``config`` against the YAML JSON-schema at ``schema_path``; raise ``ConfigError`` on the first
    (most relevant) problem, e.g. ``config: crop: unknown key 'test_yeras' (allowed: crop, datasets, ...)``."""
    schema = yaml.safe_load(Path(schema_path).read_text())
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
