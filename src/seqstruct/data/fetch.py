"""Resolve dataset files: local copy, then offline mirror, then public URL; always checksum-verified.

A file ``name`` of dataset ``id`` is looked for, in order:

1. ``<raw_dir>/<id>/<name>``: returned if its sha256 matches; a mismatch is an error (never overwritten).
2. ``<mirror>/<file.mirror>`` with ``mirror`` from the argument or ``$SEQSTRUCT_DATA_MIRROR``: copied, or
   stream-decompressed when the file has a ``mirror_compression`` (``xz``, ``gz``, ``bz2``).
3. ``file.url``: downloaded (not for files without a URL, nor for datasets whose access is ``unavailable``:
   for those only a copy the user provides is accepted).

Copies and downloads go to a temporary file beside the destination, are verified, and only then renamed into
place, so nothing half-written or unverified is ever left at ``<raw_dir>/<id>/<name>``. Nothing is written
outside ``<raw_dir>/<id>/`` (the registry dataclasses refuse ids, names and member paths that could lead out).

A download is bounded: only ``https://`` and ``http://`` URLs are opened and only redirects to them followed;
it stops as soon as more than the registered ``size`` arrives (a shorter body is an error too), and when it
has not finished within ``max_seconds`` (default one hour) in total; each read also has a socket timeout
(``timeout``, 60 s). A mirror copy whose size is not the registered one is refused before it is copied; a
compressed mirror copy is checked like a download instead: its decompressed bytes must have the registered size
and sha256, decompression stops as soon as more arrive, and a truncated or corrupt one is an error. On
SIGTERM the command line removes its temporary file and exits with status 143; temporary files that a killed
fetch left behind (``.<name>.*.tmp*``) are removed by the next fetch of that file. The byte-level part (size,
deadline, redirects, locked temporary files) is :mod:`seqstruct.data.transfer`.

``name`` may also be the path of a member of one of the dataset's zip/tar archives: the archive is resolved
as above and the member is extracted to ``<raw_dir>/<id>/<member path>`` and verified (see
:mod:`seqstruct.data.archive`); an already extracted member with the right checksum is returned as is.

Command line::

    python -m seqstruct.data.fetch <dataset id> [--file NAME] [--raw-dir DIR] [--registry PATH] [--mirror DIR]
        [--no-download] [--max-seconds S]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import BinaryIO, cast

from seqstruct.common.errors import one_line, print_error
from seqstruct.common.io import sha256_file
from seqstruct.data.archive import extract_members
from seqstruct.data.registry import (
    DEFAULT_RAW_DIR,
    DEFAULT_REGISTRY,
    MIRROR_ENV,
    DataError,
    DatasetSpec,
    FileSpec,
    MemberSpec,
    check_file_name,
    check_member_path,
    check_url,
    get_dataset,
)
from seqstruct.data.transfer import (
    DEFAULT_MAX_SECONDS,
    DEFAULT_TIMEOUT,
    ChecksumMismatch,
    CorruptCopy,
    Decompressing,
    HttpOnlyRedirects,
    Limits,
    Received,
    RedirectRefused,
    TooLarge,
    TooShort,
    TooSlow,
    content_length,
    decompressing,
    make_limits,
    remove_stale_temps,
    set_read_timeout,
    store,
)

SIGTERM_STATUS = 128 + int(signal.SIGTERM)


class _Terminated(BaseException):
    """Raised by the command line's SIGTERM handler, so that temporary files are removed on the way out."""


def resolve_file(
    spec: DatasetSpec,
    name: str,
    raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR,
    mirror: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    max_seconds: float = DEFAULT_MAX_SECONDS,
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
        Socket timeout in seconds for connecting and for each read of the download (shortened to the time
        left when that is less).
    max_seconds : float
        Time limit in seconds for the whole download (connecting, redirects and the body).

    Returns
    -------
    Path
        ``raw_dir/<spec.id>/<name>``, whose sha256 matches the registry.

    Raises
    ------
    DataError
        ``name`` is not registered; the file is corrupt locally; the mirror or downloaded copy has the wrong
        checksum or size; the file could not be obtained anywhere (the message names every place tried and the
        fix); the download sent more or fewer bytes than the registered size, did not finish within
        ``max_seconds`` or was redirected to a URL that is not http(s); the local destination is a directory;
        the dataset is not publicly available and no user-provided copy is present; or an archive member cannot
        be extracted (see :func:`seqstruct.data.archive.extract_members`).
    """
    limits = make_limits(timeout, max_seconds)
    fspec, member = spec.locate(name)
    if member is None:
        return _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, limits)
    folder = Path(raw_dir) / spec.id
    if not _pending_members(spec, folder, [member]):
        return folder / member.path
    archive = _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, limits)
    return extract_members(archive, folder, [member])[0]


def fetch_dataset(
    dataset_id: str,
    raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR,
    mirror: str | os.PathLike[str] | None = None,
    download: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    registry_path: str | os.PathLike[str] = DEFAULT_REGISTRY,
    max_seconds: float = DEFAULT_MAX_SECONDS,
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
    max_seconds : float
        Time limit in seconds for each download, as for :func:`resolve_file`.

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
    limits = make_limits(timeout, max_seconds)
    spec = get_dataset(dataset_id, registry_path)
    if not spec.files:
        require_access(spec, raw_dir)
        return []
    folder = Path(raw_dir) / spec.id
    paths = []
    for fspec in spec.files:
        archive = _resolve_plain(spec, fspec, Path(raw_dir), mirror, download, limits)
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
    limits: Limits,
) -> Path:
    """Resolve a registered file (not an archive member): local copy, mirror, URL."""
    dest = _destination(raw_dir, spec, fspec)
    what = f"file {fspec.name!r} of dataset {spec.id!r}"
    if dest.is_file():
        actual = sha256_file(dest)
        if actual == fspec.sha256:
            return dest
        raise DataError(
            f"local {what} at {dest} is corrupt or was modified (expected sha256 {fspec.sha256}, "
            f"got {actual}); delete it and run again to fetch a fresh copy"
        )
    remove_stale_temps(dest, _registered_names(spec))
    tried = [f"local {dest}: not present"]
    if _from_mirror(fspec, dest, mirror, what, tried):
        return dest
    if spec.access.kind == "unavailable":
        raise DataError(
            f"{what} cannot be downloaded: the dataset is not publicly available ({spec.access.reason}). "
            f"{_how_to_obtain(spec)}place {fspec.name} at {dest} with sha256 {fspec.sha256} (tried: {'; '.join(tried)})"
        )
    if _from_url(fspec, dest, download, limits, what, tried):
        return dest
    raise _not_found_error(spec, fspec, dest, what, tried)


def _destination(raw_dir: Path, spec: DatasetSpec, fspec: FileSpec) -> Path:
    """Return ``raw_dir/<id>/<name>`` after checking that it stays inside ``raw_dir/<id>/`` and can be a file."""
    what = f"file {fspec.name!r} of dataset {spec.id!r}"
    for part in (spec.id, fspec.name):  # checked by the dataclasses already; kept here as a last line
        why = check_file_name(part)
        if why:
            raise DataError(f"{what}: {part!r} {why}; it cannot name a folder or file under {raw_dir}")
    dest = raw_dir / spec.id / fspec.name
    for folder in (raw_dir, dest.parent):
        if folder.exists() and not folder.is_dir():
            raise DataError(f"local {what}: {folder} is a file, not a folder; move or remove it and run again")
    if dest.is_dir():
        raise DataError(f"local {what}: {dest} is a directory, not the file; remove it (rm -r {dest}) and run again")
    if dest.exists() and not dest.is_file():
        raise DataError(f"local {what}: {dest} is not a regular file; remove it (rm {dest}) and run again")
    return dest


def _registered_names(spec: DatasetSpec) -> set[str]:
    """The names directly under the dataset folder that the registry owns (files, top folders of members)."""
    return {f.name for f in spec.files} | {m.path.split("/")[0] for f in spec.files for m in f.members}


def _from_mirror(
    fspec: FileSpec, dest: Path, mirror: str | os.PathLike[str] | None, what: str, tried: list[str]
) -> bool:
    """Copy (or decompress) the file from the mirror if it is there; record what happened in ``tried``."""
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
        return False
    if not src.is_file():
        tried.append(f"mirror {src}: not present")
        return False
    compression = fspec.mirror_compression
    try:
        actual_size = src.stat().st_size
        if compression is None and fspec.size is not None and actual_size != fspec.size:
            raise DataError(
                f"mirror copy {src} of {what} has the wrong size: expected {fspec.size} bytes, got {actual_size}; "
                "nothing was written. The mirror copy changed or the registry is wrong: replace the copy, or "
                "check the entry's size and sha256 in the registry"
            )
        with open(src, "rb") as fh:
            if compression is None:
                store(fh, dest, fspec, total=actual_size, received=Received())
            else:
                with decompressing(fh, compression) as reader:
                    body = cast(BinaryIO, Decompressing(reader))
                    store(body, dest, fspec, total=fspec.size, received=Received())
        return True
    except ChecksumMismatch as exc:
        how = f"checksum mismatch of the {compression}-decompressed bytes" if compression else "checksum mismatch"
        tried.append(f"mirror {src}: {how}")
        raise _mismatch_error(what, fspec, exc.actual, tried) from None
    except CorruptCopy as exc:
        raise DataError(
            f"{compression} mirror copy {src} of {what} is truncated or corrupt: {exc}; replace the mirror copy "
            "(nothing was written)"
        ) from None
    except (TooLarge, TooShort) as exc:
        if compression is not None:
            raise DataError(
                f"{compression} mirror copy {src} of {what} decompresses to the wrong size: {exc}; nothing was "
                "written. The mirror copy is not the registered file or the registry is wrong: replace the copy, "
                "or check the entry's size and sha256 in the registry"
            ) from None
        raise DataError(
            f"mirror copy {src} of {what} changed while it was copied: {exc}; nothing was written. Run again; if it "
            "repeats, replace the copy or check the entry's size and sha256 in the registry"
        ) from None
    except OSError as exc:
        tried.append(f"mirror {src}: {one_line(exc)}")
    return False


def _from_url(fspec: FileSpec, dest: Path, download: bool, limits: Limits, what: str, tried: list[str]) -> bool:
    """Download the file from its URL if it has one and downloads are allowed; record what happened.

    Only http(s) URLs are opened and only http(s) redirects followed; the body is read in pieces of what has
    arrived, and the download stops as soon as more than the registered size arrives or the time limit passes.
    """
    if fspec.url is None:
        tried.append("download: no public URL registered")
        return False
    if not download:
        tried.append("download: disabled")
        return False
    url = fspec.url
    why = check_url(url)
    if why or fspec.size is None:
        problem = f"url {url!r} {why}" if why else "has a url but no registered size"
        raise DataError(
            f"{what}: {problem}; refused, nothing was downloaded. Fix the registry entry (an https:// or http:// "
            f"url and 'size: <bytes>'), or set {MIRROR_ENV} to the mirror directory"
        )
    size = fspec.size
    fix = _manual_fix(fspec, dest)
    received = Received()
    deadline = time.monotonic() + limits.max_seconds
    opener = urllib.request.build_opener(HttpOnlyRedirects())
    try:
        with opener.open(url, timeout=min(limits.timeout, limits.max_seconds)) as resp:
            announced = content_length(resp)
            if announced is not None and announced > size:
                raise TooLarge(f"expected {size} bytes, got more than {size} (the server announces {announced})")

            def before_read() -> None:
                set_read_timeout(resp, min(limits.timeout, deadline - time.monotonic()))

            store(resp, dest, fspec, total=size, received=received, deadline=deadline, before_read=before_read)
        return True
    except ChecksumMismatch as exc:
        tried.append(f"download {url}: checksum mismatch")
        raise _mismatch_error(what, fspec, exc.actual, tried) from None
    except TooLarge as exc:
        raise DataError(
            f"download of {what} from {url} stopped: {exc}; nothing was written. The source changed or the "
            "registry is wrong: check the entry's url, size and sha256"
        ) from None
    except TooShort as exc:
        raise DataError(
            f"download of {what} from {url} ended early: {exc}; nothing was written. Run again; if it repeats, the "
            "source changed or the registry is wrong: check the entry's url, size and sha256"
        ) from None
    except RedirectRefused as exc:
        raise DataError(
            f"download of {what} from {url} was redirected to {exc.target!r}, which is not an https:// or http:// "
            f"URL; refused, nothing was written. Fix: correct the url in the registry, or {fix}"
        ) from None
    except (TooSlow, OSError, http.client.HTTPException, ValueError) as exc:  # URLError/HTTPError are OSErrors
        if isinstance(exc, TooSlow) or time.monotonic() >= deadline:
            raise DataError(
                f"download of {what} from {url} did not finish within the time limit of {limits.max_seconds:g} s "
                f"(max_seconds, --max-seconds): {received.n} of {size} bytes received; nothing was written. Fix: a "
                f"faster network or a larger --max-seconds, or {fix}"
            ) from None
        tried.append(f"download {url}: {one_line(exc)}")
    return False


def _manual_fix(fspec: FileSpec, dest: Path) -> str:
    """The offline ways to provide a file: the mirror (if registered) or placing it by hand."""
    mirror = f"set {MIRROR_ENV}=<dir containing {fspec.mirror}>, or " if fspec.mirror else ""
    return f"{mirror}place the file at {dest} with sha256 {fspec.sha256}"


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
        why = check_member_path(member.path)
        if why:
            raise DataError(
                f"archive member path {member.path!r} of dataset {spec.id!r} {why}; refused (nothing is read or "
                f"written outside {folder}). Fix the member path in the registry"
            )
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


def _mismatch_error(what: str, fspec: FileSpec, actual: str, tried: list[str]) -> DataError:
    return DataError(
        f"checksum mismatch for {what}: expected sha256 {fspec.sha256}, got {actual} (tried: {'; '.join(tried)}); "
        "nothing was written. The source copy is corrupt or changed: replace it, or check the registry entry"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status.

    Parameters
    ----------
    argv : sequence of str or None
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success; 1 on a :class:`DataError` (one ``error:`` line on stderr); 143 on SIGTERM and 130 on
        Ctrl-C (the temporary file of the download in progress is removed first).
    """
    parser = argparse.ArgumentParser(
        prog="python -m seqstruct.data.fetch",
        description="Resolve dataset files (local copy, $SEQSTRUCT_DATA_MIRROR, public URL) and print paths.",
    )
    parser.add_argument("dataset_id", help="dataset id from the registry")
    parser.add_argument("--file", dest="name", help="resolve only this file (or archive member path) of the dataset")
    parser.add_argument("--raw-dir", default=DEFAULT_RAW_DIR, help="local data root (default: %(default)s)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="registry file (default: %(default)s)")
    parser.add_argument("--mirror", default=None, help=f"mirror root directory (default: ${MIRROR_ENV})")
    parser.add_argument("--no-download", action="store_true", help="never download from the public URL")
    parser.add_argument(
        "--max-seconds",
        type=_positive_seconds,
        default=DEFAULT_MAX_SECONDS,
        help="time limit of each download in seconds (default: %(default)g)",
    )
    args = parser.parse_args(argv)
    download = not args.no_download
    with _sigterm_raises():
        try:
            if args.name:
                spec = get_dataset(args.dataset_id, args.registry)
                paths = [
                    resolve_file(
                        spec, args.name, args.raw_dir, args.mirror, download=download, max_seconds=args.max_seconds
                    )
                ]
            else:
                paths = fetch_dataset(
                    args.dataset_id,
                    args.raw_dir,
                    args.mirror,
                    download=download,
                    registry_path=args.registry,
                    max_seconds=args.max_seconds,
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
        except (_Terminated, KeyboardInterrupt) as exc:
            how = "SIGTERM" if isinstance(exc, _Terminated) else "Ctrl-C (SIGINT)"
            print_error(
                _Terminated(
                    f"fetching dataset {args.dataset_id!r} was stopped by {how}; its temporary file was removed and "
                    "no partial file was left; run the command again to fetch it"
                )
            )
            return SIGTERM_STATUS if isinstance(exc, _Terminated) else 130
    return 0


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not value > 0 or math.isinf(value):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return value


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`_Terminated` (once; a second SIGTERM is ignored during cleanup)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise _Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":
    sys.exit(main())
