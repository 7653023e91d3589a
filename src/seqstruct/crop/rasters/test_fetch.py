"""Tests of the PRISM / NLDAS downloads against a local HTTP server: every file checked by its reader,
resumable, a corrupt download refused and named."""

from __future__ import annotations

import functools
import http.server
import threading
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from seqstruct.crop.rasters.fetch import download_checked, fetch_nldas_year, fetch_prism_year
from seqstruct.crop.rasters.grid import RasterDataError
from seqstruct.crop.rasters.prism import PRISM_4KM, cog_zip_name, read_prism_day, write_prism_cog_zip

GRID = PRISM_4KM.window(100, 700, 3, 4)
YEAR = 2001


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def server(tmp_path: Path):
    """A local HTTP server over tmp_path/www serving a year of tiny PRISM zips in PRISM's URL layout."""
    root = tmp_path / "www" / "tmean" / "daily" / str(YEAR)
    for k in range(365):
        write_prism_cog_zip(root, "tmean", date(YEAR, 1, 1) + timedelta(k), np.full(GRID.shape, k, np.float32), GRID)
    handler = functools.partial(_Handler, directory=str(tmp_path / "www"))
    _Handler.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root
    httpd.shutdown()


def test_prism_year_is_fetched_checked_and_resumed(server, tmp_path: Path) -> None:
    base, root = server
    dest = tmp_path / "got"
    files = fetch_prism_year("tmean", YEAR, dest, base_url=base, grid=GRID)
    assert len(files) == 365 and len(_Handler.requests) == 365
    assert float(read_prism_day(files[40], GRID).values[0, 0]) == 40.0
    files[3].unlink()
    files[7].write_bytes(b"broken")  # a partial file from an interrupted run
    _Handler.requests = []
    fetch_prism_year("tmean", YEAR, dest, base_url=base, grid=GRID)
    assert sorted(_Handler.requests) == sorted(f"/tmean/daily/{YEAR}/{files[i].name}" for i in (3, 7))


def test_a_corrupt_or_missing_download_is_refused(server, tmp_path: Path) -> None:
    base, root = server
    bad = root / cog_zip_name("tmean", date(YEAR, 1, 1))
    bad.write_bytes(bad.read_bytes()[:100])  # truncated on the server
    dest = tmp_path / "got" / bad.name
    with pytest.raises(RasterDataError, match=f"{bad.name}: the downloaded file does not read"):
        download_checked(f"{base}/tmean/daily/{YEAR}/{bad.name}", dest, lambda p: read_prism_day(p, GRID))
    assert not dest.exists() and not list(dest.parent.glob("*.tmp*"))
    with pytest.raises(RasterDataError, match="download failed.*404"):
        download_checked(f"{base}/nope.zip", tmp_path / "nope.zip", lambda p: None, retries=1)
    with pytest.raises(RasterDataError, match="only http"):
        download_checked("file:///etc/passwd", tmp_path / "x", lambda p: None)


def test_nldas_needs_a_token(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
    with pytest.raises(RasterDataError, match="EARTHDATA_TOKEN"):
        fetch_nldas_year("FORA", YEAR, tmp_path)


def test_cli_fetches_into_the_workflow_layout(server, tmp_path: Path, monkeypatch) -> None:
    from seqstruct.crop.rasters import fetch

    base, _ = server
    monkeypatch.setattr(fetch, "fetch_prism_year", functools.partial(fetch_prism_year, base_url=base, grid=GRID))
    assert fetch.main(["prism", "tmean", "--years", str(YEAR), str(YEAR), "--root", str(tmp_path / "nw")]) == 0
    assert len(list((tmp_path / "nw" / "prism" / "tmean" / str(YEAR)).glob("*.zip"))) == 365
    monkeypatch.delenv("EARTHDATA_TOKEN", raising=False)
    assert fetch.main(["nldas", "FORA", "--years", "2001", "2001", "--root", str(tmp_path / "nw")]) == 1
