"""US counties: the Census adjacency file, loc_ID -> FIPS name matching, boundaries and centroids.

The Census county adjacency file lists every county as a neighbour of itself. Self pairs are *dropped* here:
the graph layers of the models add a node's own state through their root weight (``x_i W_root + sum_j ...``),
so an explicit self loop would count the county twice.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from seqstruct.crop.raw import CropDataError, one_line
from seqstruct.data.values import check_points_in_area, check_points_in_crs, crs_area

log = logging.getLogger(__name__)

ADJACENCY_ENCODING = "ISO-8859-1"

US_COUNTY_CRS = 4269
"""NAD83, the datum of the Census files; every US county lies inside its area of use (North America)."""

COUNTY_ALIASES: dict[tuple[str, str], str] = {
    # (postal code, normalised loc-table name) -> normalised Census name, for counties renamed after the
    # Census vintage of the adjacency file (2010).
    ("SD", "oglalalakota"): "shannon",  # Shannon County, SD (46113) renamed Oglala Lakota (46102) in 2015
    ("AK", "kusilvak"): "wadehampton",  # Wade Hampton Census Area (02270) renamed Kusilvak (02158) in 2015
}

_SUFFIXES = (" county", " parish")
_STRIP_CHARS = re.compile(r"[\s.'\u2019-]")


def normalise_county_name(name: str) -> str:
    """Normalise a county name for matching: ``"St. Clair County"`` and ``"saint clair"`` -> ``"stclair"``.

    Lower-case; drop a trailing " county" / " parish"; "saint"/"sainte" -> "st"/"ste"; remove spaces,
    periods, apostrophes and hyphens. "X city" keeps its "city" so that Virginia's independent cities and
    e.g. St. Louis city stay distinct from the county of the same name.
    """
    s = " ".join(name.strip().lower().split())
    for suffix in _SUFFIXES:
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    s = re.sub(r"\bsainte\b", "ste", s)
    s = re.sub(r"\bsaint\b", "st", s)
    return _STRIP_CHARS.sub("", s)


def read_adjacency(path: str | os.PathLike[str]) -> tuple[np.ndarray, dict[int, str], list[tuple[int, int]]]:
    """Parse the US Census county adjacency file.

    Format (ISO-8859-1, tab-separated): a line ``"Name, ST"<TAB>FIPS<TAB>"Neighbour, ST"<TAB>FIPS`` starts the
    block of a county; each following line ``<TAB><TAB>"Neighbour, ST"<TAB>FIPS`` adds one more neighbour.

    Returns
    -------
    fips : numpy.ndarray
        Sorted unique int64 FIPS codes of every county named in the file (block heads and neighbours).
    names : dict
        FIPS -> Census name, e.g. ``17001 -> "Adams County, IL"``. The FIPS code is the identity; where the
        file spells one code several ways (the 2010 file labels the block of 27111 Otter Tail County "Todd
        County, MN" once, and has a few mis-encoded Puerto Rico names) the most frequent spelling is kept and a
        warning is logged.
    edges : list of (int, int)
        Symmetric, sorted, de-duplicated directed edges ``(a, b)`` with ``a != b``: both ``(a, b)`` and
        ``(b, a)`` are listed. Self pairs are dropped (see the module docstring).

    Raises
    ------
    CropDataError
        Missing file, or a malformed line (message gives the file and line number).
    """
    path = Path(path)
    if not path.is_file():
        raise CropDataError(f"{path}: county adjacency file not found; check the path or fetch the crop data")
    spellings: dict[int, Counter[str]] = {}
    pairs: set[tuple[int, int]] = set()
    current: int | None = None
    with open(path, encoding=ADJACENCY_ENCODING, newline="") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            if len(fields) == 4 and fields[0].strip():
                head = _county(path, lineno, fields[0], fields[1], spellings)
                current = head
                neigh = _county(path, lineno, fields[2], fields[3], spellings)
            elif len(fields) == 4 and not fields[0].strip() and not fields[1].strip():
                if current is None:
                    raise CropDataError(
                        f"{path}:{lineno}: continuation line before any county line; "
                        f"the file is not a Census adjacency file - re-fetch it"
                    )
                neigh = _county(path, lineno, fields[2], fields[3], spellings)
            else:
                raise CropDataError(
                    f"{path}:{lineno}: expected 4 tab-separated fields ('\"Name, ST\"', FIPS, "
                    f"'\"Neighbour, ST\"', FIPS; first two empty on continuation lines), got "
                    f"{len(fields)}: {one_line(line)[:80]!r}; re-fetch the file"
                )
            if neigh != current:
                pairs.add((current, neigh))
                pairs.add((neigh, current))
    if not spellings:
        raise CropDataError(f"{path}: no counties found; re-fetch the file")
    names = {fips: counts.most_common(1)[0][0] for fips, counts in spellings.items()}
    conflicts = {fips: sorted(counts) for fips, counts in spellings.items() if len(counts) > 1}
    if conflicts:
        shown = "; ".join(
            f"{fips}: {names[fips]!r} (also {[n for n in v if n != names[fips]]})"
            for fips, v in list(conflicts.items())[:3]
        )
        log.warning(
            "%s: %d FIPS codes are spelled more than one way; using the most frequent name: %s%s",
            path,
            len(conflicts),
            shown,
            " ..." if len(conflicts) > 3 else "",
        )
    fips = np.array(sorted(names), dtype=np.int64)
    return fips, names, sorted(pairs)


def _county(path: Path, lineno: int, name_field: str, fips_field: str, spellings: dict[int, Counter[str]]) -> int:
    name = name_field.strip().strip('"').strip()
    code = fips_field.strip()
    if not name or ", " not in name:
        raise CropDataError(
            f"{path}:{lineno}: county name {name_field.strip()!r} is not of the form '\"Name, ST\"'; re-fetch the file"
        )
    if not code.isdigit() or len(code) > 5:
        raise CropDataError(f"{path}:{lineno}: FIPS {code!r} is not a 5-digit code; re-fetch the file")
    fips = int(code)
    spellings.setdefault(fips, Counter())[name] += 1
    return fips


def census_key(census_name: str) -> tuple[str, str]:
    """``"St. Clair County, IL"`` -> ``("IL", "stclair")`` (postal code, normalised county name)."""
    county, _, state = census_name.rpartition(",")
    return state.strip().upper(), normalise_county_name(county)


def map_loc_ids(
    loc_table: pd.DataFrame, abbrev: Mapping[str, str], fips_names: Mapping[int, str]
) -> tuple[dict[int, int], list[int]]:
    """Match the loc_ID table's ``(state, county)`` names to Census county names.

    Both sides go through :func:`normalise_county_name`; the state name is turned into its postal code with
    ``abbrev``; renamed counties go through :data:`COUNTY_ALIASES` when the direct name is not found.

    Parameters
    ----------
    loc_table : DataFrame
        From :func:`seqstruct.crop.raw.read_loc_table` (columns State, County, ID_loc).
    abbrev : mapping
        Lower-case state name -> postal code (:func:`seqstruct.crop.raw.read_state_abbrev`).
    fips_names : mapping
        FIPS -> Census name "X County, ST" (:func:`read_adjacency`).

    Returns
    -------
    mapping : dict
        loc_ID -> FIPS for every matched row (two loc_IDs may name the same county, e.g. spelling variants).
    unmatched : list
        loc_IDs with no (or no unambiguous) Census county, in table order.
    """
    index: dict[tuple[str, str], int | None] = {}
    for fips, name in fips_names.items():
        key = census_key(name)
        index[key] = None if key in index and index[key] != fips else fips  # None marks an ambiguous key
    mapping: dict[int, int] = {}
    unmatched: list[int] = []
    for state, county, loc in zip(loc_table["State"], loc_table["County"], loc_table["ID_loc"]):
        code = abbrev.get(" ".join(str(state).lower().split()))
        fips = None
        if code is not None:
            norm = normalise_county_name(str(county))
            fips = index.get((code, norm))
            if fips is None and (code, norm) in COUNTY_ALIASES:
                fips = index.get((code, COUNTY_ALIASES[(code, norm)]))
        if fips is None:
            unmatched.append(int(loc))
        else:
            mapping[int(loc)] = int(fips)
    return mapping, unmatched


def county_geometry(shp_path: str | os.PathLike[str], fips: Iterable[int]) -> gpd.GeoDataFrame:
    """County polygons of the Census cartographic boundary shapefile, for the requested FIPS codes.

    Returns
    -------
    GeoDataFrame
        One row per requested FIPS, in the requested order, with an int64 ``FIPS`` column (``STATE`` +
        ``COUNTY``), the file's other fields, and the geometry in the file's CRS (EPSG:4269 for the Census file).
        ``attrs["source"]`` is the shapefile's path (named by the errors of :func:`centroids`).

    Raises
    ------
    CropDataError
        Missing/unreadable file, no CRS (missing ``.prj``), missing STATE/COUNTY fields, duplicated FIPS, or a
        requested FIPS not in the file.
    """
    shp_path = Path(shp_path)
    if not shp_path.is_file():
        raise CropDataError(f"{shp_path}: county boundary shapefile not found; check the path or fetch the crop data")
    try:
        gdf = gpd.read_file(shp_path, engine="pyogrio")
    except Exception as exc:  # pyogrio raises its own DataSourceError/DataLayerError hierarchy
        raise CropDataError(
            f"{shp_path}: not a readable shapefile ({one_line(exc)}); check that its .shx/.dbf "
            f"are beside it or re-fetch it"
        ) from exc
    if gdf.crs is None:
        raise CropDataError(
            f"{shp_path}: no coordinate reference system (missing .prj beside it?); restore "
            f"{shp_path.with_suffix('.prj').name} or re-fetch the shapefile"
        )
    for col in ("STATE", "COUNTY"):
        if col not in gdf.columns:
            raise CropDataError(
                f"{shp_path}: missing field {col!r} (found {list(gdf.columns)}); expected a Census county boundary file"
            )
    try:
        codes = gdf["STATE"].astype(str).str.strip() + gdf["COUNTY"].astype(str).str.strip()
        gdf["FIPS"] = codes.astype(np.int64)
    except ValueError as exc:
        raise CropDataError(
            f"{shp_path}: STATE/COUNTY fields are not numeric FIPS parts ({one_line(exc)}); "
            f"expected a Census county boundary file"
        ) from exc
    dup = gdf["FIPS"].duplicated()
    if dup.any():
        raise CropDataError(
            f"{shp_path}: FIPS {int(gdf['FIPS'][dup].iloc[0])} appears in more than one row; "
            f"expected one (multi)polygon per county"
        )
    wanted = np.asarray(list(fips), dtype=np.int64)
    gdf = gdf.set_index("FIPS", drop=False)
    missing = [int(f) for f in wanted if f not in gdf.index]
    if missing:
        raise CropDataError(
            f"{shp_path}: {len(missing)} requested counties not in the file (e.g. FIPS "
            f"{missing[:5]}); use a boundary file of the same Census vintage as the adjacency file"
        )
    out = gdf.loc[wanted].reset_index(drop=True)
    out.attrs["source"] = str(shp_path)
    return out


#: state FIPS codes outside the conterminous US (Alaska, Hawaii, Puerto Rico and the island areas)
NON_CONUS_STATES = frozenset({2, 15, 60, 66, 69, 72, 78})


def conus_fips(shp_path: str | os.PathLike[str], states: Iterable[int] | None = None) -> list[int]:
    """FIPS of every county of the conterminous US (48 states and DC) in a Census boundary file, sorted.

    ``states`` (state FIPS codes, e.g. ``[17, 18, 19]``) keeps only those states; a state not in the file is a
    :class:`CropDataError`. The 2010 file has 3,109 such counties (3,108 and the District of Columbia).
    """
    shp_path = Path(shp_path)
    try:
        table = pd.DataFrame(
            gpd.read_file(shp_path, engine="pyogrio", columns=["STATE", "COUNTY"], ignore_geometry=True)
        )
        state = table["STATE"].astype(int).to_numpy()
        fips = state * 1000 + table["COUNTY"].astype(int).to_numpy()
    except (KeyError, ValueError) as exc:
        raise CropDataError(
            f"{shp_path}: no numeric STATE/COUNTY fields ({one_line(exc)}); expected a Census county file"
        ) from exc
    except Exception as exc:  # pyogrio's own error hierarchy
        raise CropDataError(f"{shp_path}: not a readable shapefile ({one_line(exc)}); re-fetch it") from exc
    keep = ~np.isin(state, sorted(NON_CONUS_STATES))
    if states is not None:
        wanted = sorted(set(states))
        absent = sorted(set(wanted) - set(state.tolist()))
        if absent:
            raise CropDataError(f"{shp_path}: no county of state FIPS {absent}; check crop.rasters.states")
        keep &= np.isin(state, wanted)
    return sorted(int(f) for f in fips[keep])


def centroids(gdf: gpd.GeoDataFrame, source: str | os.PathLike[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Area centroids of the polygons, computed in CONUS Albers equal-area (EPSG:5070), as NAD83 lon/lat.

    The centroids are checked: they must be finite and lie inside the area of use of the declared CRS (the
    ``.prj``) and of NAD83 (every US county does). A ``.prj`` that contradicts the coordinates (metres read as
    degrees give NaN; degrees read as metres put every county near the projection's origin) fails here.

    Parameters
    ----------
    gdf : GeoDataFrame
        From :func:`county_geometry`, with a CRS (and, if it has one, a ``FIPS`` column to name counties).
    source : path-like, optional
        The shapefile, named in errors (default: ``gdf.attrs["source"]``, set by :func:`county_geometry`).

    Returns
    -------
    lon, lat : numpy.ndarray
        float64 degrees (EPSG:4269), one per row of ``gdf``.

    Raises
    ------
    CropDataError
        No CRS, or a centroid that is not finite or outside those areas (message names the .shp and .prj).
    """
    if gdf.crs is None:
        raise CropDataError("county geometry has no CRS; read it with county_geometry() from a shapefile with a .prj")
    shp = Path(source if source is not None else gdf.attrs.get("source", "county geometry"))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN centroids are reported below, not warned about
        points = gdf.geometry.to_crs(5070).centroid.to_crs(4269)
    lon, lat = points.x.to_numpy(np.float64), points.y.to_numpy(np.float64)
    labels = [f"FIPS {int(f)}" for f in gdf["FIPS"]] if "FIPS" in gdf.columns else None
    fix = (
        f"the coordinates contradict the CRS declared in {shp.with_suffix('.prj').name} "
        f"({gdf.crs.name}) - restore the shapefile's own .prj (EPSG:4269 for the Census file) or re-fetch it"
    )
    check_points_in_crs(lon, lat, gdf.crs, f"{shp} (county centroids)", labels=labels, fix=fix, error=CropDataError)
    us = dataclasses.replace(crs_area(US_COUNTY_CRS), name="the area of NAD83, where every US county lies")
    check_points_in_area(lon, lat, us, f"{shp} (county centroids)", labels=labels, fix=fix, error=CropDataError)
    return lon, lat
