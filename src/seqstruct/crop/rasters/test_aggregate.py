"""Tests of the aggregation engine: exact coverage against GEOS, weighted means against exactextract, known
answers on real county boundaries (Illinois, Indiana, Iowa) and the days -> weeks rule."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pytest
import shapely
from affine import Affine
from numpy.testing import assert_allclose

from seqstruct.crop.conftest import CROP_MIRROR
from seqstruct.crop.rasters.aggregate import (
    CountyWeights,
    county_weights,
    coverage_fractions,
    daily_county_means,
    week_index,
    weekly_means,
)
from seqstruct.crop.rasters.grid import Grid, RasterDataError

SHP = CROP_MIRROR / "gz_2010_us_050_00_20m.shp"
PRISM = Grid("EPSG:4269", Affine(1 / 24, 0, -125.0208333333, 0, -1 / 24, 49.9375), (621, 1405))


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    """The real county polygons of Illinois (17), Indiana (18) and Iowa (19)."""
    if not SHP.is_file():
        pytest.skip(f"{SHP} not present (set SEQSTRUCT_DATA_MIRROR)")
    gdf = gpd.read_file(SHP)
    gdf = gdf[gdf["STATE"].isin(["17", "18", "19"])].copy()
    gdf["FIPS"] = (gdf["STATE"] + gdf["COUNTY"]).astype(np.int64)
    return gdf.sort_values("FIPS").reset_index(drop=True)


@pytest.fixture(scope="module")
def grid(counties: gpd.GeoDataFrame) -> Grid:
    """The PRISM 4 km grid cropped to the three states plus a margin."""
    xmin, ymin, xmax, ymax = counties.total_bounds
    t = PRISM.transform
    c0, r0 = int((xmin - t.c) / t.a) - 3, int((ymax - t.f) / t.e) - 3
    c1, r1 = int((xmax - t.c) / t.a) + 4, int((ymin - t.f) / t.e) + 4
    return PRISM.window(r0, c0, r1 - r0, c1 - c0)


def geos_fractions(geom: shapely.Geometry, grid: Grid) -> np.ndarray:
    """Reference: area(cell & geom) / area(cell) of every cell by GEOS intersection, (rows, cols)."""
    t, (rows, cols) = grid.transform, grid.shape
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    x0, y0 = t.c + cc.ravel() * t.a, t.f + rr.ravel() * t.e
    boxes = shapely.box(x0, y0 + t.e, x0 + t.a, y0)
    return (shapely.area(shapely.intersection(boxes, geom)) / abs(t.a * t.e)).reshape(rows, cols)


def split_column(grid: Grid, lon: float = -90.0) -> int:
    """The grid column at ``lon``: all of Iowa lies west of -90.0, all of Indiana east of it."""
    return int((lon - grid.transform.c) / grid.transform.a)


def dense(idx: np.ndarray, frac: np.ndarray, grid: Grid) -> np.ndarray:
    out = np.zeros(grid.n_cells)
    out[idx] = frac
    return out.reshape(grid.shape)


@pytest.mark.parametrize(
    "geom",
    [
        shapely.box(0.3, 0.2, 2.7, 3.1),
        shapely.Polygon([(0.1, 0.1), (3.9, 0.6), (2.2, 3.7)]),
        shapely.Polygon([(0, 0), (4, 0), (4, 4), (0, 4)], [[(1.2, 1.2), (2.6, 1.4), (1.9, 2.8)]]),  # a hole
        shapely.MultiPolygon([shapely.box(0.5, 0.5, 1.5, 1.5), shapely.box(2.25, 2.25, 3.0, 5.5)]),  # half outside
        shapely.box(1, 1, 3, 3),  # edges on cell lines
    ],
)
def test_coverage_matches_geos_on_shapes(geom: shapely.Geometry) -> None:
    grid = Grid("EPSG:4326", Affine(1, 0, 0, 0, -1, 4), (4, 4))
    assert_allclose(dense(*coverage_fractions(geom, grid), grid), geos_fractions(geom, grid), atol=1e-12)


def test_coverage_matches_geos_on_real_counties(counties: gpd.GeoDataFrame, grid: Grid) -> None:
    for geom in counties.geometry.iloc[::7]:
        assert_allclose(dense(*coverage_fractions(geom, grid), grid), geos_fractions(geom, grid), atol=1e-9)


def test_counties_partition_the_cells(counties: gpd.GeoDataFrame, grid: Grid) -> None:
    """Every cell is shared out exactly once among the counties of the union it lies in: the coverage of the
    counties sums to the coverage of their union (a hot pixel is counted once)."""
    w = county_weights(counties, grid)
    total = np.asarray(w.matrix.sum(axis=0)).reshape(grid.shape)
    union = shapely.union_all(counties.geometry.to_numpy())
    assert_allclose(total, geos_fractions(union, grid), atol=1e-9)
    assert_allclose(w.covered, 1.0, atol=1e-9)


def test_constant_field_linear_field_and_hot_pixel(counties: gpd.GeoDataFrame, grid: Grid) -> None:
    w = county_weights(counties, grid)
    assert_allclose(w.mean(np.full(grid.shape, 3.5, dtype=np.float32)), 3.5, rtol=1e-6)
    # a field linear in x: the mean is x of the coverage-weighted cell centres, within a cell of the centroid
    t = grid.transform
    x = t.c + (np.arange(grid.shape[1]) + 0.5) * t.a
    field = np.broadcast_to(2.0 * x, grid.shape).astype(np.float64)
    cx = shapely.get_x(shapely.centroid(counties.geometry.to_numpy()))  # planar, in degrees like the grid
    assert np.abs(w.mean(field) / 2.0 - cx).max() < abs(t.a)
    # one hot pixel inside Champaign County (17019): only the counties covering it see it, in proportion
    r, c = ~t @ (-88.2, 40.14)
    hot = np.zeros(grid.shape)
    hot[int(c), int(r)] = 1.0
    means = w.mean(hot)
    champaign = int(np.nonzero(w.fips == 17019)[0][0])
    assert means[champaign] > 0
    share = w.matrix[:, [int(c) * grid.shape[1] + int(r)]].toarray().ravel()
    assert_allclose(means, share / np.asarray(w.matrix.sum(axis=1)).ravel())


def test_matches_exactextract_weighted_mean(counties: gpd.GeoDataFrame, grid: Grid, tmp_path) -> None:
    exactextract = pytest.importorskip("exactextract")
    rasterio = pytest.importorskip("rasterio")
    rng = np.random.default_rng(0)
    values = rng.normal(20, 5, grid.shape).astype(np.float32)
    values[rng.random(grid.shape) < 0.05] = np.nan
    share = rng.random(grid.shape).astype(np.float32)
    paths = {}
    for name, arr in (("values", values), ("share", share)):
        paths[name] = tmp_path / f"{name}.tif"
        with rasterio.open(
            paths[name], "w", driver="GTiff", height=grid.shape[0], width=grid.shape[1], count=1,
            dtype="float32", crs=grid.crs, transform=grid.transform, nodata=np.nan,
        ) as dst:  # fmt: skip
            dst.write(arr, 1)
    ref = exactextract.exact_extract(
        str(paths["values"]), counties, "weighted_mean", weights=str(paths["share"]), output="pandas",
        include_cols=["FIPS"],
    )  # fmt: skip
    ours = county_weights(counties, grid, cell_weight=share).mean(values)
    assert_allclose(ours, ref.set_index("FIPS").loc[counties["FIPS"], "weighted_mean"].to_numpy(), rtol=1e-6)


def test_no_cropland_partly_outside_and_outside(counties: gpd.GeoDataFrame, grid: Grid, caplog) -> None:
    share = np.ones(grid.shape)
    champaign = counties[counties["FIPS"] == 17019]
    for k in coverage_fractions(champaign.geometry.iloc[0], grid)[0]:
        share.flat[k] = 0.0
    cut = grid.window(0, 0, grid.shape[0], split_column(grid))  # the west: Iowa in, Indiana out
    with caplog.at_level(logging.INFO):
        w = county_weights(counties, grid, cell_weight=share)
        half = county_weights(counties, cut)
    means = w.mean(np.ones(grid.shape))
    assert np.isnan(means[w.fips == 17019]).all() and np.isfinite(np.delete(means, np.nonzero(w.fips == 17019))).all()
    assert "no weighted cell" in caplog.text and "outside the grid" in caplog.text and "partly outside" in caplog.text
    hm = half.mean(np.full(cut.shape, 2.0))
    indiana, iowa = (half.fips // 1000) == 18, (half.fips // 1000) == 19
    assert np.isnan(hm[indiana]).all() and (half.covered[indiana] == 0).all()
    assert_allclose(hm[iowa], 2.0)
    assert_allclose(half.covered[iowa], 1.0, atol=1e-9)
    partial = (half.covered > 0) & (half.covered < 1 - 1e-9)
    assert partial.any()
    assert_allclose(hm[partial], 2.0)  # the mean over the inside part


def test_nan_cells_are_left_out_and_all_nan_is_nan(counties: gpd.GeoDataFrame, grid: Grid) -> None:
    w = county_weights(counties, grid)
    field = np.full(grid.shape, 1.0)
    field[:, : split_column(grid)] = np.nan  # the west: Iowa has no valid cell, Indiana all
    means = w.mean(field)
    assert np.isnan(means[(w.fips // 1000) == 19]).all()
    assert_allclose(means[(w.fips // 1000) == 18], 1.0)


def test_weights_round_trip_and_batches(counties: gpd.GeoDataFrame, grid: Grid, tmp_path) -> None:
    w = county_weights(counties, grid)
    back = CountyWeights.load(w.save(tmp_path / "w.npz"))
    assert back.grid.same_as(grid) and (back.fips == w.fips).all()
    rng = np.random.default_rng(1)
    days = rng.random((11, *grid.shape)).astype(np.float32)
    got = daily_county_means(back, ((tmp_path / f"d{k}", d) for k, d in enumerate(days)), 11, batch=4)
    assert_allclose(got, w.mean(days), rtol=1e-12)
    with pytest.raises(RasterDataError, match="d0.*another grid"):
        daily_county_means(w, [(tmp_path / "d0", days[0][:-1])], 1)
    with pytest.raises(RasterDataError, match="expected 3 fields"):
        daily_county_means(w, [(tmp_path / "d0", days[0])], 3)
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(RasterDataError, match="bad.npz"):
        CountyWeights.load(tmp_path / "bad.npz")


def test_weeks_of_the_year() -> None:
    for n in (365, 366):
        week = week_index(n)
        assert week[0] == 0 and week[6] == 0 and week[7] == 1 and week[363] == 51 and week[-1] == 51
        assert np.bincount(week)[-1] == n - 357  # week 52 averages 8 or 9 days
    daily = np.tile(np.arange(365.0), (2, 1))
    weekly = weekly_means(daily)
    assert weekly.shape == (2, 52)
    assert_allclose(weekly[0, 0], 3.0)
    assert_allclose(weekly[0, 51], np.mean(np.arange(357, 365)))
    with pytest.raises(ValueError, match="365 or 366"):
        week_index(364)
