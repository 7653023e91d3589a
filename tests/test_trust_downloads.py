"""Regression list of the download audit, as a new user sees it: ``python -m seqstruct.data.fetch`` run as a command.

Each case writes a one-dataset registry into ``tmp_path`` (and, where a server is needed, points it at the
loopback server of ``seqstruct.data.test_fetch.hostile``, which misbehaves on purpose) and checks that the
command fails (status != 0) with one ``error:`` line that names the file or registry key, and that nothing is
left under the raw folder:

1. dataset ids, file names and member paths that would lead outside ``<raw_dir>/<id>/`` (and a NUL byte);
2. URLs that are not http(s) (``file:``, ``data:``, ``ftp:``), and redirects to them;
3. a body without end, and a registry file with a URL but no size;
4. a body that trickles in (the total time limit, ``--max-seconds``);
5. SIGTERM during a download (and the temporary file a SIGKILL leaves, removed by the next fetch);
6. a local destination that is a directory.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from seqstruct.data import test_fetch

CONTENT = test_fetch.CONTENT
hostile = test_fetch.hostile  # the fixture: a loopback server that misbehaves on purpose

SHA = hashlib.sha256(CONTENT).hexdigest()
TEMP_GLOB = ".data.csv.*.tmp*"


def _registry(tmp_path: Path, file: dict[str, Any], ds_id: str = "toy") -> Path:
    """Write a one-dataset, one-file registry; ``file`` is the file entry (name, url, size, sha256, mirror)."""
    entry = {"title": "Toy", "license": "-", "citation": "-", "files": [{"mirror": "toy/data.csv", **file}]}
    path = tmp_path / "datasets.yaml"
    path.write_text(yaml.safe_dump({"datasets": {ds_id: entry}}))
    return path


def _file(url: str | None, **extra: Any) -> dict[str, Any]:
    """A file entry for CONTENT (with its size when it has a url); ``extra`` keys override."""
    entry: dict[str, Any] = {"name": "data.csv", "sha256": SHA}
    if url is not None:
        entry |= {"url": url, "size": len(CONTENT)}
    return entry | extra


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SEQSTRUCT_DATA_MIRROR"}
    return env | {"no_proxy": "127.0.0.1,localhost", "NO_PROXY": "127.0.0.1,localhost"}


def _command(registry: Path, raw: Path, ds_id: str = "toy") -> list[str]:
    return [sys.executable, "-m", "seqstruct.data.fetch", ds_id, "--registry", str(registry), "--raw-dir", str(raw)]


def _fetch(registry: Path, raw: Path, *extra: str, ds_id: str = "toy") -> subprocess.CompletedProcess[str]:
    cmd = [*_command(registry, raw, ds_id=ds_id), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=_env())


def _error_line(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    """Assert a failure with exactly one ``error:`` line on stderr that contains each of ``names``."""
    assert proc.returncode != 0, proc.stdout
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    assert proc.stdout == ""
    return lines[0]


def _files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if not p.is_dir()) if path.exists() else []


# 1. Paths --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ds_id", ["../../../../outside", "/tmp/seqstruct-outside", "a/../../b"])
def test_1_dataset_id_that_is_a_path(tmp_path: Path, ds_id: str) -> None:
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    registry = _registry(work, _file(None), ds_id=ds_id)
    mirror = work / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "data.csv").write_bytes(CONTENT)
    raw = work / "raw"
    proc = _fetch(registry, raw, "--mirror", str(mirror), ds_id=ds_id)
    _error_line(proc, str(registry), repr(ds_id), "must be a plain lower-case name")
    assert _files_under(tmp_path) == ["a/b/c/d/datasets.yaml", "a/b/c/d/mirror/toy/data.csv"]
    assert not Path("/tmp/seqstruct-outside").exists()


@pytest.mark.parametrize(
    ("name", "why"), [("../escape.csv", "path separator"), ("a\0b.csv", "NUL character"), ("..", "'.' or '..'")]
)
def test_1_file_name_that_is_a_path_or_has_a_nul_byte(tmp_path: Path, name: str, why: str) -> None:
    registry = _registry(tmp_path, _file(None, name=name))
    proc = _fetch(registry, tmp_path / "raw")
    _error_line(proc, str(registry), "dataset 'toy', file #1", repr(name), why)
    assert "Traceback" not in proc.stderr and not (tmp_path / "raw").exists()
    assert not (tmp_path / "escape.csv").exists()


def test_1_member_path_that_leaves_the_dataset_folder(tmp_path: Path) -> None:
    members = [{"path": "../../escape.csv", "sha256": SHA}]
    registry = _registry(tmp_path, _file(None, name="pack.zip", members=members))
    proc = _fetch(registry, tmp_path / "raw")
    _error_line(proc, str(registry), "member #1", "'../../escape.csv' contains '..'")
    assert not (tmp_path / "raw").exists() and not (tmp_path / "escape.csv").exists()


# 2. Schemes ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["file:///etc/passwd", "data:text/plain;base64,aGVsbG8=", "ftp://127.0.0.1/data.csv"])
def test_2_url_that_is_not_http(tmp_path: Path, url: str) -> None:
    registry = _registry(tmp_path, _file(url))
    line = _error_line(_fetch(registry, tmp_path / "raw"), str(registry), "dataset 'toy'", "(data.csv)", repr(url))
    assert "only https:// and http:// URLs are downloaded" in line
    assert "SEQSTRUCT_DATA_MIRROR" in line and "a directory, not a URL" in line
    assert not (tmp_path / "raw").exists()


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/data.csv", "file:///etc/passwd"])
def test_2_redirect_to_another_scheme(tmp_path: Path, hostile: str, target: str) -> None:
    url = f"{hostile}/to/{target}"
    registry = _registry(tmp_path, _file(url))
    line = _error_line(_fetch(registry, tmp_path / "raw"), "'data.csv'", "'toy'", url, repr(target))
    assert "not an https:// or http:// URL; refused" in line
    assert _files_under(tmp_path / "raw") == []


# 3. Size ---------------------------------------------------------------------------------------------------------


def test_3_body_without_end(tmp_path: Path, hostile: str) -> None:
    registry = _registry(tmp_path, _file(f"{hostile}/endless"))
    started = time.monotonic()
    line = _error_line(_fetch(registry, tmp_path / "raw"), "'data.csv'", "'toy'", f"{hostile}/endless")
    assert time.monotonic() - started < 5
    n = len(CONTENT)
    assert f"expected {n} bytes, got more than {n}" in line and "The source changed or the registry is wrong" in line
    assert _files_under(tmp_path / "raw") == []


def test_3_url_without_size(tmp_path: Path, hostile: str) -> None:
    entry = _file(f"{hostile}/file")
    del entry["size"]
    registry = _registry(tmp_path, entry)
    line = _error_line(_fetch(registry, tmp_path / "raw"), str(registry), "dataset 'toy'", "(data.csv)")
    assert "missing key size (required with 'url'" in line
    assert not (tmp_path / "raw").exists()


# 4. Time ---------------------------------------------------------------------------------------------------------


def test_4_body_that_trickles(tmp_path: Path, hostile: str) -> None:
    registry = _registry(tmp_path, _file(f"{hostile}/trickle"))
    started = time.monotonic()
    proc = _fetch(registry, tmp_path / "raw", "--max-seconds", "2")
    assert time.monotonic() - started < 5
    line = _error_line(proc, "'data.csv'", "'toy'", f"{hostile}/trickle", "time limit of 2 s", "--max-seconds")
    assert f"of {len(CONTENT)} bytes received" in line and "place the file at" in line
    assert _files_under(tmp_path / "raw") == []


# 5. Signals ------------------------------------------------------------------------------------------------------


def _start_slow_fetch(tmp_path: Path, hostile: str) -> tuple[subprocess.Popen[str], Path]:
    """Start a fetch of the trickling file; return it once its temporary file exists."""
    registry = _registry(tmp_path, _file(f"{hostile}/trickle"))
    raw = tmp_path / "raw"
    proc = subprocess.Popen(
        _command(registry, raw), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env()
    )
    deadline = time.monotonic() + 4
    while not list((raw / "toy").glob(TEMP_GLOB)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    if not list((raw / "toy").glob(TEMP_GLOB)):
        proc.kill()
        pytest.fail(f"the fetch wrote no temporary file: {proc.communicate()}")
    return proc, raw


def test_5_sigterm_during_a_download(tmp_path: Path, hostile: str) -> None:
    proc, raw = _start_slow_fetch(tmp_path, hostile)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=5)
    assert proc.returncode == 143
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: fetching dataset 'toy' was stopped by SIGTERM"), err
    assert out == "" and _files_under(raw) == []


def test_5_temp_file_left_by_sigkill_is_removed_by_the_next_fetch(tmp_path: Path, hostile: str) -> None:
    proc, raw = _start_slow_fetch(tmp_path, hostile)
    proc.kill()  # SIGKILL cannot be caught: the temporary file stays
    proc.communicate(timeout=5)
    (left,) = (raw / "toy").glob(TEMP_GLOB)
    earlier = time.time() - 60  # as left by an earlier run
    os.utime(left, (earlier, earlier))
    registry = _registry(tmp_path, _file(f"{hostile}/file"))
    done = _fetch(registry, raw)
    assert done.returncode == 0, done.stderr
    assert _files_under(raw) == ["toy/data.csv"]


# 6. Destination --------------------------------------------------------------------------------------------------


def test_6_destination_that_is_a_directory(tmp_path: Path, hostile: str) -> None:
    dest = tmp_path / "raw" / "toy" / "data.csv"
    dest.mkdir(parents=True)
    registry = _registry(tmp_path, _file(f"{hostile}/file"))
    line = _error_line(_fetch(registry, tmp_path / "raw"), "'data.csv'", "'toy'", str(dest))
    assert "is a directory, not the file; remove it" in line and "Traceback" not in line
    assert _files_under(tmp_path / "raw") == [] and dest.is_dir()
