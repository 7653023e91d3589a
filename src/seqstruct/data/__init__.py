"""Dataset layer: the registry (``config/datasets.yaml``) and checksum-verified file resolution.

Typical use::

    from seqstruct.data import get_dataset, require_access, resolve_file

    spec = get_dataset("<dataset id>")
    path = resolve_file(spec, "<file name or archive member path>")  # resources/raw/<dataset id>/<name>
    key = require_access(spec)  # the API key of an api_key dataset, None for a public one

The registry fields are described in ``docs/registry.md``.
"""

from __future__ import annotations

from typing import Any

from seqstruct.data.registry import (
    Access,
    DataError,
    DatasetSpec,
    FileSpec,
    MemberSpec,
    check_member_path,
    get_dataset,
    load_registry,
)

__all__ = [
    "Access",
    "DataError",
    "DatasetSpec",
    "FileSpec",
    "MemberSpec",
    "archive_format",
    "check_member_path",
    "extract_members",
    "fetch_dataset",
    "get_dataset",
    "load_registry",
    "require_access",
    "resolve_file",
    "sha256_file",
]

_LAZY = {
    "fetch_dataset": "fetch",
    "require_access": "fetch",
    "resolve_file": "fetch",
    "sha256_file": "fetch",
    "archive_format": "archive",
    "extract_members": "archive",
}


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m seqstruct.data.fetch` does not find the module pre-imported.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"seqstruct.data.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
