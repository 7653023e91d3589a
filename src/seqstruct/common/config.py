"""Config validation with one-line errors (Snakemake's own ``validate`` prints the whole schema on failure)."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import jsonschema
import referencing
import referencing._core
import yaml
from referencing.jsonschema import DRAFT202012

from seqstruct.common.errors import InputError


class ConfigError(InputError, ValueError):
    """A config value breaks the schema; the message is one line naming the key and the fix."""


def load_schema(schema_path: str | Path) -> tuple[dict[str, Any], referencing.Registry]:
    """The YAML JSON-schema at ``schema_path`` and a registry resolving its ``$ref``s to sibling files.

    Each domain has its own schema file (``workflow/schemas/<domain>.schema.yaml``), joined to the top-level one
    by ``$ref``; a ref like ``common.schema.yaml#/$defs/train`` is resolved relative to the referring file, as
    Snakemake's ``validate`` does."""
    path = Path(schema_path).resolve()

    def retrieve(uri: str) -> referencing.Resource:
        file = Path(url2pathname(urlparse(uri).path))
        if not file.is_file():
            raise ConfigError(f"{path}: $ref to {file}, which does not exist")
        contents = yaml.safe_load(file.read_text())
        return referencing.Resource.from_contents(contents, default_specification=DRAFT202012)

    schema = {**yaml.safe_load(path.read_text()), "$id": path.as_uri()}
    registry: referencing.Registry = referencing.Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return schema, registry.with_resource(path.as_uri(), referencing.Resource.from_contents(schema))


def check_config(config: dict[str, Any], schema_path: str | Path) -> None:
    """Validate ``config`` against the YAML JSON-schema at ``schema_path``; raise ``ConfigError`` on the first
    (most relevant) problem, e.g. ``config: crop: unknown key 'test_yeras' (allowed: crop, datasets, ...)``.

    Before validating, numbers written as strings where the schema wants a number are converted in place (see
    ``coerce_numbers``)."""
    schema, registry = load_schema(schema_path)
    resolver = registry.resolver(base_uri=schema["$id"])
    coerce_numbers(config, schema, resolver)
    validator = jsonschema.Draft202012Validator(schema, registry=registry)
    unknown: dict[int, list[str]] = {}  # id(error) -> allowed keys, for the unknown-key errors

    def real(error: jsonschema.ValidationError) -> bool:
        """False for an unevaluatedProperties error that only echoes a failure inside allOf (no unknown key)."""
        if error.validator not in ("additionalProperties", "unevaluatedProperties"):
            return True
        at = resolver
        for ref in _refs_to(error.schema_path, schema, resolver):
            at = ref
        unknown[id(error)] = sorted(_properties(error.schema, at))
        return bool(set(error.instance) - set(unknown[id(error)]))

    error = jsonschema.exceptions.best_match(e for e in validator.iter_errors(config) if real(e))
    if error is None:
        return
    where = "config: " + ("/".join(map(str, error.absolute_path)) + ": " if error.absolute_path else "")
    if id(error) in unknown:
        allowed = unknown[id(error)]
        extra = sorted(set(error.instance) - set(allowed))
        raise ConfigError(f"{where}unknown key(s) {extra} (allowed: {', '.join(allowed)}); see {schema_path}")
    raise ConfigError(f"{where}{error.message}; see {schema_path}")


def _refs_to(schema_path: Any, schema: dict[str, Any], resolver: referencing._core.Resolver) -> list[Any]:
    """The resolvers in force along ``schema_path`` (so that refs inside the failing subschema resolve)."""
    out, node = [], schema
    for part in schema_path:
        if isinstance(node, dict) and "$ref" in node and part not in node:
            resolved = resolver.lookup(node["$ref"])
            node, resolver = resolved.contents, resolved.resolver
            out.append(resolver)
        if isinstance(node, (dict, list)):
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
    return out


def _properties(schema: dict[str, Any], resolver: referencing._core.Resolver) -> set[str]:
    """Every property name ``schema`` declares, through ``$ref`` and ``allOf``."""
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        return _properties(resolved.contents, resolved.resolver) | _properties(
            {k: v for k, v in schema.items() if k != "$ref"}, resolver
        )
    names = set(schema.get("properties", {}))
    for sub in schema.get("allOf", []):
        names |= _properties(sub, resolver)
    return names


def coerce_numbers(config: Any, schema: dict[str, Any], resolver: referencing._core.Resolver | None = None) -> Any:
    """Turn numeric strings into numbers wherever ``schema`` asks for an integer or a number; returns ``config``
    (dicts and lists are changed in place).

    Two sources of such strings: ``snakemake --config 'crop={test_years: [2017]}'`` parses nested values with
    YAML's BaseLoader (every scalar a string), and PyYAML reads ``1e-3`` (no dot) as a string. ``$ref`` (also to
    other files, through ``resolver``) and ``allOf`` are followed."""
    if resolver is None:
        resolver = referencing.Registry().resolver()
    if "$ref" in schema:
        resolved = resolver.lookup(schema["$ref"])
        coerce_numbers(config, {k: v for k, v in schema.items() if k != "$ref"}, resolver)
        return coerce_numbers(config, resolved.contents, resolved.resolver)
    for sub in schema.get("allOf", []):
        config = coerce_numbers(config, sub, resolver)
    kind = schema.get("type")
    if isinstance(kind, list):  # e.g. [number, "null"]: a numeric string is still meant as a number
        kind = next((k for k in ("number", "integer") if k in kind), None)
    if isinstance(config, dict) and (kind == "object" or "properties" in schema):
        props, extra = schema.get("properties", {}), schema.get("additionalProperties")
        for key, value in config.items():
            sub = props.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                config[key] = coerce_numbers(value, sub, resolver)
    elif isinstance(config, list) and kind == "array" and isinstance(schema.get("items"), dict):
        config[:] = [coerce_numbers(v, schema["items"], resolver) for v in config]
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


def init_settings(obj: Any) -> dict[str, Any]:
    """The constructor fields of dataclass instance ``obj`` and their values (what :func:`split_params` set)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if f.init}


def split_params(params: dict[str, Any], *classes: type) -> list[Any]:
    """One dataclass per class in ``classes`` from a flat settings dict (lists become tuples).

    Each key goes to every class that has a field of that name; a key no class knows raises ``ValueError``
    naming the valid ones. Only fields the constructor takes count (``init=False`` fields are state)."""
    names = [{f.name for f in fields(c) if f.init} for c in classes]
    unknown = set(params) - set().union(*names)
    if unknown:
        raise ValueError(f"unknown model settings {sorted(unknown)}; valid: {sorted(set().union(*names))}")
    out = []
    for cls, keys in zip(classes, names):
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k in keys}
        out.append(cls(**kw))
    return out
