"""Crop-yield prediction figures: county maps (thesis figs 2.4/2.6/2.8) and predicted-vs-true scatter (2.5/2.7/2.9).

Both figures take the seed-averaged predictions of :func:`mean_predictions` (one row per county and year, yields in
bu/acre). The difference map uses the thesis colours: ``predicted - true`` on a red-yellow-blue scale centred at
0, so yellow is an accurate prediction, blue a prediction that is too high and red one that is too low; counties
of the study area without a prediction are grey ("no data"). Maps are drawn in CONUS Albers (EPSG:5070).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib.patches import Patch

from seqstruct.common.metrics import regression_metrics
from seqstruct.common.plots import plt, save_figure
from seqstruct.crop.counties import county_geometry

PRED_COLUMNS = ("split", "fips", "year", "y_true", "y_pred")
NO_DATA_COLOR = "#d3d3d3"  # light grey
DIFF_CMAP = "RdYlBu"  # red = predicted too low, yellow = accurate, blue = predicted too high (as in the thesis)
YIELD_CMAP = "viridis"


def mean_predictions(paths: Sequence[str | Path], split: str = "test") -> pd.DataFrame:
    """Average the ``predictions.csv`` of several seeds of one run.

    Parameters
    ----------
    paths : sequence of path-like
        The seeds' ``predictions.csv`` files (columns ``split, fips, year, y_true, y_pred``).
    split : str
        The split to keep (``"test"`` or ``"val"``).

    Returns
    -------
    pandas.DataFrame
        One row per ``(fips, year)`` predicted by at least one seed, sorted: ``fips``, ``year``, ``y_true``,
        ``y_pred`` (mean over the seeds that predict it) and ``n_seeds``.

    Raises
    ------
    ValueError
        No paths; a file lacks a column, has no row of ``split`` or lists a county-year twice; or two files
        disagree on ``y_true`` of the same county-year (the message names the files).
    """
    if not paths:
        raise ValueError("mean_predictions: no predictions.csv files given")
    frames = []
    for path in paths:
        df = pd.read_csv(path)
        missing = [c for c in PRED_COLUMNS if c not in df.columns]
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {missing} (found {list(df.columns)}); expected a "
                f"predictions.csv with columns {list(PRED_COLUMNS)}"
            )
        df = df[df["split"] == split]
        if df.empty:
            raise ValueError(f"{path}: no rows with split == {split!r}")
        if df.duplicated(["fips", "year"]).any():
            raise ValueError(f"{path}: a (fips, year) pair appears more than once in split {split!r}")
        frames.append(df.assign(fips=df["fips"].astype(np.int64), year=df["year"].astype(np.int64), file=str(path)))
    both = pd.concat(frames, ignore_index=True)
    first = both.groupby(["fips", "year"])[["y_true", "file"]].transform("first")
    bad = ~np.isclose(both["y_true"], first["y_true"], rtol=0, atol=1e-6, equal_nan=True)
    if bad.any():
        row = both[bad].iloc[0]
        raise ValueError(
            f"{row['file']}: y_true {row['y_true']} of county {row['fips']} year {row['year']} differs "
            f"from {first['y_true'][bad].iloc[0]} in {first['file'][bad].iloc[0]}; the seeds must "
            f"come from the same data"
        )
    out = both.groupby(["fips", "year"], sort=True).agg(
        y_true=("y_true", "first"), y_pred=("y_pred", "mean"), n_seeds=("y_pred", "size")
    )
    return out.reset_index()


def counties_of_states(shp_path: str | Path, fips: Sequence[int]) -> list[int]:
    """Every county (FIPS) of the shapefile that lies in a state of ``fips``, ``fips`` first: the map's study
    area, so that counties of those states without data show as grey instead of holes."""
    attrs = gpd.read_file(shp_path, engine="pyogrio", ignore_geometry=True)
    codes = (attrs["STATE"].astype(str).str.strip() + attrs["COUNTY"].astype(str).str.strip()).astype(np.int64)
    states = {int(f) // 1000 for f in fips}
    return list(dict.fromkeys([int(f) for f in fips] + sorted(int(c) for c in codes if int(c) // 1000 in states)))


def _map_frame(pred: pd.DataFrame, counties: Sequence[int], shp_path: str | Path) -> gpd.GeoDataFrame:
    """County polygons (EPSG:5070) of ``counties`` and of every predicted county, with ``y_pred``, ``y_true``,
    ``diff`` (NaN where there is no prediction) and a boolean ``no_data``."""
    years = pd.unique(pred["year"])
    if len(years) > 1:
        raise ValueError(f"plot_county_maps: predictions span several years {sorted(years)}; pass one year")
    fips = list(dict.fromkeys([int(f) for f in counties] + [int(f) for f in pred["fips"]]))
    gdf = county_geometry(shp_path, fips).to_crs(5070)
    values = pred.assign(fips=pred["fips"].astype(np.int64)).set_index("fips")[["y_pred", "y_true"]]
    gdf = gdf.join(values, on="FIPS")
    gdf["diff"] = gdf["y_pred"] - gdf["y_true"]
    gdf["no_data"] = gdf["y_pred"].isna() | gdf["y_true"].isna()
    return gdf


def plot_county_maps(
    pred: pd.DataFrame, counties: Sequence[int], shp_path: str | Path, out: str | Path, title: str
) -> None:
    """Three stacked county maps: predicted (top) and true (middle) yield on one colour scale with a shared
    colorbar, and ``predicted - true`` (bottom) on a diverging scale with symmetric limits centred at 0.

    Parameters
    ----------
    pred : pandas.DataFrame
        One year of :func:`mean_predictions` (``fips``, ``year``, ``y_true``, ``y_pred``; bu/acre).
    counties : sequence of int
        FIPS of the whole study area; those without a prediction are drawn grey ("no data").
    shp_path : path-like
        The Census county boundary shapefile (see :func:`seqstruct.crop.counties.county_geometry`).
    out : path-like
        The PNG path (written atomically).
    title : str
        The figure title.

    Raises
    ------
    ValueError
        ``pred`` spans more than one year or has no prediction to draw.
    CropDataError
        A county is not in the shapefile.
    """
    gdf = _map_frame(pred, counties, shp_path)
    has = gdf[~gdf["no_data"]]
    if has.empty:
        raise ValueError("plot_county_maps: no county has both a prediction and a true yield")
    vmin = float(min(has["y_pred"].min(), has["y_true"].min()))
    vmax = float(max(has["y_pred"].max(), has["y_true"].max()))
    lim = max(float(has["diff"].abs().max()), 1e-9)
    xmin, ymin, xmax, ymax = gdf.total_bounds
    aspect = (ymax - ymin) / max(xmax - xmin, 1.0)
    fig, axes = plt.subplots(3, 1, figsize=(6.0, min(3 * 5.2 * aspect + 1.2, 18.0)), layout="constrained")
    panels = (
        ("y_pred", "predicted", YIELD_CMAP, vmin, vmax),
        ("y_true", "true", YIELD_CMAP, vmin, vmax),
        ("diff", "difference (predicted - true)", DIFF_CMAP, -lim, lim),
    )
    mappables = []
    for ax, (col, name, cmap, lo, hi) in zip(axes, panels):
        if gdf["no_data"].any():
            gdf[gdf["no_data"]].plot(ax=ax, color=NO_DATA_COLOR, edgecolor="white", linewidth=0.4)
        has.plot(ax=ax, column=col, cmap=cmap, vmin=lo, vmax=hi, edgecolor="white", linewidth=0.4)
        mappables.append(plt.cm.ScalarMappable(norm=plt.Normalize(lo, hi), cmap=cmap))
        ax.set_title(name)
        ax.set_axis_off()
        ax.set_aspect("equal")
        if gdf["no_data"].any():
            ax.legend(
                handles=[Patch(facecolor=NO_DATA_COLOR, edgecolor="grey", label="no data")],
                loc="lower left",
                fontsize="small",
                frameon=False,
            )
    fig.colorbar(mappables[0], ax=list(axes[:2]), label="yield (bu/acre)", shrink=0.8)
    fig.colorbar(
        mappables[2], ax=axes[2], shrink=0.9, label="predicted - true (bu/acre)\nblue: predicted too high, red: too low"
    )
    fig.suptitle(title)
    save_figure(fig, out)


def plot_scatter(pred: pd.DataFrame, out: str | Path, title: str) -> None:
    """Predicted vs. true yield, one dot per county-year, with the 1:1 line and equal axis limits.

    The box in the corner gives the number of county-years ``n``, the RMSE in bu/acre (unscaled), R^2 and
    Pearson r of ``regression_metrics`` on these (seed-averaged) predictions; counties without a true yield are
    left out.

    Parameters
    ----------
    pred : pandas.DataFrame
        :func:`mean_predictions` output (``y_true``, ``y_pred``; ``n_seeds`` optional).
    out : path-like
        The PNG path (written atomically).
    title : str
        The figure title.

    Raises
    ------
    ValueError
        No prediction has a true yield.
    """
    pred = pred[pred["y_true"].notna()]
    if pred.empty:
        raise ValueError("plot_scatter: no prediction with a true yield to draw")
    t = pred["y_true"].to_numpy(np.float64)
    p = pred["y_pred"].to_numpy(np.float64)
    m = regression_metrics(t, p)
    lo, hi = float(min(t.min(), p.min())), float(max(t.max(), p.max()))
    pad = 0.05 * max(hi - lo, 1.0)
    lo, hi = lo - pad, hi + pad
    fig, ax = plt.subplots(figsize=(5.0, 5.0))
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, linestyle="--", label="1:1")
    ax.scatter(t, p, s=14, alpha=0.7, color="tab:blue", edgecolor="none")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal")
    ax.set_xlabel("true yield (bu/acre)")
    ax.set_ylabel("predicted yield (bu/acre)")
    seeds = pred["n_seeds"] if "n_seeds" in pred.columns else None
    text = f"n = {m['n']}\nRMSE = {m['rmse']:.2f} bu/acre\nR$^2$ = {m['r2']:.3f}\nr = {m['corr']:.3f}"
    if seeds is not None:
        text += (
            f"\nmean of {int(seeds.min())}" + (f"-{int(seeds.max())}" if seeds.max() != seeds.min() else "") + " seeds"
        )
    ax.text(
        0.03,
        0.97,
        text,
        transform=ax.transAxes,
        va="top",
        ha="left",
        fontsize="small",
        bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.8},
    )
    ax.legend(loc="lower right", fontsize="small")
    ax.grid(alpha=0.3)
    ax.set_title(title)
    save_figure(fig, out)
