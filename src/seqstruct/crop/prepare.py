"""Build the prepared county x year crop dataset (xarray, NetCDF) from the raw files.

Schema (read by ``seqstruct.crop.dataset``; keep in sync):

========================  ===================================  =======  =====================================
variable                  dims                                 dtype    meaning
========================  ===================================  =======  =====================================
``county`` (coord)        county                               int64    FIPS, sorted
``year`` (coord)          year                                 int64    every year min..max, consecutive
``weekly_var`` (coord)    weekly_var                           str      layout names (prcp, srad, ...)
``week`` (coord)          week                                 int64    1..n_weeks
``soil_var`` (coord)      soil_var                             str      layout names
``depth`` (coord)         depth                                int64    1..n_depths
``extra_var`` (coord)     extra_var                            str      layout names (planting_01.., extra_0..)
``extra_week`` (coord)    extra_var                            int64    calendar week of a weekly extra
                                                                        (planting progress), 0 for the others
``yield``                 county, year                         float32  bu/acre; NaN where no row (never imputed)
``weekly``                county, year, weekly_var, week       float32  features (imputed where not observed)
``soil``                  county, year, soil_var, depth        float32  features (imputed where not observed)
``extra``                 county, year, extra_var              float32  features (imputed where not observed)
``observed``              county, year                         bool     a row for this county-year is in the file
``loc_id``                county                               int64    the crop's loc_ID
``name``                  county                               str      Census name, e.g. "Adams County"
``state``                 county                               str      postal code, e.g. "IL"
``lon``, ``lat``          county                               float64  area centroid (EPSG:4269 degrees)
``edge_index``            pair (=2), edge                      int64    symmetric county graph in *position*
                                                                        space 0..N-1, no self loops
========================  ===================================  =======  =====================================

Dataset attributes: ``crop``, ``source``, ``dropped_loc_ids`` (comma-separated), ``layout``.

Rows whose loc_ID is not in the loc table (or names no Census county) are dropped with a warning, unless more
than ``max_dropped_share`` of the rows would go (default 5%; the real soybean file drops loc 1114, 39 of 4000
rows, 0.98%): that many means the loc table belongs to another crop or data set, and it is an error.

Imputation (features only): a county-year with no row gets, for every feature, the mean over the adjacent
counties observed that year; with no observed neighbour, the mean over all counties observed that year (if no
county at all is observed that year, the county's own mean over its observed years). ``observed`` is False on
every imputed county-year and ``yield`` stays NaN there.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np
import xarray as xr

from seqstruct.common.errors import print_error
from seqstruct.common.io import atomic_path
from seqstruct.crop.counties import census_key, centroids, county_geometry, map_loc_ids, read_adjacency
from seqstruct.crop.layout import KHAKI_SOYBEAN, ColumnLayout
from seqstruct.crop.raw import CropDataError, load_khaki_npz, read_loc_table, read_state_abbrev
from seqstruct.data.values import check_dropped_share

log = logging.getLogger(__name__)

FLOAT_VARS = ("yield", "weekly", "soil", "extra")

MAX_DROPPED_SHARE = 0.05
"""Default largest share of the npz rows that may be dropped for unmapped loc_IDs (config crop.max_dropped_share)."""


def build_crop_dataset(
    npz: str | os.PathLike[str],
    loc_csv: str | os.PathLike[str],
    abbrev_txt: str | os.PathLike[str],
    adjacency_txt: str | os.PathLike[str],
    shp: str | os.PathLike[str],
    crop: str = "soybean",
    layout: ColumnLayout = KHAKI_SOYBEAN,
    max_dropped_share: float = MAX_DROPPED_SHARE,
) -> xr.Dataset:
    """Read and validate the raw crop files and assemble the prepared Dataset (schema in the module docstring).

    Parameters
    ----------
    npz : path-like
        Khaki-style county-year array (``soybean_data.npz``).
    loc_csv : path-like
        The loc_ID table *of the same crop* (``Soybeans_Loc_ID.csv``).
    abbrev_txt : path-like
        State name -> postal code (``us_county_abbrev.txt``).
    adjacency_txt : path-like
        US Census county adjacency file.
    shp : path-like
        US Census county boundary shapefile (for centroids).
    crop : str
        Crop name, stored as an attribute.
    layout : ColumnLayout
        Column layout of ``npz``.
    max_dropped_share : float
        Largest share of the rows of ``npz`` (in [0, 1]) that may be dropped because their loc_ID is not in
        ``loc_csv`` or names no Census county; above it the files do not belong together.

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    CropDataError
        Bad input files; more than ``max_dropped_share`` of the rows dropped; two loc_IDs of the data naming
        the same county; no row left after the mapping.
    ValueError
        ``max_dropped_share`` outside [0, 1].
    """
    if not 0.0 <= max_dropped_share <= 1.0:
        raise ValueError(f"max_dropped_share must be in [0, 1], got {max_dropped_share!r}")
    npz = Path(npz)
    data = load_khaki_npz(npz, layout)
    loc_table = read_loc_table(loc_csv)
    abbrev = read_state_abbrev(abbrev_txt)
    _, fips_names, edges = read_adjacency(adjacency_txt)
    loc_to_fips, _ = map_loc_ids(loc_table, abbrev, fips_names)

    ids = data[:, layout.id_col].astype(np.int64)
    present = np.unique(ids)
    dropped = [int(i) for i in present if int(i) not in loc_to_fips]
    if dropped:
        n_rows = int(np.isin(ids, dropped).sum())
        shown = ", ".join(str(i) for i in dropped[:5]) + (", ..." if len(dropped) > 5 else "")
        check_dropped_share(
            n_rows,
            len(ids),
            max_dropped_share,
            str(npz),
            detail=f": their loc_IDs ({shown}) are not in {loc_csv} or name no Census county",
            fix=(
                f"use the loc table of the same crop and data set as {npz.name} (or allow more: config "
                f"crop.max_dropped_share, --max-dropped-share)"
            ),
            error=CropDataError,
        )
        log.warning(
            "%s: dropping loc_IDs %s (not in %s, or naming no Census county): %d rows dropped",
            npz,
            dropped,
            Path(loc_csv).name,
            n_rows,
        )
        data = data[~np.isin(ids, dropped)]
        ids = data[:, layout.id_col].astype(np.int64)
    if data.shape[0] == 0:
        raise CropDataError(
            f"{npz}: no row has a loc_ID that maps to a county of {loc_csv}; use the loc table of the same crop"
        )
    kept_locs = np.unique(ids)
    fips_of_loc = {int(i): loc_to_fips[int(i)] for i in kept_locs}
    by_fips: dict[int, int] = {}
    for loc, fips in fips_of_loc.items():
        if fips in by_fips:
            raise CropDataError(
                f"{npz}: loc_IDs {by_fips[fips]} and {loc} both map to county {fips} "
                f"({fips_names[fips]}); use the loc table of the same crop ({crop})"
            )
        by_fips[fips] = loc

    county = np.array(sorted(by_fips), dtype=np.int64)
    pos = {int(f): k for k, f in enumerate(county)}
    years_raw = data[:, layout.year_col].astype(np.int64)
    year = np.arange(years_raw.min(), years_raw.max() + 1, dtype=np.int64)
    n, t = len(county), len(year)
    row_c = np.array([pos[fips_of_loc[int(i)]] for i in ids], dtype=np.int64)
    row_y = years_raw - year[0]

    observed = np.zeros((n, t), dtype=bool)
    observed[row_c, row_y] = True
    y = np.full((n, t), np.nan, dtype=np.float64)
    y[row_c, row_y] = data[:, layout.yield_col]
    blocks = [layout.weekly_slice(), layout.soil_slice(), layout.extra_slice()]
    cols = np.concatenate([np.arange(s.start, s.stop) for s in blocks])
    x = np.full((n, t, len(cols)), np.nan, dtype=np.float64)
    x[row_c, row_y] = data[:, cols]

    edge_index = _edge_index(edges, pos)
    x = impute_features(x, observed, edge_index)

    nw, ns = layout.n_weekly, layout.n_soil
    ds = assemble_prepared(
        county=county,
        year=year,
        yields=y,
        weekly=x[:, :, :nw].reshape(n, t, len(layout.weekly_vars), layout.n_weeks),
        soil=x[:, :, nw : nw + ns].reshape(n, t, len(layout.soil_vars), layout.n_depths),
        extra=x[:, :, nw + ns :],
        observed=observed,
        loc_id=np.array([by_fips[int(f)] for f in county], dtype=np.int64),
        names=(layout.weekly_vars, layout.soil_vars, layout.extra_vars),
        extra_week=layout.extra_week_array(),
        fips_names=fips_names,
        edge_index=edge_index,
        shp=shp,
        attrs={
            "crop": crop,
            "source": (
                f"{npz.name} (Khaki et al. 2020 county-year data, layout {layout.name}); loc_ID -> FIPS via "
                f"{Path(loc_csv).name} and {Path(abbrev_txt).name}; graph from {Path(adjacency_txt).name} "
                f"(US Census, self pairs dropped); centroids from {Path(shp).name}"
            ),
            "dropped_loc_ids": ",".join(str(i) for i in dropped),
            "layout": layout.name,
        },
    )
    return ds


def assemble_prepared(
    county: np.ndarray,
    year: np.ndarray,
    yields: np.ndarray,
    weekly: np.ndarray,
    soil: np.ndarray,
    extra: np.ndarray,
    observed: np.ndarray,
    loc_id: np.ndarray,
    names: tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    extra_week: np.ndarray,
    fips_names: dict[int, str],
    edge_index: np.ndarray,
    shp: str | os.PathLike[str],
    attrs: dict[str, str],
) -> xr.Dataset:
    """The prepared Dataset (schema in the module docstring) from its arrays; shared by every data source.

    Parameters
    ----------
    county, year : ndarray of int64, shapes (N,) and (Y,)
        FIPS (sorted) and consecutive years.
    yields : ndarray, shape (N, Y)
        bu/acre, NaN where not reported.
    weekly : ndarray, shape (N, Y, W, n_weeks)
        Weekly features.
    soil : ndarray, shape (N, Y, S, n_depths)
        Soil features by depth.
    extra : ndarray, shape (N, Y, E)
        Scalar extras.
    observed : ndarray of bool, shape (N, Y)
        County-years whose features are the source's own (False: imputed).
    loc_id : ndarray of int64, shape (N,)
        The source's county id (the Khaki loc_ID; the FIPS for FIPS-keyed sources).
    names : tuple of three tuples of str
        The weekly, soil and extra variable names.
    extra_week : ndarray of int64, shape (E,)
        Calendar week of each extra, 0 for none.
    fips_names : dict of int to str
        Census "Name, ST" of every FIPS (the adjacency file).
    edge_index : ndarray of int64, shape (2, E)
        Symmetric county graph in position space.
    shp : path-like
        County boundary shapefile (centroids).
    attrs : dict
        ``crop``, ``source``, ``dropped_loc_ids``, ``layout``.
    """
    weekly_vars, soil_vars, extra_vars = names
    keys = [census_key(fips_names[int(f)]) for f in county]
    county_names = np.array([fips_names[int(f)].rpartition(",")[0].strip() for f in county], dtype=object)
    states = np.array([k[0] for k in keys], dtype=object)
    lon, lat = centroids(county_geometry(shp, county))
    ds = xr.Dataset(
        data_vars={
            "yield": (("county", "year"), yields.astype(np.float32)),
            "weekly": (("county", "year", "weekly_var", "week"), weekly.astype(np.float32)),
            "soil": (("county", "year", "soil_var", "depth"), soil.astype(np.float32)),
            "extra": (("county", "year", "extra_var"), extra.astype(np.float32)),
            "observed": (("county", "year"), observed),
            "loc_id": ("county", loc_id.astype(np.int64)),
            "name": ("county", county_names),
            "state": ("county", states),
            "lon": ("county", lon.astype(np.float64)),
            "lat": ("county", lat.astype(np.float64)),
            "edge_index": (("pair", "edge"), edge_index),
        },
        coords={
            "county": county,
            "year": year,
            "weekly_var": np.array(weekly_vars, dtype=object),
            "week": np.arange(1, weekly.shape[3] + 1, dtype=np.int64),
            "soil_var": np.array(soil_vars, dtype=object),
            "depth": np.arange(1, soil.shape[3] + 1, dtype=np.int64),
            "extra_var": np.array(extra_vars, dtype=object),
            "extra_week": ("extra_var", extra_week.astype(np.int64)),
        },
        attrs=attrs,
    )
    ds["yield"].attrs["units"] = "bushels/acre"
    ds["lon"].attrs["units"] = "degrees_east"
    ds["lat"].attrs["units"] = "degrees_north"
    return ds


def _edge_index(edges: list[tuple[int, int]], pos: dict[int, int]) -> np.ndarray:
    """Directed edges (both directions) among the kept counties, as sorted (2, E) positions, no self loops."""
    pairs = {(pos[a], pos[b]) for a, b in edges if a in pos and b in pos and a != b}
    kept = sorted(pairs | {(b, a) for a, b in pairs})
    if not kept:
        return np.zeros((2, 0), dtype=np.int64)
    return np.array(kept, dtype=np.int64).T.copy()


def impute_features(x: np.ndarray, observed: np.ndarray, edge_index: np.ndarray) -> np.ndarray:
    """Fill the features of unobserved county-years (see the module docstring); observed rows are unchanged.

    Parameters
    ----------
    x : ndarray, shape (N, Y, F)
        Features; rows where ``observed`` is False are ignored and overwritten.
    observed : ndarray of bool, shape (N, Y)
        Which county-years have observed features.
    edge_index : ndarray of int, shape (2, E)
        Symmetric graph in position space.

    Returns
    -------
    ndarray, shape (N, Y, F)
        A copy with every unobserved row filled.
    """
    x = x.copy()
    n, t, _ = x.shape
    adj = np.zeros((n, n), dtype=np.float64)
    adj[edge_index[0], edge_index[1]] = 1.0
    for j in range(t):
        obs = observed[:, j]
        missing = ~obs
        if not missing.any():
            continue
        if not obs.any():
            log.warning("no county observed in year index %d; imputing each county's own mean over its years", j)
            for i in np.nonzero(missing)[0]:
                x[i, j] = x[i, observed[i]].mean(axis=0)
            continue
        xo = np.where(obs[:, None], x[:, j], 0.0)
        counts = adj[missing] @ obs.astype(np.float64)
        sums = adj[missing] @ xo
        fallback = x[obs, j].mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = sums / counts[:, None]
        means[counts == 0] = fallback
        x[missing, j] = means
    return x


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write the prepared Dataset atomically as NetCDF-4 (engine h5netcdf, gzip-compressed float arrays)."""
    path = Path(path)
    encoding = {v: {"zlib": True, "complevel": 4} for v in FLOAT_VARS if v in ds}
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf", encoding=encoding)
    return path


def _share(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share in [0, 1]")
    return value


def main(argv: list[str] | None = None) -> int:
    """CLI: build the prepared NetCDF from the raw files."""
    p = argparse.ArgumentParser(prog="python -m seqstruct.crop.prepare", description=__doc__.splitlines()[0])
    p.add_argument("--npz", required=True, help="Khaki-style county-year array, e.g. soybean_data.npz")
    p.add_argument("--loc", required=True, help="loc_ID table of the same crop, e.g. Soybeans_Loc_ID.csv")
    p.add_argument("--abbrev", required=True, help="us_county_abbrev.txt")
    p.add_argument("--adjacency", required=True, help="US Census county_adjacency.txt")
    p.add_argument("--shp", required=True, help="US Census county boundary shapefile (.shp)")
    p.add_argument("--out", required=True, help="output NetCDF, e.g. results/data/crop/soybean.nc")
    p.add_argument("--crop", default="soybean", help="crop name stored in the dataset (default: soybean)")
    p.add_argument(
        "--max-dropped-share",
        type=_share,
        default=MAX_DROPPED_SHARE,
        help=f"largest share of npz rows dropped for unmapped loc_IDs, 0-1 (default: {MAX_DROPPED_SHARE})",
    )
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    start = time.perf_counter()
    try:
        ds = build_crop_dataset(
            args.npz,
            args.loc,
            args.abbrev,
            args.adjacency,
            args.shp,
            crop=args.crop,
            max_dropped_share=args.max_dropped_share,
        )
        write_netcdf(ds, args.out)
    except CropDataError as exc:
        print_error(exc)
        return 1
    log.info(
        "wrote %s: %d counties x %d years (%d-%d), %d observed rows, %d directed edges, %.1f s",
        args.out,
        ds.sizes["county"],
        ds.sizes["year"],
        int(ds["year"][0]),
        int(ds["year"][-1]),
        int(ds["observed"].sum()),
        ds.sizes["edge"],
        time.perf_counter() - start,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
