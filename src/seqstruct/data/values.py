"""Domain-neutral checks of numeric input: real floats, finite values, plausible ranges, dropped shares, CRS areas.

Every check raises a one-line error ``"<where>: <problem>; <fix>"``. ``where`` names the file (and the array or
field in it), ``fix`` says what to do; both come from the caller, which knows the file and the domain. The error
class is a keyword argument (default :class:`~seqstruct.common.errors.InputError`) so that a domain's loader can
raise its own subclass, e.g.::

    data = check_real_array(raw, f"{path} (array 'data')", error=MyDataError)
    check_finite(data, f"{path} (array 'data')", error=MyDataError)
    check_ranges(data, {"tmax": [3, 4]}, {"tmax": Bounds(-60, 60, "degC")}, str(path), error=MyDataError)

Plausible ranges (:class:`Bounds`) are declared by each domain next to its column layout; they are deliberately
wide (physically possible values, with a margin) so that they catch wrong units, wrong columns and corrupt
numbers such as ``1e9``, never unusual but real data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from seqstruct.common.errors import InputError

if TYPE_CHECKING:
    import pyproj

ErrorType = type[Exception]

DTYPE_FIX = "re-export the array as float64 or re-fetch the file"
FINITE_FIX = "the file must have no NaN/inf - re-fetch it"
RANGE_FIX = "wrong units or column layout, or a corrupt file - fix the values or re-fetch the file"
DROPPED_FIX = "check that the input files belong together, or raise the allowed share"
CRS_FIX = "the coordinates contradict the declared CRS - restore the file's own .prj or re-fetch it"

_KIND_TEXT = {  # dtype kind -> (what the array holds, why that is refused)
    "c": ("complex numbers", " (the imaginary part would be lost)"),
    "i": ("integers", " (an integer array has lost its fractional part)"),
    "u": ("unsigned integers", " (an integer array has lost its fractional part)"),
    "b": ("booleans", ""),
    "O": ("pickled Python objects", ""),
    "U": ("strings", ""),
    "S": ("byte strings", ""),
    "V": ("structured records", ""),
    "M": ("datetimes", ""),
    "m": ("timedeltas", ""),
}


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclass(frozen=True)
class Bounds:
    """Plausible values of one variable: an interval (closed unless marked open) and its units.

    Attributes
    ----------
    lo, hi : float
        Lower and upper bound (``-inf`` / ``inf`` for a one-sided range).
    units : str
        Units of the variable, shown in error messages (e.g. ``"degC"``, ``"bu/acre"``).
    lo_open, hi_open : bool
        Exclude the bound itself (``Bounds(0, 150, "bu/acre", lo_open=True)`` is ``0 < y <= 150``).
    """

    lo: float
    hi: float
    units: str
    lo_open: bool = False
    hi_open: bool = False

    def __post_init__(self) -> None:
        if math.isnan(self.lo) or math.isnan(self.hi) or not self.lo < self.hi:
            raise ValueError(f"Bounds: need lo < hi, got lo={self.lo!r}, hi={self.hi!r}")

    def contains(self, values: ArrayLike) -> np.ndarray:
        """Boolean array: which ``values`` lie inside the range (NaN never does)."""
        v = np.asarray(values, dtype=np.float64)
        above = v > self.lo if self.lo_open else v >= self.lo
        below = v < self.hi if self.hi_open else v <= self.hi
        return above & below

    def __str__(self) -> str:
        left = "(" if self.lo_open else "["
        right = ")" if self.hi_open else "]"
        return f"{left}{_fmt(self.lo)}, {_fmt(self.hi)}{right} {self.units}".rstrip()


def _position(index: tuple[int, ...]) -> str:
    if len(index) == 1:
        return f"index {index[0]}"
    if len(index) == 2:
        return f"row {index[0]}, column {index[1]}"
    return f"position {tuple(int(i) for i in index)}"


def check_real_dtype(dtype: np.dtype[Any], where: str, *, fix: str = DTYPE_FIX, error: ErrorType = InputError) -> None:
    """Refuse any dtype that is not a real floating-point type (complex, integer, bool, object, strings ...).

    Parameters
    ----------
    dtype : numpy.dtype
        The dtype to check (e.g. read from a ``.npy`` header before loading the array).
    where : str
        The file (and array) the values come from, the start of the message.
    fix : str
        What to do about it, the end of the message.
    error : type
        Exception class to raise.

    Raises
    ------
    Exception
        ``error`` if ``dtype`` is not floating point.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return
    what, why = _KIND_TEXT.get("O" if dtype.hasobject else dtype.kind, ("values", ""))
    raise error(f"{where}: holds {what} (dtype {dtype}), expected real floats{why}; {fix}")


def check_real_array(arr: ArrayLike, where: str, *, fix: str = DTYPE_FIX, error: ErrorType = InputError) -> np.ndarray:
    """Return ``arr`` as float64 if it holds real floating-point numbers; refuse every other dtype.

    An integer array is refused too: a float quantity stored as integers has lost its fractional part.

    Parameters
    ----------
    arr : array-like
        The values (any shape).
    where, fix, error
        As in :func:`check_real_dtype`.

    Returns
    -------
    numpy.ndarray
        ``arr`` as float64 (no copy if it already is).

    Raises
    ------
    Exception
        ``error`` on a non-floating dtype.
    """
    a = np.asarray(arr)
    check_real_dtype(a.dtype, where, fix=fix, error=error)
    return a.astype(np.float64, copy=False)


def check_finite(arr: ArrayLike, where: str, *, fix: str = FINITE_FIX, error: ErrorType = InputError) -> None:
    """Refuse NaN and +-inf; the message gives their number and the position of the first one.

    Parameters
    ----------
    arr : array-like
        Real values (any shape; positions are given as row/column for 2-D arrays).
    where, fix, error
        As in :func:`check_real_dtype`.

    Raises
    ------
    Exception
        ``error`` if any value is not finite.
    """
    a = np.asarray(arr, dtype=np.float64)
    bad = ~np.isfinite(a)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise error(f"{where}: {int(bad.sum())} non-finite values (first at {_position(first)}); {fix}")


def check_ranges(
    arr: ArrayLike,
    columns: Mapping[str, int | Sequence[int] | slice | np.ndarray],
    ranges: Mapping[str, Bounds],
    where: str,
    *,
    fix: str = RANGE_FIX,
    error: ErrorType = InputError,
) -> None:
    """Check that each variable's columns of a 2-D array lie within the variable's plausible range.

    Parameters
    ----------
    arr : array-like, shape (rows, columns)
        Real values.
    columns : mapping
        Variable name -> its column(s) in ``arr`` (an index, a list of indices or a slice).
    ranges : mapping
        Variable name -> :class:`Bounds`; every variable of ``columns`` needs one.
    where, fix, error
        As in :func:`check_real_dtype`.

    Raises
    ------
    Exception
        ``error`` naming the variable, row, column and value of the first bad value (lowest row, then lowest
        column), the range with its units, and how many values are out of range in which variables.
    ValueError
        A variable of ``columns`` has no range (a bug in the caller's declarations, not bad input).
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"check_ranges needs a 2-D array, got shape {a.shape}")
    missing = [name for name in columns if name not in ranges]
    if missing:
        raise ValueError(f"no plausible range declared for variable(s) {missing}")
    first: tuple[int, int, str] | None = None
    n_bad, bad_vars = 0, []
    for name, cols in columns.items():
        idx = np.arange(a.shape[1])[cols].reshape(-1)
        bad = ~ranges[name].contains(a[:, idx])
        if not bad.any():
            continue
        n_bad += int(bad.sum())
        bad_vars.append(name)
        r, k = (int(i) for i in np.argwhere(bad)[0])
        if first is None or (r, int(idx[k])) < first[:2]:
            first = (r, int(idx[k]), name)
    if first is None:
        return
    r, c, name = first
    shown = ", ".join(bad_vars[:5]) + (", ..." if len(bad_vars) > 5 else "")
    raise error(
        f"{where}: {name} = {_fmt(a[r, c])} at row {r}, column {c} is outside its plausible range "
        f"{ranges[name]} ({n_bad} value{'' if n_bad == 1 else 's'} out of range, in {shown}); {fix}"
    )


def check_dropped_share(
    n_dropped: int,
    n_total: int,
    max_share: float,
    where: str,
    *,
    what: str = "rows",
    detail: str = "",
    fix: str = DROPPED_FIX,
    error: ErrorType = InputError,
) -> float:
    """Refuse to silently drop more than ``max_share`` of the input (a sign of mismatched files).

    Parameters
    ----------
    n_dropped, n_total : int
        Items dropped, and items in the input (``0 <= n_dropped <= n_total``).
    max_share : float
        Largest allowed share ``n_dropped / n_total``, in [0, 1]; dropping exactly this share passes.
    where : str
        The input, the start of the message.
    what : str
        What the items are, e.g. ``"rows"``.
    detail : str
        Why they are dropped, appended to the problem (e.g. ``": their ids are not in loc.csv"``).
    fix, error
        As in :func:`check_real_dtype`.

    Returns
    -------
    float
        The dropped share (0.0 for an empty input).

    Raises
    ------
    Exception
        ``error`` if the share is above ``max_share``.
    ValueError
        ``max_share`` outside [0, 1] or inconsistent counts.
    """
    if not 0.0 <= max_share <= 1.0:
        raise ValueError(f"max_share must be in [0, 1], got {max_share!r}")
    if not 0 <= n_dropped <= n_total:
        raise ValueError(f"need 0 <= n_dropped <= n_total, got {n_dropped} and {n_total}")
    share = n_dropped / n_total if n_total else 0.0
    if share > max_share:
        raise error(
            f"{where}: {n_dropped} of {n_total} {what} ({share:.1%}) dropped, more than the allowed "
            f"{max_share:.1%}{detail}; {fix}"
        )
    return share


@dataclass(frozen=True)
class LonLatBox:
    """A lon/lat box in degrees; ``west > east`` means it crosses the antimeridian.

    Attributes
    ----------
    west, south, east, north : float
        Edges in degrees (longitudes in -180..180).
    name : str
        What the box is, shown in error messages (e.g. "the area of use of CRS 'NAD83'").
    """

    west: float
    south: float
    east: float
    north: float
    name: str

    def contains(self, lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
        """Boolean array: which points lie inside (edges included; NaN never does)."""
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
        in_lat = (y >= self.south) & (y <= self.north)
        if self.west <= self.east:
            in_lon = (x >= self.west) & (x <= self.east)
        else:
            in_lon = ((x >= self.west) & (x <= 180.0)) | ((x >= -180.0) & (x <= self.east))
        return in_lat & in_lon

    def __str__(self) -> str:
        return f"{self.name} (lon {_fmt(self.west)}..{_fmt(self.east)}, lat {_fmt(self.south)}..{_fmt(self.north)})"


def crs_area(crs: Any) -> LonLatBox:
    """The area of use of a CRS as a :class:`LonLatBox` (the whole globe when the CRS declares none).

    A CRS read from an ESRI ``.prj`` often carries no area of use; then the EPSG code it matches is asked. A
    CRS with neither (a custom definition) gets lon -180..180, lat -90..90, so that only impossible
    coordinates are refused.

    Parameters
    ----------
    crs : anything ``pyproj.CRS.from_user_input`` accepts
        E.g. a ``pyproj.CRS``, ``"EPSG:4269"``, ``4269``, a WKT string.

    Returns
    -------
    LonLatBox
    """
    import pyproj

    c: pyproj.CRS = pyproj.CRS.from_user_input(crs)
    area = c.area_of_use
    if area is None:
        code = c.to_epsg()
        if code is not None:
            area = pyproj.CRS.from_epsg(code).area_of_use
    label = f"the area of use of CRS {c.name!r}"
    if area is None:
        return LonLatBox(-180.0, -90.0, 180.0, 90.0, f"the bounds of CRS {c.name!r}")
    return LonLatBox(area.west, area.south, area.east, area.north, label)


def check_points_in_area(
    lon: ArrayLike,
    lat: ArrayLike,
    area: LonLatBox,
    where: str,
    *,
    labels: Sequence[object] | None = None,
    fix: str = CRS_FIX,
    error: ErrorType = InputError,
) -> None:
    """Check that points (lon/lat degrees) are finite and inside ``area``.

    Parameters
    ----------
    lon, lat : array-like, shape (n,)
        Longitudes and latitudes in degrees.
    area : LonLatBox
        Where the points must lie.
    where, fix, error
        As in :func:`check_real_dtype`.
    labels : sequence, optional
        A name for each point, used in the message (default ``point <i>``).

    Raises
    ------
    Exception
        ``error`` naming the first non-finite point, else the first point outside ``area``.
    """
    x = np.asarray(lon, dtype=np.float64).reshape(-1)
    y = np.asarray(lat, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"lon and lat differ in length: {x.shape[0]} and {y.shape[0]}")

    def name(i: int) -> str:
        return str(labels[i]) if labels is not None else f"point {i}"

    finite = np.isfinite(x) & np.isfinite(y)
    if not finite.all():
        i = int(np.argmin(finite))
        raise error(f"{where}: {int((~finite).sum())} of {x.size} points are not finite (e.g. {name(i)}); {fix}")
    inside = area.contains(x, y)
    if not inside.all():
        i = int(np.argmin(inside))
        raise error(
            f"{where}: {int((~inside).sum())} of {x.size} points fall outside {area}, e.g. {name(i)} at "
            f"lon {x[i]:.4f}, lat {y[i]:.4f}; {fix}"
        )


def check_points_in_crs(
    lon: ArrayLike,
    lat: ArrayLike,
    crs: Any,
    where: str,
    *,
    labels: Sequence[object] | None = None,
    fix: str = CRS_FIX,
    error: ErrorType = InputError,
) -> None:
    """Check that points (lon/lat degrees) are finite and inside the area of use of ``crs`` (:func:`crs_area`).

    A ``.prj`` that contradicts the coordinates (metres read as degrees, degrees read as metres) turns
    derived points such as centroids into NaN or moves them far outside the area the CRS is defined for.

    Parameters
    ----------
    lon, lat : array-like, shape (n,)
        Longitudes and latitudes in degrees (of any geographic CRS; datum shifts of metres do not matter).
    crs : anything ``pyproj.CRS.from_user_input`` accepts
        The CRS the data declares.
    where, labels, fix, error
        As in :func:`check_points_in_area`.

    Raises
    ------
    Exception
        As in :func:`check_points_in_area`.
    """
    check_points_in_area(lon, lat, crs_area(crs), where, labels=labels, fix=fix, error=error)
