"""The dataset registry: ``config/datasets.yaml`` read into frozen dataclasses.

Each dataset has a title, license, citation, an optional description and a list of files; each file has a
name, a public URL, a sha256 checksum and a path relative to the offline mirror root. Structural problems in
the registry raise :class:`DataError` with a message that names the registry file and the dataset.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from seqstruct.common.errors import InputError

DEFAULT_REGISTRY = "config/datasets.yaml"

_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_DATASET_KEYS = {"title", "license", "citation", "files"}
_DATASET_OPTIONAL = {"description"}
_FILE_KEYS = {"name", "url", "sha256", "mirror"}


class DataError(InputError):
    """A dataset cannot be described or resolved; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset.

    Attributes:
        name: File name, also its name under ``resources/raw/<dataset id>/``.
        url: Public download URL.
        sha256: Expected SHA-256 of the file, 64 lower-case hex characters.
        mirror: Path of the file relative to the mirror root (``$SEQSTRUCT_DATA_MIRROR``).
    """

    name: str
    url: str
    sha256: str
    mirror: str


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset.

    Attributes:
        id: Registry key, also the folder name under ``resources/raw/``.
        title: Human-readable title.
        license: License or terms of use.
        citation: What to cite when using the data.
        files: The files of the dataset, in registry order.
        description: Optional free-text description of the content.
    """

    id: str
    title: str
    license: str
    citation: str
    files: tuple[FileSpec, ...]
    description: str = ""

    def file(self, name: str) -> FileSpec:
        """Return the file called ``name``.

        Raises:
            DataError: ``name`` is not a file of this dataset; the message lists the valid names.
        """
        for f in self.files:
            if f.name == name:
                return f
        valid = ", ".join(f.name for f in self.files)
        raise DataError(f"dataset {self.id!r} has no file {name!r}; its files are: {valid}")


def load_registry(path: str | os.PathLike[str] = DEFAULT_REGISTRY) -> dict[str, DatasetSpec]:
    """Read and validate the dataset registry.

    Args:
        path: The registry YAML file.

    Returns:
        Dataset id -> :class:`DatasetSpec`, in file order.

    Raises:
        DataError: The file is missing or unreadable, or a dataset entry is malformed (missing or unknown
            keys, a sha256 that is not 64 hex characters, duplicate file names, an unsafe mirror path).
    """
    reg = Path(path)
    try:
        raw = yaml.safe_load(reg.read_text())
    except FileNotFoundError:
        raise DataError(
            f"dataset registry {reg} not found (run from the repository root or pass the registry path)"
        ) from None
    except (OSError, yaml.YAMLError) as exc:
        detail = " ".join(str(exc).split())
        raise DataError(f"dataset registry {reg} cannot be read: {detail}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("datasets"), dict) or not raw["datasets"]:
        raise DataError(f"dataset registry {reg}: expected a top-level mapping 'datasets:' of dataset id -> entry")
    return {str(ds_id): _parse_dataset(reg, str(ds_id), entry) for ds_id, entry in raw["datasets"].items()}


def get_dataset(dataset_id: str, registry_path: str | os.PathLike[str] = DEFAULT_REGISTRY) -> DatasetSpec:
    """Return the registered dataset ``dataset_id``.

    Raises:
        DataError: The id is not registered; the message lists the known ids, close matches and the file.
    """
    registry = load_registry(registry_path)
    try:
        return registry[dataset_id]
    except KeyError:
        close = difflib.get_close_matches(dataset_id, list(registry), n=3) or [
            known for known in registry if dataset_id.lower() in known.lower()
        ][:3]
        hint = f"did you mean {', '.join(repr(c) for c in close)}? " if close else ""
        raise DataError(
            f"unknown dataset {dataset_id!r} in {registry_path}; {hint}known datasets: {', '.join(registry)}"
        ) from None


def _parse_dataset(reg: Path, ds_id: str, entry: Any) -> DatasetSpec:
    where = f"dataset registry {reg}, dataset {ds_id!r}"
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping with keys {sorted(_DATASET_KEYS)}")
    _check_keys(where, entry, _DATASET_KEYS, _DATASET_OPTIONAL)
    files = entry["files"]
    if not isinstance(files, list) or not files:
        raise DataError(f"{where}: 'files' must be a non-empty list")
    specs = tuple(_parse_file(f"{where}, file #{i + 1}", f) for i, f in enumerate(files))
    names = [f.name for f in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(f"{where}: duplicate file names: {', '.join(dupes)}")
    return DatasetSpec(
        id=ds_id,
        title=str(entry["title"]),
        license=str(entry["license"]),
        citation=str(entry["citation"]),
        files=specs,
        description=str(entry.get("description") or ""),
    )


def _parse_file(where: str, entry: Any) -> FileSpec:
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping with keys {sorted(_FILE_KEYS)}")
    _check_keys(where, entry, _FILE_KEYS, set())
    name, sha, mirror = str(entry["name"]), entry["sha256"], str(entry["mirror"])
    if not isinstance(sha, str):
        raise DataError(f"{where} ({name}): sha256 must be a string of 64 hex characters (quote it in YAML)")
    if not _SHA256.match(sha):
        raise DataError(f"{where} ({name}): sha256 must be 64 hex characters, got {sha!r}")
    if not name or "/" in name or "\\" in name or name in {".", ".."}:
        raise DataError(f"{where}: file name must be a plain file name, got {name!r}")
    if Path(mirror).is_absolute() or ".." in Path(mirror).parts:
        raise DataError(f"{where} ({name}): mirror must be a path relative to the mirror root, got {mirror!r}")
    return FileSpec(name=name, url=str(entry["url"]), sha256=sha.lower(), mirror=mirror)


def _check_keys(where: str, entry: dict[str, Any], required: set[str], optional: set[str]) -> None:
    missing = sorted(required - entry.keys())
    if missing:
        raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
    unknown = sorted(set(map(str, entry)) - required - optional)
    if unknown:
        raise DataError(f"{where}: unknown key(s) {', '.join(unknown)}")
    empty = sorted(k for k in required if entry[k] in (None, ""))
    if empty:
        raise DataError(f"{where}: empty value for key(s) {', '.join(empty)}")
