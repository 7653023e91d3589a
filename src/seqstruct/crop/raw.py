"""Validated readers of the raw crop files: the Khaki ``.npz`` array, the loc_ID table, the state abbreviations.

Every problem with an input file raises :class:`CropDataError` with a one-line message that names the file,
says what is wrong and what to do about it.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from seqstruct.common.errors import InputError
from seqstruct.crop.layout import KHAKI_SOYBEAN, ColumnLayout
from seqstruct.data.values import check_finite, check_ranges, check_real_array, check_real_dtype

YEAR_RANGE = (1900, 2100)
"""Plausible calendar years; a year outside this range means a wrong column layout."""

_DTYPE_FIX = "write the values as a real float64 array (numpy.savez) or re-fetch the file"


class CropDataError(InputError, ValueError):
    """A raw or prepared crop file is missing, unreadable or inconsistent (one-line message: file, problem, fix)."""


def one_line(text: object) -> str:
    """Collapse whitespace (newlines included) so that an error message stays on one line."""
    return " ".join(str(text).split())


def _require_file(path: Path, what: str) -> None:
    if not path.is_file():
        raise CropDataError(
            f"{path}: {what} not found; check the path or fetch the crop data (data rule / SEQSTRUCT_DATA_MIRROR)"
        )


def _unreadable(path: Path, exc: BaseException) -> CropDataError:
    return CropDataError(
        f"{path} is not a readable .npz (truncated download?) — delete it and rerun "
        f"[{type(exc).__name__}: {one_line(exc)}]"
    )


def _npy_header_dtype(fh: IO[bytes]) -> np.dtype[Any] | None:
    """The dtype in the header of a ``.npy`` stream, without loading the data (None for an unknown version)."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(fh)[2]
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(fh)[2]
    return None


def _member_dtype(npz: np.lib.npyio.NpzFile, key: str) -> np.dtype[Any] | None:
    """The dtype of array ``key`` of an open ``.npz``, read from its ``.npy`` header."""
    names = npz.zip.namelist()
    member = f"{key}.npy" if f"{key}.npy" in names else key
    with npz.zip.open(member) as fh:
        return _npy_header_dtype(fh)


def _bare_npy_dtype(path: Path) -> np.dtype[Any] | None:
    """The dtype of a bare ``.npy`` file, or None if it is not one (or its header is unreadable)."""
    try:
        with open(path, "rb") as fh:
            return _npy_header_dtype(fh)
    except (ValueError, OSError, EOFError):
        return None


def load_khaki_npz(path: str | os.PathLike[str], layout: ColumnLayout = KHAKI_SOYBEAN) -> np.ndarray:
    """Load and validate the county-year array ``data`` of a Khaki-style ``.npz`` file.

    Checks: the file is a readable ``.npz`` with key ``data``; the array holds real floats (not complex,
    integer, bool, strings or pickled objects; an object array is never unpickled); it is 2-D with
    ``layout.n_columns`` columns; every value is finite; id and year are integers; years lie in 1900-2100;
    yields are positive; every variable lies in its plausible range (``layout.ranges``, see
    :data:`seqstruct.crop.layout.KHAKI_SOYBEAN_RANGES`); no (id, year) pair occurs twice.

    Parameters
    ----------
    path : path-like
        The ``.npz`` file (e.g. ``soybean_data.npz``).
    layout : ColumnLayout
        Column layout of the array.

    Returns
    -------
    numpy.ndarray
        float64 array of shape (rows, layout.n_columns), rows in file order.

    Raises
    ------
    CropDataError
        On any of the problems above.
    """
    path = Path(path)
    where = f"{path} (array 'data')"
    _require_file(path, "crop data file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        dtype = _bare_npy_dtype(path)
        if dtype is not None and dtype.hasobject:
            check_real_dtype(dtype, str(path), fix=_DTYPE_FIX, error=CropDataError)
        raise _unreadable(path, exc) from exc
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise CropDataError(f"{path}: holds a bare array, not a .npz archive with key 'data'; re-fetch the file")
    with npz:
        if "data" not in npz.files:
            raise CropDataError(
                f"{path}: no array 'data' in the archive (found {sorted(npz.files)}); "
                f"this is not a Khaki-style crop file - check the path"
            )
        try:
            dtype = _member_dtype(npz, "data")
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise _unreadable(path, exc) from exc
        if dtype is not None:  # refuse object arrays here: loading them would need pickle
            check_real_dtype(dtype, where, fix=_DTYPE_FIX, error=CropDataError)
        try:
            data = np.asarray(npz["data"])
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise _unreadable(path, exc) from exc

    data = check_real_array(data, where, fix=_DTYPE_FIX, error=CropDataError)
    if data.ndim != 2 or data.shape[1] != layout.n_columns:
        raise CropDataError(
            f"{path}: array 'data' has shape {data.shape}, expected (rows, {layout.n_columns}) for "
            f"layout {layout.name!r}; use the matching layout or re-fetch the file"
        )
    if data.shape[0] == 0:
        raise CropDataError(f"{path}: array 'data' has no rows; re-fetch the file")
    check_finite(data, where, fix="the raw file must have no NaN/inf - re-fetch it", error=CropDataError)
    for col, label in ((layout.id_col, "id"), (layout.year_col, "year")):
        frac = data[:, col] != np.round(data[:, col])
        if frac.any():
            row = int(np.argmax(frac))
            raise CropDataError(
                f"{path}: column {col} ({label}) holds non-integer {data[row, col]!r} at row {row}; "
                f"wrong column layout or corrupt file"
            )
    years = data[:, layout.year_col]
    lo, hi = YEAR_RANGE
    if years.min() < lo or years.max() > hi:
        raise CropDataError(
            f"{path}: years span {years.min():.0f}-{years.max():.0f}, outside {lo}-{hi}; "
            f"wrong column layout (year expected in column {layout.year_col})"
        )
    yields = data[:, layout.yield_col]
    if (yields <= 0).any():
        row = int(np.argmax(yields <= 0))
        raise CropDataError(
            f"{path}: {int((yields <= 0).sum())} non-positive yields (first at row {row}: "
            f"{yields[row]!r}); missing yields must be absent rows, not zeros - fix the file"
        )
    if layout.ranges:
        check_ranges(
            data,
            layout.variable_columns(),
            layout.ranges,
            where,
            fix=f"wrong units, column layout (expected {layout.name!r}) or a corrupt file - fix or re-fetch the file",
            error=CropDataError,
        )
    keys = pd.DataFrame({"id": data[:, layout.id_col].astype(np.int64), "year": years.astype(np.int64)})
    dup = keys.duplicated(keep=False)
    if dup.any():
        pairs = sorted(set(map(tuple, keys[dup].to_numpy().tolist())))
        shown = ", ".join(f"({a}, {b})" for a, b in pairs[:5])
        raise CropDataError(
            f"{path}: {len(pairs)} duplicated (id, year) pairs, e.g. {shown}; "
            f"each county-year must appear once - de-duplicate the file"
        )
    return data


def read_loc_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``State,County,ID_loc`` table (``Soybeans_Loc_ID.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``State`` and ``County`` (lower-case, stripped str) and ``ID_loc`` (int64), file order; other
        columns of the file (e.g. lat/long in the corn table) are kept as they are.

    Raises
    ------
    CropDataError
        If the file is missing or unreadable, a required column is missing, a value is empty, an ``ID_loc`` is
        not an integer, or an ``ID_loc`` repeats.
    """
    path = Path(path)
    _require_file(path, "loc_ID table")
    try:
        df = pd.read_csv(path, dtype={"State": str, "County": str}, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CropDataError(f"{path}: not a readable CSV ({one_line(exc)}); re-fetch the file") from exc
    df.columns = [str(c).strip() for c in df.columns]
    for col in ("State", "County", "ID_loc"):
        if col not in df.columns:
            raise CropDataError(
                f"{path}: missing column {col!r} (found {list(df.columns)}); "
                f"the loc table needs columns State, County, ID_loc"
            )
    for col in ("State", "County"):
        empty = df[col].isna() | (df[col].astype(str).str.strip() == "")
        if empty.any():
            row = int(np.argmax(empty.to_numpy())) + 1
            raise CropDataError(f"{path}: empty {col} at data row {row}; fix the table")
        df[col] = df[col].astype(str).str.strip().str.lower()
    ids = pd.to_numeric(df["ID_loc"], errors="coerce")
    bad = ids.isna() | (ids != ids.round())
    if bad.any():
        row = int(np.argmax(bad.to_numpy()))
        raise CropDataError(
            f"{path}: ID_loc {df['ID_loc'].iloc[row]!r} at data row {row + 1} is not an integer; fix the table"
        )
    df["ID_loc"] = ids.astype(np.int64)
    dup = df["ID_loc"].duplicated()
    if dup.any():
        raise CropDataError(
            f"{path}: ID_loc {int(df['ID_loc'][dup].iloc[0])} appears more than once; "
            f"each loc_ID must name one county - fix the table"
        )
    return df


def read_state_abbrev(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read ``us_county_abbrev.txt``: one state per line, its name then its postal code, whitespace separated.

    Names may contain spaces (``NEW YORK    NY``). Returns ``{lower-case name with single spaces: upper-case code}``,
    e.g. ``{"illinois": "IL", "new york": "NY"}``.

    Raises
    ------
    CropDataError
        If the file is missing, a line has no name or a code that is not two letters, or a name repeats.
    """
    path = Path(path)
    _require_file(path, "state abbreviation file")
    out: dict[str, str] = {}
    text = path.read_text(encoding="latin-1")
    for lineno, line in enumerate(text.splitlines(), start=1):
        parts = line.split()
        if not parts:
            continue
        code = parts[-1]
        if len(parts) < 2 or len(code) != 2 or not code.isalpha():
            raise CropDataError(
                f"{path}:{lineno}: expected '<state name> <2-letter code>', got {line.strip()!r}; fix the line"
            )
        name = " ".join(parts[:-1]).lower()
        if name in out:
            raise CropDataError(f"{path}:{lineno}: state {name!r} listed twice; remove the duplicate line")
        out[name] = code.upper()
    if not out:
        raise CropDataError(f"{path}: no states found; re-fetch the file")
    return out
