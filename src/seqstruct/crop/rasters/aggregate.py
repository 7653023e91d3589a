"""The county aggregation engine: exact cell-coverage weights, weighted county means, days to 52 weeks.

The thesis (section 2.1.4) weights each grid cell by the fraction of the cell inside the county times the cell's
cropland/pasture/grassland share (NLCD), and averages daily or hourly values to 52 weeks. Here:

1. :func:`county_weights` computes, once per grid, the sparse ``(county, cell)`` matrix
   ``W[c, k] = coverage(c, k) * share(k)``: ``coverage`` is the exact area of cell ``k`` inside county ``c`` over the
   cell's area (planar, in the grid's CRS, the polygons reprojected to it), found by GEOS intersection for the
   cells the county boundary crosses and 1 for the cells strictly inside it.
2. :meth:`CountyWeights.mean` turns a stack of fields into county means
   ``sum_k W[c, k] x[k] / sum_k W[c, k] [x[k] not NaN]``: one sparse product per batch of days, so a year of
   daily grids costs little more than reading them. NaN cells are left out; a county with no weighted valid cell
   is NaN (logged), never 0.
3. :func:`weekly_means` averages the days of a year onto 52 weeks: week ``w`` holds days ``7(w-1)+1 .. 7w`` of
   the year, and the last one or two days (365, and 366 in leap years) join week 52, which therefore averages 8
   or 9 days. No day is dropped.

The weights are saved beside the features (:meth:`CountyWeights.save`) and reused for every day, variable and
year on the same grid.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely
from affine import Affine

from seqstruct.common.io import atomic_path
from seqstruct.crop.rasters.grid import Grid, RasterDataError

log = logging.getLogger(__name__)

N_WEEKS = 52


@dataclass
class CountyWeights:
    """The ``(county, cell)`` weights of one grid.

    Attributes
    ----------
    fips : ndarray of int64, shape (n_counties,)
        The counties, in row order.
    grid : Grid
        The grid the cells belong to (cells numbered row-major).
    matrix : scipy.sparse.csr_array, shape (n_counties, n_cells)
        ``coverage x cell weight``.
    covered : ndarray of float64, shape (n_counties,)
        Share of each county's area that lies on the grid (1 for a county inside it; below 1 for a county partly
        outside the raster).
    """

    fips: np.ndarray
    grid: Grid
    matrix: sp.csr_array
    covered: np.ndarray

    @property
    def empty(self) -> np.ndarray:
        """(n_counties,) bool: counties without any weight (outside the grid, or no cropland on it)."""
        return np.asarray(self.matrix.sum(axis=1)).ravel() <= 0

    def mean(self, values: np.ndarray, path: str | os.PathLike[str] = "") -> np.ndarray:
        """Weighted county means of one field or a stack of fields on :attr:`grid`.

        Parameters
        ----------
        values : ndarray, shape (rows, cols) or (k, rows, cols)
            Fields on the grid; NaN cells are left out.
        path : path-like
            Named in the error when the shape is wrong.

        Returns
        -------
        ndarray of float64, shape (n_counties,) or (n_counties, k)
            NaN for a county whose weighted cells are all NaN.
        """
        single = values.ndim == 2
        stack = values[None] if single else values
        if stack.shape[1:] != self.grid.shape:
            raise RasterDataError(
                f"{path}: field of shape {stack.shape[1:]} on a grid of shape {self.grid.shape}; the weights were "
                "built for another grid: rebuild them for this product"
            )
        cols = stack.reshape(stack.shape[0], -1).T  # (n_cells, k)
        nan = np.isnan(cols)
        if nan.any():
            num = self.matrix @ np.where(nan, 0.0, cols)
            den = self._valid_weight(nan)
        else:
            num = self.matrix @ cols
            den = np.repeat(self._row_sums[:, None], cols.shape[1], axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
        return out[:, 0] if single else out

    def _valid_weight(self, nan: np.ndarray) -> np.ndarray:
        """(n_counties, k) weight of the valid cells; the NaN cells of a product (sea, outside the domain) are
        mostly the same every day, so the last mask's result is reused when every field has that mask."""
        first = nan[:, 0]
        if (nan == first[:, None]).all():
            cached = getattr(self, "_mask_cache", None)
            if cached is None or not np.array_equal(cached[0], first):
                cached = (first.copy(), self.matrix @ (~first).astype(np.float64))
                self._mask_cache = cached
            return np.repeat(cached[1][:, None], nan.shape[1], axis=1)
        return self.matrix @ (~nan).astype(np.float64)

    @property
    def _row_sums(self) -> np.ndarray:
        sums = getattr(self, "_sums", None)
        if sums is None:
            sums = np.asarray(self.matrix.sum(axis=1)).ravel()
            self._sums = sums
        return sums

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the weights as one ``.npz`` (atomically)."""
        path = Path(path)
        m = self.matrix.tocsr()
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(
                fh,
                fips=self.fips,
                covered=self.covered,
                data=m.data,
                indices=m.indices,
                indptr=m.indptr,
                crs=np.array(self.grid.crs),
                transform=np.array(tuple(self.grid.transform)[:6]),
                shape=np.array(self.grid.shape),
            )
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CountyWeights:
        """Read weights written by :meth:`save`."""
        try:
            with np.load(path) as z:
                shape = tuple(int(v) for v in z["shape"])
                grid = Grid(str(z["crs"]), Affine(*z["transform"]), shape)
                m = sp.csr_array((z["data"], z["indices"], z["indptr"]), shape=(len(z["fips"]), grid.n_cells))
                return cls(z["fips"].astype(np.int64), grid, m, z["covered"])
        except (OSError, KeyError, ValueError) as exc:
            raise RasterDataError(f"{path}: not a weights file ({exc}); delete it so that it is rebuilt") from exc


def county_weights(
    counties: gpd.GeoDataFrame,
    grid: Grid,
    cell_weight: np.ndarray | None = None,
    fips_col: str = "FIPS",
    log_coverage: bool = True,
) -> CountyWeights:
    """Exact coverage fractions of every county on ``grid``, times ``cell_weight`` (e.g. the NLCD crop share).

    Parameters
    ----------
    counties : GeoDataFrame
        County polygons with a CRS and an integer ``fips_col``; reprojected to the grid's CRS.
    grid : Grid
        The raster grid.
    cell_weight : ndarray, shape (rows, cols), optional
        Weight of each cell in [0, 1] (NaN counts as 0); all ones when omitted.
    fips_col : str
        The column with the county ids.
    log_coverage : bool
        Log the counties outside the grid, without cropland or partly outside (off for the blocks of a tiled
        raster, where most counties are partly outside each block).

    Returns
    -------
    CountyWeights
        Counties wholly outside the grid, or without cropland on it, have an empty row and are logged; their
        means are NaN.
    """
    if counties.crs is None:
        raise RasterDataError("county polygons have no CRS; read them with seqstruct.crop.counties.county_geometry")
    if cell_weight is not None and cell_weight.shape != grid.shape:
        raise ValueError(f"cell_weight has shape {cell_weight.shape}, the grid {grid.shape}")
    geoms = counties.to_crs(grid.pyproj_crs).geometry.to_numpy()
    rows, cols, vals = [], [], []
    covered = np.zeros(len(geoms))
    for i, geom in enumerate(geoms):
        idx, frac = coverage_fractions(geom, grid)
        if len(idx) and geom.area > 0:
            covered[i] = min(1.0, frac.sum() * abs(grid.transform.a * grid.transform.e) / geom.area)
        rows.append(np.full(len(idx), i, dtype=np.int64))
        cols.append(idx)
        vals.append(frac)
    r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    if cell_weight is not None:
        v = v * np.nan_to_num(cell_weight.ravel()[c].astype(np.float64), nan=0.0)
    m = sp.csr_array((v, (r, c)), shape=(len(geoms), grid.n_cells))
    m.eliminate_zeros()
    weights = CountyWeights(counties[fips_col].to_numpy(np.int64), grid, m, covered)
    if log_coverage:
        _log_coverage(weights)
    return weights


def _log_coverage(weights: CountyWeights) -> None:
    outside = weights.fips[weights.covered == 0]
    empty = weights.fips[weights.empty & (weights.covered > 0)]
    partial = weights.fips[(weights.covered > 0) & (weights.covered < 0.99)]
    if len(outside):
        log.warning("%d counties lie outside the grid, their values are NaN: %s", len(outside), _some(outside))
    if len(empty):
        log.warning(
            "%d counties have no weighted cell (no cropland), their values are NaN: %s", len(empty), _some(empty)
        )
    if len(partial):
        log.info(
            "%d counties lie partly outside the grid (mean over the inside part): %s", len(partial), _some(partial)
        )


def _some(ids: np.ndarray, k: int = 8) -> str:
    shown = ", ".join(str(int(i)) for i in ids[:k])
    return shown + (", ..." if len(ids) > k else "")


def coverage_fractions(geom: shapely.Geometry, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Cells of ``grid`` that ``geom`` covers, and the exactly covered share of each.

    In pixel coordinates (u = column, v = row, cells are unit squares) the polygon's indicator on a vertical
    line is a signed sum of steps at its edges, so ``area(cell & geom) = sum_e s_e * integral over the cell's
    u-range of (1 - clamp(v_e(u) - i, 0, 1)) du`` (Green's theorem; ``s_e`` the sign of the edge's du). Every
    ring edge is split where it crosses a cell line; a piece inside cell (i, j) adds
    ``du * (i + 1 - mean v)`` to that cell and ``du`` to every cell below it in column j (a running sum down
    the column). That is exact to rounding, vectorised, and takes no per-cell GEOS call.

    Parameters
    ----------
    geom : shapely Polygon or MultiPolygon
        In the grid's CRS; holes are handled.
    grid : Grid
        The grid.

    Returns
    -------
    cells : ndarray of int64, shape (n,)
        Row-major cell numbers of the grid (cells outside the grid are left out).
    fractions : ndarray of float64, shape (n,)
        In (0, 1].
    """
    none = np.zeros(0, dtype=np.int64), np.zeros(0)
    if geom is None or geom.is_empty or geom.area == 0:
        return none
    t, (n_rows, n_cols) = grid.transform, grid.shape
    u1, v1, u2, v2 = _pixel_edges(geom, t)
    piece, ta, tb = _split_at_cell_lines(u1, v1, u2, v2)
    ua, va = u1[piece] + ta * (u2 - u1)[piece], v1[piece] + ta * (v2 - v1)[piece]
    ub, vb = u1[piece] + tb * (u2 - u1)[piece], v1[piece] + tb * (v2 - v1)[piece]
    du = ub - ua
    col = np.floor(0.5 * (ua + ub)).astype(np.int64)
    row = np.floor(0.5 * (va + vb)).astype(np.int64)
    r0, c0 = int(row.min()), int(col.min())
    shape = (int(row.max()) - r0 + 2, int(col.max()) - c0 + 1)
    partial = np.zeros(shape)
    carry = np.zeros(shape)
    np.add.at(partial, (row - r0, col - c0), du * (row + 1 - 0.5 * (va + vb)))
    np.add.at(carry, (row - r0 + 1, col - c0), du)
    frac = partial + np.cumsum(carry, axis=0)
    if frac.sum() < 0:  # the orientation of the rings in pixel space (the v axis points down)
        frac = -frac
    rr, cc = np.nonzero(frac > 1e-12)
    vals = frac[rr, cc]
    rr, cc = rr + r0, cc + c0
    inside = (rr >= 0) & (rr < n_rows) & (cc >= 0) & (cc < n_cols)
    return (rr[inside] * n_cols + cc[inside]).astype(np.int64), np.minimum(vals[inside], 1.0)


def _pixel_edges(geom: shapely.Geometry, t: Affine) -> tuple[np.ndarray, ...]:
    """(u1, v1, u2, v2) of every ring edge of ``geom`` (exteriors CCW, holes CW) in pixel coordinates."""
    rings = shapely.get_rings(shapely.get_parts(shapely.orient_polygons(geom)))
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    u = (xy[:, 0] - t.c) / t.a
    v = (xy[:, 1] - t.f) / t.e
    return u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]


def _crossings(a1: np.ndarray, a2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(edge, t) of every crossing of an integer by the coordinate a(t) = a1 + t (a2 - a1), 0 < t < 1."""
    lo, hi = np.minimum(a1, a2), np.maximum(a1, a2)
    first = np.floor(lo) + 1
    n = np.maximum(np.ceil(hi) - first, 0).astype(np.int64)
    edge = np.repeat(np.arange(len(a1)), n)
    k = np.repeat(first, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    return edge, (k - a1[edge]) / (a2 - a1)[edge]


def _split_at_cell_lines(
    u1: np.ndarray, v1: np.ndarray, u2: np.ndarray, v2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Split every edge where it crosses a cell line: (edge of each piece, its start t, its end t)."""
    n = len(u1)
    eu, tu = _crossings(u1, u2)
    ev, tv = _crossings(v1, v2)
    edge = np.concatenate([np.arange(n), np.arange(n), eu, ev])
    t = np.concatenate([np.zeros(n), np.ones(n), tu, tv])
    order = np.lexsort((t, edge))
    edge, t = edge[order], t[order]
    same = edge[1:] == edge[:-1]
    return edge[:-1][same], t[:-1][same], t[1:][same]


def week_index(n_days: int) -> np.ndarray:
    """(n_days,) 0-based week of each day of a 365- or 366-day year: days 1-7 -> 0, ..., days 358-366 -> 51."""
    if n_days not in (365, 366):
        raise ValueError(f"a year has 365 or 366 days, got {n_days}")
    return np.minimum(np.arange(n_days) // 7, N_WEEKS - 1)


def weekly_means(daily: np.ndarray) -> np.ndarray:
    """Average daily county values of one year onto 52 weeks (days 365/366 join week 52).

    Parameters
    ----------
    daily : ndarray, shape (n_counties, n_days)
        One value per county and day of the year, n_days 365 or 366; NaN where the county had no valid cell.

    Returns
    -------
    ndarray of float64, shape (n_counties, 52)
        NaN for a county-week with a NaN day (never a mean over fewer days without saying so: the caller logs).
    """
    week = week_index(daily.shape[1])
    sums = np.zeros((daily.shape[0], N_WEEKS))
    np.add.at(sums.T, week, daily.T)
    counts = np.bincount(week, minlength=N_WEEKS)
    return sums / counts


def daily_county_means(
    weights: CountyWeights,
    fields: Iterable[tuple[Path, np.ndarray]],
    n_fields: int,
    batch: int = 8,
    progress: str | None = None,
) -> np.ndarray:
    """County means of a sequence of fields, read one at a time and reduced in batches.

    Parameters
    ----------
    weights : CountyWeights
        Weights on the fields' grid.
    fields : iterable of (path, ndarray of shape (rows, cols))
        The fields (e.g. the days of a year), produced lazily so that memory does not grow with their number.
    n_fields : int
        How many ``fields`` yields (for the output and the progress bar).
    batch : int
        Fields per sparse product.
    progress : str, optional
        Label of a tqdm progress bar; none when omitted.

    Returns
    -------
    ndarray of float64, shape (n_counties, n_fields)
    """
    from tqdm.auto import tqdm

    out = np.empty((len(weights.fips), n_fields))
    buf = np.empty((batch, *weights.grid.shape), dtype=np.float32)
    k = start = 0
    bar = tqdm(total=n_fields, desc=progress, unit="field", disable=progress is None, mininterval=2.0)
    last = Path()
    for last, values in fields:
        if values.shape != weights.grid.shape:
            weights.mean(values, last)  # raises, naming the file
        buf[k] = values
        k += 1
        if k == batch:
            out[:, start : start + k] = weights.mean(buf, last)
            start, k = start + k, 0
            bar.update(batch)
    if k:
        out[:, start : start + k] = weights.mean(buf[:k], last)
        bar.update(k)
        start += k
    bar.close()
    if start != n_fields:
        raise RasterDataError(f"{last}: expected {n_fields} fields, read {start}; a file of the set is missing")
    return out
