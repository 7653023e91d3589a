"""The raster ingestion jobs, one function per workflow rule: county weights per grid, a PRISM variable-year, an
NLDAS product-year, the soil, the yields, and the prepared county x year dataset the crop models read.

Outputs (``results/data/crop/rasters/<set>/``):

=============================  ===========================================================================
``weights_<grid>.npz``         :class:`~seqstruct.crop.rasters.aggregate.CountyWeights` of one grid (PRISM,
                               NLDAS), cropland-weighted from NLCD; built once, reused by every job
``prism/<var>_<year>.nc``      one variable-year: ``<var>`` (county, week), float32
``nldas/<product>_<year>.nc``  one product-year: each feature of the product as (county, week)
``weekly_<year>.nc``           the year: ``weekly`` (county, weekly_var, week) (the merge of the two above)
``soil.nc``                    ``soil`` (county, soil_var, depth) and ``extra`` (county, extra_var)
``yields.csv``                 fips, year, crop, yield (NASS Quick Stats, county, bu/acre)
=============================  ===========================================================================

and then ``results/data/crop/<crop>.nc`` in the schema of :mod:`seqstruct.crop.prepare` (FIPS-keyed; the
previous-year mean yield is appended by :mod:`seqstruct.crop.dataset` like for every source).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import scipy.sparse as sp
import xarray as xr
from rasterio.windows import Window

from seqstruct.common.io import atomic_path
from seqstruct.crop.counties import conus_fips, county_geometry, read_adjacency
from seqstruct.crop.prepare import _edge_index, assemble_prepared
from seqstruct.crop.rasters.aggregate import (
    N_WEEKS,
    CountyWeights,
    county_weights,
    daily_county_means,
    weekly_means,
)
from seqstruct.crop.rasters.grid import Grid, RasterDataError
from seqstruct.crop.rasters.nlcd import crop_share

log = logging.getLogger(__name__)

GRIDS = ("prism", "nldas")


MANIFEST = "MANIFEST.json"


def raster_path(rule_input: str | os.PathLike[str], relative: str) -> Path:
    """The raw raster file or folder behind a rule input: the input itself (the user's files), or, for the
    synthetic set, whose rules take its ``MANIFEST.json`` as input, ``relative`` to the manifest's folder."""
    path = Path(rule_input)
    return path.parent / relative if path.name == MANIFEST else path


def counties_of(shp: str | os.PathLike[str], states: Sequence[int] | None) -> gpd.GeoDataFrame:
    """The county polygons of ``states`` (state FIPS codes; all of the conterminous US when None)."""
    return county_geometry(shp, conus_fips(shp, states))


def product_grid(product: str, counties: gpd.GeoDataFrame | None = None, margin: int = 2) -> Grid:
    """The grid of a product: the whole PRISM / NLDAS grid, or (``counties`` given) the window of it around them.

    The synthetic raster set is written on the windows around its states, so the generator and the weights
    agree by construction.
    """
    if product == "prism":
        from seqstruct.crop.rasters.prism import PRISM_4KM as full
    elif product == "nldas":
        from seqstruct.crop.rasters.nldas import NLDAS_GRID as full
    else:
        raise ValueError(f"unknown grid {product!r}; choose from {GRIDS}")
    if counties is None:
        return full
    xmin, ymin, xmax, ymax = counties.to_crs(full.pyproj_crs).total_bounds
    t = full.transform
    c0, c1 = int(np.floor((xmin - t.c) / t.a)) - margin, int(np.ceil((xmax - t.c) / t.a)) + margin
    r0, r1 = int(np.floor((ymax - t.f) / t.e)) - margin, int(np.ceil((ymin - t.f) / t.e)) + margin
    c0, r0 = max(c0, 0), max(r0, 0)
    c1, r1 = min(c1, full.shape[1]), min(r1, full.shape[0])
    return full.window(r0, c0, r1 - r0, c1 - c0)


def build_weights(counties: gpd.GeoDataFrame, grid: Grid, nlcd: str | os.PathLike[str], out: Path) -> CountyWeights:
    """Coverage x NLCD crop share weights of ``counties`` on ``grid``, saved to ``out``."""
    share = crop_share(nlcd, grid)
    log.info("NLCD crop share on the %s grid: mean %.3f over %d cells", grid.shape, np.nanmean(share), share.size)
    weights = county_weights(counties, grid, cell_weight=share)
    weights.save(out)
    return weights


def _weekly_array(daily: np.ndarray, name: str, year: int, fips: np.ndarray) -> np.ndarray:
    weekly = weekly_means(daily)
    bad = np.isnan(weekly).any(axis=1)
    if bad.any():
        log.warning(
            "%s %d: %d counties have NaN weeks (no valid weighted cell on some day): %s",
            name,
            year,
            int(bad.sum()),
            ", ".join(str(int(f)) for f in fips[bad][:8]),
        )
    return weekly


def aggregate_prism_year(folder: str | os.PathLike[str], var: str, year: int, weights: CountyWeights) -> xr.Dataset:
    """County x week means of one PRISM variable-year (365/366 daily zips in ``folder``)."""
    from seqstruct.crop.rasters.prism import PRISM_VARIABLES, prism_year_files, read_prism_day

    files = prism_year_files(folder, var, year)
    fields = ((p, read_prism_day(p, weights.grid).values) for p in files)
    daily = daily_county_means(weights, fields, len(files), progress=f"PRISM {var} {year}")
    weekly = _weekly_array(daily, f"PRISM {var}", year, weights.fips)
    return _weekly_dataset({var: weekly}, weights.fips, year, {var: PRISM_VARIABLES[var]}, f"PRISM {Path(folder)}")


def aggregate_nldas_year(
    folder: str | os.PathLike[str], product: str, names: Sequence[str], year: int, weights: CountyWeights
) -> xr.Dataset:
    """County x week means of NLDAS-2 features of one product-year: hourly county means, reduced to days by
    each feature's daily rule (mean, or max for wind), then to weeks."""
    from tqdm.auto import tqdm

    from seqstruct.crop.rasters.nldas import NLDAS_VARIABLES, read_nldas_hour

    files = _nldas_files(folder, product, year)
    if len(files) % 24:
        raise RasterDataError(f"{folder}: {len(files)} hourly files for {year}, not whole days; check the folder")
    n, n_days = len(weights.fips), len(files) // 24
    hours = {name: np.empty((n, 24)) for name in names}  # one day at a time: memory does not grow with days
    daily = {name: np.empty((n, n_days)) for name in names}
    for h, path in enumerate(tqdm(files, desc=f"NLDAS {product} {year}", unit="hour", mininterval=5.0)):
        for name, raster in read_nldas_hour(path, names, weights.grid).items():
            hours[name][:, h % 24] = weights.mean(raster.values, path)
        if h % 24 == 23:
            for name in names:
                reduce = np.max if NLDAS_VARIABLES[name].daily == "max" else np.mean
                daily[name][:, h // 24] = reduce(hours[name], axis=1)
    weekly = {name: _weekly_array(daily[name], f"NLDAS {name}", year, weights.fips) for name in names}
    units = {n: NLDAS_VARIABLES[n].units for n in names}
    return _weekly_dataset(weekly, weights.fips, year, units, f"NLDAS-2 {product} {Path(folder)}")


def _nldas_files(folder: str | os.PathLike[str], product: str, year: int) -> list[Path]:
    """The year's hourly files in either format (NetCDF preferred when both are complete)."""
    from seqstruct.crop.rasters.nldas import list_nldas_year

    try:
        return list_nldas_year(folder, product, year, "netcdf")
    except RasterDataError as netcdf_error:
        try:
            return list_nldas_year(folder, product, year, "grib")
        except RasterDataError:
            raise netcdf_error from None


def _weekly_dataset(
    weekly: dict[str, np.ndarray], fips: np.ndarray, year: int, units: dict[str, str], source: str
) -> xr.Dataset:
    ds = xr.Dataset(
        {k: (("county", "week"), v.astype(np.float32), {"units": units[k]}) for k, v in weekly.items()},
        coords={"county": fips, "week": np.arange(1, N_WEEKS + 1)},
        attrs={"year": year, "source": source, "weeks": "week w = days 7(w-1)+1..7w; days 365/366 join week 52"},
    )
    return ds


def merge_year(parts: Sequence[str | os.PathLike[str]], variables: Sequence[str], year: int) -> xr.Dataset:
    """One year's ``weekly`` (county, weekly_var, week) from the per-variable / per-product files."""
    found: dict[str, xr.DataArray] = {}
    county = None
    for part in parts:
        with xr.open_dataset(part, engine="h5netcdf") as ds:
            if county is not None and not np.array_equal(ds["county"].values, county):
                raise RasterDataError(f"{part}: other counties than the other files of {year}; rebuild the weights")
            county = ds["county"].values
            for name in ds.data_vars:
                found[str(name)] = ds[name].load()
    missing = [v for v in variables if v not in found]
    if missing:
        raise RasterDataError(f"{parts[0]}: the {year} parts lack {missing}; check crop.rasters variables")
    stack = np.stack([found[v].values for v in variables], axis=1)
    return xr.Dataset(
        {"weekly": (("county", "weekly_var", "week"), stack)},
        coords={"county": county, "weekly_var": list(variables), "week": np.arange(1, N_WEEKS + 1)},
        attrs={"year": year},
    )


def write_nc(ds: xr.Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``ds`` atomically as NetCDF-4 (h5netcdf)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")
    return path


def mukey_weights(
    counties: gpd.GeoDataFrame, mukey_tif: str | os.PathLike[str], nlcd: str | os.PathLike[str], block: int = 1024
) -> tuple[sp.csr_array, np.ndarray]:
    """Cropland-weighted area of every map unit in every county: (n_counties, n_mukeys) and the mukeys.

    The map-unit raster is read in ``block x block`` windows (memory does not grow with its size); each window
    gets exact coverage weights of the counties over it times its NLCD crop share.
    """
    path = Path(mukey_tif)
    parts = []
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioError as exc:
        raise RasterDataError(f"{path}: not a readable map-unit raster ({exc}); re-export MUKEY as GeoTIFF") from exc
    with src:
        grid = Grid.of(src, path)
        for r in range(0, grid.shape[0], block):
            for c in range(0, grid.shape[1], block):
                h, w = min(block, grid.shape[0] - r), min(block, grid.shape[1] - c)
                keys = src.read(1, window=Window(c, r, w, h)).astype(np.int64)
                if src.nodata is not None:
                    keys[keys == int(src.nodata)] = -1
                keys[keys <= 0] = -1
                if (keys < 0).all():
                    continue
                sub = grid.window(r, c, h, w)
                local = _overlapping(counties, sub)
                if not len(local):
                    continue
                cw = county_weights(counties.iloc[local], sub, cell_weight=crop_share(nlcd, sub), log_coverage=False)
                m = cw.matrix.tocoo()
                k = keys.ravel()[m.col]
                ok = k >= 0
                parts.append(pd.DataFrame({"county": local[m.row[ok]], "mukey": k[ok], "w": m.data[ok]}))
    if not parts:
        raise RasterDataError(f"{path}: no map unit under any county; check the raster's extent and CRS")
    frame = pd.concat(parts).groupby(["county", "mukey"], as_index=False)["w"].sum()
    mukeys = np.unique(frame["mukey"].to_numpy())
    col = np.searchsorted(mukeys, frame["mukey"].to_numpy())
    mat = sp.csr_array((frame["w"].to_numpy(), (frame["county"].to_numpy(), col)), shape=(len(counties), len(mukeys)))
    return mat, mukeys


def _overlapping(counties: gpd.GeoDataFrame, grid: Grid) -> np.ndarray:
    xmin, ymin, xmax, ymax = grid.bounds
    b = counties.to_crs(grid.pyproj_crs).bounds
    hit = (b["minx"] < xmax) & (b["maxx"] > xmin) & (b["miny"] < ymax) & (b["maxy"] > ymin)
    return np.nonzero(hit.to_numpy())[0]


def aggregate_soil(
    counties: gpd.GeoDataFrame, mukey_tif: str | os.PathLike[str], props: xr.Dataset, nlcd: str | os.PathLike[str]
) -> xr.Dataset:
    """County soil (county, soil_var, depth) and extras (county, extra_var): the cropland-weighted mean of the
    map units' properties (``props`` from :func:`seqstruct.crop.rasters.gssurgo.read_soil_properties`); the
    texture-class columns become the cropland share of each class. Map units missing from the tables or a
    property's NaN are left out of that mean; a county with none left is NaN (logged)."""
    mat, mukeys = mukey_weights(counties, mukey_tif, nlcd)
    known = np.isin(mukeys, props["mukey"].values)
    if not known.all():
        log.warning("%d map units of %s are not in the tables; left out", int((~known).sum()), mukey_tif)
    mat = mat[:, np.nonzero(known)[0]]
    sel = props.sel(mukey=mukeys[known])
    out = {}
    for name in ("soil", "extra"):
        values = sel[name].values.reshape(len(sel["mukey"]), -1).astype(np.float64)
        valid = ~np.isnan(values)
        num = mat @ np.where(valid, values, 0.0)
        den = mat @ valid.astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
        out[name] = mean.reshape(len(counties), *sel[name].shape[1:])
    fips = counties["FIPS"].to_numpy(np.int64)
    empty = np.isnan(out["soil"]).all(axis=(1, 2))
    if empty.any():
        log.warning("%d counties have no soil data under cropland: %s", int(empty.sum()), list(fips[empty][:8]))
    return xr.Dataset(
        {
            "soil": (("county", "soil_var", "depth"), out["soil"].astype(np.float32)),
            "extra": (("county", "extra_var"), out["extra"].astype(np.float32)),
        },
        coords={
            "county": fips,
            "soil_var": sel["soil_var"].values,
            "depth": sel["depth"].values,
            "extra_var": sel["extra_var"].values,
        },  # fmt: skip
        attrs={"source": f"gSSURGO {mukey_tif}"},
    )


def build_raster_dataset(
    weekly_files: Sequence[str | os.PathLike[str]],
    soil_nc: str | os.PathLike[str],
    yields_csv: str | os.PathLike[str],
    adjacency: str | os.PathLike[str],
    shp: str | os.PathLike[str],
    crop: str,
    source: str,
) -> xr.Dataset:
    """The prepared county x year dataset of ``crop`` from the aggregated rasters and the NASS yields.

    Counties: those with at least one reported yield of ``crop`` and finite features in every year (others are
    dropped, logged). Yields are NaN where NASS reports none; every kept county-year is ``observed`` (its
    features are measured, not imputed). Soil and extras are the same in every year.
    """
    years, weekly = [], []
    for path in weekly_files:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            years.append(int(ds.attrs["year"]))
            weekly.append(ds.load())
    order = np.argsort(years)
    years = [years[i] for i in order]
    weekly = [weekly[i] for i in order]
    if years != list(range(years[0], years[-1] + 1)):
        raise RasterDataError(f"{weekly_files[0]}: the weekly years {years} are not consecutive; add the missing ones")
    with xr.open_dataset(soil_nc, engine="h5netcdf") as soil_ds:
        soil_ds = soil_ds.load()
    fips = weekly[0]["county"].values
    w = np.stack([ds["weekly"].sel(county=fips).values for ds in weekly], axis=1)  # (N, Y, W, 52)
    soil = soil_ds["soil"].sel(county=fips).values
    extra = soil_ds["extra"].sel(county=fips).values
    table = pd.read_csv(yields_csv)
    table = table[(table["crop"] == crop) & table["year"].between(years[0], years[-1])]
    y = np.full((len(fips), len(years)), np.nan)
    pos = {int(f): i for i, f in enumerate(fips)}
    rows = table[table["fips"].isin(pos)]
    y[rows["fips"].map(pos).to_numpy(), (rows["year"] - years[0]).to_numpy()] = rows["yield"].to_numpy()
    finite = np.isfinite(w).all(axis=(1, 2, 3)) & np.isfinite(soil).all(axis=(1, 2)) & np.isfinite(extra).all(axis=1)
    reported = np.isfinite(y).any(axis=1)
    if (reported & ~finite).any():
        log.warning(
            "%s: dropping %d counties with yields but NaN features (no cropland or no data): %s",
            crop,
            int((reported & ~finite).sum()),
            list(fips[reported & ~finite][:8]),
        )
    keep = reported & finite
    if not keep.any():
        raise RasterDataError(f"{yields_csv}: no county with a {crop} yield has complete features; check the inputs")
    fips, w, soil, extra, y = fips[keep], w[keep], soil[keep], extra[keep], y[keep]
    n, t = len(fips), len(years)
    _, fips_names, edges = read_adjacency(adjacency)
    pos = {int(f): i for i, f in enumerate(fips)}
    return assemble_prepared(
        county=fips.astype(np.int64),
        year=np.array(years, dtype=np.int64),
        yields=y,
        weekly=w,
        soil=np.broadcast_to(soil[:, None], (n, t, *soil.shape[1:])),
        extra=np.broadcast_to(extra[:, None], (n, t, extra.shape[1])),
        observed=np.ones((n, t), dtype=bool),
        loc_id=fips.astype(np.int64),
        names=(
            tuple(str(v) for v in weekly[0]["weekly_var"].values),
            tuple(str(v) for v in soil_ds["soil_var"].values),
            tuple(str(v) for v in soil_ds["extra_var"].values),
        ),
        extra_week=np.zeros(extra.shape[1], dtype=np.int64),
        fips_names=fips_names,
        edge_index=_edge_index(edges, pos),
        shp=shp,
        attrs={
            "crop": crop,
            "source": f"{source}: rasters aggregated to counties (seqstruct.crop.rasters), NASS yields",
            "dropped_loc_ids": "",
            "layout": "rasters",
        },
    )
