"""Dataset layer: the registry (``config/datasets.yaml``) and checksum-verified file resolution.

Typical use::

    from seqstruct.data import get_dataset, resolve_file

    spec = get_dataset("khaki_soybean")
    path = resolve_file(spec, "soybean_data.npz")  # resources/raw/khaki_soybean/soybean_data.npz
"""

from __future__ import annotations

from typing import Any

from seqstruct.data.registry import DataError, DatasetSpec, FileSpec, get_dataset, load_registry

__all__ = [
    "DataError",
    "DatasetSpec",
    "FileSpec",
    "fetch_dataset",
    "get_dataset",
    "load_registry",
    "resolve_file",
    "sha256_file",
]

_FETCH_NAMES = {"fetch_dataset", "resolve_file", "sha256_file"}


def __getattr__(name: str) -> Any:
    # Imported lazily so that `python -m seqstruct.data.fetch` does not find the module pre-imported.
    if name in _FETCH_NAMES:
        from seqstruct.data import fetch

        return getattr(fetch, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
