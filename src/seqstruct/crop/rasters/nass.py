"""NASS Quick Stats county yields: the Quick Stats CSV export, the API's CSV and the bulk ``qs.crops_*.txt.gz`` file.

Three layouts of the same records are read (column names matched case-insensitively):

* the web export (https://quickstats.nass.usda.gov "Get Data" -> CSV): every field double-quoted, title-case
  columns ``"Program","Year","Period","Week Ending","Geo Level","State","State ANSI","Ag District",
  "Ag District Code","County","County ANSI","Zip Code","Region","watershed_code","Watershed","Commodity",
  "Data Item","Domain","Domain Category","Value","CV (%)"`` and zero-padded codes (``"08"``);
* the API (``api_GET`` with ``format=CSV``) and the bulk tab-separated ``qs.crops_YYYYMMDD.txt.gz`` file
  (ftp://ftp.nass.usda.gov/quickstats/): the database names ``source_desc`` (Program), ``reference_period_desc``
  (Period), ``agg_level_desc`` (Geo Level), ``state_ansi``/``state_fips_code``, ``county_ansi``/``county_code``,
  ``county_name``, ``short_desc`` (Data Item), ``domain_desc``, ``year``, ``value`` (the API writes ``Value``, the
  bulk file upper-case names; case is ignored).

Sources (facts only): the web export header and quoting: a Quick Stats dump embedded in a public repository
(GitHub code search, "Program","Year","Period","Week Ending" ...); the database column names, "value: published
data value or suppression reason code" and "county_code: includes 998 for OTHER (COMBINED) COUNTIES": the Quick
Stats API parameter table (https://quickstats.nass.usda.gov/api#param_define, as copied into public notebooks);
the bulk file name, tab separator and column order: 73805/usda-nass-yearly-county-crops usda_nass_build.sql;
the API end point ``https://quickstats.nass.usda.gov/api/api_GET/``, ``key=``, ``format=CSV``, operators such as
``year__GE``/``year__LE`` and the 50,000-record limit (HTTP 413): rnassqs (CRAN) and usdarnass (CRAN) docs.
"""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from seqstruct.crop.rasters.grid import RasterDataError

logger = logging.getLogger(__name__)

#: the county yield data items (Quick Stats ``short_desc``) of each crop
YIELD_ITEMS: dict[str, str] = {
    "corn": "CORN, GRAIN - YIELD, MEASURED IN BU / ACRE",
    "soybean": "SOYBEANS - YIELD, MEASURED IN BU / ACRE",
}
#: Quick Stats ``commodity_desc`` of each crop
COMMODITIES: dict[str, str] = {"corn": "CORN", "soybean": "SOYBEANS"}
#: the columns of the Quick Stats web CSV export, in order
QUICKSTATS_COLUMNS: tuple[str, ...] = (
    "Program", "Year", "Period", "Week Ending", "Geo Level", "State", "State ANSI", "Ag District",
    "Ag District Code", "County", "County ANSI", "Zip Code", "Region", "watershed_code", "Watershed", "Commodity",
    "Data Item", "Domain", "Domain Category", "Value", "CV (%)",
)  # fmt: skip
#: the columns of the bulk ``qs.*.txt.gz`` files, in order
BULK_COLUMNS: tuple[str, ...] = (
    "SOURCE_DESC", "SECTOR_DESC", "GROUP_DESC", "COMMODITY_DESC", "CLASS_DESC", "PRODN_PRACTICE_DESC",
    "UTIL_PRACTICE_DESC", "STATISTICCAT_DESC", "UNIT_DESC", "SHORT_DESC", "DOMAIN_DESC", "DOMAINCAT_DESC",
    "AGG_LEVEL_DESC", "STATE_ANSI", "STATE_FIPS_CODE", "STATE_ALPHA", "STATE_NAME", "ASD_CODE", "ASD_DESC",
    "COUNTY_ANSI", "COUNTY_CODE", "COUNTY_NAME", "REGION_DESC", "ZIP_5", "WATERSHED_CODE", "WATERSHED_DESC",
    "CONGR_DISTRICT_CODE", "COUNTRY_CODE", "COUNTRY_NAME", "LOCATION_DESC", "YEAR", "FREQ_DESC", "BEGIN_CODE",
    "END_CODE", "REFERENCE_PERIOD_DESC", "WEEK_ENDING", "LOAD_TIME", "VALUE", "CV_%",
)  # fmt: skip
#: the Quick Stats API end point
QUICKSTATS_API = "https://quickstats.nass.usda.gov/api/api_GET/"
#: the environment variable holding the API key
API_KEY_ENV = "NASS_API_KEY"
#: the county code NASS gives its "OTHER (COMBINED) COUNTIES" rows
COMBINED_COUNTY_CODE = 998

# what each field is called in the web export and in the database (API / bulk) layout (matched lower-cased)
_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "program": ("Program", ("source_desc",)),
    "year": ("Year", ("year",)),
    "period": ("Period", ("reference_period_desc",)),
    "geo_level": ("Geo Level", ("agg_level_desc",)),
    "state_ansi": ("State ANSI", ("state_ansi", "state_fips_code")),
    "county": ("County", ("county_name",)),
    "county_ansi": ("County ANSI", ("county_ansi", "county_code")),
    "item": ("Data Item", ("short_desc",)),
    "value": ("Value", ("value",)),
}
_OPTIONAL: dict[str, tuple[str, tuple[str, ...]]] = {
    "domain": ("Domain", ("domain_desc",)),
    "county_code": ("", ("county_code",)),
}
_SUPPRESSED = re.compile(r"^\(.*\)$")


def quickstats_url(crop: str, year_range: tuple[int, int]) -> str:
    """The Quick Stats API GET URL of one crop's county yields; the key is left as ``${NASS_API_KEY}``.

    Parameters
    ----------
    crop : str
        A key of :data:`YIELD_ITEMS`.
    year_range : tuple of int
        First and last year, inclusive. Keep it to about 20 years per call: the API refuses requests over
        50,000 records (HTTP 413).

    Returns
    -------
    str
        The URL, ``format=CSV``; substitute the key from the environment (e.g. ``curl "$url"`` in a shell,
        or ``url.replace("${NASS_API_KEY}", os.environ["NASS_API_KEY"])``) before fetching it.

    Raises
    ------
    ValueError
        Unknown crop, or ``year_range`` not (first, last) with first <= last.
    """
    _check_crops([crop])
    first, last = year_range
    if first > last:
        raise ValueError(f"year_range {year_range} is not (first, last) with first <= last")
    params = {
        "source_desc": "SURVEY",
        "sector_desc": "CROPS",
        "commodity_desc": COMMODITIES[crop],
        "statisticcat_desc": "YIELD",
        "short_desc": YIELD_ITEMS[crop],
        "agg_level_desc": "COUNTY",
        "reference_period_desc": "YEAR",
        "year__GE": str(first),
        "year__LE": str(last),
        "format": "CSV",
    }
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return f"{QUICKSTATS_API}?key=${{{API_KEY_ENV}}}&{query}"


def _check_crops(crops: Sequence[str]) -> None:
    unknown = [c for c in crops if c not in YIELD_ITEMS]
    if unknown or not crops:
        raise ValueError(f"crops {list(crops)} must be among {', '.join(YIELD_ITEMS)}")


_READ_ERRORS = (ValueError, OSError, EOFError, UnicodeDecodeError, pd.errors.ParserError)


def _unreadable(path: Path, err: Exception) -> RasterDataError:
    problem = " ".join(str(err).split())
    return RasterDataError(f"{path}: not a readable Quick Stats table ({problem}); export or download it again")


def _header(path: Path) -> tuple[list[str], str]:
    """The column names and the separator (tab in the bulk files, comma in the exports), from the first line."""
    if not path.is_file():
        raise RasterDataError(f"{path}: NASS Quick Stats file does not exist; export it from quickstats.nass.usda.gov")
    try:
        columns = list(pd.read_csv(path, nrows=0, compression="infer").columns)
        if len(columns) == 1 and "\t" in columns[0]:
            return list(pd.read_csv(path, sep="\t", nrows=0, compression="infer").columns), "\t"
    except _READ_ERRORS as err:
        raise _unreadable(path, err) from err
    return columns, ","


def _load(path: Path, crops: Sequence[str]) -> tuple[pd.DataFrame, dict[str, str]]:
    """The needed columns, as text, of the rows holding the crops' yield items (read in chunks: the bulk
    crops file is gigabytes), and the field -> column map."""
    columns, sep = _header(path)
    cols = _columns(columns, path)
    items = {YIELD_ITEMS[c] for c in crops}
    options = dict(sep=sep, dtype=str, keep_default_na=False, usecols=sorted(set(cols.values())), chunksize=200_000)
    try:
        with pd.read_csv(path, compression="infer", **options) as chunks:
            parts = [chunk[chunk[cols["item"]].str.strip().isin(items)] for chunk in chunks]
    except _READ_ERRORS as err:
        raise _unreadable(path, err) from err
    return pd.concat(parts) if parts else pd.DataFrame(columns=options["usecols"]), cols


def _columns(columns: list[str], path: Path) -> dict[str, str]:
    """Map each needed field to the file's column (web or database layout), or name the missing ones."""
    by_lower = {c.strip().lower(): c for c in columns}
    web = "program" in by_lower
    found, missing = {}, []
    for field, (web_name, db_names) in {**_FIELDS, **_OPTIONAL}.items():
        names = (web_name,) if web else db_names
        column = next((by_lower[n.lower()] for n in names if n and n.lower() in by_lower), None)
        if column is not None:
            found[field] = column
        elif field in _FIELDS:
            missing.append(web_name if web else db_names[0])
    if missing:
        layout = "web export" if web else "API/bulk"
        raise RasterDataError(
            f"{path}: Quick Stats {layout} table lacks column(s) {', '.join(repr(m) for m in missing)}; "
            "export the full table (all columns) again"
        )
    return found


def _select(table: pd.DataFrame, cols: dict[str, str], crops: Sequence[str]) -> pd.DataFrame:
    """Annual SURVEY county rows of the crops' yield items (and domain TOTAL where the file has a domain)."""
    item_to_crop = {YIELD_ITEMS[c]: c for c in crops}
    keep = (
        (table[cols["program"]].str.strip() == "SURVEY")
        & (table[cols["period"]].str.strip() == "YEAR")
        & (table[cols["geo_level"]].str.strip() == "COUNTY")
        & table[cols["item"]].str.strip().isin(item_to_crop)
    )
    if "domain" in cols:
        keep &= table[cols["domain"]].str.strip().isin(["TOTAL", ""])
    rows = table[keep].copy()
    rows["crop"] = rows[cols["item"]].str.strip().map(item_to_crop)
    return rows


def _drop_combined(rows: pd.DataFrame, cols: dict[str, str], path: Path) -> pd.DataFrame:
    """Drop "OTHER (COMBINED) COUNTIES" rows: no county code, code 998, or a county named OTHER ..."""
    code = rows[cols["county_ansi"]].str.strip()
    if "county_code" in cols:
        code = code.where(code != "", rows[cols["county_code"]].str.strip())
    combined = (
        (code == "") | (code == str(COMBINED_COUNTY_CODE)) | rows[cols["county"]].str.strip().str.startswith("OTHER")
    )
    if combined.any():
        logger.info("%s: dropped %d OTHER (COMBINED) COUNTIES rows", path, int(combined.sum()))
    return rows[~combined]


def _parse_values(rows: pd.DataFrame, cols: dict[str, str], path: Path) -> pd.DataFrame:
    """Drop suppressed values ("(D)", "(Z)", "(NA)" ...) with a logged count; parse "1,234.5" -> 1234.5."""
    text = rows[cols["value"]].str.strip()
    suppressed = text.str.match(_SUPPRESSED) | (text == "")
    if suppressed.any():
        counts = text[suppressed].replace("", "(blank)").value_counts()
        detail = ", ".join(f"{n} {code}" for code, n in counts.items())
        logger.info("%s: dropped %d suppressed yields (%s)", path, int(suppressed.sum()), detail)
    rows, text = rows[~suppressed], text[~suppressed]
    values = pd.to_numeric(text.str.replace(",", "", regex=False), errors="coerce")
    bad = values.isna()
    if bad.any():
        raise RasterDataError(
            f"{path}: yield value {text[bad].iloc[0]!r} (row {int(bad.idxmax()) + 2}) is neither a number nor a "
            "NASS suppression code like (D); fix or re-export the file"
        )
    return rows.assign(_value=values.astype(np.float64))


def _codes(rows: pd.DataFrame, cols: dict[str, str], path: Path) -> pd.Series:
    """fips = state ANSI * 1000 + county ANSI, as int64."""
    state = pd.to_numeric(rows[cols["state_ansi"]].str.strip(), errors="coerce")
    county = pd.to_numeric(rows[cols["county_ansi"]].str.strip(), errors="coerce")
    bad = state.isna() | county.isna()
    if bad.any():
        first = rows[bad].iloc[0]
        raise RasterDataError(
            f"{path}: county row with State ANSI {first[cols['state_ansi']]!r} / County ANSI "
            f"{first[cols['county_ansi']]!r} is not a numeric code; fix or re-export the file"
        )
    return (state * 1000 + county).astype(np.int64)


def read_quickstats_yields(path: str | os.PathLike[str], crops: Sequence[str] = ("corn", "soybean")) -> pd.DataFrame:
    """County yields of the SURVEY program, one row per county, year and crop.

    Parameters
    ----------
    path : str or os.PathLike
        A Quick Stats web CSV export, an API CSV, or a bulk ``qs.crops_YYYYMMDD.txt.gz`` (tab-separated).
    crops : sequence of str
        Keys of :data:`YIELD_ITEMS`.

    Returns
    -------
    pandas.DataFrame
        Columns ``fips`` (int64, state ANSI * 1000 + county ANSI), ``year`` (int64), ``crop`` (str) and
        ``yield`` (float64, bu/acre), sorted by crop, fips and year; only annual (Period ``YEAR``) county rows;
        suppressed values and OTHER (COMBINED) COUNTIES rows are dropped (counts logged).

    Raises
    ------
    RasterDataError
        The file is missing or unreadable, lacks a needed column, holds an unparsable value or code, or holds
        the same county, year and crop twice.
    ValueError
        Unknown crop.
    """
    _check_crops(crops)
    path = Path(path)
    table, cols = _load(path, crops)
    rows = _parse_values(_drop_combined(_select(table, cols, crops), cols, path), cols, path)
    years = pd.to_numeric(rows[cols["year"]].str.strip(), errors="coerce")
    if years.isna().any():
        raise RasterDataError(f"{path}: a county row has a non-numeric Year; fix or re-export the file")
    out = pd.DataFrame(
        {
            "fips": _codes(rows, cols, path).to_numpy(),
            "year": years.astype(np.int64).to_numpy(),
            "crop": rows["crop"].astype(str).to_numpy(),
            "yield": rows["_value"].to_numpy(),
        }
    )
    _check_unique(out, path)
    return out.sort_values(["crop", "fips", "year"], ignore_index=True)


def _check_unique(out: pd.DataFrame, path: Path) -> None:
    duplicated = out.duplicated(["fips", "year", "crop"], keep=False)
    if duplicated.any():
        first = out[duplicated].iloc[0]
        raise RasterDataError(
            f"{path}: {int(duplicated.sum())} rows repeat a county, year and crop (first: fips {first['fips']}, "
            f"{first['year']}, {first['crop']}); export each crop and year once"
        )


# ---------------------------------------------------------------------------------------------------------------
# writers (tests)


def _check_columns(rows: pd.DataFrame) -> None:
    unknown = sorted(set(rows.columns) - set(QUICKSTATS_COLUMNS))
    if unknown:
        raise ValueError(f"unknown Quick Stats columns {unknown}; use {', '.join(QUICKSTATS_COLUMNS)}")


def _padded(rows: pd.DataFrame) -> pd.DataFrame:
    """Every column as text; integer State/County ANSI codes zero-padded to 2/3 digits like the export."""
    out = rows.copy()
    for column, width in (("State ANSI", 2), ("County ANSI", 3)):
        if column in out and pd.api.types.is_integer_dtype(out[column]):
            out[column] = out[column].map(lambda v, w=width: f"{v:0{w}d}")
    return out.astype(str).replace({"nan": "", "<NA>": "", "None": ""})


def write_quickstats_csv(path: str | os.PathLike[str], rows: pd.DataFrame) -> Path:
    """Write rows as a Quick Stats web CSV export: every real column, in order, every field double-quoted.

    Parameters
    ----------
    path : str or os.PathLike
        The .csv to write.
    rows : pandas.DataFrame
        Columns among :data:`QUICKSTATS_COLUMNS` (missing ones are written empty); values as the export shows
        them (e.g. ``"1,234.5"``, ``"(D)"``); integer ANSI codes are zero-padded.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``rows`` has a column that the export does not.
    """
    _check_columns(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = _padded(rows).reindex(columns=list(QUICKSTATS_COLUMNS), fill_value="")
    table.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    return path


_WEB_TO_BULK = {
    "Program": "SOURCE_DESC", "Year": "YEAR", "Period": "REFERENCE_PERIOD_DESC", "Geo Level": "AGG_LEVEL_DESC",
    "State": "STATE_NAME", "State ANSI": "STATE_ANSI", "Ag District": "ASD_DESC", "Ag District Code": "ASD_CODE",
    "County": "COUNTY_NAME", "County ANSI": "COUNTY_ANSI", "Zip Code": "ZIP_5", "Region": "REGION_DESC",
    "watershed_code": "WATERSHED_CODE", "Watershed": "WATERSHED_DESC", "Commodity": "COMMODITY_DESC",
    "Data Item": "SHORT_DESC", "Domain": "DOMAIN_DESC", "Domain Category": "DOMAINCAT_DESC", "Value": "VALUE",
    "CV (%)": "CV_%",
}  # fmt: skip


def write_quickstats_bulk(path: str | os.PathLike[str], rows: pd.DataFrame) -> Path:
    """Write the same rows as a bulk ``qs.crops_YYYYMMDD.txt.gz`` file (tab-separated, database column names).

    Parameters
    ----------
    path : str or os.PathLike
        The file to write (``.gz`` is gzip-compressed).
    rows : pandas.DataFrame
        As for :func:`write_quickstats_csv` (web export column names); STATE_FIPS_CODE copies State ANSI and
        COUNTY_CODE copies County ANSI (998 where it is blank, as NASS codes OTHER (COMBINED) COUNTIES).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        ``rows`` has a column that the export does not.
    """
    _check_columns(rows)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    web = _padded(rows).reindex(columns=list(QUICKSTATS_COLUMNS), fill_value="")
    bulk = web.rename(columns=_WEB_TO_BULK).reindex(columns=list(BULK_COLUMNS), fill_value="")
    bulk["STATE_FIPS_CODE"] = bulk["STATE_ANSI"]
    bulk["COUNTY_CODE"] = bulk["COUNTY_ANSI"].where(bulk["COUNTY_ANSI"] != "", str(COMBINED_COUNTY_CODE))
    bulk["FREQ_DESC"] = "ANNUAL"
    bulk.to_csv(path, sep="\t", index=False, compression="infer")
    return path
