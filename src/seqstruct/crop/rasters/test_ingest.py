"""Tests of the ingestion jobs on files in the providers' formats over the real Delaware and Iowa counties:
known answers through the PRISM zips, the NLDAS hourly path, the soil path and the prepared dataset."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from numpy.testing import assert_allclose

from seqstruct.crop.conftest import CROP_MIRROR
from seqstruct.crop.rasters.aggregate import county_weights
from seqstruct.crop.rasters.grid import RasterDataError
from seqstruct.crop.rasters.ingest import (
    aggregate_nldas_year,
    aggregate_prism_year,
    aggregate_soil,
    build_raster_dataset,
    build_weights,
    counties_of,
    merge_year,
    product_grid,
    write_nc,
)

SHP = CROP_MIRROR / "gz_2010_us_050_00_20m.shp"
ADJ = CROP_MIRROR / "county_adjacency.txt"
YEAR = 2001  # 365 days


@pytest.fixture(scope="module")
def delaware():
    """The three counties of Delaware (10001 Kent, 10003 New Castle, 10005 Sussex)."""
    if not SHP.is_file():
        pytest.skip(f"{SHP} not present (set SEQSTRUCT_DATA_MIRROR)")
    return counties_of(SHP, [10])


def _days(year: int) -> list[date]:
    return [date(year, 1, 1) + timedelta(k) for k in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]


def test_prism_year_known_answers(delaware, tmp_path) -> None:
    from seqstruct.crop.rasters.prism import write_prism_cog_zip

    grid = product_grid("prism", delaware)
    weights = county_weights(delaware, grid)
    x = grid.transform.c + (np.arange(grid.shape[1]) + 0.5) * grid.transform.a
    hot_cell = int(np.argmax(weights.matrix[[1]].toarray()))  # a cell of New Castle
    # the COG zips of a whole year, and a BIL year is read by the smoke workflow (its odd years are BIL)
    for writer, folder in ((write_prism_cog_zip, tmp_path / "cog"),):
        for k, day in enumerate(_days(YEAR)):
            field = np.broadcast_to(np.float32(k) + 0 * x, grid.shape).copy()  # day k: the constant k
            if k == 10:
                field.flat[hot_cell] += 700.0  # one hot pixel on day 11 (week 2)
            writer(folder, "tmean", day, field, grid)
        weekly = aggregate_prism_year(folder, "tmean", YEAR, weights)["tmean"].values
        expected = np.array([np.arange(7 * w, min(7 * w + 7, 365) if w < 51 else 365).mean() for w in range(52)])
        share = weights.matrix[:, [hot_cell]].toarray().ravel() / np.asarray(weights.matrix.sum(axis=1)).ravel()
        expected_week2 = expected[1] + 700.0 * share / 7
        assert_allclose(weekly[:, 1], expected_week2, rtol=1e-5)
        assert_allclose(np.delete(weekly, 1, axis=1), np.delete(np.tile(expected, (3, 1)), 1, axis=1), rtol=1e-5)
    (tmp_path / "cog" / f"prism_tmean_us_25m_{YEAR}0704.zip").unlink()
    with pytest.raises(RasterDataError, match=f"{tmp_path / 'cog'}.*{YEAR}-07-04"):
        aggregate_prism_year(tmp_path / "cog", "tmean", YEAR, weights)


def test_prism_on_another_grid_is_named(delaware, tmp_path) -> None:
    from seqstruct.crop.rasters.prism import write_prism_cog_zip

    grid = product_grid("prism", delaware)
    wider = grid.window(0, 0, grid.shape[0], grid.shape[1] + 1)
    for day in _days(YEAR):
        write_prism_cog_zip(tmp_path, "ppt", day, np.ones(wider.shape, np.float32), wider)
    with pytest.raises(RasterDataError, match=f"prism_ppt_us_25m_{YEAR}0101.zip.*grid"):
        aggregate_prism_year(tmp_path, "ppt", YEAR, county_weights(delaware, grid))


@pytest.mark.slow
def test_nldas_year_from_hourly_grib(delaware, tmp_path) -> None:
    """A year of hourly GRIB1 files (8,760) on the window over Delaware: the daily mean of temperature and the
    daily max of the wind speed, then weeks."""
    from datetime import datetime

    from seqstruct.crop.rasters.nldas import nldas_file_name, nldas_hours, write_nldas_grib

    grid = product_grid("nldas", delaware)
    for when in nldas_hours(YEAR):
        h = when.hour
        fields = {
            "Tair": np.full(grid.shape, 270.0 + h, np.float32),  # daily mean 281.5
            "Wind_E": np.full(grid.shape, 3.0 * (h == 15), np.float32),  # one gusty hour a day: 5 m/s
            "Wind_N": np.full(grid.shape, 4.0 * (h == 15), np.float32),
        }
        write_nldas_grib(tmp_path / nldas_file_name("FORA", when, "grib"), "FORA", when, fields, grid)
    ds = aggregate_nldas_year(tmp_path, "FORA", ["tmp2m", "wind"], YEAR, county_weights(delaware, grid))
    assert_allclose(ds["tmp2m"].values, 281.5, rtol=1e-6)
    assert_allclose(ds["wind"].values, 5.0, rtol=1e-6)
    assert ds.attrs["year"] == YEAR and isinstance(nldas_hours(YEAR)[0], datetime)


def test_soil_of_a_county_inside_one_map_unit(delaware, tmp_path) -> None:
    from seqstruct.crop.rasters.gssurgo import (
        read_gssurgo_tables,
        soil_properties,
        synthetic_gssurgo_tables,
        write_gssurgo_tables,
        write_mukey_raster,
    )
    from seqstruct.crop.rasters.nlcd import write_nlcd
    from seqstruct.crop.rasters.synthetic import _albers_grid

    grid = _albers_grid(delaware, 2000.0)
    x = grid.transform.c + (np.arange(grid.shape[1]) + 0.5) * grid.transform.a
    mukey = np.where(x[None, :] < x.mean(), 101, 202) * np.ones(grid.shape, dtype=np.int64)
    write_mukey_raster(tmp_path / "mukey.tif", mukey, grid)
    classes = np.full(grid.shape, 82, np.uint8)
    write_nlcd(tmp_path / "nlcd.tif", classes, grid.transform)
    write_gssurgo_tables(tmp_path / "tables", synthetic_gssurgo_tables(np.array([101, 202, 303]), seed=1))
    props = soil_properties(read_gssurgo_tables(tmp_path / "tables"))
    soil = aggregate_soil(delaware, tmp_path / "mukey.tif", props, tmp_path / "nlcd.tif")
    assert soil["soil"].dims == ("county", "soil_var", "depth") and soil.sizes["soil_var"] == 20
    # every county mixes the two map units: its value lies between theirs, weighted by area
    a, b = props["soil"].sel(mukey=101).values, props["soil"].sel(mukey=202).values
    lo, hi = np.fmin(a, b), np.fmax(a, b)
    got = soil["soil"].values
    ok = np.isfinite(got)
    assert ok.any() and ((got >= lo - 1e-4) & (got <= hi + 1e-4))[ok].all()
    frac = soil["soil"].sel(soil_var=[v for v in soil["soil_var"].values if str(v).startswith("frac_")]).values
    assert_allclose(np.nansum(frac, axis=1)[np.isfinite(frac).all(axis=1)], 1.0, rtol=1e-5)  # class shares sum to 1


def test_prepared_dataset_from_parts(delaware, tmp_path, caplog) -> None:
    fips = delaware["FIPS"].to_numpy()
    for year in (2001, 2002):
        part = xr.Dataset(
            {"ppt": (("county", "week"), np.full((3, 52), float(year), np.float32))},
            coords={"county": fips, "week": np.arange(1, 53)},
        )
        write_nc(part, tmp_path / f"ppt_{year}.nc")
        write_nc(merge_year([tmp_path / f"ppt_{year}.nc"], ["ppt"], year), tmp_path / f"weekly_{year}.nc")
    soil = xr.Dataset(
        {
            "soil": (("county", "soil_var", "depth"), np.ones((3, 2, 6), np.float32)),
            "extra": (("county", "extra_var"), np.array([[0.5], [np.nan], [0.7]], np.float32)),
        },
        coords={"county": fips, "soil_var": ["a", "b"], "depth": np.arange(1, 7), "extra_var": ["nccpi_all"]},
    )
    write_nc(soil, tmp_path / "soil.nc")
    pd.DataFrame(
        {
            "fips": [10001, 10001, 10003, 10005],
            "year": [2001, 2002, 2001, 2002],
            "crop": "corn",
            "yield": [150.0, 160.0, 170.0, 140.0],
        }  # fmt: skip
    ).to_csv(tmp_path / "yields.csv", index=False)
    weekly = [tmp_path / "weekly_2002.nc", tmp_path / "weekly_2001.nc"]
    with caplog.at_level(logging.WARNING):
        ds = build_raster_dataset(weekly, tmp_path / "soil.nc", tmp_path / "yields.csv", ADJ, SHP, "corn", "test")
    assert list(ds["county"].values) == [10001, 10005] and "10003" in caplog.text  # NaN extra: dropped, logged
    assert_allclose(ds["weekly"].sel(year=2002).values, 2002.0)
    assert np.isnan(ds["yield"].sel(county=10005, year=2001)) and ds["observed"].all()
    assert ds.attrs["crop"] == "corn" and ds["name"].sel(county=10001) == "Kent County"
    with pytest.raises(RasterDataError, match="not consecutive"):
        build_raster_dataset(weekly[:1] * 2, tmp_path / "soil.nc", tmp_path / "yields.csv", ADJ, SHP, "corn", "t")
    with pytest.raises(RasterDataError, match="lack"):
        merge_year([tmp_path / "ppt_2001.nc"], ["ppt", "tmean"], 2001)


def test_weights_from_nlcd(delaware, tmp_path) -> None:
    from seqstruct.crop.rasters.nlcd import write_nlcd
    from seqstruct.crop.rasters.synthetic import _albers_grid

    land = _albers_grid(delaware, 1000.0)
    classes = np.full(land.shape, 82, np.uint8)
    classes[:, : land.shape[1] // 2] = 41  # forest in the west: no weight there
    write_nlcd(tmp_path / "nlcd.tif", classes, land.transform)
    grid = product_grid("prism", delaware)
    w = build_weights(delaware, grid, tmp_path / "nlcd.tif", tmp_path / "w.npz")
    assert (tmp_path / "w.npz").is_file() and w.matrix.nnz > 0
    plain = county_weights(delaware, grid)
    assert np.asarray(w.matrix.sum(axis=1)).ravel().sum() < 0.9 * np.asarray(plain.matrix.sum(axis=1)).ravel().sum()
