"""Benchmark of the county aggregation engines on one variable-year of PRISM-size daily grids (not a test).

Inputs (written once by :func:`make_inputs`): 365 daily fields at PRISM's CONUS 4 km size (621 x 1405) as
PRISM 2025 COG zips, a cropland-share raster on the same grid (the NLCD weight), and every CONUS county of the
Census 2010 boundary file. Each engine runs in its own process (its peak memory is that process' maximum
resident set size, read with ``os.wait4``) and returns the daily county means:

``read``          reading the 365 zipped COGs and nothing else (the floor)
``seqstruct``     :func:`seqstruct.crop.rasters.aggregate.county_weights` (timed apart: built once per grid and
                  reused for every variable and year) + one sparse product per 8 days
``exactextract``  ``exact_extract(..., "weighted_mean", weights=share)`` on the 365 rasters (same weights)
``xagg``          ``pixel_overlaps(ds, counties, weights=share)`` + ``aggregate`` on the days as one xarray
                  Dataset (same weights, the data read into memory first); timed on the first 30 days, the
                  overlaps once and the per-day part scaled to 365
``rasterstats``   ``zonal_stats(..., stats="mean")`` per day: cell centres inside the county, no coverage
                  fraction and no crop weight (what it can do); timed on the first days and scaled to 365,
                  said in the ``days_timed`` column

``python -m seqstruct.crop.rasters.benchmark --work resources/benchmarks/aggregation --out
results/benchmarks/aggregation.csv`` writes one row per engine with the seconds, the peak memory, the ratios to
``seqstruct`` and to ``read``, and the largest relative difference of its county means from exactextract's.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

ENGINES = ("read", "seqstruct", "exactextract", "xagg", "rasterstats")
YEAR = 2021  # a 365-day year
VAR = "tmean"


def conus_counties(shp: str | os.PathLike[str]):
    """Every county of the 48 states and DC in the Census boundary file, with an int64 FIPS column."""
    from seqstruct.crop.counties import conus_fips, county_geometry

    return county_geometry(shp, conus_fips(shp))


def make_inputs(work: Path, shp: Path, n_days: int = 365, seed: int = 0) -> None:
    """Write the benchmark's 365 PRISM COG zips, the share raster and the counties into ``work`` (once)."""
    import rasterio
    from rasterio.features import rasterize

    from seqstruct.crop.rasters.prism import PRISM_4KM, write_prism_cog_zip

    days = [date(YEAR, 1, 1) + timedelta(k) for k in range(n_days)]
    done = work / "inputs.done"
    if done.is_file() and done.read_text() == str(n_days):
        return
    work.mkdir(parents=True, exist_ok=True)
    counties = conus_counties(shp)
    counties[["FIPS", "geometry"]].to_file(work / "counties.gpkg", driver="GPKG")
    grid = PRISM_4KM
    land = rasterize(counties.geometry, out_shape=grid.shape, transform=grid.transform, fill=0, default_value=1)
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0 : grid.shape[0], 0 : grid.shape[1]]
    lat = grid.transform.f + (rows + 0.5) * grid.transform.e
    smooth = np.sin(cols / 90.0) * np.cos(rows / 70.0)
    share = np.clip(0.5 + 0.45 * smooth + 0.1 * rng.standard_normal(grid.shape), 0, 1).astype(np.float32)
    share[land == 0] = np.nan
    with rasterio.open(
        work / "share.tif", "w", driver="GTiff", height=grid.shape[0], width=grid.shape[1], count=1,
        dtype="float32", crs=grid.crs, transform=grid.transform, nodata=np.nan, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(share, 1)
    for k, day in enumerate(days):
        season = 12.0 * np.sin(2 * np.pi * (k - 110) / 365.0)
        field = (28.0 - 0.6 * (lat - 25.0) + season + 2.0 * smooth + rng.normal(0, 0.5, grid.shape)).astype(np.float32)
        field[land == 0] = np.nan
        write_prism_cog_zip(work / "prism", VAR, day, field, grid)
    done.write_text(str(n_days))


def _files(work: Path, n_days: int) -> list[Path]:
    from seqstruct.crop.rasters.prism import prism_year_files

    return prism_year_files(work / "prism", VAR, YEAR)[:n_days]


def run_engine(name: str, work: Path, n_days: int) -> dict[str, float]:
    """Run one engine in this process; save its (n_counties, days) means to ``work/<name>.npy``; its timings."""
    import geopandas as gpd
    import rasterio

    from seqstruct.crop.rasters.prism import read_prism_day

    files = _files(work, n_days)
    counties = gpd.read_file(work / "counties.gpkg")
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if name == "read":
        for p in files:
            read_prism_day(p)
        means = None
    elif name == "seqstruct":
        from seqstruct.crop.rasters.aggregate import county_weights, daily_county_means
        from seqstruct.crop.rasters.prism import PRISM_4KM

        with rasterio.open(work / "share.tif") as src:
            share = src.read(1)
        weights = county_weights(counties, PRISM_4KM, cell_weight=share)
        timings["weights_seconds"] = time.perf_counter() - start
        means = daily_county_means(weights, ((p, read_prism_day(p).values) for p in files), len(files))
    elif name == "exactextract":
        from exactextract import exact_extract

        rasters = [f"/vsizip/{p}/{p.stem}.tif" for p in files]
        df = exact_extract(
            rasters, counties, "weighted_mean", weights=str(work / "share.tif"), output="pandas",
            include_cols=["FIPS"],
        )  # fmt: skip
        means = df.drop(columns="FIPS").to_numpy(np.float64)
    elif name == "xagg":
        means = _xagg(files, counties, work, timings)
    elif name == "rasterstats":
        from rasterstats import zonal_stats

        means = np.column_stack(
            [
                [
                    s["mean"] if s["mean"] is not None else np.nan
                    for s in zonal_stats(counties, f"/vsizip/{p}/{p.stem}.tif", stats=["mean"], nodata=-9999)
                ]  # fmt: skip
                for p in files
            ]
        )
    else:
        raise ValueError(f"unknown engine {name!r}; choose from {ENGINES}")
    timings["seconds"] = time.perf_counter() - start
    if means is not None:
        np.save(work / f"{name}.npy", means)
    return timings


def _xagg(files: list[Path], counties, work: Path, timings: dict[str, float]) -> np.ndarray:
    import rasterio
    import xagg
    import xarray as xr

    from seqstruct.crop.rasters.prism import PRISM_4KM, read_prism_day

    t, (rows, cols) = PRISM_4KM.transform, PRISM_4KM.shape
    lat = t.f + (np.arange(rows) + 0.5) * t.e
    lon = t.c + (np.arange(cols) + 0.5) * t.a
    data = np.stack([read_prism_day(p).values for p in files])
    ds = xr.Dataset(
        {VAR: (("time", "lat", "lon"), data)},
        coords={"time": pd.date_range(f"{YEAR}-01-01", periods=len(files)), "lat": lat, "lon": lon},
    )
    with rasterio.open(work / "share.tif") as src:
        share = xr.DataArray(np.nan_to_num(src.read(1)), coords={"lat": lat, "lon": lon}, dims=("lat", "lon"))
    start = time.perf_counter()
    with xagg.set_options(silent=True):
        wm = xagg.pixel_overlaps(ds, counties, weights=share)
        timings["weights_seconds"] = time.perf_counter() - start
        agg = xagg.aggregate(ds, wm)
    out = agg.to_dataframe().reset_index()
    wide = out.pivot_table(index="FIPS", columns="time", values=VAR, dropna=False)
    return wide.loc[counties["FIPS"]].to_numpy(np.float64)


def _child(engine: str, work: Path, n_days: int) -> dict[str, float]:
    """Run ``engine`` in a fresh interpreter; its timings plus its peak resident memory (MB)."""
    cmd = [sys.executable, "-m", "seqstruct.crop.rasters.benchmark", "--engine", engine, "--work", str(work)]
    cmd += ["--days", str(n_days)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read() if proc.stdout else ""
    if status != 0:
        raise RuntimeError(f"benchmark engine {engine} failed (status {status}); run {' '.join(cmd)} to see why")
    timings = {k: float(v) for k, v in (line.split("=") for line in out.split() if "=" in line)}
    timings["peak_memory_mb"] = usage.ru_maxrss / 1024.0
    return timings


def run_benchmark(
    work: Path,
    shp: Path,
    out: Path,
    n_days: int = 365,
    short_days: dict[str, int] | None = None,
    figure: Path | None = None,
) -> pd.DataFrame:
    """Run every engine (each in its own process) and write the comparison CSV to ``out``.

    ``short_days`` times the slow engines on their first days only (default: rasterstats 10, xagg 30): their
    per-day part is scaled to the year and their once-per-grid part (xagg's pixel overlaps) added once; the
    ``days_timed`` column says which rows are scaled.
    """
    short_days = {"rasterstats": 10, "xagg": 30} if short_days is None else short_days
    make_inputs(work, shp)
    rows = []
    for engine in ENGINES:
        days = min(short_days.get(engine, n_days), n_days)
        log.info("benchmark: %s on %d days", engine, days)
        t = _child(engine, work, days)
        fixed = t.get("weights_seconds", 0.0)  # once per grid (seqstruct's weights, xagg's pixel overlaps)
        per_year = fixed + (t["seconds"] - fixed) * n_days / days
        rows.append({"engine": engine, "days_timed": days, "seconds_per_variable_year": per_year, **t})
    df = pd.DataFrame(rows)
    ours = df.set_index("engine").loc["seqstruct"]
    read = df.set_index("engine").loc["read", "seconds_per_variable_year"]
    df["seconds_with_cached_weights"] = df["seconds_per_variable_year"]
    cached = df["engine"].isin(["seqstruct", "xagg"])
    df.loc[cached, "seconds_with_cached_weights"] = df.loc[cached, "seconds_per_variable_year"] - df.loc[
        cached, "weights_seconds"
    ].fillna(0.0)
    df["ratio_to_seqstruct"] = df["seconds_per_variable_year"] / ours["seconds"]
    df["ratio_to_read"] = df["seconds_per_variable_year"] / read
    ref = np.load(work / "exactextract.npy")
    diffs = []
    for engine in df["engine"]:
        path = work / f"{engine}.npy"
        if engine == "read" or not path.is_file():
            diffs.append(np.nan)
            continue
        got = np.load(path)
        k = got.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            rel = np.abs(got - ref[:, :k]) / np.abs(ref[:, :k])
        diffs.append(float(np.nanmax(rel)))
    df["max_rel_diff_vs_exactextract"] = diffs
    df["counties"] = len(ref)
    df["grid"] = "621x1405 (PRISM 4 km CONUS)"
    df["cpus"] = os.cpu_count()
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False, float_format="%.4g")
    if figure is not None:
        plot_benchmark(df, figure)
    return df


def plot_benchmark(df: pd.DataFrame, path: Path) -> None:
    """Seconds per variable-year (log scale) and peak memory of every engine, side by side."""
    from seqstruct.common.plots import plt, save_figure

    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(10, 3.6))
    labels = [f"{e}\n({d} days timed)" if d < 365 else e for e, d in zip(df["engine"], df["days_timed"])]
    ax_t.barh(labels, df["seconds_per_variable_year"], color="tab:blue")
    ax_t.set_xscale("log")
    ax_t.set_xlabel("seconds per variable-year (365 days, 3,109 counties)")
    ax_m.barh(labels, df["peak_memory_mb"] / 1024, color="tab:orange")
    ax_m.set_xlabel("peak memory (GB)")
    ax_m.set_yticklabels([])
    fig.suptitle("County aggregation of PRISM-size daily grids (621 x 1405), 2 CPU cores")
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> int:
    """CLI: the whole benchmark (``--out``), or one engine in this process (``--engine``, used internally)."""
    p = argparse.ArgumentParser(prog="python -m seqstruct.crop.rasters.benchmark", description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, required=True, help="folder for the generated inputs (about 1 GB)")
    p.add_argument("--shp", type=Path, help="Census county boundary shapefile (gz_2010_us_050_00_20m.shp)")
    p.add_argument("--out", type=Path, help="the CSV to write")
    p.add_argument("--figure", type=Path, help="a bar chart of the times and memory (PNG)")
    p.add_argument("--engine", choices=ENGINES, help="run one engine only and print its timings")
    p.add_argument("--days", type=int, default=365)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.engine:
        for k, v in run_engine(args.engine, args.work, args.days).items():
            print(f"{k}={v:.6f}")
        return 0
    if args.shp is None or args.out is None:
        p.error("--shp and --out are needed to run the benchmark")
    print(run_benchmark(args.work, args.shp, args.out, args.days, figure=args.figure).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
