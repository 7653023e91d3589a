"""Safe, checksum-verified extraction of listed members from zip and tar archives.

The format is detected from the file's content (zip; tar, optionally gzip-, bzip2- or xz-compressed), not
from its name. Only the members listed in the registry are ever written, each to ``<dest_dir>/<path>``,
atomically and only if its sha256 matches. A listed member path that is absolute, contains ``..`` or resolves
outside ``dest_dir`` is refused, and so is a listed member that is a link, directory or device. A truncated or
corrupt archive raises :class:`~seqstruct.data.registry.DataError` and writes nothing further.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, BinaryIO

from seqstruct.common.errors import one_line
from seqstruct.common.io import atomic_path
from seqstruct.data.registry import DataError, MemberSpec, check_member_path

_CHUNK = 1 << 20
_COMPRESSED: dict[bytes, tuple[str, Callable[[str], IO[bytes]]]] = {
    b"\x1f\x8b": ("gzip", gzip.open),
    b"BZh": ("bzip2", bz2.open),
    b"\xfd7zXZ\x00": ("xz", lzma.open),
}
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# What a damaged archive raises while it is listed or read.
_CORRUPT = (
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)


def archive_format(archive: str | os.PathLike[str]) -> str:
    """Detect the format of an archive from its first bytes.

    Parameters
    ----------
    archive : str or os.PathLike
        The archive file.

    Returns
    -------
    str
        ``"zip"``, ``"tar"``, ``"tar.gz"``, ``"tar.bz2"`` or ``"tar.xz"`` (for the compressed forms the inner
        tar is not checked here).

    Raises
    ------
    DataError
        The file cannot be read, or it is neither a zip nor a (compressed) tar archive.
    """
    path = Path(archive)
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise DataError(f"archive {path} cannot be read ({one_line(exc)}); fetch it again") from None
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    for magic, (kind, _) in _COMPRESSED.items():
        if head.startswith(magic):
            return {"gzip": "tar.gz", "bzip2": "tar.bz2", "xz": "tar.xz"}[kind]
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    try:
        with tarfile.open(path, "r:"):
            return "tar"
    except (tarfile.TarError, OSError):
        pass
    raise DataError(
        f"{path} is not a zip or tar archive (detected from its content), so it has no members to extract; "
        "check the registry entry ('members' belongs only to zip/tar files) or delete the file and fetch again"
    )


def extract_members(
    archive: str | os.PathLike[str], dest_dir: str | os.PathLike[str], members: Sequence[MemberSpec]
) -> list[Path]:
    """Extract the listed members of a zip/tar archive to ``dest_dir``, each verified by its sha256.

    Every listed member is checked before anything is written: it must exist in the archive, be a regular
    file (links, directories and devices are refused), and its path must be relative, free of ``..`` and stay
    inside ``dest_dir``. Each member is then written atomically to ``dest_dir/<path>`` (subfolders are created)
    and renamed into place only if its sha256 matches; an existing file there is replaced. Members that are
    not listed are never written.

    Parameters
    ----------
    archive : str or os.PathLike
        A zip, tar, tar.gz/tgz, tar.bz2 or tar.xz file (detected from its content).
    dest_dir : str or os.PathLike
        Folder the member paths are relative to.
    members : sequence of MemberSpec
        The members to extract, with their expected sha256.

    Returns
    -------
    list of Path
        ``dest_dir/<path>`` for each member, in the order given.

    Raises
    ------
    DataError
        The archive is not a zip/tar archive, is truncated or corrupt, lacks a listed member, a listed member
        is unsafe or not a regular file, or an extracted member has the wrong sha256.
    """
    path, dest = Path(archive), Path(dest_dir)
    targets = [_target(path, dest, m) for m in members]
    extract = _extract_zip if archive_format(path) == "zip" else _extract_tar
    try:
        extract(path, members, targets)
    except _ReadFailed as exc:
        raise _corrupt(path, exc.cause) from None
    return targets


class _ReadFailed(Exception):
    """Reading the archive failed (as opposed to writing a member, whose OSError propagates unchanged)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _target(archive: Path, dest: Path, member: MemberSpec) -> Path:
    """Return ``dest/<member.path>`` after checking that it cannot escape ``dest``."""
    why = check_member_path(member.path)
    if why is None:
        root = dest.resolve()
        target = dest / member.path
        if target.resolve() == root or not target.resolve().is_relative_to(root):
            why = f"resolves outside {dest}"
        else:
            return target
    raise DataError(
        f"archive {archive}: member path {member.path!r} {why}; refused (nothing is extracted outside {dest}). "
        "Fix the member path in the registry"
    )


def _extract_zip(archive: Path, members: Sequence[MemberSpec], targets: list[Path]) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except _CORRUPT as exc:
        raise _ReadFailed(exc) from exc
    with zf:
        entries = {info.filename: info for info in zf.infolist()}
        infos = [_zip_entry(archive, entries, m) for m in members]
        for member, info, target in zip(members, infos, targets, strict=True):
            try:
                src = zf.open(info)
            except (RuntimeError, NotImplementedError) as exc:  # encrypted, unsupported compression
                raise DataError(
                    f"archive {archive}: member {member.path!r} cannot be read ({one_line(exc)}); "
                    "re-pack the archive without encryption, or register the extracted file instead"
                ) from None
            except _CORRUPT as exc:
                raise _ReadFailed(exc) from exc
            with src:
                _write_verified(src, target, member, archive)


def _zip_entry(archive: Path, entries: dict[str, zipfile.ZipInfo], member: MemberSpec) -> zipfile.ZipInfo:
    info = entries.get(member.path)
    if info is None:
        raise _missing(archive, member, entries)
    mode = info.external_attr >> 16
    if info.is_dir():
        raise _not_regular(archive, member, "a directory")
    if stat.S_ISLNK(mode):
        raise _not_regular(archive, member, "a symbolic link")
    if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
        raise _not_regular(archive, member, "a device or other special file")
    return info


def _extract_tar(archive: Path, members: Sequence[MemberSpec], targets: list[Path]) -> None:
    try:
        _check_compressed_stream(archive)
    except _CORRUPT as exc:
        raise _ReadFailed(exc) from exc
    try:
        tf = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed by the with block below
    except tarfile.ReadError as exc:  # the compressed stream is intact, so what it holds is not a tar
        raise DataError(
            f"{archive} is compressed but holds no tar archive ({one_line(exc)}), so it has no members to "
            "extract; check the registry entry ('members' belongs only to zip/tar files)"
        ) from None
    except _CORRUPT as exc:
        raise _ReadFailed(exc) from exc
    with tf:
        try:
            entries = {_tar_name(info.name): info for info in tf.getmembers()}
        except _CORRUPT as exc:
            raise _ReadFailed(exc) from exc
        infos = [_tar_entry(archive, entries, m) for m in members]
        order = sorted(range(len(members)), key=lambda i: infos[i].offset_data)  # read forward through streams
        for i in order:
            src = tf.extractfile(infos[i])
            if src is None:  # pragma: no cover - regular files always have data
                raise _not_regular(archive, members[i], "not a regular file")
            with src:
                _write_verified(src, targets[i], members[i], archive)


def _tar_name(name: str) -> str:
    while name.startswith("./"):
        name = name[2:]
    return name


def _tar_entry(archive: Path, entries: dict[str, tarfile.TarInfo], member: MemberSpec) -> tarfile.TarInfo:
    info = entries.get(member.path)
    if info is None:
        raise _missing(archive, member, entries)
    if info.issym():
        raise _not_regular(archive, member, f"a symbolic link (to {info.linkname!r})")
    if info.islnk():
        raise _not_regular(archive, member, f"a hard link (to {info.linkname!r})")
    if info.isdir():
        raise _not_regular(archive, member, "a directory")
    if not info.isfile():
        raise _not_regular(archive, member, "a device, FIFO or other special file")
    return info


def _check_compressed_stream(archive: Path) -> None:
    """Decompress a gzip/bzip2/xz file to its end, so that a truncated tail is noticed (tar stops early)."""
    with open(archive, "rb") as fh:
        head = fh.read(8)
    for magic, (_, opener) in _COMPRESSED.items():
        if head.startswith(magic):
            with opener(os.fspath(archive)) as stream:
                while stream.read(_CHUNK):
                    pass
            return


def _write_verified(src: BinaryIO | IO[bytes], target: Path, member: MemberSpec, archive: Path) -> None:
    digest = hashlib.sha256()
    with atomic_path(target) as tmp, open(tmp, "wb") as out:
        while chunk := _read(src):
            digest.update(chunk)
            out.write(chunk)
        if digest.hexdigest() != member.sha256:
            raise DataError(
                f"checksum mismatch for member {member.path!r} of archive {archive}: expected sha256 "
                f"{member.sha256}, got {digest.hexdigest()}; nothing was written. The archive is not the "
                "registered version or the member's sha256 in the registry is wrong"
            )


def _read(src: BinaryIO | IO[bytes]) -> bytes:
    try:
        return src.read(_CHUNK)
    except _CORRUPT as exc:
        raise _ReadFailed(exc) from exc


def _missing(archive: Path, member: MemberSpec, entries: dict[str, object]) -> DataError:
    sample = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
    return DataError(
        f"archive {archive} has no member {member.path!r} (it holds {len(entries)} entries: {sample or 'none'}); "
        "fix the member path in the registry, or delete the archive and fetch it again if it is damaged"
    )


def _not_regular(archive: Path, member: MemberSpec, what: str) -> DataError:
    return DataError(
        f"archive {archive}: member {member.path!r} is {what}, not a regular file; links and special files are "
        "refused. List the file it points to instead"
    )


def _corrupt(archive: Path, exc: BaseException) -> DataError:
    return DataError(f"archive {archive} is truncated or corrupt ({one_line(exc)}); delete it and fetch again")
