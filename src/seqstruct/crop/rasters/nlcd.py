"""NLCD land cover -> the share of each cell of any target grid covered by chosen classes (cropland etc.).

NLCD land cover is a 30 m single-band uint8 GeoTIFF of class codes in CONUS Albers (EPSG:5070); CONUS is
104424 x 161190 pixels, so :func:`crop_share` streams it in blocks and only where it lies under the target
grid: per block, every pixel's centre is projected into the target grid (exactly on a coarse lattice, bilinearly
in between) and two counts per target cell are accumulated with ``np.bincount``, pixels with data and pixels of
the classes; the share is their ratio. Memory is a few block-sized arrays plus two target-grid accumulators,
whatever the NLCD size.

Why not ``rasterio.warp.reproject(..., Resampling.sum)`` per block: it gives the same sums (checked), but GDAL
3.10's sum-preserving kernel took 3.5 s per 2048 x 2048 block onto PRISM's grid (about 4 hours for CONUS),
against ~0.1 s here; ``Resampling.average`` is fast but cannot give the per-block pixel counts needed to
combine blocks.

Sources (facts only):

* the legend (11 open water ... 95 emergent herbaceous wetlands; 71 grassland/herbaceous, 81 pasture/hay,
  82 cultivated crops): Earth Engine catalog USGS/NLCD_RELEASES/2019_REL/NLCD (landcover class table) and the
  MRLC legend as listed by USEPA/ATtILA2 wiki "LCC NLCD LAND";
* no data: Annual NLCD land cover COGs carry NoData = 250 (notes on ``Annual_NLCD_LndCov_2024_CU_C1V1.tif``:
  "1 band, Byte (UInt8), PI=3 (Palette), LZW, 6 overviews, NoData=250"); older releases fill outside CONUS
  with 0 ("Unclassified", e.g. mikejohnson51/ET R/NLCD_details.R). Neither is a legend class, so any code
  outside the legend (0, 250, 255, ...) and the file's own nodata count as "no data" here;
* CONUS Albers: NAD83 / Conus Albers, standard parallels 29.5 and 45.5, central meridian -96, latitude of
  origin 23 (EPSG:5070; NLCD 2011 l48 metadata served by mercator.env.nm.gov).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from pyproj import Transformer
from rasterio.errors import RasterioError
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from seqstruct.crop.rasters.grid import Grid, RasterDataError
from seqstruct.crop.raw import one_line

logger = logging.getLogger(__name__)

#: the NLCD land cover legend (Alaska-only classes 51, 72, 73, 74 included)
NLCD_CLASSES: dict[int, str] = {
    11: "Open Water",
    12: "Perennial Ice/Snow",
    21: "Developed, Open Space",
    22: "Developed, Low Intensity",
    23: "Developed, Medium Intensity",
    24: "Developed, High Intensity",
    31: "Barren Land (Rock/Sand/Clay)",
    41: "Deciduous Forest",
    42: "Evergreen Forest",
    43: "Mixed Forest",
    51: "Dwarf Scrub",
    52: "Shrub/Scrub",
    71: "Grassland/Herbaceous",
    72: "Sedge/Herbaceous",
    73: "Lichens",
    74: "Moss",
    81: "Pasture/Hay",
    82: "Cultivated Crops",
    90: "Woody Wetlands",
    95: "Emergent Herbaceous Wetlands",
}
#: grassland/herbaceous, pasture/hay, cultivated crops
CROP_CLASSES: tuple[int, ...] = (71, 81, 82)
#: the no-data code of the Annual NLCD land cover files (older releases use 0)
NLCD_NODATA = 250
#: NAD83 / Conus Albers
NLCD_CRS = "EPSG:5070"
_LATTICE_STEP = 32


def _lookup(codes: Sequence[int]) -> np.ndarray:
    """A 256-entry boolean table: ``table[code]`` is True for the listed codes."""
    table = np.zeros(256, dtype=bool)
    table[list(codes)] = True
    return table


def _check_classes(classes: Sequence[int]) -> None:
    unknown = sorted(set(classes) - set(NLCD_CLASSES))
    if unknown or not classes:
        raise ValueError(f"classes {list(classes)} must be NLCD legend codes ({', '.join(map(str, NLCD_CLASSES))})")


def _open(path: Path) -> rasterio.DatasetReader:
    if not path.is_file():
        raise RasterDataError(f"{path}: NLCD land cover file does not exist; download it from www.mrlc.gov")
    try:
        dataset = rasterio.open(path)
    except RasterioError as err:
        raise RasterDataError(f"{path}: not a readable raster ({one_line(err)}); download it again") from err
    if dataset.crs is None:
        dataset.close()
        raise RasterDataError(
            f"{path}: the NLCD raster has no coordinate reference system; use the GeoTIFF as downloaded "
            "(CONUS Albers, EPSG:5070) or assign its CRS with gdal_edit.py -a_srs"
        )
    if dataset.dtypes[0] != "uint8":
        dataset.close()
        raise RasterDataError(
            f"{path}: NLCD land cover holds uint8 class codes, this raster holds {dataset.dtypes[0]}; "
            "pass the land cover product (not impervious or canopy)"
        )
    return dataset


def _source_window(dataset: rasterio.DatasetReader, grid: Grid, path: Path) -> Window:
    """The part of the NLCD raster under the target grid (plus a pixel), or an error when there is none."""
    xmin, ymin, xmax, ymax = transform_bounds(grid.crs, dataset.crs, *grid.bounds, densify_pts=21)
    left, bottom, right, top = dataset.bounds
    if xmin >= right or xmax <= left or ymin >= top or ymax <= bottom:
        raise RasterDataError(
            f"{path}: the NLCD raster (bounds {left:.0f}, {bottom:.0f}, {right:.0f}, {top:.0f} in its CRS) does "
            f"not overlap the target grid (bounds {xmin:.0f}, {ymin:.0f}, {xmax:.0f}, {ymax:.0f} there); "
            "use the NLCD file of the region of the grid"
        )
    window = from_bounds(xmin, ymin, xmax, ymax, transform=dataset.transform)
    col0, row0 = max(int(np.floor(window.col_off)) - 1, 0), max(int(np.floor(window.row_off)) - 1, 0)
    col1 = min(int(np.ceil(window.col_off + window.width)) + 1, dataset.width)
    row1 = min(int(np.ceil(window.row_off + window.height)) + 1, dataset.height)
    return Window(col0, row0, col1 - col0, row1 - row0)


def _blocks(window: Window, size: int) -> Iterator[Window]:
    """``window`` cut into blocks of at most ``size`` x ``size`` pixels."""
    for row in range(int(window.row_off), int(window.row_off + window.height), size):
        for col in range(int(window.col_off), int(window.col_off + window.width), size):
            height = min(size, int(window.row_off + window.height) - row)
            width = min(size, int(window.col_off + window.width) - col)
            yield Window(col, row, width, height)


def _lattice(n: int, step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lattice positions every ``step`` pixels covering 0..n-1, and for each pixel its lattice cell and fraction."""
    k_max = max(int(np.ceil((n - 1) / step)), 1)
    pixel = np.arange(n)
    cell = np.minimum(pixel // step, k_max - 1)
    return np.arange(k_max + 1) * step, cell, (pixel - cell * step) / step


def _interpolate(
    values: np.ndarray, rows: tuple[np.ndarray, np.ndarray], cols: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """Bilinear interpolation of lattice ``values`` (kr + 1, kc + 1) to every pixel: shape (h, w)."""
    (row_cell, row_frac), (col_cell, col_frac) = rows, cols
    along_rows = values[row_cell] * (1 - row_frac)[:, None] + values[row_cell + 1] * row_frac[:, None]
    return along_rows[:, col_cell] * (1 - col_frac) + along_rows[:, col_cell + 1] * col_frac


def _apply(transform: Affine, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``transform`` applied to arrays of (x, y)."""
    t = transform
    return t.a * x + t.b * y + t.c, t.d * x + t.e * y + t.f


def _target_cells(block: Window, dataset: rasterio.DatasetReader, to_target: Transformer, grid: Grid) -> np.ndarray:
    """For every pixel of ``block``, the flat index of the target cell holding its centre (-1: none), (h, w).

    Pixel centres are projected exactly on a lattice every ``_LATTICE_STEP`` pixels and bilinearly in between
    (GDAL's approximate transformer does the same); over 32 NLCD pixels (~1 km) the error is far below a metre.
    """
    height, width = int(block.height), int(block.width)
    row_pos, *rows = _lattice(height, _LATTICE_STEP)
    col_pos, *cols = _lattice(width, _LATTICE_STEP)
    centre_cols, centre_rows = np.meshgrid(block.col_off + col_pos + 0.5, block.row_off + row_pos + 0.5)
    xs, ys = _apply(dataset.transform, centre_cols, centre_rows)
    tx, ty = to_target.transform(xs, ys)
    target_col, target_row = _apply(~grid.transform, np.asarray(tx), np.asarray(ty))
    col = np.floor(_interpolate(target_col, rows, cols))
    row = np.floor(_interpolate(target_row, rows, cols))
    n_rows, n_cols = grid.shape
    inside = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)
    return np.where(inside, row * n_cols + col, -1).astype(np.int64)


def _count_block(cells: np.ndarray, counted: np.ndarray, valid: np.ndarray, sums: np.ndarray) -> None:
    """Add the block's pixels with data (``valid``) and of the classes (``counted``) to their target cells."""
    keep = valid & (cells >= 0)
    if not keep.any():
        return
    ids = cells[keep]
    low, high = int(ids.min()), int(ids.max()) + 1
    flat = sums.reshape(2, -1)
    flat[0, low:high] += np.bincount(ids[counted[keep]] - low, minlength=high - low)
    flat[1, low:high] += np.bincount(ids - low, minlength=high - low)


def crop_share(
    path: str | os.PathLike[str], grid: Grid, classes: Sequence[int] = CROP_CLASSES, *, block_size: int = 1024
) -> np.ndarray:
    """The area share of every cell of ``grid`` covered by NLCD ``classes``, among its NLCD pixels with data.

    Each 30 m NLCD pixel counts for the target cell that holds its centre (NLCD's Albers pixels are equal-area,
    so pixel counts are areas; a 4 km cell holds ~18,000 of them, so splitting edge pixels would change shares by
    well under 1 %). The raster is read block by block, only where it lies under the grid.

    Parameters
    ----------
    path : str or os.PathLike
        An NLCD land cover raster (GeoTIFF/IMG, any region, any CRS; CONUS files are EPSG:5070).
    grid : Grid
        The target grid, in any CRS (e.g. PRISM's 4 km NAD83 grid or NLDAS-2's 0.125 degree grid).
    classes : sequence of int
        NLCD legend codes to count (default: grassland/herbaceous, pasture/hay, cultivated crops).
    block_size : int
        NLCD pixels per block side; memory is about 60 bytes x ``block_size`` squared, whatever the file size.

    Returns
    -------
    ndarray of float32, shape (rows, cols)
        Share in [0, 1]; NaN where the cell holds no NLCD pixel with data (outside the raster, or only
        no-data codes such as 250 or 0).

    Raises
    ------
    RasterDataError
        The file is missing or unreadable, has no CRS, or does not overlap the grid.
    ValueError
        ``classes`` holds a code outside the NLCD legend.
    """
    _check_classes(classes)
    path = Path(path)
    counted_table, valid_table = _lookup(classes), _lookup(list(NLCD_CLASSES))
    sums = np.zeros((2, *grid.shape), dtype=np.float64)
    with _open(path) as dataset:
        if dataset.nodata is not None and 0 <= dataset.nodata < 256:
            valid_table[int(dataset.nodata)] = counted_table[int(dataset.nodata)] = False
        to_target = Transformer.from_crs(dataset.crs.to_wkt(), grid.crs, always_xy=True)
        for block in _blocks(_source_window(dataset, grid, path), block_size):
            codes = _read_block(dataset, block, path)
            valid = valid_table[codes]
            if valid.any():
                _count_block(_target_cells(block, dataset, to_target, grid), counted_table[codes], valid, sums)
    return _share(sums, path)


def _read_block(dataset: rasterio.DatasetReader, block: Window, path: Path) -> np.ndarray:
    try:
        codes = dataset.read(1, window=block)
    except RasterioError as err:
        raise RasterDataError(
            f"{path}: cannot read NLCD block {block} ({one_line(err)}); the file is truncated: download it again"
        ) from err
    return codes


def _share(sums: np.ndarray, path: Path) -> np.ndarray:
    counted, valid = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(valid > 0, counted / valid, np.nan)
    if np.isnan(share).all():
        logger.warning("%s: no NLCD pixel with data under the target grid; every share is NaN", path)
    return np.clip(share, 0.0, 1.0).astype(np.float32)


def write_nlcd(
    path: str | os.PathLike[str], classes: np.ndarray, transform: Affine, crs: str | None = NLCD_CRS
) -> Path:
    """Write class codes as a GeoTIFF like NLCD's (uint8, tiled, deflate, nodata 250).

    Parameters
    ----------
    path : str or os.PathLike
        The .tif to write.
    classes : ndarray of uint8, shape (rows, cols)
        NLCD codes; 250 for no data.
    transform : affine.Affine
        Pixel -> CRS transform (NLCD: 30 m, north-up).
    crs : str or None
        The CRS (default CONUS Albers); None writes a file without one (tests of that error).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``classes`` is not a 2-D uint8 array.
    """
    classes = np.asarray(classes)
    if classes.dtype != np.uint8 or classes.ndim != 2:
        raise ValueError(f"classes must be a 2-D uint8 array, got {classes.dtype} with shape {classes.shape}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, cols = classes.shape
    tiled = rows >= 256 and cols >= 256
    blocks = {"blockxsize": 256, "blockysize": 256} if tiled else {}
    profile = dict(
        driver="GTiff", width=cols, height=rows, count=1, dtype="uint8", nodata=NLCD_NODATA, crs=crs,
        transform=transform, compress="DEFLATE", tiled=tiled, **blocks,
    )  # fmt: skip
    with rasterio.open(path, "w", **profile) as dataset:
        dataset.write(classes, 1)
    return path
