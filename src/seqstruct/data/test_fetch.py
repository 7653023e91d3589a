"""Tests of file resolution: local copy, mirror, loopback download, checksums, CLI."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from seqstruct.data import DataError, DatasetSpec, FileSpec, get_dataset, resolve_file, sha256_file
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
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
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


def _spec(url: str, sha: str = SHA) -> DatasetSpec:
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


def test_mirror_copy_uses_no_network(
    tmp_path: Path, closed_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
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


@pytest.mark.skipif(not REAL_MIRROR.is_dir(), reason=f"no data mirror at {REAL_MIRROR} (set {MIRROR_ENV})")
def test_real_mirror_soybean_loc_ids(tmp_path: Path) -> None:
    spec = get_dataset("khaki_soybean", REGISTRY)
    path = resolve_file(spec, "Soybeans_Loc_ID.csv", raw_dir=tmp_path, mirror=REAL_MIRROR, download=False)
    assert sha256_file(path) == spec.file("Soybeans_Loc_ID.csv").sha256
    assert path.read_text().splitlines()[0].startswith("State,County")


@pytest.mark.skipif(not REAL_MIRROR.is_dir(), reason=f"no data mirror at {REAL_MIRROR} (set {MIRROR_ENV})")
def test_real_mirror_fetch_small_dataset(tmp_path: Path) -> None:
    paths = fetch_dataset(
        "census_county_adjacency", raw_dir=tmp_path, mirror=REAL_MIRROR, download=False, registry_path=REGISTRY
    )
    assert paths == [tmp_path / "census_county_adjacency" / "county_adjacency.txt"]


def test_cli_unknown_dataset(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "seqstruct.data.fetch", "no_such_data", "--registry", str(REGISTRY),
         "--raw-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: unknown dataset 'no_such_data'")
    assert proc.stdout == ""


def test_cli_resolves_from_mirror(tmp_path: Path) -> None:
    if not REAL_MIRROR.is_dir():
        pytest.skip(f"no data mirror at {REAL_MIRROR}")
    env = {**os.environ, MIRROR_ENV: str(REAL_MIRROR)}
    proc = subprocess.run(
        [sys.executable, "-m", "seqstruct.data.fetch", "khaki_soybean", "--file", "us_county_abbrev.txt",
         "--registry", str(REGISTRY), "--raw-dir", str(tmp_path), "--no-download"],
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "khaki_soybean" / "us_county_abbrev.txt")
