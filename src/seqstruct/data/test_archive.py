"""Tests of archive member extraction on tiny zip/tar files written in tmp_path."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from seqstruct.data import DataError, MemberSpec, archive_format, extract_members

ONE = b"id,value\n1,2.5\n" * 50
TWO = os.urandom(5000)  # incompressible, so that truncating a compressed archive cuts into a member


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


GOOD = [MemberSpec("sub/dir/one.csv", _sha(ONE)), MemberSpec("two.bin", _sha(TWO))]


def _tar(path: Path, mode: str, entries: dict[str, bytes], extra: Sequence[tarfile.TarInfo] = ()) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for info in extra:
            tf.addfile(info)
    return path


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.parametrize(
    ("suffix", "mode", "fmt"),
    [(".tar.xz", "w:xz", "tar.xz"), (".tgz", "w:gz", "tar.gz"), (".tar", "w", "tar"), (".tar.bz2", "w:bz2", "tar.bz2")],
)
def test_tar_good_members(tmp_path: Path, suffix: str, mode: str, fmt: str) -> None:
    archive = _tar(tmp_path / f"pack{suffix}", mode, {"sub/dir/one.csv": ONE, "two.bin": TWO, "other.txt": b"x"})
    assert archive_format(archive) == fmt
    dest = tmp_path / "out"
    paths = extract_members(archive, dest, GOOD)
    assert paths == [dest / "sub" / "dir" / "one.csv", dest / "two.bin"]
    assert paths[0].read_bytes() == ONE and paths[1].read_bytes() == TWO
    assert _files(dest) == ["sub/dir/one.csv", "two.bin"]  # unlisted members are not written, no temp files left


def test_zip_good_members_detected_by_content(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "pack.zip", {"sub/dir/one.csv": ONE, "two.bin": TWO, "extra.txt": b"x"})
    renamed = archive.rename(tmp_path / "download.dat")  # no archive suffix: detected from the bytes
    assert archive_format(renamed) == "zip"
    dest = tmp_path / "out"
    assert extract_members(renamed, dest, GOOD) == [dest / "sub/dir/one.csv", dest / "two.bin"]
    assert (dest / "two.bin").read_bytes() == TWO
    assert _files(dest) == ["sub/dir/one.csv", "two.bin"]


def test_tar_with_dot_slash_prefix(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "pack.tar.gz", "w:gz", {"./sub/dir/one.csv": ONE, "./two.bin": TWO})
    assert [p.read_bytes() for p in extract_members(archive, tmp_path / "out", GOOD)] == [ONE, TWO]


def test_extracting_again_replaces_atomically(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "pack.zip", {"sub/dir/one.csv": ONE, "two.bin": TWO})
    dest = tmp_path / "out"
    extract_members(archive, dest, GOOD)
    (dest / "two.bin").write_bytes(b"stale")
    extract_members(archive, dest, GOOD[1:])
    assert (dest / "two.bin").read_bytes() == TWO


@pytest.mark.parametrize("make", ["zip", "tar"])
def test_parent_member_path_is_refused(tmp_path: Path, make: str) -> None:
    entries = {"../evil": b"pwned", "two.bin": TWO}
    archive = _zip(tmp_path / "a.zip", entries) if make == "zip" else _tar(tmp_path / "a.tar", "w", entries)
    dest = tmp_path / "out"
    with pytest.raises(DataError, match=r"member path '\.\./evil' contains '\.\.'; refused") as info:
        extract_members(archive, dest, [MemberSpec("two.bin", _sha(TWO)), MemberSpec("../evil", _sha(b"pwned"))])
    assert "\n" not in str(info.value)
    assert not (tmp_path / "evil").exists()
    assert _files(dest) == []  # checked before anything is written
    # Listing only the good member extracts it; the hostile entry is never written.
    assert extract_members(archive, dest, [MemberSpec("two.bin", _sha(TWO))]) == [dest / "two.bin"]
    assert not (tmp_path / "evil").exists()


def test_absolute_member_path_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "abs.txt"
    archive = _tar(tmp_path / "a.tar", "w", {str(target): b"pwned"})
    with pytest.raises(DataError, match=r"is absolute; refused"):
        extract_members(archive, tmp_path / "out", [MemberSpec(str(target), _sha(b"pwned"))])
    assert not target.exists()


def test_member_path_through_a_symlinked_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "sub").symlink_to(outside, target_is_directory=True)
    archive = _tar(tmp_path / "a.tar", "w", {"sub/one.csv": ONE})
    with pytest.raises(DataError, match="resolves outside"):
        extract_members(archive, dest, [MemberSpec("sub/one.csv", _sha(ONE))])
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (tarfile.SYMTYPE, "symbolic link"),
        (tarfile.LNKTYPE, "hard link"),
        (tarfile.DIRTYPE, "directory"),
        (tarfile.CHRTYPE, "device"),
    ],
)
def test_tar_link_and_special_members_are_refused(tmp_path: Path, kind: bytes, what: str) -> None:
    info = tarfile.TarInfo("link.csv")
    info.type = kind
    info.linkname = "/etc/passwd" if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE) else ""
    archive = _tar(tmp_path / "a.tar.xz", "w:xz", {"two.bin": TWO}, extra=[info])
    dest = tmp_path / "out"
    with pytest.raises(DataError, match=f"member 'link.csv' is a {what}.*refused"):
        extract_members(archive, dest, [MemberSpec("two.bin", _sha(TWO)), MemberSpec("link.csv", "0" * 64)])
    assert _files(dest) == [] and not (dest / "link.csv").is_symlink()


def test_zip_symlink_member_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link.csv")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(DataError, match="member 'link.csv' is a symbolic link"):
        extract_members(archive, tmp_path / "out", [MemberSpec("link.csv", _sha(b"/etc/passwd"))])


def test_missing_member(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"two.bin": TWO})
    with pytest.raises(DataError, match=r"has no member 'sub/dir/one.csv' \(it holds 1 entries: two.bin\)"):
        extract_members(archive, tmp_path / "out", GOOD)
    assert _files(tmp_path / "out") == []


@pytest.mark.parametrize(("name", "mode"), [("a.tar.xz", "w:xz"), ("a.tgz", "w:gz"), ("a.tar", "w"), ("a.zip", "")])
@pytest.mark.parametrize("keep", [0.5, 0.97])
def test_truncated_archive(tmp_path: Path, name: str, mode: str, keep: float) -> None:
    entries = {"sub/dir/one.csv": ONE, "two.bin": TWO}
    archive = _zip(tmp_path / name, entries) if name.endswith(".zip") else _tar(tmp_path / name, mode, entries)
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * keep)])
    dest = tmp_path / "out"
    if name == "a.tar" and keep > 0.9:  # only the zero padding is cut: the members are intact
        assert [p.read_bytes() for p in extract_members(archive, dest, GOOD)] == [ONE, TWO]
        return
    with pytest.raises(DataError, match=r"is truncated or corrupt \(.*\); delete it and fetch again") as info:
        extract_members(archive, dest, GOOD)
    assert str(archive) in str(info.value) and "\n" not in str(info.value)
    assert not any(".tmp" in f for f in _files(dest))


def test_corrupt_zip_member_crc(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "a.zip", {"two.bin": TWO})
    data = bytearray(archive.read_bytes())
    data[100] ^= 0xFF  # inside the compressed data of the only member
    archive.write_bytes(bytes(data))
    with pytest.raises(DataError, match="is truncated or corrupt"):
        extract_members(archive, tmp_path / "out", [MemberSpec("two.bin", _sha(TWO))])
    assert _files(tmp_path / "out") == []


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "plain.tar.gz"
    path.write_bytes(b"just text, whatever the suffix says\n" * 20)
    with pytest.raises(DataError, match="is not a zip or tar archive"):
        extract_members(path, tmp_path / "out", GOOD)


def test_compressed_non_tar(tmp_path: Path) -> None:
    path = tmp_path / "table.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(ONE)
    assert archive_format(path) == "tar.gz"  # from the magic bytes; the content is checked on extraction
    with pytest.raises(DataError, match="is compressed but holds no tar archive"):
        extract_members(path, tmp_path / "out", GOOD)


def test_member_checksum_mismatch_writes_nothing(tmp_path: Path) -> None:
    archive = _tar(tmp_path / "a.tar.xz", "w:xz", {"sub/dir/one.csv": ONE, "two.bin": TWO})
    wrong = [MemberSpec("sub/dir/one.csv", _sha(b"other"))]
    dest = tmp_path / "out"
    with pytest.raises(DataError) as info:
        extract_members(archive, dest, wrong)
    msg = str(info.value)
    assert "checksum mismatch for member 'sub/dir/one.csv'" in msg and _sha(b"other") in msg and _sha(ONE) in msg
    assert "nothing was written" in msg and "\n" not in msg
    assert _files(dest) == []
