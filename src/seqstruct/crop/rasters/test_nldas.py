"""Tests of the NLDAS-2 reader and writers on tiny windows of the 0.125 degree grid, in both file formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from seqstruct.crop.rasters.grid import RasterDataError
from seqstruct.crop.rasters.nldas import (
    NLDAS_GRID,
    NLDAS_SOURCES,
    NLDAS_VARIABLES,
    list_nldas_year,
    nldas_file_name,
    nldas_hours,
    nldas_url,
    read_nldas_hour,
    write_nldas_grib,
    write_nldas_netcdf,
)

WHEN = datetime(1981, 1, 1, 1)
#: 8 x 10 cells whose upper-left cell centre is -100.5625 E, 40.4375 N
WINDOW = NLDAS_GRID.window(100, 195, 8, 10)
WRITERS = {"grib": write_nldas_grib, "netcdf": write_nldas_netcdf}


def _fields(product: str, seed: int = 0, grid=WINDOW) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for source in NLDAS_SOURCES.values():
        if source.product == product:
            values = (rng.random(grid.shape) * 40 + 270).astype(np.float32)
            values[rng.random(grid.shape) < 0.15] = np.nan  # water / outside the domain
            out[source.name] = values
    return out


def _write(tmp_path: Path, fmt: str, product: str, fields: dict[str, np.ndarray], grid=WINDOW, name=None) -> Path:
    path = tmp_path / (name or nldas_file_name(product, WHEN, fmt))
    return WRITERS[fmt](path, product, WHEN, fields, grid)


def test_grid_matches_the_nldas_definition():
    assert NLDAS_GRID.shape == (224, 464)
    assert NLDAS_GRID.bounds == (-125.0, 25.0, -67.0, 53.0)
    t = NLDAS_GRID.transform
    assert t @ (0.5, 0.5) == (-124.9375, 52.9375)
    assert t @ (463.5, 223.5) == (-67.0625, 25.0625)


def test_variables_cover_the_16_thesis_features():
    assert len(NLDAS_VARIABLES) == 16
    assert {v.product for v in NLDAS_VARIABLES.values()} == {"FORA", "NOAH"}
    assert [k for k, v in NLDAS_VARIABLES.items() if v.daily == "max"] == ["wind"]
    wind = NLDAS_VARIABLES["wind"]
    assert [(s.name, s.grib.key) for s in wind.sources] == [("Wind_E", (33, 105, 10)), ("Wind_N", (34, 105, 10))]
    assert NLDAS_VARIABLES["soilm_10_40"].sources[0].grib.key == (86, 112, 2600)
    assert NLDAS_VARIABLES["mstav_0_200"].sources[0].name == "SMAvail_0_200cm"


def test_file_names_and_urls():
    assert nldas_file_name("FORA", WHEN, "grib") == "NLDAS_FORA0125_H.A19810101.0100.002.grb"
    assert nldas_file_name("NOAH", datetime(2000, 12, 31, 23)) == "NLDAS_NOAH0125_H.A20001231.2300.020.nc"
    assert nldas_url("FORA", WHEN) == (
        "https://hydro1.gesdisc.eosdis.nasa.gov/data/NLDAS/NLDAS_FORA0125_H.2.0/1981/001/"
        "NLDAS_FORA0125_H.A19810101.0100.020.nc"
    )
    assert nldas_url("NOAH", datetime(2000, 12, 31, 5, tzinfo=UTC), "grib").endswith(
        "/NLDAS_NOAH0125_H.002/2000/366/NLDAS_NOAH0125_H.A20001231.0500.002.grb"
    )
    with pytest.raises(ValueError, match="on the hour"):
        nldas_file_name("FORA", datetime(1981, 1, 1, 1, 30))
    with pytest.raises(ValueError, match="product"):
        nldas_file_name("VIC", WHEN)


def test_hours_of_a_year():
    assert len(nldas_hours(1981)) == 8760
    assert len(nldas_hours(2000)) == 8784
    assert nldas_hours(1979)[0] == datetime(1979, 1, 1, 13)
    assert len(nldas_hours(1979)) == 8760 - 13


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
@pytest.mark.parametrize("product", ["FORA", "NOAH"])
def test_round_trip_of_every_variable(tmp_path, fmt, product):
    fields = _fields(product)
    path = _write(tmp_path, fmt, product, fields)
    names = [k for k, v in NLDAS_VARIABLES.items() if v.product == product]
    out = read_nldas_hour(path, names, grid=WINDOW)
    assert list(out) == names
    for name, raster in out.items():
        variable = NLDAS_VARIABLES[name]
        if variable.is_speed:
            expected = np.hypot(fields["Wind_E"], fields["Wind_N"])
        else:
            expected = fields[variable.sources[0].name]
        assert raster.values.dtype == np.float32 and raster.grid is WINDOW and raster.path == path
        np.testing.assert_allclose(raster.values, expected, rtol=0, atol=1e-4 if fmt == "grib" else 0)


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_hot_pixel_lands_at_its_lon_lat(tmp_path, fmt):
    lon, lat = -100.0625, 40.0625
    row, col = 3, 4  # of WINDOW, north-up
    assert WINDOW.transform @ (col + 0.5, row + 0.5) == (lon, lat)
    tair = np.zeros(WINDOW.shape, np.float32)
    tair[row, col] = 330.0
    path = _write(tmp_path, fmt, "FORA", {"Tair": tair})
    if fmt == "netcdf":  # the file itself stores latitude ascending, as the archive does
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            assert ds.lat.values[0] < ds.lat.values[-1]
            assert float(ds.Tair.sel(lat=lat, lon=lon).squeeze()) == 330.0
    values = read_nldas_hour(path, ["tmp2m"], grid=WINDOW)["tmp2m"].values
    assert np.argwhere(values > 300).tolist() == [[row, col]]


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_wind_is_the_speed_of_u_and_v(tmp_path, fmt):
    u = np.full(WINDOW.shape, 3.0, np.float32)
    v = np.full(WINDOW.shape, -4.0, np.float32)
    v[0, 0] = np.nan
    path = _write(tmp_path, fmt, "FORA", {"Wind_E": u, "Wind_N": v})
    wind = read_nldas_hour(path, ["wind"], grid=WINDOW)["wind"].values
    assert np.isnan(wind[0, 0])
    np.testing.assert_allclose(wind.ravel()[1:], 5.0, atol=1e-5)


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_fill_becomes_nan(tmp_path, fmt):
    soil = np.full(WINDOW.shape, 25.0, np.float32)
    soil[2:4, 5] = np.nan
    path = _write(tmp_path, fmt, "NOAH", {"SoilM_0_10cm": soil})
    if fmt == "netcdf":
        with xr.open_dataset(path, engine="h5netcdf", mask_and_scale=False) as ds:
            stored = ds.SoilM_0_10cm.values[0, ::-1]
            assert ds.SoilM_0_10cm.attrs["_FillValue"] == -9999.0
        assert (stored[2:4, 5] == -9999.0).all()
    values = read_nldas_hour(path, ["soilm_0_10"], grid=WINDOW)["soilm_0_10"].values
    assert np.array_equal(np.isnan(values), np.isnan(soil))
    assert (values[~np.isnan(values)] == 25.0).all()


def test_gdal_reads_the_grib1_messages_with_nldas_names(tmp_path):
    path = _write(tmp_path, "grib", "NOAH", _fields("NOAH"))
    with rasterio.Env(GRIB_NORMALIZE_UNITS="NO"), rasterio.open(path) as ds:
        tags = [(ds.tags(i)["GRIB_ELEMENT"], ds.tags(i)["GRIB_SHORT_NAME"]) for i in range(1, ds.count + 1)]
    expected = [(s.grib.element, s.grib.gdal_level) for s in NLDAS_SOURCES.values() if s.product == "NOAH"]
    assert tags == expected


def test_full_grid_grib_corners_are_stored_in_millidegrees(tmp_path):
    path = tmp_path / "full.grb"
    write_nldas_grib(path, "FORA", WHEN, {"Rainf": np.zeros(NLDAS_GRID.shape, np.float32)})
    with rasterio.open(path) as ds:
        assert ds.transform.c == pytest.approx(-125.0005) and ds.transform.f == pytest.approx(53.0005)
    assert read_nldas_hour(path, ["apcp"])["apcp"].grid is NLDAS_GRID


def test_year_listing_names_the_missing_hours(tmp_path):
    hours = nldas_hours(1981)
    for when in hours:
        folder = tmp_path / "1981" / when.strftime("%j")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / nldas_file_name("FORA", when)).touch()
    assert len(list_nldas_year(tmp_path, "FORA", 1981)) == 8760
    first = nldas_file_name("FORA", hours[5])
    next(tmp_path.rglob(first)).unlink()
    next(tmp_path.rglob(nldas_file_name("FORA", hours[-1]))).unlink()
    with pytest.raises(RasterDataError, match=rf"{tmp_path}: 2 of 8760 .* \(first: {first}, ") as err:
        list_nldas_year(tmp_path, "FORA", 1981)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_truncated_file_names_the_file(tmp_path, fmt):
    path = _write(tmp_path, fmt, "NOAH", _fields("NOAH"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(RasterDataError, match=rf"^{path}: .*download") as err:
        read_nldas_hour(path, ["soilm_0_10", "tsoil_100_200"], grid=WINDOW)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_wrong_grid(tmp_path, fmt):
    path = _write(tmp_path, fmt, "FORA", _fields("FORA"))
    with pytest.raises(RasterDataError, match=rf"^{path}: its grid"):
        read_nldas_hour(path, ["tmp2m"], grid=NLDAS_GRID.window(100, 196, 8, 10))
    with pytest.raises(RasterDataError, match=rf"^{path}: its grid \(shape \(8, 10\)"):
        read_nldas_hour(path, ["tmp2m"])


@pytest.mark.parametrize("fmt", ["grib", "netcdf"])
def test_missing_variable(tmp_path, fmt):
    path = _write(tmp_path, fmt, "FORA", {"Tair": _fields("FORA")["Tair"]})
    with pytest.raises(RasterDataError, match=rf"^{path}: field\(s\) .*Qair.* not in the file"):
        read_nldas_hour(path, ["tmp2m", "spfh"], grid=WINDOW)


def test_feature_of_the_other_product(tmp_path):
    path = _write(tmp_path, "netcdf", "FORA", _fields("FORA"))
    with pytest.raises(RasterDataError, match="is a FORA file but soilm_0_10 come from NOAH files"):
        read_nldas_hour(path, ["tmp2m", "soilm_0_10"], grid=WINDOW)


def test_bad_arguments(tmp_path):
    path = _write(tmp_path, "netcdf", "FORA", _fields("FORA"), name="hour.txt")
    with pytest.raises(ValueError, match="unknown NLDAS file suffix"):
        read_nldas_hour(path, ["tmp2m"], grid=WINDOW)
    with pytest.raises(ValueError, match="unknown NLDAS feature"):
        read_nldas_hour(path, ["temperature"], grid=WINDOW)
    with pytest.raises(RasterDataError, match="not found"):
        read_nldas_hour(tmp_path / "absent.nc", ["tmp2m"])
    with pytest.raises(ValueError, match="not a stored NOAH field"):
        write_nldas_netcdf(tmp_path / "x.nc", "NOAH", WHEN, {"Tair": np.zeros(WINDOW.shape)}, WINDOW)
