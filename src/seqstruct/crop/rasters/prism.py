"""PRISM daily 4 km grids: file names, URLs, finding a day in a folder, reading a day, and writers for tests.

PRISM serves two layouts of the same daily grids, both read here straight from the zip through GDAL's
``/vsizip/`` (nothing is extracted):

* since 2025, Cloud-Optimized GeoTIFF zips ``prism_<var>_us_25m_<YYYYMMDD>.zip`` holding
  ``prism_<var>_us_25m_<YYYYMMDD>.tif`` plus side files (``25m`` = 2.5 arc-minutes = 4 km), under
  ``https://data.prism.oregonstate.edu/time_series/us/an/4km/<var>/daily/<year>/``;
* before, BIL zips ``PRISM_<var>_<stability>_4kmD2_<YYYYMMDD>_bil.zip`` holding ``.bil`` + ``.hdr`` + ``.prj``
  (+ ``.stx``, ``.info.txt``, ``.xml``), stability ``stable``, ``provisional`` or ``early``.

Sources (facts only):

* layouts, names, the 2025 switch to COG and the ``25m`` = 4 km code: PRISM FTP README
  (https://ftp.prism.oregonstate.edu/readme.txt, 2025-03-27) and https://prism.oregonstate.edu/formats;
* the COG member name ``prism_<var>_us_<res>_<date>.tif`` at the root of the zip, the base URL
  ``data.prism.oregonstate.edu/time_series/<region>/an/<res>/<var>/<freq>/<year>/`` and the side-file extensions
  (.xml, .stx, .prj): CU-ESIIL/data-library docs/forecasting/prism/prism.md; a ``<stem>.info.txt`` inside the
  COG zips: the stored pages of data.prism.oregonstate.edu/time_series/us/an/4km/ppt/monthly/...;
* the grid (621 x 1405 cells of 1/24 degree, upper-left corner -125.0208333, 49.9375, i.e. the .hdr's
  ULXMAP -125 / ULYMAP 49.9166666666687 cell centres), float32 little-endian, nodata -9999:
  akrherz/iem scripts/prism/README.md (gdalinfo + .hdr of a daily BIL) and the ncl-talk thread
  "reading PRISM .bil files?" (mailman.ucar.edu, 2014-10-17: 621 x 1405 floats, _FillValue -9999);
* NAD83 geographic (the .prj is ESRI WKT ``GCS_North_American_1983``; GDAL identifies it as EPSG:4269) and the
  BIL zip members (.bil, .hdr, .prj, .stx, .info.txt, .xml): ropensci/prism tests/testthat/prism_test/
  PRISM_ppt_stable_4kmD2_*_bil/;
* units (ppt mm, temperatures degrees C, vapour pressure deficits hPa): https://prism.oregonstate.edu/formats
  and the PRISM datasets document as quoted by several PRISM clients.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from seqstruct.crop.rasters.grid import Grid, Raster, RasterDataError
from seqstruct.crop.raw import one_line

logger = logging.getLogger(__name__)

#: the seven daily PRISM variables and their units
PRISM_VARIABLES: dict[str, str] = {
    "ppt": "mm",  # total precipitation (rain + melted snow) of the day
    "tmean": "degC",
    "tmax": "degC",
    "tmin": "degC",
    "tdmean": "degC",  # mean dew point temperature
    "vpdmax": "hPa",  # maximum vapour pressure deficit
    "vpdmin": "hPa",
}
#: value of the cells outside the conterminous US
PRISM_NODATA = -9999.0
#: NAD83 geographic
PRISM_CRS = "EPSG:4269"
#: the 4 km (2.5 arc-minute) grid of every daily variable
PRISM_4KM = Grid(PRISM_CRS, Affine(1 / 24, 0.0, -125.0 - 1 / 48, 0.0, -1 / 24, 49.9375), (621, 1405))
#: where the 2025 COG zips live; append ``/<var>/daily/<year>/<zip>``
PRISM_BASE_URL = "https://data.prism.oregonstate.edu/time_series/us/an/4km"
#: BIL-era stabilities, best first
PRISM_STABILITIES = ("stable", "provisional", "early")
#: the .prj PRISM ships in its BIL zips (ESRI WKT)
PRISM_PRJ = (
    'GEOGCS["GCS_North_American_1983",DATUM["D_North_American_1983",SPHEROID["GRS_1980",6378137.0,'
    '298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.017453292519943295]]'
)

_COG_RE = re.compile(r"^prism_(?P<var>[a-z]+)_us_25m_(?P<day>\d{8})\.zip$")
_BIL_RE = re.compile(r"^PRISM_(?P<var>[a-z]+)_(?P<stability>stable|provisional|early)_4kmD\d_(?P<day>\d{8})_bil\.zip$")


@dataclass(frozen=True)
class PrismFile:
    """What a PRISM daily zip's name says.

    Attributes
    ----------
    path : pathlib.Path
        The zip.
    var : str
        The variable (a key of :data:`PRISM_VARIABLES`).
    day : datetime.date
        The day.
    layout : str
        ``"cog"`` (2025 GeoTIFF zips) or ``"bil"`` (older BIL zips).
    stability : str or None
        ``"stable"``, ``"provisional"`` or ``"early"`` for a BIL zip; None for a COG zip (its name does not say).
    """

    path: Path
    var: str
    day: date
    layout: str
    stability: str | None

    @property
    def member(self) -> str:
        """The name of the raster inside the zip."""
        stem = self.path.name[: -len(".zip")]
        return f"{stem}.tif" if self.layout == "cog" else f"{stem}.bil"


def _check_var(var: str) -> None:
    if var not in PRISM_VARIABLES:
        raise ValueError(f"unknown PRISM variable {var!r}; use one of {', '.join(PRISM_VARIABLES)}")


def cog_zip_name(var: str, day: date) -> str:
    """The file name of the 2025 COG zip of one variable and day.

    Parameters
    ----------
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.

    Returns
    -------
    str
        E.g. ``prism_ppt_us_25m_20250312.zip``.

    Raises
    ------
    ValueError
        ``var`` is not a PRISM variable.
    """
    _check_var(var)
    return f"prism_{var}_us_25m_{day:%Y%m%d}.zip"


def bil_zip_name(var: str, day: date, stability: str = "stable") -> str:
    """The file name of the older BIL zip of one variable and day.

    Parameters
    ----------
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.
    stability : str
        ``"stable"``, ``"provisional"`` or ``"early"``.

    Returns
    -------
    str
        E.g. ``PRISM_ppt_stable_4kmD2_20100101_bil.zip``.

    Raises
    ------
    ValueError
        Unknown variable or stability.
    """
    _check_var(var)
    if stability not in PRISM_STABILITIES:
        raise ValueError(f"unknown PRISM stability {stability!r}; use one of {', '.join(PRISM_STABILITIES)}")
    return f"PRISM_{var}_{stability}_4kmD2_{day:%Y%m%d}_bil.zip"


def prism_url(var: str, day: date) -> str:
    """The download URL of one day's COG zip.

    Parameters
    ----------
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.

    Returns
    -------
    str
        ``https://data.prism.oregonstate.edu/time_series/us/an/4km/<var>/daily/<year>/prism_<var>_us_25m_<day>.zip``.

    Raises
    ------
    ValueError
        ``var`` is not a PRISM variable.
    """
    return f"{PRISM_BASE_URL}/{var}/daily/{day.year}/{cog_zip_name(var, day)}"


def parse_prism_name(path: str | os.PathLike[str]) -> PrismFile | None:
    """Parse a PRISM daily zip name (either layout); None when the name is not one.

    Parameters
    ----------
    path : str or os.PathLike
        The zip.

    Returns
    -------
    PrismFile or None
        Variable, day, layout and (BIL only) stability.
    """
    path = Path(path)
    for layout, pattern in (("cog", _COG_RE), ("bil", _BIL_RE)):
        match = pattern.match(path.name)
        if match and match["var"] in PRISM_VARIABLES:
            day = _parse_day(match["day"])
            if day is not None:
                return PrismFile(path, match["var"], day, layout, match.groupdict().get("stability"))
    return None


def _parse_day(text: str) -> date | None:
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _choose(candidates: list[PrismFile]) -> PrismFile:
    """The COG when there is one, else the most stable BIL; logs what was passed over."""
    ranked = sorted(candidates, key=lambda f: (f.layout != "cog", PRISM_STABILITIES.index(f.stability or "stable")))
    best = ranked[0]
    if len(ranked) > 1:
        skipped = ", ".join(f.path.name for f in ranked[1:])
        logger.info("PRISM %s %s: using %s, not %s", best.var, best.day, best.path.name, skipped)
    return best


def _candidates_for(folder: Path, var: str, day: date) -> list[PrismFile]:
    names = [cog_zip_name(var, day)] + [
        f"PRISM_{var}_{s}_4kmD{v}_{day:%Y%m%d}_bil.zip" for s in PRISM_STABILITIES for v in (2, 1)
    ]
    found = [parse_prism_name(folder / n) for n in names if (folder / n).is_file()]
    return [f for f in found if f is not None]


def _check_folder(folder: Path) -> None:
    if not folder.is_dir():
        raise RasterDataError(f"{folder}: PRISM folder does not exist; download the daily zips into it first")


def find_prism_day(folder: str | os.PathLike[str], var: str, day: date) -> Path:
    """The zip of one variable and day in ``folder`` (either layout; the COG when both are there).

    Parameters
    ----------
    folder : str or os.PathLike
        A folder holding PRISM daily zips (not searched recursively).
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.

    Returns
    -------
    pathlib.Path
        The zip; :func:`parse_prism_name` tells its layout and stability.

    Raises
    ------
    RasterDataError
        The folder or the day's zip is missing.
    """
    _check_var(var)
    folder = Path(folder)
    _check_folder(folder)
    candidates = _candidates_for(folder, var, day)
    if not candidates:
        raise RasterDataError(
            f"{folder}: no PRISM {var} zip for {day} ({cog_zip_name(var, day)} or {bil_zip_name(var, day)}); "
            f"download {prism_url(var, day)}"
        )
    return _choose(candidates).path


def _index_folder(folder: Path, var: str, year: int) -> dict[date, list[PrismFile]]:
    index: dict[date, list[PrismFile]] = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            parsed = parse_prism_name(entry.path)
            if parsed is not None and parsed.var == var and parsed.day.year == year and entry.is_file():
                index.setdefault(parsed.day, []).append(parsed)
    return index


def _days_of(year: int) -> list[date]:
    first, n = date(year, 1, 1), (date(year + 1, 1, 1) - date(year, 1, 1)).days
    return [first + timedelta(days=i) for i in range(n)]


def _log_stabilities(chosen: Iterable[PrismFile], var: str, year: int) -> None:
    counts: dict[str, int] = {}
    for f in chosen:
        if f.stability in ("provisional", "early"):
            counts[f.stability] = counts.get(f.stability, 0) + 1
    if counts:
        detail = ", ".join(f"{n} {s}" for s, n in counts.items())
        logger.warning("PRISM %s %d: %s days (not yet stable; PRISM may still revise them)", var, year, detail)


def prism_year_files(folder: str | os.PathLike[str], var: str, year: int) -> list[Path]:
    """The zips of every day of ``year`` in date order (365 or 366), either layout.

    Parameters
    ----------
    folder : str or os.PathLike
        A folder holding PRISM daily zips (not searched recursively).
    var : str
        A key of :data:`PRISM_VARIABLES`.
    year : int
        The calendar year.

    Returns
    -------
    list of pathlib.Path
        One zip per day, 1 January first; the COG where a day has both layouts.

    Raises
    ------
    RasterDataError
        Any day is missing (the message names the folder, the count and the first missing dates).
    """
    _check_var(var)
    folder = Path(folder)
    _check_folder(folder)
    index = _index_folder(folder, var, year)
    days = _days_of(year)
    missing = [d for d in days if d not in index]
    if missing:
        first = ", ".join(str(d) for d in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise RasterDataError(
            f"{folder}: {len(missing)} of {len(days)} days of PRISM {var} {year} are missing (first: {first}); "
            f"download them, e.g. {prism_url(var, missing[0])}"
        )
    chosen = [_choose(index[d]) for d in days]
    _log_stabilities(chosen, var, year)
    return [f.path for f in chosen]


def _member_in_zip(path: Path) -> str:
    """The raster inside a zip whose name is not PRISM's: its single .tif or .bil."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError) as err:
        raise RasterDataError(
            f"{path}: not a readable zip ({one_line(err)}); the download is truncated or corrupt: download it again"
        ) from err
    rasters = [n for n in names if n.lower().endswith((".tif", ".bil"))]
    if len(rasters) != 1:
        raise RasterDataError(
            f"{path}: expected one .tif or .bil inside the zip, found {rasters or 'none'}; "
            "keep PRISM's zips as downloaded (one grid per zip)"
        )
    return rasters[0]


def _zip_problem(path: Path, member: str) -> str | None:
    """What is wrong with the zip or its member, as far as Python's zipfile can tell (None: nothing found)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        return f"not a readable zip: {one_line(err)}"
    with archive:
        if member not in archive.namelist():
            return f"the zip has no {member}"
        for name in archive.namelist():
            try:
                with archive.open(name) as stream:
                    while stream.read(1 << 22):
                        pass
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
                return f"{name} is corrupt: {one_line(err)}"
    return None


def _open_failure(path: Path, member: str, err: Exception) -> RasterDataError:
    """Explain why GDAL could not read ``member`` from the zip ``path``."""
    problem = _zip_problem(path, member) or one_line(err)
    return RasterDataError(
        f"{path}: cannot read the PRISM grid {member} ({problem}); the download is truncated or corrupt: "
        "delete it and download it again"
    )


def read_prism_day(path: str | os.PathLike[str], grid: Grid = PRISM_4KM) -> Raster:
    """Read one PRISM daily grid straight from its zip (either layout).

    Parameters
    ----------
    path : str or os.PathLike
        A COG zip or a BIL zip.
    grid : Grid
        The grid the file must be on (a :meth:`Grid.window` of :data:`PRISM_4KM` for cut-outs).

    Returns
    -------
    Raster
        float32 values, shape (rows, cols), NaN where PRISM has no data (outside the conterminous US).

    Raises
    ------
    RasterDataError
        The file is missing, not a readable zip, truncated or corrupt, has no CRS (a BIL zip without its
        .prj) or is on another grid.
    """
    path = Path(path)
    if not path.is_file():
        raise RasterDataError(f"{path}: PRISM zip does not exist; download it (see prism_url)")
    parsed = parse_prism_name(path)
    member = parsed.member if parsed is not None else _member_in_zip(path)
    try:
        with rasterio.open(f"/vsizip/{path.resolve()}/{member}") as dataset:
            grid.check_same(Grid.of(dataset, path), path)
            values = dataset.read(1, masked=False)
            nodata = dataset.nodata
    except RasterioError as err:
        raise _open_failure(path, member, err) from err
    if values.dtype != np.float32:
        values = values.astype(np.float32)
    values[values == (PRISM_NODATA if nodata is None else nodata)] = np.nan
    return Raster(values, grid, path)


def read_prism_days(paths: Sequence[str | os.PathLike[str]], grid: Grid = PRISM_4KM, threads: int = 2) -> np.ndarray:
    """Read many daily zips (e.g. :func:`prism_year_files`) into one array, ``threads`` files at a time.

    Parameters
    ----------
    paths : sequence of str or os.PathLike
        The zips, in the order wanted.
    grid : Grid
        The grid every file must be on.
    threads : int
        Files read at once (GDAL releases the GIL while it inflates).

    Returns
    -------
    ndarray of float32, shape (days, rows, cols)
        ``paths[i]``'s values in ``[i]``; NaN where PRISM has no data.

    Raises
    ------
    RasterDataError
        As :func:`read_prism_day`, for the first bad file met.
    """
    out = np.empty((len(paths), *grid.shape), dtype=np.float32)

    def read_into(item: tuple[int, str | os.PathLike[str]]) -> None:
        out[item[0]] = read_prism_day(item[1], grid).values

    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        list(pool.map(read_into, enumerate(paths)))
    return out


# ---------------------------------------------------------------------------------------------------------------
# writers (tests): the real layouts on a (sub-)grid of PRISM_4KM


def _prepare(var: str, values: np.ndarray, grid: Grid) -> np.ndarray:
    _check_var(var)
    values = np.asarray(values, dtype=np.float32)
    if values.shape != grid.shape:
        raise ValueError(f"values {values.shape} do not match the grid {grid.shape}")
    return np.where(np.isnan(values), np.float32(PRISM_NODATA), values)


def _side_files(stem: Path, var: str, day: date, values: np.ndarray) -> list[Path]:
    """The .stx (band, min, max, mean, std), .info.txt and FGDC .xml that PRISM puts next to each grid."""
    data = values[values != PRISM_NODATA].astype(np.float64)
    stats = (data.min(), data.max(), data.mean(), data.std()) if data.size else (0.0, 0.0, 0.0, 0.0)
    files = {
        ".stx": "1 " + " ".join(f"{v:.10f}" for v in stats) + "\n",
        ".info.txt": f"PRISM_DATASET_FILENAME: {stem.name}\nPRISM_DATASET_TYPE: an/d2\nPRISM_VARIABLE: {var}\n",
        ".xml": (
            '<?xml version="1.0" encoding="UTF-8"?>\n<metadata><idinfo><citation><citeinfo>'
            f"<title>PRISM {var} {day:%Y-%m-%d} (test file)</title></citeinfo></citation></idinfo></metadata>\n"
        ),
    }
    out = []
    for suffix, text in files.items():
        target = stem.with_name(stem.name + suffix)
        target.write_text(text)
        out.append(target)
    return out


def _zip_into(folder: Path, name: str, members: list[Path]) -> Path:
    """Zip ``members`` (flat, by their names) into ``folder / name``, atomically."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    partial = folder / f".{name}.partial"
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member in members:
            archive.write(member, member.name)
    os.replace(partial, target)
    return target


def _profile(driver: str, grid: Grid) -> dict[str, object]:
    rows, cols = grid.shape
    return dict(
        driver=driver, width=cols, height=rows, count=1, dtype="float32", nodata=PRISM_NODATA,
        crs=grid.crs, transform=grid.transform,
    )  # fmt: skip


def write_prism_cog_zip(
    folder: str | os.PathLike[str], var: str, day: date, values: np.ndarray, grid: Grid = PRISM_4KM
) -> Path:
    """Write one day as PRISM's 2025 COG zip (a real deflate COG named like PRISM's, plus side files).

    Parameters
    ----------
    folder : str or os.PathLike
        Where to put the zip (created if needed).
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.
    values : ndarray, shape (rows, cols)
        The field on ``grid``; NaN is written as -9999.
    grid : Grid
        :data:`PRISM_4KM` or a :meth:`Grid.window` of it.

    Returns
    -------
    pathlib.Path
        ``folder / prism_<var>_us_25m_<YYYYMMDD>.zip``.

    Raises
    ------
    ValueError
        Unknown variable, or ``values`` not of the grid's shape.
    """
    data = _prepare(var, values, grid)
    name = cog_zip_name(var, day)
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / name[: -len(".zip")]
        tif = stem.with_suffix(".tif")
        with rasterio.open(tif, "w", **_profile("COG", grid), compress="DEFLATE") as dataset:
            dataset.write(data, 1)
        prj = stem.with_suffix(".prj")
        prj.write_text(PRISM_PRJ)
        return _zip_into(Path(folder), name, [tif, prj, *_side_files(stem, var, day, data)])


def write_prism_bil_zip(
    folder: str | os.PathLike[str],
    var: str,
    day: date,
    values: np.ndarray,
    grid: Grid = PRISM_4KM,
    stability: str = "stable",
) -> Path:
    """Write one day as PRISM's older BIL zip (GDAL EHdr .bil/.hdr, PRISM's .prj, .stx, .info.txt, .xml).

    Parameters
    ----------
    folder : str or os.PathLike
        Where to put the zip (created if needed).
    var : str
        A key of :data:`PRISM_VARIABLES`.
    day : datetime.date
        The day.
    values : ndarray, shape (rows, cols)
        The field on ``grid``; NaN is written as -9999.
    grid : Grid
        :data:`PRISM_4KM` or a :meth:`Grid.window` of it.
    stability : str
        ``"stable"``, ``"provisional"`` or ``"early"`` (goes into the name).

    Returns
    -------
    pathlib.Path
        ``folder / PRISM_<var>_<stability>_4kmD2_<YYYYMMDD>_bil.zip``.

    Raises
    ------
    ValueError
        Unknown variable or stability, or ``values`` not of the grid's shape.
    """
    data = _prepare(var, values, grid)
    name = bil_zip_name(var, day, stability)
    with tempfile.TemporaryDirectory() as tmp:
        stem = Path(tmp) / name[: -len(".zip")]
        bil = stem.with_suffix(".bil")
        with rasterio.open(bil, "w", **_profile("EHdr", grid)) as dataset:
            dataset.write(data, 1)
        prj = stem.with_suffix(".prj")
        prj.write_text(PRISM_PRJ)  # PRISM's ESRI WKT rather than GDAL's
        members = [bil, stem.with_suffix(".hdr"), prj, *_side_files(stem, var, day, data)]
        return _zip_into(Path(folder), name, members)
