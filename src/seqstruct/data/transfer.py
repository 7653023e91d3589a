"""Bounded, atomic transfers of one file: the byte-level part of :mod:`seqstruct.data.fetch`.

``store`` streams a source (an open mirror file or an HTTP response) into a locked temporary file beside the
destination and renames it into place only when the byte count equals the registered size and the sha256
matches; it stops as soon as more than the size arrives or the deadline passes. ``Decompressing`` reads an
xz/gz/bz2 mirror copy as its decompressed bytes for ``store``, with decompression errors raised as
``CorruptCopy``. ``HttpOnlyRedirects`` follows redirects to ``https://`` and ``http://`` URLs only.
``remove_stale_temps`` removes the temporary files a killed transfer left behind (a running one holds a lock on
its own). The exceptions say what went wrong;
:mod:`seqstruct.data.fetch` turns them into one-line :class:`~seqstruct.data.registry.DataError` messages.
"""

from __future__ import annotations

import bz2
import contextlib
import glob
import gzip
import hashlib
import lzma
import math
import sys
import time
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from seqstruct.common.errors import one_line
from seqstruct.common.io import atomic_path
from seqstruct.data.registry import URL_SCHEMES, DataError, FileSpec

try:  # POSIX: temporary files being written are locked, so that stale ones can be told apart
    from fcntl import LOCK_EX as _LOCK_EX
    from fcntl import LOCK_NB as _LOCK_NB
    from fcntl import flock as _flock
except ImportError:  # pragma: no cover (no fcntl: stale temporary files are left for the user)
    _flock = None  # type: ignore[assignment]
    _LOCK_EX = _LOCK_NB = 0


DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_SECONDS = 3600.0
CHUNK = 1 << 20
_STALE_AFTER = 2.0  # seconds: a temporary file younger than this may belong to a fetch that is just starting


@dataclass(frozen=True)
class Limits:
    timeout: float
    max_seconds: float


@dataclass
class Received:
    n: int = 0


class ChecksumMismatch(Exception):
    def __init__(self, actual: str) -> None:
        super().__init__(actual)
        self.actual = actual


class TooLarge(Exception):
    """More bytes arrived than the registered size (the message says how many were expected)."""


class TooShort(Exception):
    """The body ended before the registered size."""


class TooSlow(Exception):
    """The download's time limit passed."""


class RedirectRefused(Exception):
    def __init__(self, target: str) -> None:
        super().__init__(target)
        self.target = target


def make_limits(timeout: float, max_seconds: float) -> Limits:
    for key, value in (("timeout", timeout), ("max_seconds", max_seconds)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or math.isinf(value):
            raise DataError(f"{key} must be a positive number of seconds, got {value!r}")
    return Limits(float(timeout), float(max_seconds))


def remove_stale_temps(dest: Path, keep: set[str]) -> None:
    """Remove the temporary files of ``dest`` that a killed fetch left behind (``.<name>.*.tmp*``).

    A temporary file that a running fetch is writing is locked (see :func:`temp_output`) and kept; so are
    files younger than a few seconds (a fetch that has just created its file) and registered names.
    """
    if _flock is None or not dest.parent.is_dir():
        return
    now = time.time()
    for tmp in dest.parent.glob(f".{glob.escape(dest.name)}.*.tmp*"):
        try:
            if tmp.name in keep or tmp.is_symlink() or not tmp.is_file() or now - tmp.stat().st_mtime < _STALE_AFTER:
                continue
            with open(tmp, "rb") as fh:
                try:
                    _flock(fh.fileno(), _LOCK_EX | _LOCK_NB)
                except BlockingIOError:
                    continue  # a fetch that is still running holds it
                tmp.unlink()
        except OSError:
            continue


def content_length(resp: Any) -> int | None:
    """The Content-Length the server announced, or ``None`` if absent or not a number."""
    value = resp.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def set_read_timeout(resp: Any, seconds: float) -> None:
    """Set the socket timeout of an open HTTP response (if its socket can be reached) to ``seconds``."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None and hasattr(sock, "settimeout"):
        sock.settimeout(max(seconds, 0.01))


class HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to https:// and http:// URLs only (urllib's default also follows ftp://)."""

    def http_error_302(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any) -> Any:
        location = headers.get("location") or headers.get("uri")
        if location:
            target = urllib.parse.urljoin(req.full_url, location)
            if urllib.parse.urlsplit(target).scheme.lower() not in URL_SCHEMES:
                fp.close()
                raise RedirectRefused(target)
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        if urllib.parse.urlsplit(newurl).scheme.lower() not in URL_SCHEMES:
            raise RedirectRefused(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def store(
    src: BinaryIO,
    dest: Path,
    fspec: FileSpec,
    total: int | None,
    received: Received,
    deadline: float | None = None,
    before_read: Callable[[], None] | None = None,
) -> None:
    """Stream ``src`` to ``dest`` atomically, renaming only if the size and the sha256 match ``fspec``.

    Reads what has arrived (``read1``), at most one byte more than ``fspec.size``, so that an endless body
    stops at once; ``received.n`` counts the bytes; ``deadline`` (a ``time.monotonic()`` value) is checked
    before every read, and ``before_read`` is called before every read (to shorten the socket timeout).
    """
    size = fspec.size
    digest = hashlib.sha256()
    read = getattr(src, "read1", src.read)
    with temp_output(dest) as out:
        with tqdm(total=total, unit="B", unit_scale=True, desc=fspec.name, disable=not sys.stderr.isatty()) as bar:
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TooSlow()
                if before_read is not None:
                    before_read()
                chunk = read(CHUNK if size is None else max(1, min(CHUNK, size - received.n + 1)))
                if not chunk:
                    break
                received.n += len(chunk)
                if size is not None and received.n > size:
                    raise TooLarge(f"expected {size} bytes, got more than {size}")
                digest.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
        if size is not None and received.n < size:
            raise TooShort(f"expected {size} bytes, got only {received.n}")
        if digest.hexdigest() != fspec.sha256:
            raise ChecksumMismatch(digest.hexdigest())


@contextlib.contextmanager
def temp_output(dest: Path) -> Iterator[BinaryIO]:
    """Yield a binary file (from :func:`~seqstruct.common.io.atomic_path`) that becomes ``dest`` on success.

    Where ``flock`` exists the file stays open and locked until it has been renamed into place, so that
    :func:`remove_stale_temps` of a concurrent fetch never takes it for the leftover of a killed one.
    """
    with contextlib.ExitStack() as stack:
        opened: list[BinaryIO] = []
        if _flock is not None:
            stack.callback(lambda: [fh.close() for fh in opened])  # runs after atomic_path's rename or cleanup
        tmp = stack.enter_context(atomic_path(dest))
        out = open(tmp, "wb")  # noqa: SIM115 (closed by the exit stack, after the rename where locks exist)
        opened.append(out)
        if _flock is not None:
            _flock(out.fileno(), _LOCK_EX)
        else:
            stack.enter_context(out)
        yield out
        out.flush()


class CorruptCopy(Exception):
    """A compressed mirror copy cannot be decompressed; the message is the decompressor's reason."""


class Decompressing:
    """``read1`` and ``read`` of a decompressing reader, with decompression errors raised as :class:`CorruptCopy`.

    :func:`~seqstruct.data.transfer.store` reads with ``read1`` (it looks up ``read`` too, as the fallback). An
    ``OSError`` with an ``errno`` (the mirror file itself could not be read) passes through unchanged; gzip's and
    bz2's errors about the data have none.
    """

    def __init__(self, reader: lzma.LZMAFile | gzip.GzipFile | bz2.BZ2File) -> None:
        self._reader = reader

    def read1(self, n: int = -1) -> bytes:
        return self._guarded(self._reader.read1, n)

    def read(self, n: int = -1) -> bytes:
        return self._guarded(self._reader.read, n)

    @staticmethod
    def _guarded(read: Callable[[int], bytes], n: int) -> bytes:
        try:
            return read(n)
        except (lzma.LZMAError, zlib.error, EOFError) as exc:
            raise CorruptCopy(one_line(exc)) from None
        except OSError as exc:
            if exc.errno is not None:
                raise
            raise CorruptCopy(one_line(exc)) from None


def decompressing(fh: BinaryIO, compression: str) -> lzma.LZMAFile | gzip.GzipFile | bz2.BZ2File:
    """A reader of the decompressed bytes of the open file ``fh`` (``compression``: xz, gz or bz2)."""
    if compression == "xz":
        return lzma.LZMAFile(fh, format=lzma.FORMAT_XZ)
    if compression == "gz":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if compression == "bz2":
        return bz2.BZ2File(fh)
    raise DataError(f"unknown mirror_compression {compression!r}; use xz, gz or bz2")  # FileSpec refuses it first
