"""Regression list of the numeric-input audit: each bad input, made from a copy of the real crop mirror files,
must stop ``python -m seqstruct.crop.prepare`` with one ``error:`` line naming the file, and write nothing.

Cases: complex, integer and pickled-object arrays; a yield of 1e9 and a weather value of -1e6; a loc table that
drops 100 of the 105 counties; a ``.prj`` that contradicts the coordinates (degrees declared as Albers metres;
metres declared as NAD83 degrees). The real files themselves pass (0.98% of the rows dropped: loc 1114).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from conftest import ROOT, mirror_dir

SHP = "gz_2010_us_050_00_20m"
FILES = ("soybean_data.npz", "Soybeans_Loc_ID.csv", "us_county_abbrev.txt", "county_adjacency.txt") + tuple(
    f"{SHP}.{ext}" for ext in ("shp", "shx", "dbf", "prj")
)
CROP = mirror_dir() / "crop" if mirror_dir() is not None else None
pytestmark = pytest.mark.skipif(
    CROP is None or not all((CROP / f).is_file() for f in FILES),
    reason="real crop mirror files not found (set SEQSTRUCT_DATA_MIRROR to the folder holding crop/)",
)
LOG_LINE = re.compile(r"^(DEBUG|INFO|WARNING) (seqstruct\.|__main__: )")  # logging.basicConfig of main()


def _raw_copy(dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in FILES:
        shutil.copyfile(CROP / name, dest / name)
    return dest


def _edit_npz(raw: Path, change: Callable[[np.ndarray], np.ndarray]) -> Path:
    path = raw / "soybean_data.npz"
    data = np.load(path)["data"]
    np.savez(path, data=change(data.copy()), allow_pickle=True)
    return path


def _set(row: int, col: int, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(a: np.ndarray) -> np.ndarray:
        a[row, col] = value
        return a

    return change


def _complex(raw: Path) -> Path:
    return _edit_npz(raw, lambda a: a + 0.5j)


def _integer(raw: Path) -> Path:
    return _edit_npz(raw, lambda a: a.astype(np.int64))


def _objects(raw: Path) -> Path:
    return _edit_npz(raw, lambda a: a.astype(object))


def _huge_yield(raw: Path) -> Path:
    return _edit_npz(raw, _set(7, 2, 1e9))


def _cold_weather(raw: Path) -> Path:
    return _edit_npz(raw, _set(100, 3 + 52 * 3 + 10, -1e6))  # tmax, week 11


def _short_loc_table(raw: Path) -> Path:
    path = raw / "Soybeans_Loc_ID.csv"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:6]))  # header + loc_IDs 0-4: 100 of the data's 105 counties unknown
    return raw / "soybean_data.npz"  # the error starts with the npz and names the loc table


def _albers_prj(raw: Path) -> Path:
    (raw / f"{SHP}.prj").write_text(pyproj.CRS(5070).to_wkt("WKT1_ESRI"))  # the coordinates stay degrees
    return raw / f"{SHP}.shp"  # the error starts with the .shp and names the .prj


def _metres_as_degrees(raw: Path) -> Path:
    shp = raw / f"{SHP}.shp"
    gdf = gpd.read_file(shp, engine="pyogrio").to_crs(5070).set_crs(4269, allow_override=True)
    gdf.to_file(shp, engine="pyogrio")
    return shp


CASES = {
    # case: (make the bad input and return the file the error names first, pattern the rest of the line must match)
    "complex": (_complex, r" \(array 'data'\): holds complex numbers \(dtype complex128\), expected real floats"),
    "integer": (_integer, r" \(array 'data'\): holds integers \(dtype int64\), expected real floats"),
    "objects": (_objects, r" \(array 'data'\): holds pickled Python objects \(dtype object\), expected real floats"),
    "yield_1e9": (
        _huge_yield,
        r" \(array 'data'\): yield = 1e\+09 at row 7, column 2 is outside .* \(0, 150\] bu/acre",
    ),
    "weather_-1e6": (_cold_weather, r" \(array 'data'\): tmax = -1e\+06 at row 100, column 169 .* \[-60, 60\] degC"),
    "dropped_share": (
        _short_loc_table,
        r": 3814 of 4000 rows \(95.3%\) dropped, more than the allowed 5.0%: their loc_IDs \(5, 6, 7, 8, 9, ...\) "
        r"are not in .*Soybeans_Loc_ID.csv or name no Census county; use the loc table of the same crop",
    ),
    "prj_albers": (
        _albers_prj,
        r" \(county centroids\): 105 of 105 points fall outside the area of use of CRS 'NAD83 / Conus Albers' .*"
        r"the coordinates contradict the CRS declared in gz_2010_us_050_00_20m.prj \(NAD83 / Conus Albers\)",
    ),
    "prj_nan": (
        _metres_as_degrees,
        r" \(county centroids\): 105 of 105 points are not finite \(e.g. FIPS 17001\); the coordinates "
        r"contradict the CRS declared in gz_2010_us_050_00_20m.prj \(NAD83\)",
    ),
}


def _prepare(raw: Path, out: Path) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "seqstruct.crop.prepare", "--npz", str(raw / "soybean_data.npz")]
    cmd += ["--loc", str(raw / "Soybeans_Loc_ID.csv"), "--abbrev", str(raw / "us_county_abbrev.txt")]
    cmd += ["--adjacency", str(raw / "county_adjacency.txt"), "--shp", str(raw / f"{SHP}.shp"), "--out", str(out)]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_stops_prepare_with_one_line(case: str, tmp_path: Path) -> None:
    make, pattern = CASES[case]
    raw = _raw_copy(tmp_path / "raw")
    bad = make(raw)
    out = tmp_path / "out" / "soybean.nc"
    res = _prepare(raw, out)
    assert res.returncode != 0, res.stderr[-2000:]
    lines = res.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], res.stderr[-2000:]
    assert all(LOG_LINE.match(line) for line in lines[:-1]), res.stderr[-2000:]  # no traceback, only log records
    line = errors[0]
    assert re.match(re.escape(f"error: {bad}") + pattern, line), line
    if case == "dropped_share":
        assert f"are not in {raw / 'Soybeans_Loc_ID.csv'} or name" in line, line
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))


def test_the_real_files_pass(tmp_path: Path) -> None:
    raw = _raw_copy(tmp_path / "raw")
    out = tmp_path / "out" / "soybean.nc"
    res = _prepare(raw, out)
    assert res.returncode == 0, res.stderr[-2000:]
    assert out.is_file()
    assert "dropping loc_IDs [1114]" in res.stderr and ": 39 rows dropped" in res.stderr  # 39 of 4000: 0.98%
