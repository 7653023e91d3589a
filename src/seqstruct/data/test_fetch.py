"""Tests of file resolution: local copy, mirror, loopback download, checksums, members, access modes, limits, CLI."""

from __future__ import annotations

import bz2
import contextlib
import fcntl
import functools
import gzip
import hashlib
import http.server
import io
import lzma
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from seqstruct.data import (
    Access,
    DataError,
    DatasetSpec,
    FileSpec,
    MemberSpec,
    get_dataset,
    load_registry,
    require_access,
    resolve_file,
    sha256_file,
)
from seqstruct.data.fetch import MIRROR_ENV, fetch_dataset

REPO = Path(__file__).resolve().parents[3]
REGISTRY = REPO / "config" / "datasets.yaml"
# Chosen at import time, before the autouse fixture below clears the variable.
REAL_MIRROR = Path(os.environ.get(MIRROR_ENV) or REPO.parent / "shared" / "data")

CONTENT = b"county,yield\n1,42.0\n" * 100
SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture(autouse=True)
def _no_env_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A loopback HTTP server over a tmp folder; yields (base URL, served folder)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_url() -> str:
    """A loopback URL on a port that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/data.csv"


def _spec(url: str | None, sha: str = SHA, size: int | None = len(CONTENT)) -> DatasetSpec:
    fspec = FileSpec("data.csv", url, sha, "toy/data.csv", size=size if url else None)
    return DatasetSpec("toy", "Toy", "public domain", "nobody", (fspec,))


def _leftovers(raw: Path) -> list[str]:
    folder = raw / "toy"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(CONTENT)
    assert sha256_file(path) == SHA


def test_download_over_loopback(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    (root / "data.csv").write_bytes(CONTENT)
    path = resolve_file(_spec(f"{base}/data.csv"), "data.csv", raw_dir=tmp_path / "raw", mirror=None)
    assert path == tmp_path / "raw" / "toy" / "data.csv"
    assert sha256_file(path) == SHA
    assert _leftovers(tmp_path / "raw") == ["data.csv"]


def test_download_checksum_mismatch_leaves_nothing(server: tuple[str, Path], tmp_path: Path) -> None:
    base, root = server
    tampered = CONTENT[:-8] + b"tampered"  # the registered size, other bytes
    (root / "data.csv").write_bytes(tampered)
    actual = hashlib.sha256(tampered).hexdigest()
    with pytest.raises(DataError) as info:
        resolve_file(_spec(f"{base}/data.csv"), "data.csv", raw_dir=tmp_path / "raw")
    msg = str(info.value)
    assert SHA in msg and actual in msg and "'data.csv'" in msg and "'toy'" in msg
    assert _leftovers(tmp_path / "raw") == []


def test_missing_everywhere_names_all_places(server: tuple[str, Path], tmp_path: Path) -> None:
    base, _ = server
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as info:
        resolve_file(_spec(f"{base}/data.csv"), "data.csv", raw_dir=raw)
    msg = str(info.value)
    assert f"local {raw / 'toy' / 'data.csv'}: not present" in msg
    assert f"mirror: not set ({MIRROR_ENV})" in msg
    assert f"download {base}/data.csv: HTTPError" in msg and "404" in msg
    assert f"{MIRROR_ENV}=" in msg and SHA in msg
    assert "\n" not in msg
    assert _leftovers(raw) == []


def test_missing_in_mirror_and_download_disabled(tmp_path: Path, closed_url: str) -> None:
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with pytest.raises(DataError, match=r"mirror .*toy/data.csv: not present; download: disabled"):
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror, download=False)
    with pytest.raises(DataError, match=r"download http://127\.0\.0\.1:\d+/data.csv: URLError"):
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror, timeout=5)


def test_mirror_copy_uses_no_network(tmp_path: Path, closed_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", no_network)
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    monkeypatch.setenv(MIRROR_ENV, str(mirror))  # the default comes from the environment
    path = resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw")
    assert path.read_bytes() == CONTENT
    assert _leftovers(tmp_path / "raw") == ["data.csv"]


def test_corrupt_mirror_copy_is_rejected(tmp_path: Path, closed_url: str) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    wrong = b"w" * len(CONTENT)  # the registered size, other bytes
    (mirror / "toy" / "data.csv").write_bytes(wrong)
    with pytest.raises(DataError, match=f"expected sha256 {SHA}, got {hashlib.sha256(wrong).hexdigest()}"):
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    assert _leftovers(tmp_path / "raw") == []


@pytest.mark.parametrize("extra", [b"more", b""])
def test_mirror_copy_of_another_size_is_refused_before_copying(tmp_path: Path, closed_url: str, extra: bytes) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    body = CONTENT + extra if extra else CONTENT[:-1]
    (mirror / "toy" / "data.csv").write_bytes(body)
    with pytest.raises(DataError) as info:
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    msg = str(info.value)
    assert f"has the wrong size: expected {len(CONTENT)} bytes, got {len(body)}; nothing was written" in msg
    assert "'data.csv'" in msg and "\n" not in msg
    assert _leftovers(tmp_path / "raw") == []
    # Without a registered size (a file with no url) the checksum alone decides.
    with pytest.raises(DataError, match="checksum mismatch"):
        resolve_file(_spec(None), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)


def test_present_file_is_returned_untouched(tmp_path: Path, closed_url: str) -> None:
    dest = tmp_path / "raw" / "toy" / "data.csv"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(CONTENT)
    mtime = dest.stat().st_mtime_ns
    mirror = tmp_path / "mirror"  # a corrupt mirror copy: reading it would raise
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(b"wrong")
    assert resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror) == dest
    assert dest.stat().st_mtime_ns == mtime


def test_corrupt_present_file_raises_and_is_kept(tmp_path: Path, closed_url: str) -> None:
    dest = tmp_path / "raw" / "toy" / "data.csv"
    dest.parent.mkdir(parents=True)
    dest.write_bytes(b"edited by hand")
    with pytest.raises(DataError, match="corrupt or was modified.*delete it"):
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw")
    assert dest.read_bytes() == b"edited by hand"


def _mirrored_real_files() -> list[tuple[int, str, str]]:
    """(size, dataset id, file name) of the real registry's files present in the real mirror, smallest first."""
    if not REAL_MIRROR.is_dir():
        pytest.skip(f"no data mirror at {REAL_MIRROR} (set {MIRROR_ENV})")
    found = [
        ((REAL_MIRROR / f.mirror).stat().st_size, spec.id, f.name)
        for spec in load_registry(REGISTRY).values()
        for f in spec.files
        if f.mirror and (REAL_MIRROR / f.mirror).is_file()
    ]
    if not found:
        pytest.skip(f"no file of {REGISTRY} is in the mirror {REAL_MIRROR}")
    return sorted(found)


def test_real_registry_sizes_match_the_mirror() -> None:
    _mirrored_real_files()  # skips without a mirror
    wrong = [
        (spec.id, f.name, f.size, (REAL_MIRROR / f.mirror).stat().st_size)
        for spec in load_registry(REGISTRY).values()
        for f in spec.files
        if f.mirror and f.size is not None and f.mirror_compression is None and (REAL_MIRROR / f.mirror).is_file()
        if (REAL_MIRROR / f.mirror).stat().st_size != f.size
    ]
    assert wrong == []


def test_real_mirror_smallest_file(tmp_path: Path) -> None:
    _, ds_id, name = _mirrored_real_files()[0]
    spec = get_dataset(ds_id, REGISTRY)
    path = resolve_file(spec, name, raw_dir=tmp_path, mirror=REAL_MIRROR, download=False)
    assert path == tmp_path / ds_id / name
    assert sha256_file(path) == spec.file(name).sha256


def test_real_mirror_fetch_smallest_complete_dataset(tmp_path: Path) -> None:
    sizes: dict[str, int] = {}
    for size, ds_id, _ in _mirrored_real_files():
        sizes[ds_id] = sizes.get(ds_id, 0) + size
    registry = load_registry(REGISTRY)
    complete = [i for i in sizes if all(f.mirror and (REAL_MIRROR / f.mirror).is_file() for f in registry[i].files)]
    if not complete:
        pytest.skip("no dataset of the real registry is completely in the mirror")
    ds_id = min(complete, key=sizes.__getitem__)
    paths = fetch_dataset(ds_id, raw_dir=tmp_path, mirror=REAL_MIRROR, download=False, registry_path=REGISTRY)
    spec = registry[ds_id]
    expected = [p for f in spec.files for p in [f.name, *(m.path for m in f.members)]]
    assert paths == [tmp_path / ds_id / p for p in expected]


def test_cli_unknown_dataset(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqstruct.data.fetch",
            "no_such_data",
            "--registry",
            str(REGISTRY),
            "--raw-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown dataset 'no_such_data'")
    assert proc.stdout == ""


def test_cli_resolves_from_mirror(tmp_path: Path) -> None:
    _, ds_id, name = _mirrored_real_files()[0]
    env = {**os.environ, MIRROR_ENV: str(REAL_MIRROR)}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqstruct.data.fetch",
            ds_id,
            "--file",
            name,
            "--registry",
            str(REGISTRY),
            "--raw-dir",
            str(tmp_path),
            "--no-download",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / ds_id / name)


# --- optional URL, access modes, archive members (tiny files in tmp_path, no network) ---------------------------

MEMBER = b"a,b\n1,2\n" * 30
MEMBER_SHA = hashlib.sha256(MEMBER).hexdigest()


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network used")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)  # urlopen and every opener


def _zip_bytes(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _archive_setup(tmp_path: Path) -> tuple[DatasetSpec, Path]:
    """A dataset with one zip (two members) in a tmp mirror; returns (spec, mirror root)."""
    data = _zip_bytes({"tables/m.csv": MEMBER, "data.csv": CONTENT, "unlisted.txt": b"x"})
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "pack.zip").write_bytes(data)
    members = (MemberSpec("tables/m.csv", MEMBER_SHA), MemberSpec("data.csv", SHA))
    archive = FileSpec("pack.zip", None, hashlib.sha256(data).hexdigest(), "toy/pack.zip", members)
    return DatasetSpec("toy", "Toy", "public domain", "nobody", (archive,)), mirror


def _registry_yaml(tmp_path: Path, spec: DatasetSpec) -> Path:
    """Write ``spec`` as a one-dataset registry file."""
    files = []
    for f in spec.files:
        entry = {"name": f.name, "sha256": f.sha256, **({"url": f.url} if f.url else {})}
        entry |= {"size": f.size} if f.size else {}
        entry |= {"mirror": f.mirror} if f.mirror else {}
        entry |= {"mirror_compression": f.mirror_compression} if f.mirror_compression else {}
        entry |= {"members": [{"path": m.path, "sha256": m.sha256} for m in f.members]} if f.members else {}
        files.append(entry)
    access: object = "public"
    if spec.access.kind == "api_key":
        access = {"api_key": spec.access.env_var}
    elif spec.access.kind == "unavailable":
        access = {"unavailable": spec.access.reason}
    body = {"title": spec.title, "license": spec.license, "citation": spec.citation, "access": access, "files": files}
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump({"datasets": {spec.id: body}}))
    return path


def test_file_without_url_comes_from_the_mirror(tmp_path: Path, no_network: None) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    spec = _spec(None)
    assert resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror).read_bytes() == CONTENT


def test_file_without_url_missing_says_so(tmp_path: Path, no_network: None) -> None:
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as info:
        resolve_file(_spec(None), "data.csv", raw_dir=raw)
    msg = str(info.value)
    assert "(it has no public URL)" in msg and "download: no public URL registered" in msg
    assert f"place the file at {raw / 'toy' / 'data.csv'} with sha256 {SHA}" in msg
    assert "\n" not in msg


def test_member_is_extracted_from_the_mirrored_archive(tmp_path: Path, no_network: None) -> None:
    spec, mirror = _archive_setup(tmp_path)
    raw = tmp_path / "raw"
    path = resolve_file(spec, "tables/m.csv", raw_dir=raw, mirror=mirror)
    assert path == raw / "toy" / "tables" / "m.csv" and path.read_bytes() == MEMBER
    assert sorted(p.name for p in (raw / "toy").iterdir()) == ["pack.zip", "tables"]  # only the asked member
    # Idempotent: with the archive and the mirror gone, the verified member is returned untouched.
    mtime = path.stat().st_mtime_ns
    (raw / "toy" / "pack.zip").unlink()
    assert resolve_file(spec, "tables/m.csv", raw_dir=raw, mirror=tmp_path / "gone") == path
    assert path.stat().st_mtime_ns == mtime


def test_modified_member_is_an_error(tmp_path: Path, no_network: None) -> None:
    spec, mirror = _archive_setup(tmp_path)
    raw = tmp_path / "raw"
    path = resolve_file(spec, "data.csv", raw_dir=raw, mirror=mirror)
    path.write_bytes(b"edited")
    with pytest.raises(DataError, match=r"archive member 'data.csv' of dataset 'toy' .* corrupt or was modified"):
        resolve_file(spec, "data.csv", raw_dir=raw, mirror=mirror)
    assert path.read_bytes() == b"edited"


def test_member_checksum_mismatch_via_resolve_file(tmp_path: Path, no_network: None) -> None:
    spec, mirror = _archive_setup(tmp_path)
    (archive,) = spec.files
    bad = DatasetSpec(
        "toy",
        "Toy",
        "-",
        "-",
        (FileSpec(archive.name, None, archive.sha256, archive.mirror, (MemberSpec("data.csv", "0" * 64),)),),
    )
    with pytest.raises(DataError, match="checksum mismatch for member 'data.csv'"):
        resolve_file(bad, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    assert not (tmp_path / "raw" / "toy" / "data.csv").exists()


def test_fetch_dataset_extracts_every_member(tmp_path: Path, no_network: None) -> None:
    spec, mirror = _archive_setup(tmp_path)
    registry = _registry_yaml(tmp_path, spec)
    raw = tmp_path / "raw"
    paths = fetch_dataset("toy", raw_dir=raw, mirror=mirror, registry_path=registry)
    assert paths == [raw / "toy" / "pack.zip", raw / "toy" / "tables" / "m.csv", raw / "toy" / "data.csv"]
    assert paths[1].read_bytes() == MEMBER and paths[2].read_bytes() == CONTENT
    assert not (raw / "toy" / "unlisted.txt").exists()
    assert fetch_dataset("toy", raw_dir=raw, mirror=mirror, registry_path=registry) == paths  # nothing to do


def test_cli_fetches_a_member(tmp_path: Path) -> None:
    spec, mirror = _archive_setup(tmp_path)
    registry = _registry_yaml(tmp_path, spec)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqstruct.data.fetch",
            "toy",
            "--file",
            "tables/m.csv",
            "--registry",
            str(registry),
            "--raw-dir",
            str(tmp_path / "raw"),
            "--mirror",
            str(mirror),
            "--no-download",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "raw" / "toy" / "tables" / "m.csv")


def _unavailable_spec(files: tuple[FileSpec, ...]) -> DatasetSpec:
    access = Access("unavailable", reason="licensed corpus, not public", instructions="buy it from the publisher")
    return DatasetSpec("toy", "Toy", "proprietary", "nobody", files, access=access)


def test_unavailable_dataset_names_reason_and_place(tmp_path: Path, no_network: None) -> None:
    spec = _unavailable_spec((FileSpec("data.csv", None, SHA, None),))
    raw = tmp_path / "raw"
    with pytest.raises(DataError) as info:
        resolve_file(spec, "data.csv", raw_dir=raw)
    msg = str(info.value)
    assert "'toy'" in msg and "licensed corpus, not public" in msg and "buy it from the publisher" in msg
    assert f"place data.csv at {raw / 'toy' / 'data.csv'} with sha256 {SHA}" in msg
    assert "\n" not in msg
    # A copy the user provides, with the registered checksum, is accepted.
    (raw / "toy").mkdir(parents=True)
    (raw / "toy" / "data.csv").write_bytes(CONTENT)
    assert resolve_file(spec, "data.csv", raw_dir=raw) == raw / "toy" / "data.csv"
    (raw / "toy" / "data.csv").write_bytes(b"something else")
    with pytest.raises(DataError, match="corrupt or was modified"):
        resolve_file(spec, "data.csv", raw_dir=raw)


def test_unavailable_dataset_in_a_private_mirror(tmp_path: Path, no_network: None) -> None:
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    spec = _unavailable_spec((FileSpec("data.csv", None, SHA, "toy/data.csv"),))
    assert resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror).read_bytes() == CONTENT


def test_unavailable_dataset_without_files(tmp_path: Path) -> None:
    spec = _unavailable_spec(())
    with pytest.raises(DataError) as info:
        require_access(spec, raw_dir=tmp_path / "raw")
    msg = str(info.value)
    assert "not publicly available (licensed corpus, not public)" in msg and str(tmp_path / "raw" / "toy") in msg
    registry = _registry_yaml(tmp_path, spec)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seqstruct.data.fetch",
            "toy",
            "--registry",
            str(registry),
            "--raw-dir",
            str(tmp_path / "raw"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: dataset 'toy' is not publicly available")


def test_api_key_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_network: None) -> None:
    var = "SEQSTRUCT_TEST_API_KEY"
    access = Access("api_key", env_var=var, instructions="a free key from the provider's dashboard")
    spec = DatasetSpec("toy", "Toy", "-", "-", (FileSpec("data.csv", None, SHA, "toy/data.csv"),), access=access)
    monkeypatch.delenv(var, raising=False)
    with pytest.raises(DataError) as info:
        require_access(spec)
    msg = str(info.value)
    assert msg.startswith(f"dataset 'toy' needs the environment variable {var} (a free key from")
    assert f"export {var}=" in msg and "\n" not in msg
    monkeypatch.setenv(var, "secret")
    assert require_access(spec) == "secret"
    assert require_access(_spec("http://127.0.0.1:1/x")) is None  # public: nothing needed
    # Registered files (e.g. cached API responses) resolve as usual ...
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    assert resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror).read_bytes() == CONTENT
    # ... and when missing, the message points at the API key too.
    with pytest.raises(DataError, match=f"no public URL.*needs the environment variable {var}"):
        resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw2", mirror=tmp_path / "empty")


def test_api_key_dataset_without_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    var = "SEQSTRUCT_TEST_API_KEY"
    spec = DatasetSpec("toy", "Toy", "-", "-", (), access=Access("api_key", env_var=var))
    registry = _registry_yaml(tmp_path, spec)
    monkeypatch.delenv(var, raising=False)
    with pytest.raises(DataError, match=f"needs the environment variable {var}"):
        fetch_dataset("toy", raw_dir=tmp_path / "raw", registry_path=registry)
    monkeypatch.setenv(var, "secret")
    assert fetch_dataset("toy", raw_dir=tmp_path / "raw", registry_path=registry) == []


# --- bounded and confined downloads (a loopback server that misbehaves on purpose) -----------------------------


class _HostileHandler(http.server.BaseHTTPRequestHandler):
    """``/file``: CONTENT; ``/endless``: a body without end; ``/announce``: a huge Content-Length; ``/short``:
    half of CONTENT; ``/trickle``: a byte every 0.1 s; ``/stall``: no answer; ``/to/<url>``: a 302 to ``<url>``."""

    stop: threading.Event

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer()

    def _answer(self) -> None:
        path = self.path
        if path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", path[len("/to/") :])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if path == "/stall":
            self.stop.wait(30)
            return
        body = {"/file": CONTENT, "/short": CONTENT[: len(CONTENT) // 2]}.get(path)
        self.send_response(200 if body is not None or path in {"/endless", "/announce", "/trickle"} else 404)
        if path == "/announce":
            self.send_header("Content-Length", str(10**12))
        elif path == "/trickle":
            self.send_header("Content-Length", str(len(CONTENT)))
        elif body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body is not None:
            self.wfile.write(body)
        elif path in {"/endless", "/announce"}:
            while not self.stop.is_set():
                self.wfile.write(b"x" * 65536)
        elif path == "/trickle":
            for byte in CONTENT:
                if self.stop.wait(0.1):
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()


@pytest.fixture
def hostile() -> Iterator[str]:
    """A loopback server with :class:`_HostileHandler`; yields its base URL."""
    stop = threading.Event()
    handler = type("Handler", (_HostileHandler,), {"stop": stop})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _one_line_error(fn: Callable[[], object]) -> str:
    with pytest.raises(DataError) as info:
        fn()
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_hostile_server_serves_a_good_file(hostile: str, tmp_path: Path) -> None:
    path = resolve_file(_spec(f"{hostile}/file"), "data.csv", raw_dir=tmp_path / "raw")
    assert path.read_bytes() == CONTENT and _leftovers(tmp_path / "raw") == ["data.csv"]


@pytest.mark.parametrize("route", ["endless", "announce"])
def test_download_stops_past_the_registered_size(hostile: str, tmp_path: Path, route: str) -> None:
    started = time.monotonic()
    msg = _one_line_error(lambda: resolve_file(_spec(f"{hostile}/{route}"), "data.csv", raw_dir=tmp_path / "raw"))
    assert time.monotonic() - started < 5
    n = len(CONTENT)
    assert msg.startswith(f"download of file 'data.csv' of dataset 'toy' from {hostile}/{route} stopped: ")
    assert f"expected {n} bytes, got more than {n}" in msg and "The source changed or the registry is wrong" in msg
    assert _leftovers(tmp_path / "raw") == []


def test_download_shorter_than_the_size_is_an_error(hostile: str, tmp_path: Path) -> None:
    msg = _one_line_error(lambda: resolve_file(_spec(f"{hostile}/short"), "data.csv", raw_dir=tmp_path / "raw"))
    assert f"ended early: expected {len(CONTENT)} bytes, got only {len(CONTENT) // 2}" in msg
    assert _leftovers(tmp_path / "raw") == []


@pytest.mark.parametrize("route", ["trickle", "stall"])
def test_download_has_a_total_time_limit(hostile: str, tmp_path: Path, route: str) -> None:
    started = time.monotonic()
    msg = _one_line_error(
        lambda: resolve_file(_spec(f"{hostile}/{route}"), "data.csv", raw_dir=tmp_path / "raw", max_seconds=1)
    )
    assert time.monotonic() - started < 3  # the per-read timeout (60 s) never came into play
    assert f"from {hostile}/{route} did not finish within the time limit of 1 s" in msg
    assert re.search(rf"\b\d+ of {len(CONTENT)} bytes received", msg)
    assert "--max-seconds" in msg and MIRROR_ENV in msg and "place the file at" in msg
    assert _leftovers(tmp_path / "raw") == []


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan")])
def test_time_limits_must_be_positive(tmp_path: Path, bad: float) -> None:
    with pytest.raises(DataError, match="max_seconds must be a positive number of seconds"):
        resolve_file(_spec(None), "data.csv", raw_dir=tmp_path, max_seconds=bad)
    with pytest.raises(DataError, match="timeout must be a positive number of seconds"):
        resolve_file(_spec(None), "data.csv", raw_dir=tmp_path, timeout=bad)


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/data.csv", "file:///etc/passwd", "data:,hello"])
def test_redirect_to_another_scheme_is_refused(hostile: str, tmp_path: Path, target: str) -> None:
    url = f"{hostile}/to/{target}"
    msg = _one_line_error(lambda: resolve_file(_spec(url), "data.csv", raw_dir=tmp_path / "raw"))
    assert msg.startswith(f"download of file 'data.csv' of dataset 'toy' from {url} was redirected to {target!r}")
    assert "not an https:// or http:// URL; refused" in msg
    assert _leftovers(tmp_path / "raw") == []


def test_redirect_to_http_is_followed(hostile: str, tmp_path: Path) -> None:
    path = resolve_file(_spec(f"{hostile}/to/{hostile}/file"), "data.csv", raw_dir=tmp_path / "raw")
    assert path.read_bytes() == CONTENT


def test_download_time_refuses_a_non_http_url(tmp_path: Path, no_network: None) -> None:
    spec = _spec("https://example.org/data.csv")
    object.__setattr__(spec.files[0], "url", "file:///etc/passwd")  # past the dataclass check: defence in depth
    msg = _one_line_error(lambda: resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw"))
    assert "url 'file:///etc/passwd' is not an https:// or http:// URL (scheme 'file'); refused" in msg
    assert _leftovers(tmp_path / "raw") == []


@pytest.mark.parametrize("ds_id", ["../../../../outside", "/tmp/outside", "a/b"])
def test_unsafe_dataset_id_cannot_be_built_or_used(tmp_path: Path, ds_id: str) -> None:
    with pytest.raises(DataError, match="dataset id .* must be a plain lower-case name"):
        DatasetSpec(ds_id, "T", "L", "C", (FileSpec("data.csv", None, SHA, "toy/data.csv"),))
    spec = _spec(None)
    object.__setattr__(spec, "id", ds_id)  # past the dataclass check: resolve_file refuses it too
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    msg = _one_line_error(lambda: resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror))
    assert f"{ds_id!r} contains a path separator; it cannot name a folder or file under" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mirror"]


def test_unsafe_file_name_and_member_path_are_refused(tmp_path: Path, no_network: None) -> None:
    spec = _spec(None)
    object.__setattr__(spec.files[0], "name", "../escape.csv")
    msg = _one_line_error(lambda: resolve_file(spec, "../escape.csv", raw_dir=tmp_path / "raw"))
    assert "'../escape.csv' contains a path separator" in msg
    target = tmp_path / "outside.csv"
    target.write_bytes(MEMBER)
    archive = FileSpec("pack.zip", None, SHA, "toy/pack.zip", (MemberSpec(str(target), MEMBER_SHA),))
    spec = DatasetSpec("toy", "Toy", "-", "-", (archive,))
    msg = _one_line_error(lambda: resolve_file(spec, str(target), raw_dir=tmp_path / "raw"))
    assert f"archive member path {str(target)!r} of dataset 'toy' is absolute; refused" in msg
    assert not (tmp_path / "raw").exists()


def test_destination_that_is_a_directory(tmp_path: Path, no_network: None) -> None:
    dest = tmp_path / "raw" / "toy" / "data.csv"
    dest.mkdir(parents=True)
    msg = _one_line_error(lambda: resolve_file(_spec(None), "data.csv", raw_dir=tmp_path / "raw"))
    assert msg == (
        f"local file 'data.csv' of dataset 'toy': {dest} is a directory, not the file; remove it (rm -r {dest}) "
        "and run again"
    )
    dest.rmdir()
    dest.parent.rmdir()
    dest.parent.write_bytes(b"")  # the dataset folder is a file
    msg = _one_line_error(lambda: resolve_file(_spec(None), "data.csv", raw_dir=tmp_path / "raw"))
    assert f"{dest.parent} is a file, not a folder; move or remove it" in msg


def _stale(folder: Path, name: str, age: float = 3600) -> Path:
    path = folder / name
    path.write_bytes(b"partial")
    old = time.time() - age
    os.utime(path, (old, old))
    return path


def test_stale_temp_files_of_the_same_file_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "raw" / "toy"
    folder.mkdir(parents=True)
    stale = [_stale(folder, ".data.csv.k3j2h1g0.tmp.csv"), _stale(folder, ".data.csv.abc.tmp")]
    young = _stale(folder, ".data.csv.young123.tmp.csv", age=0)
    other = _stale(folder, ".other.csv.k3j2h1g0.tmp.csv")
    unrelated = _stale(folder, "notes.txt")
    mirror = tmp_path / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    with open(_stale(folder, ".data.csv.locked00.tmp.csv"), "rb") as held:  # a fetch still writing it
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        resolve_file(_spec(None), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    assert not any(p.exists() for p in stale)
    assert young.exists() and other.exists() and unrelated.exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["data.csv", young.name, other.name, unrelated.name, ".data.csv.locked00.tmp.csv"]
    )


def test_the_temp_file_of_a_running_download_is_not_taken_for_stale(hostile: str, tmp_path: Path) -> None:
    from seqstruct.data import transfer

    raw = tmp_path / "raw"
    errors: list[BaseException] = []

    def run() -> None:
        try:
            resolve_file(_spec(f"{hostile}/trickle"), "data.csv", raw_dir=raw, max_seconds=1.5)
        except DataError as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 3
    while not list((raw / "toy").glob(".data.csv.*.tmp*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp,) = list((raw / "toy").glob(".data.csv.*.tmp*"))
    os.utime(tmp, (time.time() - 3600, time.time() - 3600))
    transfer.remove_stale_temps(raw / "toy" / "data.csv", set())
    assert tmp.exists()  # locked by the running download
    thread.join(timeout=5)
    assert errors and "did not finish within the time limit" in str(errors[0])
    assert _leftovers(raw) == []


def test_cli_max_seconds(hostile: str, tmp_path: Path) -> None:
    registry = _registry_yaml(tmp_path, _spec(f"{hostile}/stall"))
    cmd = [sys.executable, "-m", "seqstruct.data.fetch", "toy", "--registry", str(registry), "--raw-dir", str(tmp_path)]
    proc = subprocess.run([*cmd, "--max-seconds", "0.5"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "did not finish within the time limit of 0.5 s" in lines[0], proc.stderr
    proc = subprocess.run([*cmd, "--max-seconds", "0"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "--max-seconds: must be a positive number of seconds" in proc.stderr


# --- compressed mirror copies (mirror_compression): size and sha256 are those of the decompressed bytes -----------

COMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "xz": lambda body: lzma.compress(body, format=lzma.FORMAT_XZ, preset=1),  # fast; the mirror uses -9
    "gz": lambda body: gzip.compress(body, mtime=0),
    "bz2": bz2.compress,
}
NO_URL_HERE = "http://127.0.0.1:1/data.csv"  # never opened: the no_network fixture fails a test that tries


def _compressed_mirror(tmp_path: Path, compression: str, stored: bytes) -> tuple[DatasetSpec, Path, Path]:
    """A dataset registering CONTENT whose mirror copy is ``stored``; returns (spec, mirror root, mirror file)."""
    mirror = tmp_path / "mirror"
    src = mirror / "toy" / f"data.csv.{compression}"
    src.parent.mkdir(parents=True)
    src.write_bytes(stored)
    fspec = FileSpec(
        "data.csv", NO_URL_HERE, SHA, f"toy/data.csv.{compression}", size=len(CONTENT), mirror_compression=compression
    )
    return DatasetSpec("toy", "Toy", "public domain", "nobody", (fspec,)), mirror, src


@pytest.mark.parametrize("compression", ["xz", "gz", "bz2"])
def test_compressed_mirror_copy_is_decompressed(tmp_path: Path, no_network: None, compression: str) -> None:
    stored = COMPRESS[compression](CONTENT)
    assert len(stored) != len(CONTENT)  # the size check applies to the decompressed bytes only
    spec, mirror, _ = _compressed_mirror(tmp_path, compression, stored)
    path = resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror, download=False)
    assert path == tmp_path / "raw" / "toy" / "data.csv" and path.read_bytes() == CONTENT
    assert _leftovers(tmp_path / "raw") == ["data.csv"]
    # The same through a registry file.
    registry = _registry_yaml(tmp_path, spec)
    assert get_dataset("toy", registry).file("data.csv").mirror_compression == compression
    path.unlink()
    assert fetch_dataset("toy", tmp_path / "raw", mirror, download=False, registry_path=registry) == [path]
    assert path.read_bytes() == CONTENT


@pytest.mark.parametrize("compression", ["xz", "gz"])
def test_compressed_mirror_copy_of_a_large_file(tmp_path: Path, no_network: None, compression: str) -> None:
    body = b"".join(b"%d,%d\n" % (i, i * i % 9973) for i in range(300_000))  # about 3 MiB: several reads
    _, mirror, src = _compressed_mirror(tmp_path, compression, COMPRESS[compression](body))
    sha = hashlib.sha256(body).hexdigest()
    fspec = FileSpec("big.csv", None, sha, f"toy/{src.name}", size=len(body), mirror_compression=compression)
    spec = DatasetSpec("toy", "Toy", "public domain", "nobody", (fspec,))
    assert sha256_file(resolve_file(spec, "big.csv", raw_dir=tmp_path / "raw", mirror=mirror)) == sha


@pytest.mark.parametrize("compression", ["xz", "gz"])
def test_compressed_mirror_copy_with_the_wrong_sha256(tmp_path: Path, no_network: None, compression: str) -> None:
    wrong = b"w" * len(CONTENT)  # the registered size, other bytes
    spec, mirror, src = _compressed_mirror(tmp_path, compression, COMPRESS[compression](wrong))
    with pytest.raises(DataError) as info:
        resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    msg = str(info.value)
    assert f"expected sha256 {SHA}, got {hashlib.sha256(wrong).hexdigest()}" in msg
    assert f"mirror {src}: checksum mismatch of the {compression}-decompressed bytes" in msg
    assert "nothing was written" in msg and "\n" not in msg
    assert _leftovers(tmp_path / "raw") == []


@pytest.mark.parametrize("compression", ["xz", "gz"])
def test_compressed_mirror_copy_that_decompresses_to_more_stops_at_once(
    tmp_path: Path, no_network: None, compression: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seqstruct.data import transfer

    bomb = COMPRESS[compression](CONTENT + bytes(16 << 20))  # 16 MiB more, a few kB compressed
    spec, mirror, src = _compressed_mirror(tmp_path, compression, bomb)
    out: list[int] = []
    read1 = transfer.Decompressing.read1
    monkeypatch.setattr(transfer.Decompressing, "read1", lambda self, n: out.append(len(r := read1(self, n))) or r)
    with pytest.raises(DataError) as info:
        resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    msg = str(info.value)
    assert f"{compression} mirror copy {src} of file 'data.csv' of dataset 'toy' decompresses to the wrong size" in msg
    assert f"expected {len(CONTENT)} bytes, got more than {len(CONTENT)}; nothing was written" in msg
    assert "\n" not in msg
    assert sum(out) == len(CONTENT) + 1  # decompression stopped one byte past the registered size
    assert _leftovers(tmp_path / "raw") == []


def test_compressed_mirror_copy_that_decompresses_to_less(tmp_path: Path, no_network: None) -> None:
    spec, mirror, src = _compressed_mirror(tmp_path, "xz", COMPRESS["xz"](CONTENT[:-1]))
    with pytest.raises(DataError, match=f"expected {len(CONTENT)} bytes, got only {len(CONTENT) - 1}; nothing was"):
        resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    assert _leftovers(tmp_path / "raw") == []


def _damaged(stored: bytes) -> dict[str, bytes]:
    return {
        "half": stored[: len(stored) // 2],
        "last byte missing": stored[:-1],
        "bad magic": b"XXXX" + stored[4:],
        "bad trailer": stored[:-6] + bytes(b ^ 0xFF for b in stored[-6:-4]) + stored[-4:],
        "not compressed": CONTENT,
    }


@pytest.mark.parametrize("compression", ["xz", "gz", "bz2"])
@pytest.mark.parametrize("damage", ["half", "last byte missing", "bad magic", "bad trailer", "not compressed"])
def test_truncated_or_corrupt_compressed_mirror_copy(
    tmp_path: Path, no_network: None, compression: str, damage: str
) -> None:
    stored = _damaged(COMPRESS[compression](CONTENT))[damage]
    spec, mirror, src = _compressed_mirror(tmp_path, compression, stored)
    with pytest.raises(DataError) as info:
        resolve_file(spec, "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    msg = str(info.value)
    assert f"{compression} mirror copy {src} of file 'data.csv' of dataset 'toy' is truncated or corrupt: " in msg
    assert re.search(r"corrupt: (EOFError|LZMAError|BadGzipFile|OSError): .+; replace the mirror copy", msg), msg
    assert "\n" not in msg
    assert _leftovers(tmp_path / "raw") == []


def test_cli_corrupt_compressed_mirror_copy(tmp_path: Path) -> None:
    spec, mirror, src = _compressed_mirror(tmp_path, "xz", COMPRESS["xz"](CONTENT)[:-1])
    proc = subprocess.run(
        [sys.executable, "-m", "seqstruct.data.fetch", "toy", "--registry", str(_registry_yaml(tmp_path, spec))]
        + ["--raw-dir", str(tmp_path / "raw"), "--mirror", str(mirror), "--no-download"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith(f"error: xz mirror copy {src} ")
    assert "is truncated or corrupt: EOFError: Compressed file ended" in proc.stderr
    assert _leftovers(tmp_path / "raw") == []


# The registry entry of the staged Mulan yeast set (as reported for config/datasets.yaml): the public bytes at the
# URL, xz-compressed in the mirror (see <mirror>/mlc/PROVENANCE.md).
MULAN = "https://raw.githubusercontent.com/tsoumakas/mulan/43f6389095ad71984264db4387a8074b22bc7d4a/data/multi-label"
MULAN_YEAST_YAML = f"""\
datasets:
  mulan_yeast:
    title: Yeast gene functional classes (Mulan multi-label benchmark)
    license: >-
      The Mulan repository is GPL-3.0; the data files carry no license of their own: cite the dataset's original
      paper
    citation: >-
      A. Elisseeff and J. Weston, "A kernel method for multi-labelled classification", Advances in Neural
      Information Processing Systems 14 (NIPS 2001), pp. 681-687.
    description: >-
      Mulan train/test split, 1500 + 917 genes, 103 numeric features (micro-array expression and phylogenetic
      profiles), 14 functional-class labels (the last 14 attributes; label names in yeast.xml); dense ARFF.
    files:
      - name: yeast-train.arff
        url: {MULAN}/yeast/yeast-train.arff
        size: 1501117
        sha256: e759dc991ff54694a4ff9c4314f3be0d6fd2b1994a4b563f57e416394c6aebbd
        mirror: mlc/yeast/yeast-train.arff.xz
        mirror_compression: xz
      - name: yeast-test.arff
        url: {MULAN}/yeast/yeast-test.arff
        size: 918515
        sha256: 4aaac102bff9669a765bf0b378602e5cc8c3b181048282e2f003117b496d552a
        mirror: mlc/yeast/yeast-test.arff.xz
        mirror_compression: xz
      - name: yeast.xml
        url: {MULAN}/yeast/yeast.xml
        size: 526
        sha256: c3056cc26444b5158b1588d1b73bec9c45429e10f0957ad085903423cb81f247
        mirror: mlc/yeast/yeast.xml
"""


def test_real_staged_mulan_yeast_from_the_compressed_mirror(tmp_path: Path, no_network: None) -> None:
    if not (REAL_MIRROR / "mlc" / "yeast" / "yeast-train.arff.xz").is_file():
        pytest.skip(f"no staged Mulan yeast in the data mirror {REAL_MIRROR} (set {MIRROR_ENV})")
    registry = tmp_path / "datasets.yaml"
    registry.write_text(MULAN_YEAST_YAML)
    spec = get_dataset("mulan_yeast", registry)
    path = resolve_file(spec, "yeast-train.arff", raw_dir=tmp_path / "raw", mirror=REAL_MIRROR, download=False)
    assert path == tmp_path / "raw" / "mulan_yeast" / "yeast-train.arff"
    assert path.stat().st_size == 1501117 and sha256_file(path) == spec.file("yeast-train.arff").sha256
    assert path.read_bytes().lstrip().lower().startswith(b"@relation")
    paths = fetch_dataset("mulan_yeast", tmp_path / "raw", REAL_MIRROR, download=False, registry_path=registry)
    assert [p.name for p in paths] == ["yeast-train.arff", "yeast-test.arff", "yeast.xml"]
    assert all(sha256_file(p) == f.sha256 for p, f in zip(paths, spec.files, strict=True))
