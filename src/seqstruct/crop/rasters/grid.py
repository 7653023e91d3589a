"""The grid and raster types shared by every raster reader, and the bad-input error they raise.

A reader returns a :class:`Raster`: a float array (NaN where the file has no data) on a north-up
:class:`Grid` (CRS, affine transform, shape), plus the path it came from for error messages. Aggregation
weights are computed once per :class:`Grid` and reused for every day and variable on that grid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from affine import Affine
from pyproj import CRS

from seqstruct.crop.raw import CropDataError


class RasterDataError(CropDataError):
    """A raster or table file is missing, corrupt, in the wrong CRS or on the wrong grid (message names the file)."""


@dataclass(frozen=True)
class Grid:
    """A north-up raster grid.

    Attributes
    ----------
    crs : str
        The coordinate reference system as WKT (or an ``EPSG:<code>`` string).
    transform : affine.Affine
        Pixel (col, row) -> CRS (x, y) of the cell's upper-left corner; no rotation.
    shape : tuple of int
        ``(rows, cols)``.
    """

    crs: str
    transform: Affine
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        t = self.transform
        if t.b != 0 or t.d != 0 or t.a <= 0 or t.e >= 0:
            raise ValueError(f"grid transform {tuple(t)[:6]} is not north-up (rotation or flipped axes)")
        if len(self.shape) != 2 or min(self.shape) < 1:
            raise ValueError(f"grid shape {self.shape} is not (rows >= 1, cols >= 1)")

    @classmethod
    def of(cls, dataset: object, path: str | os.PathLike[str] = "") -> Grid:
        """The grid of an open rasterio dataset; a missing CRS is a :class:`RasterDataError` naming ``path``."""
        crs = getattr(dataset, "crs", None)
        if crs is None:
            raise RasterDataError(
                f"{path}: the raster has no coordinate reference system (missing .prj or CRS tag); "
                "fix the file or re-download it"
            )
        return cls(crs.to_wkt(), dataset.transform, (int(dataset.height), int(dataset.width)))

    @property
    def pyproj_crs(self) -> CRS:
        """The CRS as a :class:`pyproj.CRS`."""
        return CRS.from_user_input(self.crs)

    @property
    def n_cells(self) -> int:
        """rows x cols."""
        return self.shape[0] * self.shape[1]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in the grid's CRS."""
        t, (rows, cols) = self.transform, self.shape
        return t.c, t.f + rows * t.e, t.c + cols * t.a, t.f

    def window(self, row_off: int, col_off: int, rows: int, cols: int) -> Grid:
        """The sub-grid of ``rows x cols`` cells starting at (row_off, col_off) (which may lie outside)."""
        return Grid(self.crs, self.transform @ Affine.translation(col_off, row_off), (rows, cols))

    def same_as(self, other: Grid, rtol: float = 1e-9) -> bool:
        """Same shape, CRS and transform (to ``rtol`` of the cell size)."""
        if self.shape != other.shape or not self.pyproj_crs.equals(other.pyproj_crs, ignore_axis_order=True):
            return False
        a, b = np.array(tuple(self.transform)[:6]), np.array(tuple(other.transform)[:6])
        return bool(np.all(np.abs(a - b) <= rtol * max(abs(self.transform.a), abs(self.transform.e))))

    def check_same(self, other: Grid, path: str | os.PathLike[str]) -> None:
        """Raise :class:`RasterDataError` naming ``path`` when ``other`` (the grid read from it) differs."""
        if not self.same_as(other):
            raise RasterDataError(
                f"{path}: its grid (shape {other.shape}, origin {other.transform.c:.6g}, {other.transform.f:.6g}, "
                f"cell {other.transform.a:.6g}) differs from the grid of the other files of this set (shape "
                f"{self.shape}, origin {self.transform.c:.6g}, {self.transform.f:.6g}, cell "
                f"{self.transform.a:.6g}); mixed resolutions or products: keep one product per folder"
            )


@dataclass
class Raster:
    """One 2-D field on a grid.

    Attributes
    ----------
    values : ndarray of float32, shape (rows, cols)
        The field; NaN where the file has no data.
    grid : Grid
        Its grid.
    path : pathlib.Path
        The file it was read from (for messages).
    """

    values: np.ndarray
    grid: Grid
    path: Path

    def __post_init__(self) -> None:
        if self.values.shape != self.grid.shape:
            raise ValueError(f"{self.path}: values {self.values.shape} do not match the grid {self.grid.shape}")
