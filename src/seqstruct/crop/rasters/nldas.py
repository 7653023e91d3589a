"""NLDAS-2 hourly FORA (primary forcing, "file A") and NOAH land-surface files: the 16 thesis variables, the
0.125 degree grid, file names and URLs, finding a year of hours in a folder, reading an hour, and writers of small
files in the same formats (tests, synthetic demo).

GES DISC serves every hour of both products in two formats:

* the original GRIB1 files ``NLDAS_<P>0125_H.A<YYYYMMDD>.<HH>00.002.grb`` (collection ``NLDAS_<P>0125_H.002``),
  one message per field, fields found by their GRIB1 parameter number, level type and level (the NLDAS
  "PDS IDs"); GDAL's GRIB driver (bundled with rasterio) decodes them;
* the netCDF-4 conversions ``NLDAS_<P>0125_H.A<YYYYMMDD>.<HH>00.020.nc`` (collection ``NLDAS_<P>0125_H.2.0``),
  one variable per field, dimensions (time, lat, lon) with latitude ascending, fill value -9999; read with xarray
  (engine h5netcdf).

Both layouts store the 0-100 cm and 0-200 cm totals (soil moisture, moisture availability) as fields of their
own (GRIB layer 0-100 / 0-200, netCDF ``SoilM_0_100cm`` ...), next to the four Noah layers 0-10, 10-40, 40-100
and 100-200 cm; nothing has to be summed.

Sources (facts only):

* FORA GRIB1 parameters (APCP 61 sfc, SPFH 51 / TMP 11 at 2 m = level type 105 level 2, UGRD 33 / VGRD 34 at
  10 m) and the grid (464 x 224 points, first centre -124.9375, 25.0625, step 0.125, stored in the GRIB GDS as
  -124.938 / 25.063 millidegrees): the GrADS ctl files of jmframe/nldas-grib nldas_info/ and
  hoargroup/snodis prepare_meteo/attachments_20140329/ (grib2ctl of real NLDAS_FORA0125_H files);
* NOAH GRIB1 parameters (SOILM 86, TSOIL 85, MSTAV 207; level type 112 = layer below ground with top and bottom
  depth in cm, e.g. 10-40 cm -> 10 * 256 + 40 = 2600): the NLDAS-2 Noah PDS table quoted in the GCMD entry
  GES_DISC_NLDAS_NOAH0125_H_V002 and by NldasNOAH band lists ("85:TSOIL0_10cm", "151:LSOIL..."), the NCEP
  GRIB1 table (207 = MSTAV "Moisture availability [%]") and NCEP GrADS ctl files (``TSOIL10_40cm 85,112,2600``,
  ``SOILM 86,112,200``); GDAL names these messages SOILM / TSOIL / MSTAV with levels "0-10-DBLY" (parameter
  table 130 of centre 7, checked by the tests);
* netCDF 2.0 names: FORA ``Tair Qair PSurf Wind_E Wind_N LWdown CRainf_frac CAPE PotEvap Rainf SWdown`` with
  missing value -9999 (NASA-LIS/LISF ``read_nldas20a.F90``), their units and long names (a GES DISC point
  download script, ``download_nldas_fora_point.py``), NOAH ``SoilM_0_10cm ... SoilM_0_100cm SoilM_0_200cm
  SoilT_0_10cm ... SMAvail_0_100cm SMAvail_0_200cm`` (the GES DISC data-rods variable list
  ``NLDAS_NOAH0125_H_2_0_*`` and notebooks reading the 2.0 files);
* file names, collections and ``https://hydro1.gesdisc.eosdis.nasa.gov/data/NLDAS/<collection>/<year>/<doy>/``:
  the same download scripts; first hour of the record 1979-01-01 13Z (CMR / Earth Engine catalogue).

Not verified against a downloaded file (no network here): the exact attribute set and time encoding of the netCDF
files and the GRIB packing NLDAS uses; the writers below model them (see their docstrings), the readers rely on
none of them.
"""

from __future__ import annotations

import math
import os
import re
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import rasterio
import xarray as xr
from affine import Affine
from rasterio.errors import RasterioError

from seqstruct.crop.rasters.grid import Grid, Raster, RasterDataError
from seqstruct.crop.raw import one_line

Product = Literal["FORA", "NOAH"]
FileFormat = Literal["netcdf", "grib"]

#: the two NLDAS-2 products the thesis uses
NLDAS_PRODUCTS: tuple[str, ...] = ("FORA", "NOAH")
#: fill value of the netCDF files (also written as ``missing_value``)
NLDAS_FILL_VALUE = -9999.0
#: first hour of the NLDAS-2 record (UTC); earlier hours have no file
NLDAS_FIRST_HOUR = datetime(1979, 1, 1, 13)
#: the GES DISC data tree; append ``/<collection>/<year>/<day-of-year>/<file>``
GES_DISC_DATA_URL = "https://hydro1.gesdisc.eosdis.nasa.gov/data/NLDAS"
#: the NLDAS-2 0.125 degree grid, north-up: 224 rows from 52.9375 N down to 25.0625 N, 464 columns from
#: -124.9375 to -67.0625 (cell centres); geographic lat/lon (the files name no datum: WGS84 is assumed)
NLDAS_GRID = Grid("EPSG:4326", Affine(0.125, 0.0, -125.0, 0.0, -0.125, 53.0), (224, 464))

_FILE_RE = re.compile(r"NLDAS_(FORA|NOAH)0125_H")
_GRIB_SUFFIXES = (".grb", ".grb1", ".grb2", ".grib")
_NETCDF_SUFFIXES = (".nc", ".nc4")
_GRIB_TOL_DEG = 1e-3  # GRIB1 stores corners in millidegrees (-124.938 for -124.9375)
_NETCDF_TOL_DEG = 1e-4  # float32 coordinates
_NETCDF_EPOCH = datetime(1979, 1, 1)
_GRIB_BITS = 24  # bits per packed value in the GRIB files written here
_GRIB_TABLE = 130  # NCEP parameter table version of the NLDAS land fields (SOILM/TSOIL/MSTAV resolve there)
_GRIB_CENTRE = 7  # NCEP


@dataclass(frozen=True)
class GribCode:
    """Where a field sits in an NLDAS-2 GRIB1 file.

    Attributes
    ----------
    element : str
        The NCEP abbreviation (what wgrib and GDAL's ``GRIB_ELEMENT`` show), e.g. ``"SOILM"``.
    param : int
        Indicator of parameter (PDS octet 9), the NLDAS "PDS ID".
    level_type : int
        Indicator of type of level (PDS octet 10): 1 surface, 105 height above ground (m), 112 layer between two
        depths below the land surface (cm).
    level : int
        PDS octets 11-12 read as one 16-bit number, as in GrADS ctl files: the height for type 105, ``top * 256 +
        bottom`` (cm) for type 112, 0 for the surface.
    """

    element: str
    param: int
    level_type: int
    level: int

    @property
    def key(self) -> tuple[int, int, int]:
        """``(param, level_type, level)``, what the reader matches."""
        return self.param, self.level_type, self.level

    @property
    def gdal_level(self) -> str:
        """GDAL's ``GRIB_SHORT_NAME`` for this level, e.g. ``"0-SFC"``, ``"2-HTGL"``, ``"10-40-DBLY"``."""
        if self.level_type == 1:
            return "0-SFC"
        if self.level_type == 105:
            return f"{self.level}-HTGL"
        return f"{self.level >> 8}-{self.level & 0xFF}-DBLY"


@dataclass(frozen=True)
class NldasSource:
    """One stored field of an NLDAS-2 hourly file (both formats).

    Attributes
    ----------
    name : str
        The variable name in the netCDF 2.0 files (``"Tair"``, ``"SoilM_0_10cm"`` ...); the writers' field keys.
    product : str
        ``"FORA"`` or ``"NOAH"``.
    grib : GribCode
        Its GRIB1 message.
    units : str
        Units (the same in both formats).
    long_name : str
        Description.
    standard_name : str or None
        CF standard name, where there is one.
    accumulated : bool
        Accumulated over the hour (GRIB time range indicator 4) rather than instantaneous.
    """

    name: str
    product: str
    grib: GribCode
    units: str
    long_name: str
    standard_name: str | None = None
    accumulated: bool = False


@dataclass(frozen=True)
class NldasVariable:
    """One thesis feature: the stored field(s) it is read from and how a day of hours is reduced.

    Attributes
    ----------
    product : str
        ``"FORA"`` or ``"NOAH"``: the hourly file that holds it.
    sources : tuple of NldasSource
        One stored field, or the (u, v) components for a wind speed.
    units : str
        Units of the feature.
    daily : str
        Reducer of the 24 hourly values of a day: ``"mean"``, or ``"max"`` (wind).
    description : str
        What it is (thesis wording).
    """

    product: str
    sources: tuple[NldasSource, ...]
    units: str
    daily: str
    description: str

    @property
    def is_speed(self) -> bool:
        """True when the feature is ``sqrt(u**2 + v**2)`` of its two sources."""
        return len(self.sources) == 2


def _layer(top_cm: int, bottom_cm: int) -> int:
    """GRIB1 level octets 11-12 of a layer between two depths (level type 112)."""
    return top_cm * 256 + bottom_cm


def _noah(name: str, element: str, param: int, top: int, bottom: int, units: str, what: str) -> NldasSource:
    return NldasSource(name, "NOAH", GribCode(element, param, 112, _layer(top, bottom)), units, what)


_FORA_SOURCES = (
    NldasSource("Rainf", "FORA", GribCode("APCP", 61, 1, 0), "kg m-2", "Total precipitation", accumulated=True),
    NldasSource(
        "Tair", "FORA", GribCode("TMP", 11, 105, 2), "K", "2-meter above ground temperature", "air_temperature"
    ),
    NldasSource(
        "Qair",
        "FORA",
        GribCode("SPFH", 51, 105, 2),
        "kg kg-1",
        "2-meter above ground specific humidity",
        "specific_humidity",
    ),
    NldasSource(
        "Wind_E", "FORA", GribCode("UGRD", 33, 105, 10), "m s-1", "10-meter above ground zonal wind", "eastward_wind"
    ),
    NldasSource(
        "Wind_N",
        "FORA",
        GribCode("VGRD", 34, 105, 10),
        "m s-1",
        "10-meter above ground meridional wind",
        "northward_wind",
    ),
)
_NOAH_SOURCES = (
    _noah("SMAvail_0_200cm", "MSTAV", 207, 0, 200, "%", "Soil moisture availability (0-200cm)"),
    _noah("SMAvail_0_100cm", "MSTAV", 207, 0, 100, "%", "Soil moisture availability (0-100cm)"),
    _noah("SoilM_0_200cm", "SOILM", 86, 0, 200, "kg m-2", "0-200 cm soil moisture content"),
    _noah("SoilM_0_100cm", "SOILM", 86, 0, 100, "kg m-2", "0-100 cm soil moisture content"),
    _noah("SoilM_0_10cm", "SOILM", 86, 0, 10, "kg m-2", "0-10 cm soil moisture content"),
    _noah("SoilM_10_40cm", "SOILM", 86, 10, 40, "kg m-2", "10-40 cm soil moisture content"),
    _noah("SoilM_40_100cm", "SOILM", 86, 40, 100, "kg m-2", "40-100 cm soil moisture content"),
    _noah("SoilM_100_200cm", "SOILM", 86, 100, 200, "kg m-2", "100-200 cm soil moisture content"),
    _noah("SoilT_0_10cm", "TSOIL", 85, 0, 10, "K", "0-10 cm soil temperature"),
    _noah("SoilT_10_40cm", "TSOIL", 85, 10, 40, "K", "10-40 cm soil temperature"),
    _noah("SoilT_40_100cm", "TSOIL", 85, 40, 100, "K", "40-100 cm soil temperature"),
    _noah("SoilT_100_200cm", "TSOIL", 85, 100, 200, "K", "100-200 cm soil temperature"),
)
#: every stored field the 16 features need, by netCDF variable name
NLDAS_SOURCES: dict[str, NldasSource] = {s.name: s for s in _FORA_SOURCES + _NOAH_SOURCES}


def _feature(source: str, units: str, description: str, daily: str = "mean") -> NldasVariable:
    src = NLDAS_SOURCES[source]
    return NldasVariable(src.product, (src,), units, daily, description)


#: the 16 NLDAS-2 features of the thesis (section 2.1.4), in thesis order
NLDAS_VARIABLES: dict[str, NldasVariable] = {
    # precipitation hourly total; "mean" of the hourly totals = daily total / 24
    "apcp": _feature("Rainf", "kg m-2", "precipitation hourly total"),
    "mstav_0_200": _feature("SMAvail_0_200cm", "%", "moisture availability 0-200 cm"),
    "mstav_0_100": _feature("SMAvail_0_100cm", "%", "moisture availability 0-100 cm"),
    "soilm_0_200": _feature("SoilM_0_200cm", "kg m-2", "soil moisture content 0-200 cm"),
    "soilm_0_100": _feature("SoilM_0_100cm", "kg m-2", "soil moisture content 0-100 cm"),
    "soilm_0_10": _feature("SoilM_0_10cm", "kg m-2", "soil moisture content 0-10 cm"),
    "soilm_10_40": _feature("SoilM_10_40cm", "kg m-2", "soil moisture content 10-40 cm"),
    "soilm_40_100": _feature("SoilM_40_100cm", "kg m-2", "soil moisture content 40-100 cm"),
    "soilm_100_200": _feature("SoilM_100_200cm", "kg m-2", "soil moisture content 100-200 cm"),
    "spfh": _feature("Qair", "kg kg-1", "2-m specific humidity"),
    "tmp2m": _feature("Tair", "K", "2-m temperature"),
    "tsoil_0_10": _feature("SoilT_0_10cm", "K", "soil temperature 0-10 cm"),
    "tsoil_10_40": _feature("SoilT_10_40cm", "K", "soil temperature 10-40 cm"),
    "tsoil_40_100": _feature("SoilT_40_100cm", "K", "soil temperature 40-100 cm"),
    "tsoil_100_200": _feature("SoilT_100_200cm", "K", "soil temperature 100-200 cm"),
    "wind": NldasVariable(
        "FORA",
        (NLDAS_SOURCES["Wind_E"], NLDAS_SOURCES["Wind_N"]),
        "m s-1",
        "max",
        "10-m wind speed sqrt(u^2 + v^2); daily maximum of the hourly values",
    ),
}


# ---------------------------------------------------------------------------------------------------------------
# file names, URLs, a year of files


def _check_product(product: str) -> str:
    if product not in NLDAS_PRODUCTS:
        raise ValueError(f"unknown NLDAS product {product!r}; use one of {', '.join(NLDAS_PRODUCTS)}")
    return product


def _check_format(fmt: str) -> str:
    if fmt not in ("netcdf", "grib"):
        raise ValueError(f"unknown NLDAS file format {fmt!r}; use 'netcdf' (.020.nc) or 'grib' (.002.grb)")
    return fmt


def _utc_hour(when: datetime) -> datetime:
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    if (when.minute, when.second, when.microsecond) != (0, 0, 0):
        raise ValueError(f"NLDAS files are hourly: {when.isoformat()} is not on the hour")
    return when


def nldas_collection(product: str, fmt: FileFormat = "netcdf") -> str:
    """The GES DISC collection (folder) name of a product and format.

    Parameters
    ----------
    product : str
        ``"FORA"`` or ``"NOAH"``.
    fmt : {"netcdf", "grib"}
        netCDF-4 version 2.0 files or the original GRIB1 (version 002) files.

    Returns
    -------
    str
        E.g. ``"NLDAS_FORA0125_H.2.0"`` (netCDF) or ``"NLDAS_FORA0125_H.002"`` (GRIB).

    Raises
    ------
    ValueError
        For an unknown product or format.
    """
    version = "2.0" if _check_format(fmt) == "netcdf" else "002"
    return f"NLDAS_{_check_product(product)}0125_H.{version}"


def nldas_file_name(product: str, when: datetime, fmt: FileFormat = "netcdf") -> str:
    """The archive's file name of one hour.

    Parameters
    ----------
    product : str
        ``"FORA"`` or ``"NOAH"``.
    when : datetime.datetime
        The hour (UTC; naive datetimes are taken as UTC), on the hour.
    fmt : {"netcdf", "grib"}
        Which format.

    Returns
    -------
    str
        E.g. ``"NLDAS_FORA0125_H.A19810101.0100.020.nc"`` or ``"NLDAS_FORA0125_H.A19810101.0100.002.grb"``.

    Raises
    ------
    ValueError
        For an unknown product or format, or a time not on the hour.
    """
    when = _utc_hour(when)
    suffix = "020.nc" if _check_format(fmt) == "netcdf" else "002.grb"
    return f"NLDAS_{_check_product(product)}0125_H.A{when:%Y%m%d}.{when:%H}00.{suffix}"


def nldas_url(product: str, when: datetime, fmt: FileFormat = "netcdf", base: str = GES_DISC_DATA_URL) -> str:
    """The GES DISC download URL of one hour.

    Downloading needs an Earthdata login (https://urs.earthdata.nasa.gov) with the "NASA GESDISC DATA ARCHIVE"
    application authorised, passed e.g. through ``~/.netrc`` and a cookie jar; this function only builds the URL.
    Some newer scripts use ``https://data.gesdisc.earthdata.nasa.gov/data/NLDAS`` as ``base`` (not verified here).

    Parameters
    ----------
    product : str
        ``"FORA"`` or ``"NOAH"``.
    when : datetime.datetime
        The hour (UTC), on the hour.
    fmt : {"netcdf", "grib"}
        Which format.
    base : str
        The data tree, without a trailing slash.

    Returns
    -------
    str
        ``<base>/<collection>/<year>/<day-of-year, 3 digits>/<file name>``.

    Raises
    ------
    ValueError
        For an unknown product or format, or a time not on the hour.
    """
    when = _utc_hour(when)
    name = nldas_file_name(product, when, fmt)
    return f"{base}/{nldas_collection(product, fmt)}/{when:%Y}/{when:%j}/{name}"


def nldas_hours(year: int) -> list[datetime]:
    """Every hour of a year that has an NLDAS-2 file (UTC; 1979 starts at 13Z).

    Parameters
    ----------
    year : int
        Calendar year, 1979 or later.

    Returns
    -------
    list of datetime.datetime
        24 x 365 or 366 hours (fewer in 1979).

    Raises
    ------
    ValueError
        For a year before the record.
    """
    if year < NLDAS_FIRST_HOUR.year:
        raise ValueError(f"NLDAS-2 starts at {NLDAS_FIRST_HOUR.isoformat()}; there are no files for {year}")
    start = max(datetime(year, 1, 1), NLDAS_FIRST_HOUR)
    n = int((datetime(year + 1, 1, 1) - start).total_seconds() // 3600)
    return [start + timedelta(hours=h) for h in range(n)]


def _index_files(folder: Path, product: str, year: int) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob(f"NLDAS_{product}0125_H.A{year}*")):
        if path.name in found:
            raise RasterDataError(
                f"{folder}: {path.name} is there twice ({found[path.name]} and {path}); keep one copy"
            )
        found[path.name] = path
    return found


def list_nldas_year(folder: str | os.PathLike[str], product: str, year: int, fmt: FileFormat = "netcdf") -> list[Path]:
    """The hourly files of a product and year under a folder, in time order; all of them must be there.

    The files may lie directly in ``folder`` or in any subfolders (e.g. the archive's ``<year>/<day-of-year>/``).

    Parameters
    ----------
    folder : str or os.PathLike
        The folder to search (recursively).
    product : str
        ``"FORA"`` or ``"NOAH"``.
    year : int
        Calendar year.
    fmt : {"netcdf", "grib"}
        Which format's file names to look for.

    Returns
    -------
    list of pathlib.Path
        One file per hour of :func:`nldas_hours`.

    Raises
    ------
    RasterDataError
        When the folder does not exist, a file is there twice, or any hour is missing (the message names the
        folder, how many are missing and the first few).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RasterDataError(f"{folder}: NLDAS folder not found; check the path or download the {year} files")
    found = _index_files(folder, _check_product(product), year)
    hours = nldas_hours(year)
    names = [nldas_file_name(product, h, fmt) for h in hours]
    missing = [name for name in names if name not in found]
    if missing:
        raise RasterDataError(
            f"{folder}: {len(missing)} of {len(names)} hourly NLDAS_{product}0125_H files of {year} are missing "
            f"(first: {', '.join(missing[:3])}); download them from {nldas_collection(product, fmt)} "
            "(Earthdata login) or drop the year"
        )
    return [found[name] for name in names]


# ---------------------------------------------------------------------------------------------------------------
# reading one hour


def read_nldas_hour(path: str | os.PathLike[str], names: Iterable[str], grid: Grid = NLDAS_GRID) -> dict[str, Raster]:
    """Read features of one hourly NLDAS-2 file, GRIB1 (``.grb``) or netCDF-4 (``.nc``/``.nc4``).

    Only the fields the features need are read. Fill values and GRIB bitmap holes become NaN; wind is
    ``sqrt(u**2 + v**2)`` of the 10 m components; rows run north to south (netCDF rows are flipped).

    Parameters
    ----------
    path : str or os.PathLike
        The hourly file. Its format is chosen by suffix: ``.grb``, ``.grb1``, ``.grb2``, ``.grib`` (GRIB1
        messages) or ``.nc``, ``.nc4``.
    names : iterable of str
        Keys of :data:`NLDAS_VARIABLES`, all of the file's product.
    grid : Grid
        The grid the file must be on: :data:`NLDAS_GRID`, or a window of it for small test files.

    Returns
    -------
    dict of str to Raster
        One float32 :class:`Raster` (values: ndarray, shape (rows, cols)) per name, on ``grid``.

    Raises
    ------
    ValueError
        For an unknown feature name or suffix.
    RasterDataError
        When the file is missing, truncated or corrupt, lacks a field, belongs to the other product, or is on
        another grid (one-line message naming the file).
    """
    path = Path(path)
    variables = _features(names)
    _check_file(path, variables)
    suffix = path.suffix.lower()
    sources = list(dict.fromkeys(s for v in variables.values() for s in v.sources))
    if suffix in _GRIB_SUFFIXES:
        fields = _read_grib_fields(path, sources, grid)
    elif suffix in _NETCDF_SUFFIXES:
        fields = _read_netcdf_fields(path, sources, grid)
    else:
        raise ValueError(
            f"{path}: unknown NLDAS file suffix {suffix!r}; use {', '.join(_GRIB_SUFFIXES + _NETCDF_SUFFIXES)}"
        )
    return {name: Raster(_combine(v, fields), grid, path) for name, v in variables.items()}


def _features(names: Iterable[str]) -> dict[str, NldasVariable]:
    names = [names] if isinstance(names, str) else list(names)
    unknown = [n for n in names if n not in NLDAS_VARIABLES]
    if unknown:
        raise ValueError(f"unknown NLDAS feature(s) {unknown}; use keys of NLDAS_VARIABLES: {list(NLDAS_VARIABLES)}")
    if not names:
        raise ValueError("no NLDAS feature names given; pass keys of NLDAS_VARIABLES")
    return {n: NLDAS_VARIABLES[n] for n in names}


def _check_file(path: Path, variables: Mapping[str, NldasVariable]) -> None:
    if not path.is_file():
        raise RasterDataError(f"{path}: NLDAS file not found; check the path or download the hour")
    match = _FILE_RE.search(path.name)
    if match is None:
        return
    wrong = [n for n, v in variables.items() if v.product != match.group(1)]
    if wrong:
        other = variables[wrong[0]].product
        raise RasterDataError(
            f"{path}: is a {match.group(1)} file but {', '.join(wrong)} come from {other} files; "
            f"read them from the NLDAS_{other}0125_H file of the same hour"
        )


def _combine(variable: NldasVariable, fields: Mapping[str, np.ndarray]) -> np.ndarray:
    if variable.is_speed:
        u, v = (fields[s.name] for s in variable.sources)
        return np.hypot(u, v).astype(np.float32)
    return fields[variable.sources[0].name]


def _snapped(found: Grid, expected: Grid, tol_deg: float) -> Grid:
    """``expected`` when ``found`` is the same grid up to the file's coordinate precision, else ``found``."""
    if found.shape != expected.shape:
        return found
    a, b = np.array(tuple(found.transform)[:6]), np.array(tuple(expected.transform)[:6])
    return expected if bool(np.all(np.abs(a - b) <= tol_deg)) else found


def _check_grid(expected: Grid, found: Grid, path: Path, tol_deg: float) -> None:
    """:meth:`Grid.check_same` after snapping ``found`` to ``expected`` within the file's coordinate precision."""
    try:
        expected.check_same(_snapped(found, expected, tol_deg), path)
    except RasterDataError as err:
        raise RasterDataError(
            f"{err}; for a spatial subset of NLDAS-2 pass read_nldas_hour(..., grid=NLDAS_GRID.window(...))"
        ) from None


def _missing_fields(path: Path, missing: Sequence[str], present: str) -> RasterDataError:
    return RasterDataError(
        f"{path}: field(s) {', '.join(missing)} not in the file ({present}); a short download also causes this: "
        "check the product and re-download the hour"
    )


# GRIB1 ---------------------------------------------------------------------------------------------------------


def _scan_grib1(path: Path) -> list[tuple[int, int, int]]:
    """``(param, level_type, level)`` of every GRIB1 message, in file order; checks each message is complete."""
    size = path.stat().st_size
    keys: list[tuple[int, int, int]] = []
    with path.open("rb") as f:
        offset = 0
        while offset + 4 <= size:
            f.seek(offset)
            head = f.read(20)
            if head[:4] != b"GRIB":
                if keys and not head.strip(b"\0"):
                    break  # zero padding after the last message
                raise RasterDataError(
                    f"{path}: no GRIB message at byte {offset} (corrupt or not a GRIB file); download it again"
                )
            if len(head) < 8 or head[7] != 1:
                edition = head[7] if len(head) >= 8 else "?"
                raise RasterDataError(
                    f"{path}: GRIB edition {edition} message at byte {offset}; NLDAS-2 GRIB files are GRIB1: "
                    "use the archive's .002.grb file or the netCDF (.020.nc) file"
                )
            end = offset + int.from_bytes(head[4:7], "big")
            f.seek(end - 4)
            if len(head) < 20 or end > size or f.read(4) != b"7777":
                raise RasterDataError(
                    f"{path}: GRIB message {len(keys) + 1} at byte {offset} is cut off or corrupt (file has {size} "
                    "bytes); the download is incomplete: download the hour again"
                )
            keys.append((head[16], head[17], int.from_bytes(head[18:20], "big")))
            offset = end
    if not keys:
        raise RasterDataError(f"{path}: empty GRIB file; download the hour again")
    return keys


def _grib_grid(dataset: rasterio.io.DatasetReader, path: Path) -> Grid:
    if dataset.crs is None or not dataset.crs.is_geographic:
        raise RasterDataError(
            f"{path}: GRIB grid is not geographic lat/lon ({dataset.crs}); this is not an NLDAS-2 file"
        )
    return Grid(NLDAS_GRID.crs, dataset.transform, (int(dataset.height), int(dataset.width)))


def _read_grib_fields(path: Path, sources: Sequence[NldasSource], grid: Grid) -> dict[str, np.ndarray]:
    keys = _scan_grib1(path)
    band = {key: i + 1 for i, key in reversed(list(enumerate(keys)))}  # first message wins
    missing = [f"{s.grib.element} {s.grib.gdal_level} ({s.name})" for s in sources if s.grib.key not in band]
    if missing:
        raise _missing_fields(path, missing, f"it holds {len(keys)} GRIB message(s)")
    try:
        with rasterio.Env(GRIB_NORMALIZE_UNITS="NO"), rasterio.open(path) as ds:
            if ds.count != len(keys):
                raise RasterDataError(
                    f"{path}: GDAL decodes {ds.count} bands from {len(keys)} GRIB messages; the file is corrupt: "
                    "download the hour again"
                )
            _check_grid(grid, _grib_grid(ds, path), path, _GRIB_TOL_DEG)
            return {s.name: _masked_to_nan(ds.read(band[s.grib.key], masked=True)) for s in sources}
    except RasterioError as err:
        raise RasterDataError(
            f"{path}: GDAL cannot decode the GRIB file ({one_line(err)}); download the hour again"
        ) from err


def _masked_to_nan(values: np.ma.MaskedArray) -> np.ndarray:
    return np.ma.filled(values.astype(np.float32), np.float32(np.nan))


# netCDF --------------------------------------------------------------------------------------------------------


def _open_netcdf(path: Path) -> xr.Dataset:
    try:
        return xr.open_dataset(path, engine="h5netcdf", decode_times=False, mask_and_scale=True)
    except (OSError, ValueError, RuntimeError) as err:
        raise RasterDataError(
            f"{path}: not a readable netCDF-4 file, truncated or corrupt ({one_line(err)}); download the hour again"
        ) from err


def _axis(ds: xr.Dataset, name: str, path: Path) -> np.ndarray:
    if name not in ds.variables or ds[name].ndim != 1 or ds[name].size < 1:
        raise RasterDataError(f"{path}: no 1-D '{name}' coordinate; this is not an NLDAS-2 netCDF file")
    return np.asarray(ds[name].values, dtype=np.float64)


def _step(values: np.ndarray, default: float, name: str, path: Path) -> float:
    if values.size == 1:
        return default
    steps = np.diff(values)
    if not np.allclose(steps, steps[0], atol=_NETCDF_TOL_DEG, rtol=0.0) or steps[0] == 0:
        raise RasterDataError(f"{path}: '{name}' is not evenly spaced; this is not an NLDAS-2 netCDF file")
    return float(steps[0])


def _netcdf_grid(ds: xr.Dataset, path: Path, expected: Grid) -> tuple[Grid, bool]:
    """The file's north-up grid and whether its rows must be flipped (latitude stored ascending)."""
    lat, lon = _axis(ds, "lat", path), _axis(ds, "lon", path)
    dx = _step(lon, expected.transform.a, "lon", path)
    dy = _step(lat, -expected.transform.e, "lat", path)
    if dx < 0:
        raise RasterDataError(f"{path}: longitudes run east to west; this is not an NLDAS-2 netCDF file")
    transform = Affine(dx, 0.0, lon[0] - dx / 2, 0.0, -abs(dy), lat.max() + abs(dy) / 2)
    return Grid(NLDAS_GRID.crs, transform, (lat.size, lon.size)), dy > 0


def _netcdf_field(ds: xr.Dataset, name: str, flip: bool, path: Path) -> np.ndarray:
    da = ds[name]
    if da.dims[-2:] != ("lat", "lon") or any(da.sizes[d] != 1 for d in da.dims[:-2]):
        raise RasterDataError(
            f"{path}: '{name}' has dimensions {dict(da.sizes)}, not one hour of (time, lat, lon); "
            "pass one hourly NLDAS-2 file"
        )
    try:
        values = np.asarray(da.values, dtype=np.float32).reshape(da.shape[-2:])
    except (OSError, ValueError, RuntimeError) as err:
        raise RasterDataError(
            f"{path}: cannot read '{name}' ({one_line(err)}); the file is truncated or corrupt: download it again"
        ) from err
    return values[::-1].copy() if flip else values


def _read_netcdf_fields(path: Path, sources: Sequence[NldasSource], grid: Grid) -> dict[str, np.ndarray]:
    with _open_netcdf(path) as ds:
        missing = [s.name for s in sources if s.name not in ds.data_vars]
        if missing:
            raise _missing_fields(path, missing, f"it holds {', '.join(map(str, ds.data_vars))}")
        found, flip = _netcdf_grid(ds, path, grid)
        _check_grid(grid, found, path, _NETCDF_TOL_DEG)
        return {s.name: _netcdf_field(ds, s.name, flip, path) for s in sources}


# ---------------------------------------------------------------------------------------------------------------
# writers (tests, synthetic demo)


def _check_fields(product: str, fields: Mapping[str, np.ndarray], grid: Grid) -> dict[str, np.ndarray]:
    _check_product(product)
    if not fields:
        raise ValueError("no fields to write; pass {netCDF variable name: array} of NLDAS_SOURCES")
    out: dict[str, np.ndarray] = {}
    for name, values in fields.items():
        source = NLDAS_SOURCES.get(name)
        if source is None or source.product != product:
            known = [s.name for s in NLDAS_SOURCES.values() if s.product == product]
            raise ValueError(f"{name!r} is not a stored {product} field; use one of {known}")
        array = np.asarray(values, dtype=np.float32)
        if array.shape != grid.shape:
            raise ValueError(f"field {name!r} has shape {array.shape}, the grid is {grid.shape}")
        out[name] = array
    if not grid.pyproj_crs.is_geographic:
        raise ValueError(f"NLDAS files are on a geographic lat/lon grid, not {grid.crs}")
    return out


def _centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """Cell-centre latitudes (ascending, south first) and longitudes (west first) of a north-up grid."""
    t, (rows, cols) = grid.transform, grid.shape
    lon = t.c + (np.arange(cols) + 0.5) * t.a
    lat = t.f + (np.arange(rows)[::-1] + 0.5) * t.e
    return lat, lon


def write_nldas_netcdf(
    path: str | os.PathLike[str],
    product: str,
    when: datetime,
    fields: Mapping[str, np.ndarray],
    grid: Grid = NLDAS_GRID,
) -> Path:
    """Write one hour in the layout of the archive's netCDF-4 (version 2.0) files.

    Dimensions (time=1, lat, lon) with latitude ascending (south first), float32 variables named as in the
    archive with ``units``/``long_name``/``standard_name``, ``_FillValue`` = ``missing_value`` = -9999 for NaN,
    ``time`` in hours since 1979-01-01 with ``time_bnds`` [hour, hour + 1]. The attribute set and time encoding
    are modelled on the archive's, not copied from a real file.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.nc``); overwritten.
    product : str
        ``"FORA"`` or ``"NOAH"``.
    when : datetime.datetime
        The hour (UTC), on the hour.
    fields : mapping of str to ndarray, shape (rows, cols)
        Stored fields by netCDF variable name (keys of :data:`NLDAS_SOURCES` of ``product``), north-up, NaN for
        no data.
    grid : Grid
        :data:`NLDAS_GRID` or a window of it.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For an unknown product, field or time, a field of the wrong shape, or a projected grid.
    """
    path, when = Path(path), _utc_hour(when)
    arrays = _check_fields(product, fields, grid)
    lat, lon = _centres(grid)
    hours = (when - _NETCDF_EPOCH).total_seconds() / 3600
    time_attrs = {"standard_name": "time", "units": "hours since 1979-01-01 00:00:00", "calendar": "standard"}
    coords = {
        "time": ("time", [hours], {**time_attrs, "bounds": "time_bnds"}),
        "lat": ("lat", lat.astype(np.float32), {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}),
        "lon": ("lon", lon.astype(np.float32), {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}),
    }
    data_vars = {name: (("time", "lat", "lon"), a[::-1][np.newaxis], _cf_attrs(name)) for name, a in arrays.items()}
    data_vars["time_bnds"] = (("time", "bnds"), [[hours, hours + 1.0]], {})
    attrs = {
        "Conventions": "CF-1.8",
        "title": f"NLDAS {product} hourly 0.125 x 0.125 degree V2.0 layout (written by seqstruct, synthetic)",
        "missing_value": np.float32(NLDAS_FILL_VALUE),
    }
    fill = np.float32(NLDAS_FILL_VALUE)
    encoding: dict[str, dict[str, object]] = {n: {"_FillValue": fill, "missing_value": fill} for n in arrays}
    encoding.update({n: {"_FillValue": None} for n in ("time", "lat", "lon", "time_bnds")})
    xr.Dataset(data_vars, coords, attrs).to_netcdf(path, engine="h5netcdf", encoding=encoding)
    return path


def _cf_attrs(name: str) -> dict[str, str]:
    source = NLDAS_SOURCES[name]
    attrs = {"units": source.units, "long_name": source.long_name}
    if source.standard_name:
        attrs["standard_name"] = source.standard_name
    return attrs


def write_nldas_grib(
    path: str | os.PathLike[str],
    product: str,
    when: datetime,
    fields: Mapping[str, np.ndarray],
    grid: Grid = NLDAS_GRID,
) -> Path:
    """Write one hour as GRIB1 messages like the archive's ``.002.grb`` files (pure Python, no GRIB library).

    One message per field: NCEP centre 7, parameter table 130, the field's parameter number, level type and
    level; a lat/lon grid description scanned west to east and south to north with corners in millidegrees
    (-124.938, 25.063 for the full grid); a bitmap where values are NaN; simple packing with 24 bits per value
    (so values round-trip to about 1e-7 of each field's range). Accumulated fields carry time range 0-1 h
    (indicator 4), the others are instantaneous. The packing width and the generating-process / sub-centre octets
    are this writer's choices, not the archive's. GDAL could only have written GRIB2, hence this encoder.

    Parameters
    ----------
    path : str or os.PathLike
        Output file (``.grb``); overwritten.
    product : str
        ``"FORA"`` or ``"NOAH"``.
    when : datetime.datetime
        The hour (UTC), on the hour: the reference time of every message.
    fields : mapping of str to ndarray, shape (rows, cols)
        Stored fields by netCDF variable name (keys of :data:`NLDAS_SOURCES` of ``product``), north-up, NaN for
        no data.
    grid : Grid
        :data:`NLDAS_GRID` or a window of it (cell sizes in whole millidegrees).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For an unknown product, field or time, a field of the wrong shape, a projected grid, or a cell size that
        GRIB1 cannot store.
    """
    path, when = Path(path), _utc_hour(when)
    arrays = _check_fields(product, fields, grid)
    gds = _grib_gds(grid)
    messages = [
        _grib_message(_grib_pds(NLDAS_SOURCES[name], when, bool(np.isnan(a).any())), gds, a)
        for name, a in arrays.items()
    ]
    path.write_bytes(b"".join(messages))
    return path


def _millideg(value: float) -> int:
    """Millidegrees, halves rounded away from zero (-124.9375 -> -124938, 25.0625 -> 25063, as in NLDAS)."""
    return int(math.copysign(math.floor(abs(value) * 1000 + 0.5), value))


def _sign_magnitude(value: int, nbytes: int) -> bytes:
    top = 1 << (8 * nbytes - 1)
    if abs(value) >= top:
        raise ValueError(f"{value} does not fit a {nbytes}-byte GRIB1 signed field")
    return (abs(value) | (top if value < 0 else 0)).to_bytes(nbytes, "big")


def _grib_pds(source: NldasSource, when: datetime, has_bitmap: bool) -> bytes:
    century = (when.year - 1) // 100 + 1
    year_of_century = when.year - (century - 1) * 100
    p2, indicator = (1, 4) if source.accumulated else (0, 0)
    return (
        (28).to_bytes(3, "big")
        + bytes([_GRIB_TABLE, _GRIB_CENTRE, 0, 255, 0x80 | (0x40 if has_bitmap else 0)])
        + bytes([source.grib.param, source.grib.level_type])
        + source.grib.level.to_bytes(2, "big")
        + bytes([year_of_century, when.month, when.day, when.hour, 0, 1, 0, p2, indicator])
        + bytes([0, 0, 0, century, 0])
        + _sign_magnitude(0, 2)  # decimal scale factor
    )


def _grib_gds(grid: Grid) -> bytes:
    t, (rows, cols) = grid.transform, grid.shape
    steps = [t.a * 1000, -t.e * 1000]
    if any(abs(s - round(s)) > 1e-9 or not 0 < round(s) < 65536 for s in steps):
        raise ValueError(f"GRIB1 stores cell sizes in whole millidegrees; {t.a}, {-t.e} degrees is not one")
    lat, lon = _centres(grid)
    corners = [_millideg(lat[0]), _millideg(lon[0]), _millideg(lat[-1]), _millideg(lon[-1])]
    return (
        (32).to_bytes(3, "big")
        + bytes([0, 255, 0])  # no vertical coordinates, lat/lon grid
        + struct.pack(">HH", cols, rows)
        + _sign_magnitude(corners[0], 3)
        + _sign_magnitude(corners[1], 3)
        + bytes([0x80])  # increments given, spherical earth
        + _sign_magnitude(corners[2], 3)
        + _sign_magnitude(corners[3], 3)
        + struct.pack(">HH", round(steps[0]), round(steps[1]))
        + bytes([0x40])  # west to east, south to north, rows consecutive
        + bytes(4)
    )


def _even(section: bytes) -> tuple[bytes, int]:
    """Pad a section to an even length; returns it and the number of padding bits."""
    return (section + b"\0", 8) if len(section) % 2 else (section, 0)


def _grib_message(pds: bytes, gds: bytes, values: np.ndarray) -> bytes:
    south_first = values[::-1].ravel()
    present = ~np.isnan(south_first)
    bms = b""
    if not present.all():
        bitmap = np.packbits(present).tobytes()
        body, pad_bits = _even(bitmap)
        unused = len(bitmap) * 8 - present.size + pad_bits
        bms = (6 + len(body)).to_bytes(3, "big") + bytes([unused]) + bytes(2) + body
    message = pds + gds + bms + _grib_bds(south_first[present].astype(np.float64)) + b"7777"
    return b"GRIB" + (8 + len(message)).to_bytes(3, "big") + b"\x01" + message


def _grib_bds(values: np.ndarray) -> bytes:
    """Binary data section, simple packing: value = reference + packed * 2**scale (no decimal scaling)."""
    if values.size == 0:
        reference, scale, packed, bits = 0.0, 0, b"", 0
    else:
        ibm, reference = _ibm_floor(float(values.min()))
        span = float(values.max()) - reference
        scale = math.ceil(math.log2(span / (2**_GRIB_BITS - 1))) if span > 0 else 0
        codes = np.clip(np.rint((values - reference) / 2.0**scale), 0, 2**_GRIB_BITS - 1).astype(">u4")
        packed, bits = codes.view(np.uint8).reshape(-1, 4)[:, 1:].tobytes(), _GRIB_BITS
    head = _sign_magnitude(scale, 2) + _ibm_floor(reference)[0] + bytes([bits])
    body, pad_bits = _even(bytes(4) + head + packed)  # 4 = length (3) + flags/unused-bits octet
    return (len(body)).to_bytes(3, "big") + bytes([pad_bits & 0x0F]) + body[4:]


def _ibm_floor(value: float) -> tuple[bytes, float]:
    """The largest IBM single-precision float <= ``value`` (GRIB1 reference values): its 4 bytes and its value."""
    if value == 0:
        return bytes(4), 0.0
    magnitude = abs(value)
    exponent = math.floor(math.log(magnitude, 16)) + 1
    while magnitude >= 16.0**exponent:
        exponent += 1
    while magnitude < 16.0 ** (exponent - 1):
        exponent -= 1
    scaled = magnitude / 16.0**exponent * 2**24
    mantissa = math.floor(scaled) if value > 0 else math.ceil(scaled)
    if mantissa >= 2**24:
        mantissa, exponent = mantissa >> 4, exponent + 1
    if not 0 <= exponent + 64 < 128:
        raise ValueError(f"{value} is out of the IBM float range of GRIB1")
    sign = 0x80 if value < 0 else 0
    decoded = math.copysign(mantissa / 2**24 * 16.0**exponent, value)
    return bytes([sign | (exponent + 64)]) + mantissa.to_bytes(3, "big"), decoded
