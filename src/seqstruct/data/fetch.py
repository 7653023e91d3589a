"""Resolve dataset files: local copy, then offline mirror, then public URL; always checksum-verified.

A file ``name`` of dataset ``id`` is looked for, in order:

1. ``<raw_dir>/<id>/<name>``: returned if its sha256 matches; a mismatch is an error (never overwritten).
2. ``<mirror>/<file.mirror>`` with ``mirror`` from the argument or ``$SEQSTRUCT_DATA_MIRROR``: copied.
3. ``file.url``: downloaded (not for files without a URL, nor for datasets whose access is ``unavailable``:
   for those only a copy the user provides is accepted).

Copies and downloads go to a temporary file beside the destination, are verified, and only then renamed into
place, so nothing half-written or unverified is ever left at ``<raw_dir>/<id>/<name>``.

``name`` may also be the path of a member of one of the dataset's zip/tar archives: the archive is resolved
as above and the member is extracted to ``<raw_dir>/<id>/<member path>`` and verified (see
:mod:`seqstruct.data.archive`); an already extracted member with the right checksum is returned as is.

Command line::

    python -m seqstruct.data.fetch <dataset id> [--file NAME] [--raw-dir DIR] [--registry PATH]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from seqstruct.common.errors import one_line, print_error
from seqstruct.common.io import atomic_path, sha256_file
from seqstruct.data.archive import extract_members
from seqstruct.data.registry import DEFAULT_REGISTRY, DataError, DatasetSpec, FileSpec, MemberSpec, get_dataset

MIRROR_ENV = "SEQSTRUCT_DATA_MIRROR"
DEFAULT_RAW_DIR = "resources/raw"
_CHUNK = 1 << 20


class _ChecksumMismatch(Exception):
    def __init__(self, actual: str) -> None:
        super().__init__(actual)
        self.actual = actual


def resolve_file(
    spec: DatasetSpec,
    name: str,
    raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR,
    mirror: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = 60,
) -> Path:
    """Return the local path of a verified copy of file or archive member ``name`` of dataset ``spec``.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset.
    name : str
        One of its file names, or the path of a member of one of its archives.
    raw_dir : str or os.PathLike
        Root of the local copies; the file lives at ``raw_dir/<spec.id>/<name>``.
    mirror : str or os.PathLike or None
        Root of an offline mirror; defaults to ``$SEQSTRUCT_DATA_MIRROR`` (unset or empty: no mirror).
    download : bool
        Whether downloading from the public URL is allowed.
    timeout : float
        Network timeout in seconds for the download.

    Returns
    -------
    Path
        ``raw_dir/<spec.id>/<name>``, whose sha256 matches the registry.

    Raises
    ------
    DataError
        ``name`` is not registered; the file is corrupt locally; the mirror or downloaded copy has the wrong
        checksum; the file could not be obtained anywhere (the message names every place tried and the fix);
        the dataset is not publicly available and no user-provided copy is present; or an archive member cannot
        be extracted (see :func:`seqstruct.data.archive.extract_members`).
    """
    fspec, member = spec.locate(name)
    if member is None:
        return _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, timeout)
    folder = Path(raw_dir) / spec.id
    if not _pending_members(spec, folder, [member]):
        return folder / member.path
    archive = _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, timeout)
    return extract_members(archive, folder, [member])[0]


def fetch_dataset(
    dataset_id: str,
    raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR,
    mirror: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = 60,
    registry_path: str | os.PathLike[str] = DEFAULT_REGISTRY,
) -> list[Path]:
    """Resolve every file of a registered dataset and extract every archive member.

    Parameters
    ----------
    dataset_id : str
        The dataset id.
    raw_dir, mirror, download, timeout
        As for :func:`resolve_file`.
    registry_path : str or os.PathLike
        The registry YAML file.

    Returns
    -------
    list of Path
        Each file's path, each followed by the paths of its extracted members, in registry order. Empty for an
        ``api_key`` dataset without registered files (its domain's ingestion code fetches the data) once
        :func:`require_access` has passed.

    Raises
    ------
    DataError
        As for :func:`resolve_file`; or the dataset has no registered files and :func:`require_access` fails.
    """
    spec = get_dataset(dataset_id, registry_path)
    if not spec.files:
        require_access(spec, raw_dir)
        return []
    folder = Path(raw_dir) / spec.id
    paths = []
    for fspec in spec.files:
        archive = _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, timeout)
        paths.append(archive)
        pending = _pending_members(spec, folder, fspec.members)
        if pending:
            extract_members(archive, folder, pending)
        paths.extend(folder / m.path for m in fspec.members)
    return paths


def require_access(spec: DatasetSpec, raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR) -> str | None:
    """Check that the data of ``spec`` can be obtained from its source, before a domain's ingestion code asks.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset.
    raw_dir : str or os.PathLike
        Root of the local copies (named in the message for an unavailable dataset).

    Returns
    -------
    str or None
        The API key for an ``api_key`` dataset (the value of its environment variable); ``None`` for a public
        dataset.

    Raises
    ------
    DataError
        The dataset needs an API key and its environment variable is unset or empty; or the dataset is not
        publicly available (a user-provided copy of its files is still accepted by :func:`resolve_file`).
    """
    access = spec.access
    if access.kind == "public":
        return None
    if access.kind == "unavailable":
        raise DataError(
            f"dataset {spec.id!r} is not publicly available ({access.reason}). {_how_to_obtain(spec)}"
            f"{_place_files(spec, Path(raw_dir))}"
        )
    key = os.environ.get(access.env_var, "")
    if key:
        return key
    why = access.instructions or f"a personal key for the API that serves {spec.title!r}; see its citation"
    raise DataError(
        f"dataset {spec.id!r} needs the environment variable {access.env_var} ({why}); set it, e.g. "
        f"'export {access.env_var}=<your key>', and run again"
    )


def _resolve_plain(
    spec: DatasetSpec,
    fspec: FileSpec,
    raw_dir: Path,
    mirror: str | os.PathLike[str] | None,
    download: bool,
    timeout: float,
) -> Path:
    """Resolve a registered file (not an archive member): local copy, mirror, URL."""
    dest = raw_dir / spec.id / fspec.name
    what = f"file {fspec.name!r} of dataset {spec.id!r}"
    if dest.exists():
        actual = sha256_file(dest)
        if actual == fspec.sha256:
            return dest
        raise DataError(
            f"local {what} at {dest} is corrupt or was modified (expected sha256 {fspec.sha256}, "
            f"got {actual}); delete it and run again to fetch a fresh copy"
        )
    tried = [f"local {dest}: not present"]
    if _from_mirror(fspec, dest, mirror, what, tried):
        return dest
    if spec.access.kind == "unavailable":
        raise DataError(
            f"{what} cannot be downloaded: the dataset is not publicly available ({spec.access.reason}). "
            f"{_how_to_obtain(spec)}place {fspec.name} at {dest} with sha256 {fspec.sha256} (tried: {'; '.join(tried)})"
        )
    if _from_url(fspec, dest, download, timeout, what, tried):
        return dest
    raise _not_found_error(spec, fspec, dest, what, tried)


def _from_mirror(
    fspec: FileSpec, dest: Path, mirror: str | os.PathLike[str] | None, what: str, tried: list[str]
) -> bool:
    """Copy the file from the mirror if it is there; record what happened in ``tried``."""
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
    if fspec.mirror is None:
        tried.append("mirror: no mirror path registered")
        return False
    if mirror is None:
        tried.append(f"mirror: not set ({MIRROR_ENV})")
        return False
    src = Path(mirror) / fspec.mirror
    if not Path(mirror).is_dir():
        tried.append(f"mirror: directory {mirror} does not exist")
    elif not src.is_file():
        tried.append(f"mirror {src}: not present")
    else:
        try:
            with open(src, "rb") as fh:
                _store(fh, dest, fspec.sha256, total=src.stat().st_size, label=fspec.name)
            return True
        except _ChecksumMismatch as exc:
            tried.append(f"mirror {src}: checksum mismatch")
            raise _mismatch_error(what, fspec, exc.actual, tried) from None
        except OSError as exc:
            tried.append(f"mirror {src}: {one_line(exc)}")
    return False


def _from_url(fspec: FileSpec, dest: Path, download: bool, timeout: float, what: str, tried: list[str]) -> bool:
    """Download the file from its URL if it has one and downloads are allowed; record what happened."""
    if fspec.url is None:
        tried.append("download: no public URL registered")
        return False
    if not download:
        tried.append("download: disabled")
        return False
    try:
        with urllib.request.urlopen(fspec.url, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            _store(resp, dest, fspec.sha256, total=int(length) if length else None, label=fspec.name)
        return True
    except _ChecksumMismatch as exc:
        tried.append(f"download {fspec.url}: checksum mismatch")
        raise _mismatch_error(what, fspec, exc.actual, tried) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError/HTTPError are OSErrors
        tried.append(f"download {fspec.url}: {one_line(exc)}")
    return False


def _not_found_error(spec: DatasetSpec, fspec: FileSpec, dest: Path, what: str, tried: list[str]) -> DataError:
    no_url = " (it has no public URL)" if fspec.url is None else ""
    fixes = [f"set {MIRROR_ENV}=<dir containing {fspec.mirror}>"] if fspec.mirror else []
    fixes.append(f"place the file at {dest} with sha256 {fspec.sha256}")
    api = ""
    if spec.access.kind == "api_key":
        api = (
            f"; otherwise this dataset's data comes from an API that needs the environment variable "
            f"{spec.access.env_var} (its domain's ingestion code fetches it)"
        )
    return DataError(f"cannot obtain {what}{no_url}; tried: {'; '.join(tried)}. Fix: {', or '.join(fixes)}{api}")


def _pending_members(spec: DatasetSpec, folder: Path, members: Sequence[MemberSpec]) -> list[MemberSpec]:
    """Return the members not yet extracted under ``folder``; a present member must have the right sha256."""
    pending = []
    for member in members:
        target = folder / member.path
        if not target.is_file():
            pending.append(member)
            continue
        actual = sha256_file(target)
        if actual != member.sha256:
            raise DataError(
                f"local archive member {member.path!r} of dataset {spec.id!r} at {target} is corrupt or was "
                f"modified (expected sha256 {member.sha256}, got {actual}); delete it and run again to extract "
                "a fresh copy"
            )
    return pending


def _how_to_obtain(spec: DatasetSpec) -> str:
    how = spec.access.instructions
    return f"Obtain the data yourself ({how}) and " if how else "Obtain the data yourself and "


def _place_files(spec: DatasetSpec, raw_dir: Path) -> str:
    folder = raw_dir / spec.id
    if not spec.files:
        return f"place it under {folder}/ in the layout its domain's ingestion code reads"
    names = ", ".join(f"{f.name} (sha256 {f.sha256})" for f in spec.files[:3])
    more = f" and {len(spec.files) - 3} more listed in the registry" if len(spec.files) > 3 else ""
    return f"place its files under {folder}/: {names}{more}"


def _store(src: BinaryIO, dest: Path, expected: str, total: int | None, label: str) -> None:
    """Stream ``src`` to ``dest`` atomically, renaming only if the sha256 equals ``expected``."""
    digest = hashlib.sha256()
    with atomic_path(dest) as tmp, open(tmp, "wb") as out:
        with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not sys.stderr.isatty()) as bar:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
        if digest.hexdigest() != expected:
            raise _ChecksumMismatch(digest.hexdigest())


def _mismatch_error(what: str, fspec: FileSpec, actual: str, tried: list[str]) -> DataError:
    return DataError(
        f"checksum mismatch for {what}: expected sha256 {fspec.sha256}, got {actual} (tried: {'; '.join(tried)}); "
        "nothing was written. The source copy is corrupt or changed: replace it, or check the registry entry"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m seqstruct.data.fetch",
        description="Resolve dataset files (local copy, $SEQSTRUCT_DATA_MIRROR, public URL) and print paths.",
    )
    parser.add_argument("dataset_id", help="dataset id from the registry")
    parser.add_argument("--file", dest="name", help="resolve only this file (or archive member path) of the dataset")
    parser.add_argument("--raw-dir", default=DEFAULT_RAW_DIR, help="local data root (default: %(default)s)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="registry file (default: %(default)s)")
    parser.add_argument("--mirror", default=None, help=f"mirror root (default: ${MIRROR_ENV})")
    parser.add_argument("--no-download", action="store_true", help="never download from the public URL")
    args = parser.parse_args(argv)
    try:
        if args.name:
            spec = get_dataset(args.dataset_id, args.registry)
            paths = [resolve_file(spec, args.name, args.raw_dir, args.mirror, download=not args.no_download)]
        else:
            paths = fetch_dataset(
                args.dataset_id, args.raw_dir, args.mirror, download=not args.no_download, registry_path=args.registry
            )
            if not paths:
                print(
                    f"dataset {args.dataset_id!r} has no registered files; its domain's ingestion code fetches "
                    "the data",
                    file=sys.stderr,
                )
        for path in paths:
            print(path)
    except DataError as exc:
        print_error(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
