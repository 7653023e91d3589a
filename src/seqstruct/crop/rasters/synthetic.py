"""A deterministic synthetic raster set in the providers' real formats, on real county boundaries.

For the offline demo and the workflow tests: PRISM daily zips (COG zips in even years, BIL zips in odd years, so
that both readers run), optionally NLDAS-2 hourly NetCDF files, an NLCD land-cover GeoTIFF, a gSSURGO map-unit
raster with its tables in a File Geodatabase, and a NASS Quick Stats CSV of corn and soybean yields, for the
counties of a few states. Everything lies on the windows of the real grids around those states
(:func:`seqstruct.crop.rasters.ingest.product_grid`); NLCD and gSSURGO are coarser than their real 30 m (a
parameter) so that a state stays small.

The yields carry a learnable signal: ``base + 8 * soil(county) + 0.6 * summer warmth(county, year) + noise``,
where the soil term is the county's mean of a smooth field and the warmth the year's anomaly at the county
centroid; some county-years are missing or suppressed (``(D)``) as in the real export, and one "OTHER
(COMBINED) COUNTIES" row per state and year is there to be dropped.

Layout under ``root``: ``prism/<var>/<year>/*.zip``, ``nldas/<product>/<year>/*.nc``, ``nlcd/nlcd.tif``,
``gssurgo/mukey.tif``, ``gssurgo/tables.gdb``, ``nass/yields.csv``, and ``MANIFEST.json`` (the settings).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from affine import Affine

from seqstruct.common.io import atomic_path
from seqstruct.crop.rasters.grid import Grid

#: mean, seasonal amplitude, spatial weight and daily noise of each synthetic PRISM variable
_PRISM_SHAPES = {
    "ppt": (2.5, 1.5, 1.0, 3.0),
    "tmean": (10.0, 13.0, 2.0, 2.0),
    "tmax": (16.0, 13.0, 2.0, 2.5),
    "tmin": (4.0, 12.0, 2.0, 2.5),
    "tdmean": (3.0, 11.0, 1.5, 2.0),
    "vpdmax": (15.0, 10.0, 2.0, 3.0),
    "vpdmin": (2.0, 2.0, 0.5, 0.5),
}
#: where the set's single-file inputs lie under its root (crop.rasters.files of the synthetic set)
FILES = {"nlcd": "nlcd/nlcd.tif", "mukey": "gssurgo/mukey.tif", "soil_tables": "gssurgo/tables.gdb",
         "yields": "nass/yields.csv"}  # fmt: skip
_NLCD_MIX = ((82, 0.55), (81, 0.12), (71, 0.05), (41, 0.15), (21, 0.08), (11, 0.05))
_STATES = {17: ("ILLINOIS", "IL"), 18: ("INDIANA", "IN"), 19: ("IOWA", "IA"), 10: ("DELAWARE", "DE")}


def _smooth(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """A smooth field in [-1, 1] of lon/lat-like coordinates (a few random plane waves)."""
    rng = np.random.default_rng(seed)
    out = np.zeros(np.broadcast(x, y).shape)
    for _ in range(3):
        kx, ky, phase = rng.uniform(0.3, 1.2), rng.uniform(0.3, 1.2), rng.uniform(0, 2 * np.pi)
        out += np.sin(kx * x + ky * y + phase)
    return out / 3.0


def _centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    t, (rows, cols) = grid.transform, grid.shape
    x = t.c + (np.arange(cols) + 0.5) * t.a
    y = t.f + (np.arange(rows) + 0.5) * t.e
    return np.meshgrid(x, y)


def _days(year: int) -> list[date]:
    n = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return [date(year, 1, 1) + timedelta(k) for k in range(n)]


def _warmth(year: int, seed: int) -> float:
    """The year's summer temperature anomaly (degC), the same everywhere up to the spatial term."""
    return float(np.random.default_rng([seed, year]).normal(0.0, 1.5))


def write_prism(root: Path, grid: Grid, variables: Sequence[str], years: Sequence[int], seed: int) -> None:
    """PRISM daily zips of ``variables`` for ``years`` on ``grid`` (COG zips in even years, BIL zips in odd)."""
    from seqstruct.crop.rasters.prism import write_prism_bil_zip, write_prism_cog_zip

    x, y = _centres(grid)
    for v, var in enumerate(variables):
        mean, amp, space, noise = _PRISM_SHAPES[var]
        spatial = space * _smooth(x, y, seed + 11 * v)
        for year in years:
            rng = np.random.default_rng([seed, v, year])
            writer = write_prism_cog_zip if year % 2 == 0 else write_prism_bil_zip
            warm = _warmth(year, seed) if var != "ppt" else 0.0
            for k, day in enumerate(_days(year)):
                season = np.sin(2 * np.pi * (k - 105) / 365.0)
                field = mean + amp * season + spatial + warm * max(season, 0.0) + rng.normal(0, noise, grid.shape)
                if var == "ppt":
                    field = np.maximum(field, 0.0)
                writer(root / "prism" / var / str(year), var, day, field.astype(np.float32), grid)


def write_nldas(root: Path, grid: Grid, names: Sequence[str], years: Sequence[int], seed: int) -> None:
    """Hourly NLDAS-2 NetCDF files of the products that ``names`` need, for ``years`` on ``grid``."""
    from seqstruct.crop.rasters.nldas import NLDAS_VARIABLES, nldas_file_name, nldas_hours, write_nldas_netcdf

    x, y = _centres(grid)
    spatial = _smooth(x, y, seed + 97)
    for product in sorted({NLDAS_VARIABLES[n].product for n in names}):
        sources = sorted(
            {s.name for n in names if NLDAS_VARIABLES[n].product == product for s in NLDAS_VARIABLES[n].sources}
        )
        for year in years:
            rng = np.random.default_rng([seed, year, len(product)])
            for h, when in enumerate(nldas_hours(year)):
                season = np.sin(2 * np.pi * (h / 24.0 - 105) / 365.0)
                fields = {
                    s: (280.0 + 12 * season + 2 * spatial + rng.normal(0, 1, grid.shape)).astype(np.float32)
                    if s.startswith(("Tair", "SoilT"))
                    else np.abs(5.0 + 3 * season + spatial + rng.normal(0, 1, grid.shape)).astype(np.float32)
                    for s in sources
                }
                folder = root / "nldas" / product / str(year)
                write_nldas_netcdf(folder / nldas_file_name(product, when), product, when, fields, grid)


def _albers_grid(counties: gpd.GeoDataFrame, cell: float) -> Grid:
    xmin, ymin, xmax, ymax = counties.to_crs("EPSG:5070").total_bounds
    x0, y1 = np.floor(xmin / cell) * cell - cell, np.ceil(ymax / cell) * cell + cell
    cols, rows = int(np.ceil((xmax - x0) / cell)) + 1, int(np.ceil((y1 - ymin) / cell)) + 1
    return Grid("EPSG:5070", Affine(cell, 0, x0, 0, -cell, y1), (rows, cols))


def write_land(root: Path, counties: gpd.GeoDataFrame, cell: float, seed: int) -> tuple[Grid, np.ndarray]:
    """NLCD classes and gSSURGO map units on one Albers grid of ``cell`` metres; the map units' soil index."""
    from seqstruct.crop.rasters.gssurgo import synthetic_gssurgo_tables, write_gssurgo_tables, write_mukey_raster
    from seqstruct.crop.rasters.nlcd import write_nlcd

    grid = _albers_grid(counties, cell)
    for sub in ("nlcd", "gssurgo"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    x, y = _centres(grid)
    rng = np.random.default_rng(seed)
    u = (_smooth(x / 4e4, y / 4e4, seed + 5) + 1) / 2 * 0.7 + 0.3 * rng.random(grid.shape)
    codes, shares = zip(*_NLCD_MIX)
    classes = np.array(codes, dtype=np.uint8)[np.searchsorted(np.cumsum(shares), np.clip(u, 0, 0.999999))]
    write_nlcd(root / FILES["nlcd"], classes, grid.transform)
    n_units = 60
    sx, sy = rng.uniform(x.min(), x.max(), n_units), rng.uniform(y.min(), y.max(), n_units)
    nearest = np.argmin((x[..., None] - sx) ** 2 + (y[..., None] - sy) ** 2, axis=-1)
    mukeys = np.arange(100001, 100001 + n_units)
    write_mukey_raster(root / FILES["mukey"], mukeys[nearest], grid)
    tables = synthetic_gssurgo_tables(mukeys, seed=seed)
    write_gssurgo_tables(root / FILES["soil_tables"], tables)
    return grid, _smooth(x / 4e4, y / 4e4, seed + 23)


def yields_table(counties: gpd.GeoDataFrame, soil: pd.Series, years: Sequence[int], seed: int) -> pd.DataFrame:
    """Quick Stats rows (web export columns) of corn and soybean yields with missing and suppressed values."""
    from seqstruct.crop.rasters.nass import YIELD_ITEMS

    rng = np.random.default_rng(seed + 1)
    points = counties.geometry.representative_point()
    cx, cy = points.x.to_numpy(), points.y.to_numpy()
    local = _smooth(cx, cy, seed + 31)
    rows = []
    for crop, base in (("corn", 160.0), ("soybean", 50.0)):
        scale = base / 50.0
        for year in years:
            warm = _warmth(year, seed)
            for k, fips in enumerate(counties["FIPS"].to_numpy()):
                r = rng.random()
                if r < 0.04:
                    continue  # not reported
                value = base + scale * (8 * soil.loc[fips] + 0.6 * warm * (1 + 0.3 * local[k]) + rng.normal(0, 1.0))
                state = int(fips) // 1000
                rows.append(_nass_row(crop, year, state, int(fips) % 1000, "(D)" if r < 0.06 else f"{value:,.1f}"))
            for state in sorted({int(f) // 1000 for f in counties["FIPS"]}):
                rows.append(_nass_row(crop, year, state, 998, f"{base:,.1f}", county_name="OTHER (COMBINED) COUNTIES"))
    frame = pd.DataFrame(rows)
    frame.attrs["items"] = YIELD_ITEMS
    return frame


def _nass_row(crop: str, year: int, state: int, county: int, value: str, county_name: str = "") -> dict[str, object]:
    from seqstruct.crop.rasters.nass import YIELD_ITEMS

    name, _ = _STATES.get(state, (f"STATE {state}", ""))
    return {
        "Program": "SURVEY", "Year": year, "Period": "YEAR", "Geo Level": "COUNTY", "State": name,
        "State ANSI": state, "County": county_name or f"COUNTY {county}", "County ANSI": county,
        "Commodity": "CORN" if crop == "corn" else "SOYBEANS", "Data Item": YIELD_ITEMS[crop],
        "Domain": "TOTAL", "Domain Category": "NOT SPECIFIED", "Value": value, "CV (%)": "",
    }  # fmt: skip


def write_synthetic_rasters(
    root: str | os.PathLike[str],
    shp: str | os.PathLike[str],
    states: Sequence[int],
    years: Sequence[int],
    prism_vars: Sequence[str],
    nldas_vars: Sequence[str] = (),
    seed: int = 0,
    land_cell_m: float = 2000.0,
) -> Path:
    """Write the whole synthetic raster set under ``root``; returns the path of its ``MANIFEST.json``."""
    from seqstruct.crop.rasters.gssurgo import read_soil_properties
    from seqstruct.crop.rasters.ingest import aggregate_soil, counties_of, product_grid

    root = Path(root)
    for sub in ("prism", "nldas", "nlcd", "gssurgo", "nass"):  # a rerun starts from an empty set
        shutil.rmtree(root / sub, ignore_errors=True)
    counties = counties_of(shp, states)
    write_prism(root, product_grid("prism", counties), prism_vars, years, seed)
    if nldas_vars:
        write_nldas(root, product_grid("nldas", counties), nldas_vars, years, seed)
    write_land(root, counties, land_cell_m, seed)
    # the yields' soil term: the county's cropland mean of the map units' NCCPI (what the model also sees)
    props = read_soil_properties(root / FILES["soil_tables"])
    soil = aggregate_soil(counties, root / FILES["mukey"], props, root / FILES["nlcd"])
    nccpi = soil["extra"].sel(extra_var="nccpi_all").to_series().fillna(0.5)
    from seqstruct.crop.rasters.nass import write_quickstats_csv

    write_quickstats_csv(root / FILES["yields"], yields_table(counties, (nccpi - 0.5) * 4, years, seed))
    manifest = root / "MANIFEST.json"
    settings = {
        "states": list(states), "years": list(years), "prism_vars": list(prism_vars), "nldas_vars": list(nldas_vars),
        "seed": seed, "land_cell_m": land_cell_m, "written": datetime.now().isoformat(timespec="seconds"),
    }  # fmt: skip
    with atomic_path(manifest) as tmp:
        Path(tmp).write_text(json.dumps(settings, indent=1))
    return manifest
