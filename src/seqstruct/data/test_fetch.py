"""Tests of file resolution: local copy, mirror, loopback download, checksums, members, access modes, CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import urllib.request
import zipfile
from collections.abc import Iterator
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


def _spec(url: str | None, sha: str = SHA) -> DatasetSpec:
    return DatasetSpec("toy", "Toy", "public domain", "nobody", (FileSpec("data.csv", url, sha, "toy/data.csv"),))


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
    (root / "data.csv").write_bytes(CONTENT + b"tampered")
    actual = hashlib.sha256(CONTENT + b"tampered").hexdigest()
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

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
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
    (mirror / "toy" / "data.csv").write_bytes(b"wrong")
    with pytest.raises(DataError, match=f"expected sha256 {SHA}, got {hashlib.sha256(b'wrong').hexdigest()}"):
        resolve_file(_spec(closed_url), "data.csv", raw_dir=tmp_path / "raw", mirror=mirror)
    assert _leftovers(tmp_path / "raw") == []


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

    monkeypatch.setattr(urllib.request, "urlopen", refuse)


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
        entry |= {"mirror": f.mirror} if f.mirror else {}
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
