"""NLCD crop share on target grids, against answers computed by hand or by dense sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from affine import Affine
from pyproj import Transformer

from seqstruct.crop.rasters.grid import Grid, RasterDataError
from seqstruct.crop.rasters.nlcd import CROP_CLASSES, NLCD_CLASSES, crop_share, write_nlcd

ORIGIN = (100_000.0, 1_500_000.0)  # CONUS Albers metres (central Kansas-ish)
PIXEL = Affine(30, 0, ORIGIN[0], 0, -30, ORIGIN[1])


def _hand_case(tmp_path: Path) -> Path:
    """40 x 40 NLCD pixels; target cells of 10 x 10 pixels (300 m) with known shares in the top row."""
    codes = np.full((40, 40), 41, np.uint8)  # deciduous forest: data, not crop
    codes[0:10, 0:10] = 82  # cell (0, 0): all cultivated crops -> 1
    codes[0:10, 10:15], codes[0:10, 15:20] = 81, 42  # cell (0, 1): half pasture/hay -> 0.5
    codes[0:10, 20:30] = 250  # cell (0, 2): no data -> NaN
    codes[0:10, 30:35], codes[0:10, 35:40] = 250, 71  # cell (0, 3): half no data, half grassland -> 1
    codes[10:20, 0:10] = 11
    codes[10:12, 0:10] = 82  # cell (1, 0): 20 of 100 pixels crop -> 0.2
    codes[10:20, 10:20] = 0  # cell (1, 1): older releases' 0 (unclassified) is no data too -> NaN
    return write_nlcd(tmp_path / "nlcd.tif", codes, PIXEL)


def test_known_shares_same_crs(tmp_path: Path) -> None:
    path = _hand_case(tmp_path)
    grid = Grid("EPSG:5070", Affine(300, 0, ORIGIN[0], 0, -300, ORIGIN[1]), (5, 5))  # one row/col beyond NLCD
    share = crop_share(path, grid)
    assert share.dtype == np.float32 and share.shape == (5, 5)
    np.testing.assert_allclose(share[0, :4], [1.0, 0.5, np.nan, 1.0])
    np.testing.assert_allclose(share[1, :2], [0.2, np.nan])
    np.testing.assert_array_equal(share[2:4, :4], 0.0)
    assert np.isnan(share[4]).all() and np.isnan(share[:, 4]).all()  # outside the NLCD raster
    only_82 = crop_share(path, grid, classes=(82,))
    np.testing.assert_allclose(only_82[0, :2], [1.0, 0.0])


def test_blocks_do_not_change_the_answer(tmp_path: Path) -> None:
    path = _hand_case(tmp_path)
    grid = Grid("EPSG:5070", Affine(300, 0, ORIGIN[0], 0, -300, ORIGIN[1]), (4, 4))
    np.testing.assert_array_equal(crop_share(path, grid, block_size=7), crop_share(path, grid))


def test_target_grid_in_another_crs(tmp_path: Path) -> None:
    """A diagonal crop boundary under a NAD83 0.02 degree grid, against dense sampling of each cell."""
    n = 400
    rows, cols = np.mgrid[0:n, 0:n]
    codes = np.where(cols > rows, 82, 41).astype(np.uint8)
    codes[:40] = 250
    path = write_nlcd(tmp_path / "nlcd.tif", codes, PIXEL)
    lon0, lat0 = Transformer.from_crs(5070, 4269, always_xy=True).transform(ORIGIN[0] + 2000, ORIGIN[1] - 2000)
    grid = Grid("EPSG:4269", Affine(0.02, 0, lon0, 0, -0.02, lat0), (6, 6))
    share = crop_share(path, grid, block_size=97)
    expected = _sampled_share(codes, grid)
    np.testing.assert_array_equal(np.isnan(share), np.isnan(expected))
    np.testing.assert_allclose(share, expected, atol=0.01, equal_nan=True)
    assert np.nanmin(share) == 0.0 and np.nanmax(share) == 1.0 and ((share > 0.05) & (share < 0.95)).any()


def _sampled_share(codes: np.ndarray, grid: Grid, k: int = 120) -> np.ndarray:
    """The share by looking up k x k points spread over each target cell (independent of crop_share)."""
    to_albers = Transformer.from_crs(4269, 5070, always_xy=True)
    out = np.full(grid.shape, np.nan)
    u = (np.arange(k) + 0.5) / k
    for r in range(grid.shape[0]):
        for c in range(grid.shape[1]):
            cc, rr = np.meshgrid(c + u, r + u)
            t = grid.transform
            lon, lat = t.c + cc * t.a, t.f + rr * t.e
            x, y = to_albers.transform(lon.ravel(), lat.ravel())
            col = np.floor((np.asarray(x) - PIXEL.c) / PIXEL.a).astype(int)
            row = np.floor((np.asarray(y) - PIXEL.f) / PIXEL.e).astype(int)
            inside = (col >= 0) & (col < codes.shape[1]) & (row >= 0) & (row < codes.shape[0])
            sample = codes[row[inside], col[inside]]
            sample = sample[np.isin(sample, list(NLCD_CLASSES))]
            if sample.size:
                out[r, c] = np.isin(sample, CROP_CLASSES).mean()
    return out


def test_errors(tmp_path: Path) -> None:
    codes = np.full((20, 20), 82, np.uint8)
    grid = Grid("EPSG:5070", Affine(300, 0, ORIGIN[0], 0, -300, ORIGIN[1]), (2, 2))
    no_crs = write_nlcd(tmp_path / "no_crs.tif", codes, PIXEL, crs=None)
    with pytest.raises(RasterDataError, match="no coordinate reference system") as err:
        crop_share(no_crs, grid)
    assert str(no_crs) in str(err.value)
    far = Grid("EPSG:5070", Affine(300, 0, -2_000_000, 0, -300, 3_000_000), (2, 2))
    path = write_nlcd(tmp_path / "nlcd.tif", codes, PIXEL)
    with pytest.raises(RasterDataError, match="does not overlap the target grid") as err:
        crop_share(path, far)
    assert str(path) in str(err.value)
    with pytest.raises(RasterDataError, match="does not exist"):
        crop_share(tmp_path / "missing.tif", grid)
    with pytest.raises(ValueError, match="legend codes"):
        crop_share(path, grid, classes=(250,))
