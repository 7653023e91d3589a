"""Resolve dataset files: local copy, then offline mirror, then public URL; always checksum-verified.

A file ``name`` of dataset ``id`` is looked for, in order:

1. ``<raw_dir>/<id>/<name>``: returned if its sha256 matches; a mismatch is an error (never overwritten).
2. ``<mirror>/<file.mirror>`` with ``mirror`` from the argument or ``$SEQSTRUCT_DATA_MIRROR``: copied.
3. ``file.url``: downloaded.

Copies and downloads go to a temporary file beside the destination, are verified, and only then renamed into
place, so nothing half-written or unverified is ever left at ``<raw_dir>/<id>/<name>``.

Command line::

    python -m seqstruct.data.fetch khaki_soybean [--file NAME] [--raw-dir DIR] [--registry PATH]
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

from seqstruct.common.io import atomic_path, sha256_file
from seqstruct.data.registry import DEFAULT_REGISTRY, DataError, DatasetSpec, FileSpec, get_dataset

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
    """Return the local path of a verified copy of file ``name`` of dataset ``spec``.

    Args:
        spec: The dataset.
        name: One of its file names.
        raw_dir: Root of the local copies; the file lives at ``raw_dir/<spec.id>/<name>``.
        mirror: Root of an offline mirror; defaults to ``$SEQSTRUCT_DATA_MIRROR`` (unset or empty: no mirror).
        download: Whether downloading from the public URL is allowed.
        timeout: Network timeout in seconds for the download.

    Returns:
        ``raw_dir/<spec.id>/<name>``, whose sha256 matches the registry.

    Raises:
        DataError: The file is corrupt locally, the mirror or downloaded copy has the wrong checksum, or it
            could not be obtained anywhere; the message names every place tried and the fix.
    """
    fspec = spec.file(name)
    dest = Path(raw_dir) / spec.id / name
    what = f"file {name!r} of dataset {spec.id!r}"
    if dest.exists():
        actual = sha256_file(dest)
        if actual == fspec.sha256:
            return dest
        raise DataError(
            f"local {what} at {dest} is corrupt or was modified (expected sha256 {fspec.sha256}, "
            f"got {actual}); delete it and run again to fetch a fresh copy"
        )
    tried = [f"local {dest}: not present"]

    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV) or None
    if mirror is None:
        tried.append(f"mirror: not set ({MIRROR_ENV})")
    else:
        src = Path(mirror) / fspec.mirror
        if not Path(mirror).is_dir():
            tried.append(f"mirror: directory {mirror} does not exist")
        elif not src.is_file():
            tried.append(f"mirror {src}: not present")
        else:
            try:
                with open(src, "rb") as fh:
                    _store(fh, dest, fspec.sha256, total=src.stat().st_size, label=name)
                return dest
            except _ChecksumMismatch as exc:
                tried.append(f"mirror {src}: checksum mismatch")
                raise _mismatch_error(what, fspec, exc.actual, tried) from None
            except OSError as exc:
                tried.append(f"mirror {src}: {_one_line(exc)}")

    if not download:
        tried.append("download: disabled")
    else:
        try:
            with urllib.request.urlopen(fspec.url, timeout=timeout) as resp:
                length = resp.headers.get("Content-Length")
                _store(resp, dest, fspec.sha256, total=int(length) if length else None, label=name)
            return dest
        except _ChecksumMismatch as exc:
            tried.append(f"download {fspec.url}: checksum mismatch")
            raise _mismatch_error(what, fspec, exc.actual, tried) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:  # URLError/HTTPError are OSErrors
            tried.append(f"download {fspec.url}: {_one_line(exc)}")

    raise DataError(
        f"cannot obtain {what}; tried: {'; '.join(tried)}. Fix: set {MIRROR_ENV}=<dir containing "
        f"{fspec.mirror}>, or place the file at {dest} with sha256 {fspec.sha256}"
    )


def fetch_dataset(
    dataset_id: str,
    raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR,
    mirror: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = 60,
    registry_path: str | os.PathLike[str] = DEFAULT_REGISTRY,
) -> list[Path]:
    """Resolve every file of a registered dataset (see :func:`resolve_file`) and return their paths."""
    spec = get_dataset(dataset_id, registry_path)
    return [resolve_file(spec, f.name, raw_dir, mirror, download, timeout) for f in spec.files]


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


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m seqstruct.data.fetch",
        description="Resolve dataset files (local copy, $SEQSTRUCT_DATA_MIRROR, public URL) and print paths.",
    )
    parser.add_argument("dataset_id", help="dataset id from the registry")
    parser.add_argument("--file", dest="name", help="resolve only this file of the dataset")
    parser.add_argument("--raw-dir", default=DEFAULT_RAW_DIR, help="local data root (default: %(default)s)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="registry file (default: %(default)s)")
    parser.add_argument("--mirror", default=None, help=f"mirror root (default: ${MIRROR_ENV})")
    parser.add_argument("--no-download", action="store_true", help="never download from the public URL")
    args = parser.parse_args(argv)
    try:
        spec = get_dataset(args.dataset_id, args.registry)
        names = [args.name] if args.name else [f.name for f in spec.files]
        for name in names:
            print(resolve_file(spec, name, args.raw_dir, args.mirror, download=not args.no_download))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
