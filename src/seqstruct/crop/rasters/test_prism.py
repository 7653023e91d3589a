"""PRISM daily readers on tiny files written in both real layouts."""

from __future__ import annotations

import logging
import zipfile
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest

from seqstruct.crop.rasters.grid import RasterDataError
from seqstruct.crop.rasters.prism import (
    PRISM_4KM,
    PRISM_VARIABLES,
    cog_zip_name,
    find_prism_day,
    parse_prism_name,
    prism_url,
    prism_year_files,
    read_prism_day,
    read_prism_days,
    write_prism_bil_zip,
    write_prism_cog_zip,
)

#: a 4 x 5 cut-out of the PRISM grid (Kansas-ish)
SMALL = PRISM_4KM.window(300, 700, 4, 5)
DAY = date(2021, 7, 1)
WRITERS = [write_prism_cog_zip, write_prism_bil_zip]


def _values(seed: int = 0) -> np.ndarray:
    values = np.random.default_rng(seed).uniform(-5, 30, SMALL.shape).astype(np.float32)
    values[0, 0] = values[3, 4] = np.nan
    return values


def test_grid_and_variables() -> None:
    assert PRISM_4KM.shape == (621, 1405)
    assert PRISM_4KM.transform.a == pytest.approx(1 / 24) and PRISM_4KM.transform.e == pytest.approx(-1 / 24)
    assert PRISM_4KM.transform.c == pytest.approx(-125.0208333333) and PRISM_4KM.transform.f == 49.9375
    assert PRISM_4KM.pyproj_crs.to_epsg() == 4269
    assert set(PRISM_VARIABLES) == {"ppt", "tmean", "tmax", "tmin", "tdmean", "vpdmax", "vpdmin"}
    assert PRISM_VARIABLES["ppt"] == "mm" and PRISM_VARIABLES["vpdmax"] == "hPa"


def test_url() -> None:
    assert prism_url("tmax", date(2025, 3, 12)) == (
        "https://data.prism.oregonstate.edu/time_series/us/an/4km/tmax/daily/2025/prism_tmax_us_25m_20250312.zip"
    )


@pytest.mark.parametrize("writer", WRITERS)
def test_round_trip(tmp_path: Path, writer) -> None:
    values = _values()
    path = writer(tmp_path, "tmax", DAY, values, SMALL)
    raster = read_prism_day(path, SMALL)
    assert raster.values.dtype == np.float32 and raster.values.shape == SMALL.shape
    np.testing.assert_array_equal(np.isnan(raster.values), np.isnan(values))
    np.testing.assert_allclose(raster.values, values, equal_nan=True)
    assert raster.grid.same_as(SMALL) and raster.path == path


def test_real_member_names(tmp_path: Path) -> None:
    cog = write_prism_cog_zip(tmp_path, "ppt", DAY, _values(), SMALL)
    bil = write_prism_bil_zip(tmp_path, "ppt", DAY, _values(), SMALL, stability="provisional")
    assert cog.name == "prism_ppt_us_25m_20210701.zip"
    assert "prism_ppt_us_25m_20210701.tif" in zipfile.ZipFile(cog).namelist()
    assert bil.name == "PRISM_ppt_provisional_4kmD2_20210701_bil.zip"
    stem = "PRISM_ppt_provisional_4kmD2_20210701_bil"
    assert {f"{stem}.{ext}" for ext in ("bil", "hdr", "prj", "stx", "info.txt", "xml")} == set(
        zipfile.ZipFile(bil).namelist()
    )
    parsed = parse_prism_name(bil)
    assert (parsed.layout, parsed.stability, parsed.day, parsed.var) == ("bil", "provisional", DAY, "ppt")
    assert parse_prism_name(cog).layout == "cog" and parse_prism_name(tmp_path / "notes.zip") is None


def test_find_prefers_cog(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bil = write_prism_bil_zip(tmp_path, "tmin", DAY, _values(), SMALL)
    assert find_prism_day(tmp_path, "tmin", DAY) == bil
    cog = write_prism_cog_zip(tmp_path, "tmin", DAY, _values(), SMALL)
    with caplog.at_level(logging.INFO, logger="seqstruct.crop.rasters.prism"):
        assert find_prism_day(tmp_path, "tmin", DAY) == cog
    assert bil.name in caplog.text
    with pytest.raises(RasterDataError, match="no PRISM tmin zip for 2021-07-02"):
        find_prism_day(tmp_path, "tmin", date(2021, 7, 2))


def test_year_files_and_missing_days(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    year = 2020  # leap year: 366 days
    days = [date(year, 1, 1) + timedelta(days=i) for i in range(366)]
    one = np.ones(SMALL.shape, np.float32)
    for i, day in enumerate(days[:10]):  # real files, alternating layouts; the first one "early"
        if i % 2:
            write_prism_cog_zip(tmp_path, "ppt", day, one * i, SMALL)
        else:
            write_prism_bil_zip(tmp_path, "ppt", day, one * i, SMALL, stability="early" if i == 0 else "stable")
    template = (tmp_path / cog_zip_name("ppt", days[1])).read_bytes()
    for day in days[10:]:  # only their names matter for the listing
        (tmp_path / cog_zip_name("ppt", day)).write_bytes(template)
    with caplog.at_level(logging.WARNING, logger="seqstruct.crop.rasters.prism"):
        files = prism_year_files(tmp_path, "ppt", year)
    assert len(files) == 366 and [parse_prism_name(f).day for f in files] == days
    assert "1 early" in caplog.text
    stack = read_prism_days(files[:10], SMALL)
    assert stack.shape == (10, *SMALL.shape) and np.array_equal(stack[:, 0, 0], np.arange(10, dtype=np.float32))
    files[40].unlink()
    files[41].unlink()
    with pytest.raises(RasterDataError, match=r"2 of 366 days .* missing \(first: 2020-02-10, 2020-02-11\)") as err:
        prism_year_files(tmp_path, "ppt", year)
    assert str(tmp_path) in str(err.value)


def test_bil_without_prj_has_no_crs(tmp_path: Path) -> None:
    path = write_prism_bil_zip(tmp_path, "tmean", DAY, _values(), SMALL)
    stripped = tmp_path / "stripped" / path.name
    stripped.parent.mkdir()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(stripped, "w") as target:
        for name in source.namelist():
            if not name.endswith(".prj"):
                target.writestr(name, source.read(name))
    with pytest.raises(RasterDataError, match="no coordinate reference system") as err:
        read_prism_day(stripped, SMALL)
    assert str(stripped) in str(err.value)


@pytest.mark.parametrize("writer", WRITERS)
def test_truncated_zip(tmp_path: Path, writer) -> None:
    path = writer(tmp_path, "tdmean", DAY, _values(), SMALL)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterDataError, match="truncated or corrupt") as err:
        read_prism_day(path, SMALL)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_corrupt_member(tmp_path: Path) -> None:
    path = write_prism_cog_zip(tmp_path, "vpdmax", DAY, _values(), SMALL)
    data = bytearray(path.read_bytes())
    data[200:260] = bytes(60)  # inside the deflated .tif
    path.write_bytes(bytes(data))
    with pytest.raises(RasterDataError, match="corrupt") as err:
        read_prism_day(path, SMALL)
    assert path.name in str(err.value)


@pytest.mark.parametrize("writer", WRITERS)
def test_zip_on_another_grid(tmp_path: Path, writer) -> None:
    path = writer(tmp_path, "vpdmin", DAY, _values(), SMALL)
    with pytest.raises(RasterDataError, match="differs from the grid") as err:
        read_prism_day(path)  # the full PRISM grid is expected
    assert str(path) in str(err.value)


def test_missing_file_and_renamed_zip(tmp_path: Path) -> None:
    with pytest.raises(RasterDataError, match="does not exist"):
        read_prism_day(tmp_path / "prism_ppt_us_25m_20210701.zip", SMALL)
    path = write_prism_cog_zip(tmp_path, "ppt", DAY, _values(), SMALL)
    renamed = path.rename(tmp_path / "download (1).zip")
    np.testing.assert_allclose(read_prism_day(renamed, SMALL).values, _values(), equal_nan=True)
