"""gSSURGO soil properties per map unit (MUKEY) and depth layer (thesis section 2.1.4, soil and extra features).

gSSURGO is a 30 m raster of map-unit keys (MUKEY) plus the SSURGO attribute tables, distributed as an ESRI File
Geodatabase (``gSSURGO_<ST>.gdb``). This module turns the tables into one row of features per map unit; the
county aggregation engine weights each map unit by its (cropland-weighted) pixel count and multiplies by it.

Tables and columns read (SSURGO names; the ``_r`` suffix is the representative value):

==================  =====================================================================================
table               columns
==================  =====================================================================================
``component``       ``mukey``, ``cokey``, ``comppct_r`` (percent of the map unit); ``majcompflag`` only
                    with ``major_only=True``
``chorizon``        ``cokey``, ``hzdept_r`` / ``hzdepb_r`` (horizon top / bottom, cm), ``awc_r`` (cm/cm),
                    ``dbthirdbar_r`` (g/cm3), ``ec_r`` (dS/m), ``om_r`` (% by weight), ``sandtotal_r``,
                    ``silttotal_r``, ``claytotal_r`` (% of the fine earth), ``ph1to1h2o_r``
``Valu1``           ``mukey``, ``nccpi3all``, ``nccpi3sg``, ``nccpi3corn``, ``nccpi3cot``, ``nccpi3soy``
``corestrictions``  ``cokey``, ``resdept_r`` (depth to the top of the restrictive layer, cm)
==================  =====================================================================================

Valu1 is the gSSURGO "ready to map" table (not part of plain SSURGO). Its NCCPI version 3 columns are map-unit
weighted averages over the major earthy components, an index from .01 (low) to .99 (high productivity);
``nccpi3all`` is the highest of the corn / soybeans, small grains and cotton indices (Valu1 metadata, NRCS;
Dobos et al. 2012). Valu1 has no restrictive-layer column, and ``muaggatt`` only has the depth to *bedrock*
(``brockdepmin``), so "depth to any soil restrictive layer" is computed the way the NRCS Soil Data Viewer theme
of that name is: the shallowest ``corestrictions.resdept_r`` of the component, here of the dominant component
(the NRCS theme uses "> 200 cm" for map units without a restriction; see ``no_restriction_cm``).

Method, per map unit:

* the dominant component is the one with the largest ``comppct_r``; ties go to the lower ``cokey``
  (components without ``comppct_r`` are never dominant);
* each depth variable of the dominant component is averaged onto each layer of :data:`SOIL_LAYERS_CM`, each
  horizon weighted by its overlap (cm) with the layer; horizons without a value for that variable are left out;
  a layer that no horizon (with a value) reaches is NaN, one that is partly covered gets the mean of the covered
  part;
* the texture class of a layer is the USDA class (:mod:`seqstruct.crop.rasters.texture`) of that layer's mean
  sand / silt / clay, given as 12 one-hot columns (NaN where the composition is missing or does not sum to
  100 within 1 point); the county aggregation turns them into area fractions;
* the NCCPI values are the Valu1 row of the map unit.

A map unit without a usable component, horizon or Valu1 row gets NaN there (never 0), and the count is logged.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyogrio
import rasterio
import xarray as xr

from seqstruct.crop.rasters.grid import Grid, RasterDataError
from seqstruct.crop.rasters.texture import TEXTURE_CLASSES, texture_class, texture_one_hot

log = logging.getLogger(__name__)

SOIL_LAYERS_CM: tuple[tuple[float, float], ...] = ((0, 5), (5, 15), (15, 30), (30, 60), (60, 100), (100, 200))
"""The thesis' 6 depth layers, (top, bottom) in cm below the surface."""

HORIZON_COLUMNS: dict[str, str] = {
    "awc": "awc_r",
    "bulk_density": "dbthirdbar_r",
    "ec": "ec_r",
    "organic_matter": "om_r",
    "silt": "silttotal_r",
    "clay": "claytotal_r",
    "sand": "sandtotal_r",
    "ph": "ph1to1h2o_r",
}
"""soil variable -> the ``chorizon`` column it is averaged from."""

TEXTURE_VARS: tuple[str, ...] = tuple("frac_" + name.replace(" ", "_") for name in TEXTURE_CLASSES)
"""The one-hot texture columns, in the order of :data:`~seqstruct.crop.rasters.texture.TEXTURE_CLASSES`."""

SOIL_VARS: tuple[str, ...] = (
    "awc",
    "bulk_density",
    "ec",
    "organic_matter",
    "silt",
    "clay",
    "sand",
    *TEXTURE_VARS,
    "ph",
)
"""The 20 depth variables in the thesis order (1 AWC ... 7 % sand, 8-19 texture fractions, 20 pH)."""

SOIL_UNITS: dict[str, str] = {
    "awc": "cm/cm",
    "bulk_density": "g/cm3",
    "ec": "dS/m",
    "organic_matter": "percent",
    "silt": "percent",
    "clay": "percent",
    "sand": "percent",
    **dict.fromkeys(TEXTURE_VARS, "1"),
    "ph": "pH",
}

VALU1_COLUMNS: dict[str, str] = {
    "nccpi_all": "nccpi3all",
    "nccpi_small_grains": "nccpi3sg",
    "nccpi_corn": "nccpi3corn",
    "nccpi_cotton": "nccpi3cot",
    "nccpi_soybean": "nccpi3soy",
}
"""extra variable -> the ``Valu1`` column it is copied from."""

EXTRA_VARS: tuple[str, ...] = (
    "nccpi_all",
    "restrictive_depth",
    "nccpi_small_grains",
    "nccpi_corn",
    "nccpi_cotton",
    "nccpi_soybean",
)
"""The 6 extra (not depth dependent) variables in the thesis order."""

EXTRA_UNITS: dict[str, str] = {**dict.fromkeys(VALU1_COLUMNS, "index 0-1"), "restrictive_depth": "cm"}

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "component": ("mukey", "cokey", "comppct_r"),
    "chorizon": ("cokey", "hzdept_r", "hzdepb_r", *HORIZON_COLUMNS.values()),
    "Valu1": ("mukey", *VALU1_COLUMNS.values()),
    "corestrictions": ("cokey", "resdept_r"),
}
"""The tables read and the columns each must have (``majcompflag`` is added with ``major_only=True``)."""

_KEY_COLUMNS = ("mukey", "cokey")
_PERCENT_COLUMNS = {
    "component": ("comppct_r",),
    "chorizon": ("om_r", "sandtotal_r", "silttotal_r", "claytotal_r"),
}
_TABLE_FIX = "export the complete SSURGO/gSSURGO table (Web Soil Survey or the state gSSURGO .gdb)"


@dataclass
class SsurgoTables:
    """The SSURGO tables, checked, with integer keys and float value columns.

    Attributes
    ----------
    frames : dict of str to pandas.DataFrame
        ``component``, ``chorizon``, ``Valu1`` and ``corestrictions``, with the columns of
        :data:`TABLE_COLUMNS` (names lower case).
    where : dict of str to str
        Table -> the place it was read from, for messages (``x.gdb, table 'Valu1'`` or ``dir/Valu1.csv``).
    """

    frames: dict[str, pd.DataFrame]
    where: dict[str, str]


# ----------------------------------------------------------------------------------------------------- reading


def _is_gdb(path: Path) -> bool:
    return path.suffix.lower() == ".gdb"


def _gdb_layers(path: Path) -> dict[str, str]:
    """Lower-case layer name -> layer name of a File Geodatabase."""
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # pyogrio raises DataSourceError and friends
        raise RasterDataError(
            f"{path}: not a readable File Geodatabase ({type(exc).__name__}: {' '.join(str(exc).split())}); "
            "fix: re-download or re-extract the gSSURGO .gdb folder"
        ) from exc
    return {str(name).lower(): str(name) for name in layers[:, 0]}


def _csv_files(path: Path) -> dict[str, Path]:
    """Lower-case table name -> CSV file of a folder of tables."""
    return {p.stem.lower(): p for p in path.iterdir() if p.suffix.lower() == ".csv"}


def _pick_columns(frame_columns: list[str], needed: tuple[str, ...], where: str, table: str) -> dict[str, str]:
    """Needed column -> its name in the file (matched case-insensitively); a missing one is an error."""
    by_lower = {str(c).lower(): str(c) for c in frame_columns}
    missing = [c for c in needed if c not in by_lower]
    if missing:
        raise RasterDataError(
            f"{where}: table '{table}' has no column {', '.join(repr(c) for c in missing)} "
            f"(it has {len(frame_columns)} columns: {', '.join(map(str, frame_columns[:12]))}"
            f"{' ...' if len(frame_columns) > 12 else ''}); fix: {_TABLE_FIX}"
        )
    return {c: by_lower[c] for c in needed}


def _read_gdb_table(path: Path, layer: str, table: str, needed: tuple[str, ...]) -> pd.DataFrame:
    where = f"{path}, table '{table}'"
    fields = [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]
    names = _pick_columns(fields, needed, where, table)
    frame = pyogrio.read_dataframe(path, layer=layer, columns=list(names.values()), read_geometry=False)
    return pd.DataFrame(frame).rename(columns={v: k for k, v in names.items()})[list(needed)]


def _read_csv_table(path: Path, table: str, needed: tuple[str, ...]) -> pd.DataFrame:
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise RasterDataError(
            f"{path}: not a readable CSV with a header row ({type(exc).__name__}); fix: re-export table '{table}'"
        ) from exc
    names = _pick_columns(header, needed, str(path), table)
    frame = pd.read_csv(path, usecols=list(names.values()), dtype=str, keep_default_na=True)
    return frame.rename(columns={v: k for k, v in names.items()})[list(needed)]


def _as_keys(values: pd.Series, where: str, table: str, column: str) -> np.ndarray:
    """A key column as int64; a missing or non-integer key is an error."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(num) | (num != np.round(num))
    if bad.any():
        example = values[bad].iloc[0]
        raise RasterDataError(
            f"{where}: column '{column}' of table '{table}' has {int(bad.sum())} missing or non-integer keys "
            f"(first: {example!r}); fix: {_TABLE_FIX}"
        )
    return num.astype(np.int64)


def _as_floats(values: pd.Series, where: str, table: str, column: str) -> np.ndarray:
    """A value column as float64 (empty -> NaN); text that is not a number is an error."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.astype(object)
    bad = np.isnan(num) & text.notna().to_numpy() & (text.astype(str).str.strip() != "").to_numpy()
    if bad.any():
        raise RasterDataError(
            f"{where}: column '{column}' of table '{table}' has {int(bad.sum())} non-numeric values "
            f"(first: {text[bad].iloc[0]!r}); fix: {_TABLE_FIX}"
        )
    return num


def _typed(frame: pd.DataFrame, where: str, table: str) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        if col in _KEY_COLUMNS:
            out[col] = _as_keys(frame[col], where, table, col)
        elif col == "majcompflag":
            out[col] = frame[col].astype(object).fillna("").astype(str).str.strip().str.lower().to_numpy()
        else:
            out[col] = _as_floats(frame[col], where, table, col)
    return pd.DataFrame(out)


def read_gssurgo_tables(path: str | os.PathLike[str], major_only: bool = False) -> SsurgoTables:
    """Read and check the SSURGO tables from a gSSURGO File Geodatabase or a folder of CSV files.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.gdb`` folder (tables read with pyogrio, driver OpenFileGDB) or a folder holding ``component.csv``,
        ``chorizon.csv``, ``Valu1.csv`` and ``corestrictions.csv`` (header row; names matched case-insensitively).
    major_only : bool
        Also read ``component.majcompflag`` (for :func:`soil_properties` with ``major_only=True``).

    Returns
    -------
    SsurgoTables
        The four tables, checked by :func:`check_tables`.

    Raises
    ------
    RasterDataError
        The path, a table or a column is missing or unreadable, or :func:`check_tables` fails.
    """
    path = Path(path)
    if not path.is_dir():
        raise RasterDataError(
            f"{path}: not found or not a folder; fix: give the gSSURGO .gdb folder or a folder of SSURGO CSV tables"
        )
    needed = dict(TABLE_COLUMNS)
    if major_only:
        needed["component"] = (*needed["component"], "majcompflag")
    frames, where = {}, {}
    if _is_gdb(path):
        layers = _gdb_layers(path)
        for table, cols in needed.items():
            if table.lower() not in layers:
                raise RasterDataError(
                    f"{path}: the File Geodatabase has no table '{table}' (it has {len(layers)} tables); "
                    f"fix: use a full gSSURGO state or CONUS .gdb (Valu1 ships with gSSURGO only)"
                )
            where[table] = f"{path}, table '{table}'"
            frames[table] = _typed(_read_gdb_table(path, layers[table.lower()], table, cols), where[table], table)
    else:
        files = _csv_files(path)
        for table, cols in needed.items():
            file = files.get(table.lower(), path / f"{table}.csv")
            if not file.is_file():
                raise RasterDataError(
                    f"{file}: not found (table '{table}' of the SSURGO set in {path}); fix: {_TABLE_FIX} as CSV"
                )
            where[table] = str(file)
            frames[table] = _typed(_read_csv_table(file, table, cols), where[table], table)
    tables = SsurgoTables(frames, where)
    check_tables(tables)
    return tables


# ---------------------------------------------------------------------------------------------------- checking


def _check_unique(frame: pd.DataFrame, keys: list[str], where: str, table: str) -> None:
    dup = frame.duplicated(subset=keys, keep=False)
    if dup.any():
        first = frame.loc[dup, keys].iloc[0].to_dict()
        raise RasterDataError(
            f"{where}: table '{table}' has {int(dup.sum())} rows with a duplicate {'/'.join(keys)} (first: "
            f"{first}); fix: keep one row per key (tables of two survey vintages merged?)"
        )


def _check_range(frame: pd.DataFrame, column: str, lo: float, hi: float, where: str, table: str) -> None:
    v = frame[column].to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = (v < lo) | (v > hi)
    if bad.any():
        raise RasterDataError(
            f"{where}: column '{column}' of table '{table}' has {int(bad.sum())} values outside {lo:g}..{hi:g} "
            f"(first: {v[bad][0]:g}); fix: {_TABLE_FIX} (the column must not be rescaled)"
        )


def check_tables(tables: SsurgoTables) -> None:
    """Check keys, horizon depths and value ranges of the SSURGO tables.

    Parameters
    ----------
    tables : SsurgoTables
        The tables, typed as :func:`read_gssurgo_tables` returns them.

    Raises
    ------
    RasterDataError
        A duplicate ``cokey`` in ``component``, a duplicate ``mukey`` in ``Valu1``, two horizons of a component
        with the same top, a horizon with top >= bottom or a negative top, a percentage outside 0..100, an NCCPI
        outside 0..1, or a negative ``resdept_r``; the message names the file, the table and the column.
    """
    f, w = tables.frames, tables.where
    _check_unique(f["component"], ["cokey"], w["component"], "component")
    _check_unique(f["Valu1"], ["mukey"], w["Valu1"], "Valu1")
    hz = f["chorizon"].dropna(subset=["hzdept_r", "hzdepb_r"])
    _check_unique(hz, ["cokey", "hzdept_r"], w["chorizon"], "chorizon")
    flipped = hz["hzdept_r"].to_numpy() >= hz["hzdepb_r"].to_numpy()
    if flipped.any():
        row = hz.loc[flipped].iloc[0]
        raise RasterDataError(
            f"{w['chorizon']}: table 'chorizon' has {int(flipped.sum())} horizons with hzdept_r >= hzdepb_r (first: "
            f"cokey {int(row['cokey'])}, {row['hzdept_r']:g}-{row['hzdepb_r']:g} cm); fix: {_TABLE_FIX} "
            "(columns swapped or a truncated export?)"
        )
    _check_range(hz, "hzdept_r", 0, np.inf, w["chorizon"], "chorizon")
    for table, columns in _PERCENT_COLUMNS.items():
        for column in columns:
            _check_range(f[table], column, 0, 100, w[table], table)
    for column in VALU1_COLUMNS.values():
        _check_range(f["Valu1"], column, 0, 1, w["Valu1"], "Valu1")
    _check_range(f["corestrictions"], "resdept_r", 0, np.inf, w["corestrictions"], "corestrictions")


# ------------------------------------------------------------------------------------------------------ method


def dominant_components(component: pd.DataFrame, major_only: bool = False) -> pd.Series:
    """The dominant component of each map unit: largest ``comppct_r``, ties to the lower ``cokey``.

    Parameters
    ----------
    component : pandas.DataFrame
        Columns ``mukey``, ``cokey`` (int64), ``comppct_r`` (float; NaN components are never dominant) and, with
        ``major_only``, ``majcompflag`` (lower-case ``"yes"`` / ``"no"``).
    major_only : bool
        Only components flagged as major (``majcompflag == "yes"``) can be dominant.

    Returns
    -------
    pandas.Series of int64
        cokey of the dominant component, indexed by mukey (sorted); map units without a candidate are absent.
    """
    comp = component.dropna(subset=["comppct_r"])
    if major_only:
        comp = comp[comp["majcompflag"] == "yes"]
    comp = comp.sort_values(["mukey", "comppct_r", "cokey"], ascending=[True, False, True], kind="mergesort")
    first = comp.drop_duplicates(subset="mukey", keep="first")
    return pd.Series(first["cokey"].to_numpy(np.int64), index=pd.Index(first["mukey"].to_numpy(np.int64)))


def depth_weighted_means(
    top: np.ndarray,
    bottom: np.ndarray,
    values: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    layers: tuple[tuple[float, float], ...] = SOIL_LAYERS_CM,
) -> np.ndarray:
    """Average horizon values onto depth layers, each horizon weighted by its overlap (cm) with the layer.

    Parameters
    ----------
    top, bottom : ndarray, shape (n,)
        Horizon top and bottom depths (cm), top < bottom.
    values : ndarray, shape (n, p)
        The p variables of each horizon; NaN values are left out of their variable's mean.
    group : ndarray of int, shape (n,)
        The profile (0 .. n_groups - 1) each horizon belongs to.
    n_groups : int
        Number of profiles.
    layers : tuple of (float, float)
        The (top, bottom) depth of each layer, cm.

    Returns
    -------
    ndarray of float64, shape (n_groups, p, n_layers)
        Overlap-weighted means; NaN where no horizon with a value overlaps the layer.
    """
    lt = np.array([a for a, _ in layers], dtype=np.float64)
    lb = np.array([b for _, b in layers], dtype=np.float64)
    overlap = np.clip(np.minimum(bottom[:, None], lb) - np.maximum(top[:, None], lt), 0.0, None)  # (n, L)
    out = np.full((n_groups, values.shape[1], len(layers)), np.nan)
    for j in range(values.shape[1]):
        v = values[:, j]
        has = np.isfinite(v)
        for k in range(len(layers)):
            w = np.where(has, overlap[:, k], 0.0)
            wsum = np.bincount(group, weights=w, minlength=n_groups)
            vsum = np.bincount(group, weights=np.where(has, v, 0.0) * w, minlength=n_groups)
            np.divide(vsum, wsum, out=out[:, j, k], where=wsum > 0)
    return out


def restriction_depths(corestrictions: pd.DataFrame, cokeys: np.ndarray, no_restriction_cm: float) -> np.ndarray:
    """Depth to the shallowest restrictive layer of each component.

    Parameters
    ----------
    corestrictions : pandas.DataFrame
        Columns ``cokey`` (int64) and ``resdept_r`` (cm; rows without a depth are ignored).
    cokeys : ndarray of int64, shape (n,)
        The components.
    no_restriction_cm : float
        The value of a component without any ``corestrictions`` row (NaN to mark it missing instead). A
        component whose rows all lack a depth gets NaN.

    Returns
    -------
    ndarray of float64, shape (n,)
        Shallowest ``resdept_r`` per component.
    """
    shallowest = corestrictions.dropna(subset=["resdept_r"]).groupby("cokey")["resdept_r"].min()
    listed = np.isin(cokeys, corestrictions["cokey"].to_numpy())
    depth = shallowest.reindex(cokeys).to_numpy(dtype=np.float64)
    return np.where(listed, depth, no_restriction_cm)


def _warn_missing(what: str, n_missing: int, n_total: int) -> None:
    if n_missing:
        log.warning("gSSURGO: %d of %d map units have no %s; their values are NaN", n_missing, n_total, what)


def _layer_soil(tables: SsurgoTables, cokeys: np.ndarray, layers: tuple[tuple[float, float], ...]) -> np.ndarray:
    """(n_mukey, 20, n_layers) soil variables of the given dominant components (-1 = none)."""
    hz = tables.frames["chorizon"]
    hz = hz[hz["cokey"].isin(cokeys[cokeys >= 0])]
    no_depth = hz[["hzdept_r", "hzdepb_r"]].isna().any(axis=1)
    if no_depth.any():
        log.warning(
            "gSSURGO: %d horizons of dominant components lack hzdept_r/hzdepb_r and are skipped", int(no_depth.sum())
        )
        hz = hz[~no_depth]
    has = cokeys >= 0
    row_of = pd.Series(np.flatnonzero(has), index=cokeys[has])
    group = row_of.reindex(hz["cokey"].to_numpy()).to_numpy(np.int64)
    names = list(HORIZON_COLUMNS)
    means = depth_weighted_means(
        hz["hzdept_r"].to_numpy(np.float64),
        hz["hzdepb_r"].to_numpy(np.float64),
        hz[[HORIZON_COLUMNS[n] for n in names]].to_numpy(np.float64),
        group,
        len(cokeys),
        layers,
    )
    by_name = {n: means[:, i, :] for i, n in enumerate(names)}
    one_hot = texture_one_hot(texture_class(by_name["sand"], by_name["silt"], by_name["clay"]))  # (m, L, 12)
    columns = [by_name[n] for n in SOIL_VARS[:7]] + [one_hot[..., i] for i in range(len(TEXTURE_CLASSES))]
    columns.append(by_name["ph"])
    return np.stack(columns, axis=1)


def soil_properties(
    tables: SsurgoTables,
    mukeys: np.ndarray | None = None,
    no_restriction_cm: float = 200.0,
    major_only: bool = False,
    layers: tuple[tuple[float, float], ...] = SOIL_LAYERS_CM,
) -> xr.Dataset:
    """The 20 depth variables and 6 extras of each map unit (method in the module docstring).

    Parameters
    ----------
    tables : SsurgoTables
        From :func:`read_gssurgo_tables`.
    mukeys : ndarray of int, shape (m,), optional
        The map units wanted (e.g. the keys found in the MUKEY raster); default: every mukey of ``component``
        and ``Valu1``, sorted. Keys absent from the tables get NaN everywhere.
    no_restriction_cm : float
        ``restrictive_depth`` of a dominant component without any restrictive layer: 200 cm by default (the NRCS
        "> 200 cm" class, the bottom of the deepest layer); NaN to treat it as missing.
    major_only : bool
        Choose the dominant component among the major components only (needs ``majcompflag``).
    layers : tuple of (float, float)
        Depth layers (top, bottom) in cm; default the thesis' 6 layers.

    Returns
    -------
    xarray.Dataset
        ``soil`` (mukey, soil_var, depth) float32 and ``extra`` (mukey, extra_var) float32, ``dominant_cokey``
        (mukey) int64 (-1: none); coords ``mukey`` int64, ``soil_var`` (:data:`SOIL_VARS`), ``depth`` 1..n with
        ``depth_top_cm`` / ``depth_bottom_cm``, ``extra_var`` (:data:`EXTRA_VARS`), and the units of each variable.

    Raises
    ------
    ValueError
        ``mukeys`` has duplicates.
    """
    f = tables.frames
    if mukeys is None:
        mukeys = np.union1d(f["component"]["mukey"].to_numpy(), f["Valu1"]["mukey"].to_numpy())
    mukeys = np.asarray(mukeys, dtype=np.int64)
    if len(np.unique(mukeys)) != len(mukeys):
        raise ValueError("soil_properties: mukeys has duplicates; pass each map unit key once")
    dominant = dominant_components(f["component"], major_only)
    cokeys = dominant.reindex(mukeys).fillna(-1).to_numpy(np.int64)
    soil = _layer_soil(tables, cokeys, layers)
    n = len(mukeys)
    _warn_missing("component with a comppct_r" + (" flagged major" if major_only else ""), int((cokeys < 0).sum()), n)
    no_horizons = np.isnan(soil).all(axis=(1, 2)) & (cokeys >= 0)
    _warn_missing("horizon with data in any layer (dominant component)", int(no_horizons.sum()), n)

    extra = _extras(tables, mukeys, cokeys, no_restriction_cm)
    return _dataset(mukeys, soil, extra, cokeys, layers, tables, no_restriction_cm, major_only)


def _extras(tables: SsurgoTables, mukeys: np.ndarray, cokeys: np.ndarray, no_restriction_cm: float) -> np.ndarray:
    """(n_mukey, 6) extra variables: NCCPI from Valu1, restrictive depth of the dominant component (-1 = none)."""
    valu1 = tables.frames["Valu1"].set_index("mukey").reindex(mukeys)
    _warn_missing("Valu1 NCCPI value", int(valu1[list(VALU1_COLUMNS.values())].isna().all(axis=1).sum()), len(mukeys))
    extra = np.full((len(mukeys), len(EXTRA_VARS)), np.nan)
    for i, name in enumerate(EXTRA_VARS):
        if name in VALU1_COLUMNS:
            extra[:, i] = valu1[VALU1_COLUMNS[name]].to_numpy(np.float64)
    depth = restriction_depths(tables.frames["corestrictions"], cokeys, no_restriction_cm)
    extra[:, EXTRA_VARS.index("restrictive_depth")] = np.where(cokeys >= 0, depth, np.nan)
    return extra


def _dataset(
    mukeys: np.ndarray,
    soil: np.ndarray,
    extra: np.ndarray,
    cokeys: np.ndarray,
    layers: tuple[tuple[float, float], ...],
    tables: SsurgoTables,
    no_restriction_cm: float,
    major_only: bool,
) -> xr.Dataset:
    return xr.Dataset(
        data_vars={
            "soil": (("mukey", "soil_var", "depth"), soil.astype(np.float32)),
            "extra": (("mukey", "extra_var"), extra.astype(np.float32)),
            "dominant_cokey": ("mukey", cokeys.astype(np.int64)),
        },
        coords={
            "mukey": mukeys,
            "soil_var": np.array(SOIL_VARS, dtype=object),
            "soil_unit": ("soil_var", np.array([SOIL_UNITS[v] for v in SOIL_VARS], dtype=object)),
            "depth": np.arange(1, len(layers) + 1, dtype=np.int64),
            "depth_top_cm": ("depth", np.array([a for a, _ in layers], dtype=np.float64)),
            "depth_bottom_cm": ("depth", np.array([b for _, b in layers], dtype=np.float64)),
            "extra_var": np.array(EXTRA_VARS, dtype=object),
            "extra_unit": ("extra_var", np.array([EXTRA_UNITS[v] for v in EXTRA_VARS], dtype=object)),
        },
        attrs={
            "source": "; ".join(sorted(set(tables.where.values()))),
            "method": (
                "dominant component (max comppct_r, ties to lower cokey"
                + (", major components only" if major_only else "")
                + "); horizons averaged onto layers weighted by overlap thickness; USDA texture class of the layer "
                "mean sand/silt/clay as one-hot; NCCPI v3 from Valu1; restrictive_depth = shallowest "
                f"corestrictions.resdept_r of the dominant component, {no_restriction_cm:g} cm when it has none"
            ),
        },
    )


def read_soil_properties(path: str | os.PathLike[str], **kwargs: Any) -> xr.Dataset:
    """:func:`read_gssurgo_tables` then :func:`soil_properties`.

    Parameters
    ----------
    path : str or os.PathLike
        A gSSURGO ``.gdb`` folder or a folder of SSURGO CSV tables.
    **kwargs
        Passed to :func:`soil_properties` (``mukeys``, ``no_restriction_cm``, ``major_only``, ``layers``).

    Returns
    -------
    xarray.Dataset
        As :func:`soil_properties`.

    Raises
    ------
    RasterDataError
        As :func:`read_gssurgo_tables`.
    """
    tables = read_gssurgo_tables(path, major_only=bool(kwargs.get("major_only", False)))
    return soil_properties(tables, **kwargs)


# ----------------------------------------------------------------------------------------------------- writing


def _gdb_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Keys as text (as in gSSURGO), other integers as int32 where they fit (OpenFileGDB has no int64 by default)."""
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if str(col).lower().endswith("key"):
            out[col] = s.astype(str)
        elif pd.api.types.is_integer_dtype(s) and s.abs().max() < 2**31:
            out[col] = s.astype(np.int32)
        elif pd.api.types.is_integer_dtype(s) or pd.api.types.is_bool_dtype(s):
            out[col] = s.astype(np.float64)
    return out


def write_gssurgo_tables(path: str | os.PathLike[str], tables: dict[str, pd.DataFrame]) -> Path:
    """Write SSURGO tables as a File Geodatabase (path ends in ``.gdb``) or as ``<table>.csv`` files in a folder.

    Parameters
    ----------
    path : str or os.PathLike
        ``*.gdb``: a new File Geodatabase, one non-spatial table per entry (pyogrio, driver OpenFileGDB; key
        columns written as text, like gSSURGO); anything else: a folder (created) of CSV files with a header row.
    tables : dict of str to pandas.DataFrame
        Table name (``component``, ``chorizon``, ``Valu1``, ``corestrictions``, ...) -> rows.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    FileExistsError
        ``path`` is an existing ``.gdb``.
    """
    path = Path(path)
    if _is_gdb(path):
        if path.exists():
            raise FileExistsError(f"{path}: already exists; remove it or write to a new .gdb")
        for name, frame in tables.items():
            pyogrio.write_dataframe(_gdb_ready(frame), path, layer=name, driver="OpenFileGDB")
        return path
    path.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(path / f"{name}.csv", index=False)
    return path


def write_mukey_raster(
    path: str | os.PathLike[str], mukey: np.ndarray, grid: Grid, nodata: int = 2**32 - 1, dtype: str = "uint32"
) -> Path:
    """Write a map-unit-key raster as a GeoTIFF, like gSSURGO's ``MapunitRaster_30m`` exported from the .gdb.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.tif`` to write.
    mukey : ndarray of int, shape (rows, cols)
        MUKEY per cell; cells < 0 are written as ``nodata``.
    grid : Grid
        The raster grid (gSSURGO uses 30 m cells in CONUS Albers, EPSG:5070).
    nodata : int
        The nodata value (default the largest uint32, as ArcGIS exports unsigned 32-bit rasters).
    dtype : str
        ``"uint32"`` or ``"int32"``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``mukey`` does not match the grid, or a key does not fit ``dtype`` or equals ``nodata``.
    """
    values = np.asarray(mukey)
    if values.shape != grid.shape:
        raise ValueError(f"{path}: mukey array {values.shape} does not match the grid {grid.shape}")
    info = np.iinfo(dtype)
    valid = values >= 0
    if valid.any() and (values[valid].max() > info.max or (values[valid] == nodata).any()):
        raise ValueError(f"{path}: a mukey does not fit {dtype} or equals nodata {nodata}")
    out = np.where(valid, values, nodata).astype(dtype)
    profile = {
        "driver": "GTiff",
        "height": grid.shape[0],
        "width": grid.shape[1],
        "count": 1,
        "dtype": dtype,
        "crs": grid.pyproj_crs.to_wkt(),
        "transform": grid.transform,
        "nodata": nodata,
        "compress": "deflate",
        "tiled": grid.shape[0] >= 256 and grid.shape[1] >= 256,
    }
    with rasterio.open(Path(path), "w", **profile) as dst:
        dst.write(out, 1)
    return Path(path)


# --------------------------------------------------------------------------------------------------- synthetic


def _synthetic_horizons(rng: np.random.Generator, cokey: int, start_chkey: int) -> list[dict[str, Any]]:
    """2-6 contiguous horizons from the surface to 60-230 cm, with plausible values."""
    n = int(rng.integers(2, 7))
    bottom = float(rng.integers(60, 231))
    cuts = np.sort(rng.choice(np.arange(3, int(bottom)), size=n - 1, replace=False)).astype(float)
    edges = np.concatenate([[0.0], cuts, [bottom]])
    rows = []
    for i in range(n):
        sand, clay = rng.dirichlet([2.0, 2.0, 1.2])[[0, 2]] * 100
        sand, clay = round(float(sand), 1), round(float(clay), 1)
        clay = min(clay, round(100.0 - sand, 1))  # rounding must not push silt below 0
        rows.append(
            {
                "chkey": start_chkey + i,
                "cokey": cokey,
                "hzdept_r": edges[i],
                "hzdepb_r": edges[i + 1],
                "awc_r": round(float(rng.uniform(0.03, 0.24)), 2),
                "dbthirdbar_r": round(float(rng.uniform(1.05, 1.75)), 2),
                "ec_r": round(float(rng.choice([0.0, 0.0, 0.0, rng.uniform(0.1, 4.0)])), 1),
                "om_r": round(float(rng.uniform(0.5, 5.0) * np.exp(-edges[i] / 40.0)), 2),
                "sandtotal_r": sand,
                "silttotal_r": round(100.0 - sand - clay, 1),
                "claytotal_r": clay,
                "ph1to1h2o_r": round(float(rng.uniform(4.8, 8.3)), 1),
            }
        )
    return rows


def synthetic_gssurgo_tables(mukeys: np.ndarray, seed: int = 0) -> dict[str, pd.DataFrame]:
    """Plausible random SSURGO tables for the given map units (tests and the synthetic demo).

    Each map unit gets 1-4 components (comppct_r summing to at most 100, the largest flagged major), each
    component 2-6 contiguous horizons with values in realistic SSURGO ranges, about 40 % of the components one or
    two restrictive layers, and a Valu1 row with NCCPI values in .01-.99 (``nccpi3all`` the largest of the four).

    Parameters
    ----------
    mukeys : ndarray of int, shape (m,)
        The map unit keys (distinct, >= 0).
    seed : int
        Random seed.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``component``, ``chorizon``, ``corestrictions`` and ``Valu1``, in the column layout of the SSURGO tables
        (plus the ``chkey`` / ``corestrictkey`` row keys).
    """
    rng = np.random.default_rng(seed)
    components, horizons, restrictions, valu1 = [], [], [], []
    cokey, chkey = 10_000_000, 50_000_000
    kinds = ["Lithic bedrock", "Paralithic bedrock", "Fragipan", "Duripan", "Densic material"]
    for mukey in np.asarray(mukeys, dtype=np.int64):
        n_comp = int(rng.integers(1, 5))
        pct = np.round(rng.dirichlet(np.full(n_comp, 1.5)) * rng.uniform(85, 100))
        for p in pct:
            cokey += 1
            major = "Yes" if p >= 15 or p == pct.max() else "No"
            components.append({"mukey": int(mukey), "cokey": cokey, "comppct_r": float(p), "majcompflag": major})
            rows = _synthetic_horizons(rng, cokey, chkey)
            chkey += len(rows)
            horizons.extend(rows)
            for _ in range(int(rng.choice([0, 0, 0, 1, 1, 2]))):
                kind, top = str(rng.choice(kinds)), float(rng.integers(20, 200))
                restrictions.append(
                    {"corestrictkey": len(restrictions) + 1, "cokey": cokey, "reskind": kind, "resdept_r": top}
                )
        idx = np.round(rng.uniform(0.01, 0.99, 4), 3)
        corn, soy, cot, sg = (float(v) for v in idx)
        valu1.append(
            {
                "mukey": int(mukey),
                "nccpi3corn": corn,
                "nccpi3soy": soy,
                "nccpi3cot": cot,
                "nccpi3sg": sg,
                "nccpi3all": float(idx.max()),
            }
        )
    restriction_cols = ["corestrictkey", "cokey", "reskind", "resdept_r"]
    return {
        "component": pd.DataFrame(components),
        "chorizon": pd.DataFrame(horizons),
        "corestrictions": pd.DataFrame(restrictions, columns=restriction_cols),
        "Valu1": pd.DataFrame(valu1),
    }
