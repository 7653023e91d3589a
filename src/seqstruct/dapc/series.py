"""Readers of the real DAPC forecasting series: hourly city temperatures and rat hippocampus spikes + position.

Formats (``shared/data/seq/PROVENANCE.md``):

- temperatures: the Kaggle "Historical Hourly Weather Data" CSV (optionally ``.xz``): a ``datetime`` column
  (``%m/%d/%Y %H:%M``) then one column per city in Kelvin, hourly, with a few NaN.
  :func:`load_temperature` -> values (days, cities) float64, city names, dates (days,).
- spikes: nelpy's ``spikes.mat``, a nested MATLAB cell of struct arrays with fields ``time`` (spike times in s),
  ``timerange`` and ``meanrate``; every struct is one (possibly empty) unit.
  :func:`load_spikes` -> a list of (n_spikes,) float64 arrays, one per non-empty unit.
- position: ``trajectory.videoPositionTracking`` (optionally ``.xz``): an ASCII header ending in
  ``<End settings>\\n``, then little-endian records ``<u4 time, <u2 x1, <u2 y1, <u2 x2, <u2 y2>`` (clock 30 kHz
  unless the header names another ``clockrate``). :func:`load_position` -> times (n,) s, xy (n, 2) pixels.

Binning: :func:`spike_bin_edges` (B + 1,) -> :func:`bin_spikes` (B, units) float32 and :func:`position_at`
(B, 2) float64 on the same edges.

Every malformed input raises :class:`DapcDataError`, a one-line :class:`~seqstruct.common.errors.InputError`
naming the file, the problem and the fix.
"""

from __future__ import annotations

import logging
import lzma
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from seqstruct.common.errors import InputError

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

DATETIME_COLUMN = "datetime"
DATETIME_FORMAT = "%m/%d/%Y %H:%M"
HEADER_END = b"<End settings>\n"
RECORD = np.dtype([("time", "<u4"), ("x1", "<u2"), ("y1", "<u2"), ("x2", "<u2"), ("y2", "<u2")])
CLOCK_HZ = 30000.0
REFETCH = "re-fetch the file (snakemake fetches it) or point SEQSTRUCT_DATA_MIRROR at a good copy"


class DapcDataError(InputError):
    """A DAPC data file (or a prepared series) that cannot be used; the message is one line: file, problem, fix."""


# ----------------------------------------------------------------------------------------------- temperatures


def load_temperature(
    path: PathLike, resample: str = "D", max_gap_hours: float = 24.0, drop_partial: bool = True
) -> tuple[np.ndarray, list[str], pd.DatetimeIndex]:
    """Read the hourly multi-city temperature CSV and return per-period means (daily by default).

    NaN gaps are filled by linear interpolation in time (a gap at either end of a column by its nearest value);
    the number of filled values is logged.

    Parameters
    ----------
    path
        The CSV, plain or ``.xz``.
    resample
        A pandas offset alias of the output period (``"D"`` daily, the thesis' Temp setting).
    max_gap_hours
        The longest run of missing hours that is interpolated; a longer one is an error.
    drop_partial
        Drop a first or last period with fewer rows than the fullest one (the real file starts at 13:00).

    Returns
    -------
    values : ndarray of shape (periods, cities), float64
        Mean temperature in Kelvin.
    cities : list of str
        The city columns, in file order.
    dates : pandas.DatetimeIndex of length periods
        The start of each period.
    """
    frame = _read_temperature_csv(path)
    times = _parse_datetimes(frame[DATETIME_COLUMN], path)
    cities = [str(c) for c in frame.columns if c != DATETIME_COLUMN]
    if not cities:
        raise DapcDataError(f"{path}: no city columns after '{DATETIME_COLUMN}'; the file must be the Kaggle layout")
    hourly = pd.DataFrame({c: _numeric_column(frame[c], c, path) for c in cities})
    hourly.index = times
    filled = _fill_gaps(hourly, path, max_gap_hours)
    grouped = filled.resample(resample)
    means, counts = grouped.mean(), grouped.count().min(axis=1)
    if drop_partial and len(means) > 1:
        keep = np.ones(len(means), bool)
        full = counts.max()
        keep[0], keep[-1] = counts.iloc[0] == full, counts.iloc[-1] == full
        means = means[keep]
    if means.isna().to_numpy().any():
        raise DapcDataError(f"{path}: a {resample} period has no rows (the time stamps jump); {REFETCH}")
    return means.to_numpy(np.float64), cities, pd.DatetimeIndex(means.index)


def _read_temperature_csv(path: PathLike) -> pd.DataFrame:
    if not Path(path).exists():
        raise DapcDataError(f"{path}: no such file; {REFETCH}")
    try:
        frame = pd.read_csv(path)
    except (ValueError, OSError, lzma.LZMAError, UnicodeDecodeError) as exc:
        raise DapcDataError(f"{path}: not a readable CSV ({' '.join(str(exc).split())}); {REFETCH}") from exc
    if DATETIME_COLUMN not in frame.columns:
        raise DapcDataError(
            f"{path}: no '{DATETIME_COLUMN}' column (found {list(frame.columns)[:6]}); "
            "the file must be the Kaggle hourly layout: datetime, then one column per city"
        )
    return frame


def _parse_datetimes(column: pd.Series, path: PathLike) -> pd.DatetimeIndex:
    try:
        times = pd.DatetimeIndex(pd.to_datetime(column, format=DATETIME_FORMAT))
    except (ValueError, TypeError) as exc:
        raise DapcDataError(
            f"{path}: column '{DATETIME_COLUMN}' is not in the format {DATETIME_FORMAT} ({exc}); {REFETCH}"
        ) from exc
    if times.has_duplicates or not times.is_monotonic_increasing:
        raise DapcDataError(f"{path}: the time stamps are not strictly increasing; sort the file or {REFETCH}")
    return times


def _numeric_column(column: pd.Series, name: str, path: PathLike) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
    bad = np.isnan(values) & column.notna().to_numpy()
    if bad.any():
        example = column[bad].iloc[0]
        raise DapcDataError(
            f"{path}: column '{name}' holds non-numeric values such as {example!r} (row {np.flatnonzero(bad)[0] + 2}); "
            "every city column must be a temperature in Kelvin"
        )
    return values


def _fill_gaps(hourly: pd.DataFrame, path: PathLike, max_gap_hours: float) -> pd.DataFrame:
    """Interpolate NaN runs linearly in time, refusing a run longer than ``max_gap_hours``."""
    # hours since the first row (not asi8: its unit follows the index resolution, ns or us)
    times = np.asarray((hourly.index - hourly.index[0]) / pd.Timedelta(hours=1), np.float64)
    out = hourly.copy()
    total = 0
    for name in hourly.columns:
        values = hourly[name].to_numpy()
        missing = np.isnan(values)
        if not missing.any():
            continue
        if missing.all():
            raise DapcDataError(f"{path}: column '{name}' has no values; drop the column or {REFETCH}")
        for start, stop in _runs(missing):
            hours = _gap_hours(times, start, stop)
            if hours > max_gap_hours:
                raise DapcDataError(
                    f"{path}: column '{name}' has a gap of {hours:g} h from {hourly.index[start]} "
                    f"(longer than max_gap_hours={max_gap_hours:g}); raise max_gap_hours or use a complete file"
                )
        good = ~missing
        out[name] = np.interp(times, times[good], values[good])  # clamps (nearest value) at the ends
        total += int(missing.sum())
    if total:
        log.info("%s: interpolated %d missing hourly values", path, total)
    return out


def _gap_hours(times: np.ndarray, start: int, stop: int) -> float:
    """Hours without a value in the NaN run ``[start, stop)``: between the valid neighbours less one hour, or
    the run's own span (plus one hour) at either end of the column."""
    if start > 0 and stop < len(times):
        return float(times[stop] - times[start - 1] - 1.0)
    return float(times[stop - 1] - times[start] + 1.0)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of True in a 1-D boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


# ----------------------------------------------------------------------------------------------------- spikes


def load_spikes(path: PathLike) -> list[np.ndarray]:
    """Spike times (s) of every non-empty unit in a nelpy ``spikes.mat``.

    The file is walked recursively: a cell (object array) is entered element by element in MATLAB order, a
    struct array with a ``time`` field gives one unit per element, a struct without one is entered field by
    field. Units without spikes (MATLAB stores them as empty ``uint8`` arrays) are dropped and counted in the log.

    Parameters
    ----------
    path
        The ``.mat`` file (MATLAB 5 format, as written by MATLAB or ``scipy.io.savemat``).

    Returns
    -------
    list of ndarray of shape (n_spikes,), float64
        The sorted spike times of each non-empty unit, in the order of the file.
    """
    layout = "a nested MATLAB cell of struct arrays with a 'time' field per unit (nelpy spikes.mat)"
    if not Path(path).exists():
        raise DapcDataError(f"{path}: no such file; {REFETCH}")
    try:
        content = scipy.io.loadmat(path, squeeze_me=False)
    except Exception as exc:  # scipy raises ValueError, TypeError, MatReadError... for a file that is not a .mat
        raise DapcDataError(f"{path}: not a readable MATLAB file ({type(exc).__name__}); expected {layout}") from exc
    found: list[np.ndarray] = []
    structs = 0
    for name, value in content.items():
        if not name.startswith("__"):
            structs += _collect_times(value, found, path)
    if structs == 0:
        raise DapcDataError(f"{path}: no struct with a 'time' field anywhere; expected {layout}")
    units = [t for t in found if t.size]
    if not units:
        raise DapcDataError(f"{path}: all {structs} units are empty; expected {layout} with spike times")
    n_spikes = sum(map(len, units))
    log.info("%s: %d units with %d spikes (%d empty units dropped)", path, len(units), n_spikes, structs - len(units))
    return units


def _collect_times(value: object, out: list[np.ndarray], path: PathLike) -> int:
    """Append the ``time`` arrays under ``value`` to ``out``; return how many unit structs were seen."""
    if not isinstance(value, np.ndarray):
        return 0
    if value.dtype.names:
        seen = 0
        for element in value.ravel(order="F"):
            if "time" in value.dtype.names:
                out.append(_unit_times(element["time"], path))
                seen += 1
            else:
                seen += sum(_collect_times(element[f], out, path) for f in value.dtype.names)
        return seen
    if value.dtype == object:
        return sum(_collect_times(element, out, path) for element in value.ravel(order="F"))
    return 0


def _unit_times(raw: object, path: PathLike) -> np.ndarray:
    times = np.asarray(raw)
    if times.dtype.kind not in "fiu":
        raise DapcDataError(f"{path}: a unit's 'time' field holds {times.dtype} values, not numbers; {REFETCH}")
    return np.sort(times.astype(np.float64).ravel())


def spike_bin_edges(
    units: list[np.ndarray], bin_s: float = 0.05, start: float | None = None, stop: float | None = None
) -> np.ndarray:
    """Edges (B + 1,) of bins of ``bin_s`` seconds from ``start`` (default: the first spike) that cover ``stop``
    (default: the last spike); the bins :func:`bin_spikes` counts in."""
    if bin_s <= 0:
        raise ValueError(f"bin_s must be positive, got {bin_s}")
    spiking = [u for u in units if len(u)]
    if (start is None or stop is None) and not spiking:
        raise ValueError("no spikes to take the start or stop from; pass start and stop")
    lo = float(min(u[0] for u in spiking)) if start is None else float(start)
    hi = float(max(u[-1] for u in spiking)) if stop is None else float(stop)
    if hi <= lo:
        raise ValueError(f"stop ({hi}) must be after start ({lo})")
    n = max(1, int(np.ceil((hi - lo) / bin_s - 1e-9)))
    if stop is None and lo + n * bin_s <= hi:  # the last spike must fall inside the half-open last bin
        n += 1
    return lo + bin_s * np.arange(n + 1)


def bin_spikes(
    units: list[np.ndarray],
    bin_s: float = 0.05,
    start: float | None = None,
    stop: float | None = None,
    sqrt: bool = False,
) -> np.ndarray:
    """Spike counts per time bin and unit.

    Parameters
    ----------
    units
        Spike times (s) per unit, as :func:`load_spikes` returns them.
    bin_s
        Bin width in seconds (50 ms by default).
    start, stop
        The time range to bin (default: first to last spike); bins are ``[start + k bin_s, start + (k+1) bin_s)``
        and spikes outside them are ignored. :func:`spike_bin_edges` gives the same edges.
    sqrt
        Return ``sqrt(count)``, the variance-stabilising transform DCA applies to spike counts.

    Returns
    -------
    ndarray of shape (bins, units), float32
    """
    edges = spike_bin_edges(units, bin_s, start, stop)
    counts = np.zeros((len(edges) - 1, len(units)), np.float32)
    for j, times in enumerate(units):
        idx = np.searchsorted(edges, np.asarray(times, np.float64), side="right") - 1
        idx = idx[(idx >= 0) & (idx < len(edges) - 1)]
        counts[:, j] = np.bincount(idx, minlength=len(edges) - 1)
    return np.sqrt(counts) if sqrt else counts


# --------------------------------------------------------------------------------------------------- position


def load_position(path: PathLike) -> tuple[np.ndarray, np.ndarray]:
    """Times and LED position of a ``trajectory.videoPositionTracking`` file (plain or ``.xz``).

    The position is the mean of the LEDs that were tracked in a sample: an LED at (0, 0) is missing (the real
    nelpy files track only one LED, so ``x2 = y2 = 0`` throughout), and a sample with both missing is dropped.

    Parameters
    ----------
    path
        The tracking file.

    Returns
    -------
    times : ndarray of shape (n,), float64
        Seconds (the record clock divided by the header's ``clockrate``, 30 kHz if absent).
    xy : ndarray of shape (n, 2), float64
        Position in camera pixels.
    """
    raw = _read_bytes(path)
    end = raw.find(HEADER_END)
    if end < 0:
        raise DapcDataError(
            f"{path}: no '<End settings>' line; expected an ASCII header ending in '<End settings>\\n' and then "
            "<u4 time, 4 x <u2> records (a videoPositionTracking file)"
        )
    header = raw[:end].decode("ascii", errors="replace")
    body = raw[end + len(HEADER_END) :]
    if len(body) % RECORD.itemsize:
        raise DapcDataError(
            f"{path}: {len(body)} bytes after the header are not whole {RECORD.itemsize}-byte records "
            f"(the file is truncated); {REFETCH}"
        )
    rec = np.frombuffer(body, RECORD)
    led = [np.stack([rec[f"x{k}"], rec[f"y{k}"]], axis=1).astype(np.float64) for k in (1, 2)]
    seen = [(p != 0).any(axis=1) for p in led]
    n_seen = seen[0].astype(np.float64) + seen[1]
    keep = n_seen > 0
    xy = (led[0] * seen[0][:, None] + led[1] * seen[1][:, None])[keep] / n_seen[keep][:, None]
    times = rec["time"][keep].astype(np.float64) / _clock_rate(header, path)
    if len(times) == 0:
        raise DapcDataError(f"{path}: no sample has a tracked LED (all positions are (0, 0)); {REFETCH}")
    if np.any(np.diff(times) < 0):
        raise DapcDataError(f"{path}: the record times go backwards (a corrupt file); {REFETCH}")
    dropped = len(rec) - len(times)
    log.info("%s: %d position samples (%d without a tracked LED dropped)", path, len(times), dropped)
    return times, xy


def _read_bytes(path: PathLike) -> bytes:
    if not Path(path).exists():
        raise DapcDataError(f"{path}: no such file; {REFETCH}")
    if str(path).endswith(".xz"):
        try:
            with lzma.open(path) as fh:
                return fh.read()
        except lzma.LZMAError as exc:
            raise DapcDataError(f"{path}: not a valid .xz file ({exc}); {REFETCH}") from exc
    return Path(path).read_bytes()


def _clock_rate(header: str, path: PathLike) -> float:
    match = re.search(r"clockrate:\s*([0-9.]+)", header)
    if match is None:
        return CLOCK_HZ
    rate = float(match.group(1))
    if rate <= 0:
        raise DapcDataError(f"{path}: the header's clockrate is {rate}; it must be positive - {REFETCH}")
    return rate


def position_at(times_s: np.ndarray, xy: np.ndarray, bin_edges: np.ndarray) -> np.ndarray:
    """Mean position per time bin; bins without a sample are interpolated linearly between bin centres.

    Parameters
    ----------
    times_s
        Sample times (n,), non-decreasing, in seconds.
    xy
        Positions (n, 2).
    bin_edges
        Edges (B + 1,) in seconds, as from :func:`spike_bin_edges`; bins are half-open ``[e_k, e_{k+1})``.

    Returns
    -------
    ndarray of shape (B, 2), float64
        Bins before the first or after the last sample take the nearest filled bin's value.
    """
    times_s, xy, bin_edges = np.asarray(times_s, float), np.asarray(xy, float), np.asarray(bin_edges, float)
    n_bins = len(bin_edges) - 1
    idx = np.searchsorted(bin_edges, times_s, side="right") - 1
    inside = (idx >= 0) & (idx < n_bins)
    counts = np.bincount(idx[inside], minlength=n_bins).astype(np.float64)
    filled = counts > 0
    if not filled.any():
        raise ValueError(f"no position sample falls in [{bin_edges[0]}, {bin_edges[-1]}) s")
    centres = 0.5 * (bin_edges[:-1] + bin_edges[1:])
    out = np.empty((n_bins, xy.shape[1]))
    for d in range(xy.shape[1]):
        sums = np.bincount(idx[inside], weights=xy[inside, d], minlength=n_bins)
        out[:, d] = np.interp(centres, centres[filled], sums[filled] / counts[filled])
    return out


# ----------------------------------------------------------------------------------------------------- checks


def check_window(length: int, window: int, what: str, key: str = "dapc.window") -> None:
    """Raise a one-line :class:`DapcDataError` when ``window`` frames do not fit in a series of ``length``.

    Parameters
    ----------
    length
        Frames of the series (or of the part of it that is windowed).
    window
        Frames per window.
    what
        The series, as the message should name it (a file or a data set and part).
    key
        The config setting that sets ``window``, named in the fix.
    """
    if window > length:
        raise DapcDataError(
            f"{what}: the series of {length} frames is shorter than the window of {window} frames; "
            f"lower {key} or use a longer series"
        )
