"""The prepared form of every DAPC data set: one multivariate series with a target and a time split.

A prepared folder holds ``series.npz`` (``x`` (N, D) float32, the model input; ``target`` (N, k) float32, what a
linear map from the representation is scored against: the true Lorenz state, or the forecast target; and for
Lorenz ``clean`` (N, D), the lifted signal before noise, for Figure 3.2) and ``info.json`` (``name``, ``task``:
``"recovery"`` or ``"forecast"``, ``bounds``: frame ranges ``[start, stop)`` of ``train``, ``val`` and
``test``, in time order, plus what made the data). Time splits are contiguous, so no window straddles two parts.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from seqstruct.common.io import atomic_path, write_json
from seqstruct.dapc.series import DapcDataError

PREPARED_FILES = ("series.npz", "info.json")
PARTS = ("train", "val", "test")
TASKS = ("recovery", "forecast")


@dataclass
class PreparedSeries:
    """A prepared series: ``x`` (N, D), ``target`` (N, k), ``clean`` (N, D) or None, ``info``."""

    x: np.ndarray
    target: np.ndarray
    info: dict[str, Any]
    clean: np.ndarray | None = None

    def part(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, target)`` of the frames of part ``name`` (``train``, ``val`` or ``test``)."""
        start, stop = self.info["bounds"][name]
        return self.x[start:stop], self.target[start:stop]


def split_bounds(frames: int, train: int, val: int) -> dict[str, list[int]]:
    """Contiguous ``[start, stop)`` of train (the first ``train`` frames), val (the next ``val``) and test (the
    rest); raises ``ValueError`` when a part would be empty."""
    if train < 1 or val < 1 or train + val >= frames:
        raise ValueError(f"a split of {train} train + {val} val frames leaves no test part in {frames} frames")
    return {"train": [0, train], "val": [train, train + val], "test": [train + val, frames]}


def prepared_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The paths of ``PREPARED_FILES`` in ``folder``."""
    return [Path(folder) / name for name in PREPARED_FILES]


def write_prepared(
    folder: str | os.PathLike[str],
    x: np.ndarray,
    target: np.ndarray,
    info: dict[str, Any],
    clean: np.ndarray | None = None,
) -> None:
    """Write a prepared series (``info`` needs ``name``, ``task`` and ``bounds``); ``series.npz`` first."""
    if info.get("task") not in TASKS or set(info.get("bounds", {})) != set(PARTS):
        raise ValueError(f"info needs task in {TASKS} and bounds of {PARTS}, got {info}")
    if len(x) != len(target) or info["bounds"]["test"][1] != len(x):
        raise ValueError(f"x has {len(x)} frames, target {len(target)}, bounds end at {info['bounds']['test'][1]}")
    arrays = {"x": np.asarray(x, np.float32), "target": np.asarray(target, np.float32)}
    if clean is not None:
        arrays["clean"] = np.asarray(clean, np.float32)
    root = Path(folder)
    root.mkdir(parents=True, exist_ok=True)
    with atomic_path(root / "series.npz") as tmp, open(tmp, "wb") as f:
        np.savez_compressed(f, **arrays)
    write_json(root / "info.json", {**info, "frames": len(x), "dims": int(x.shape[1])})


def load_prepared(folder: str | os.PathLike[str]) -> PreparedSeries:
    """Read a prepared series; a missing file or disagreeing parts raise a one-line ``DapcDataError``."""
    root = Path(folder)
    for p in prepared_files(root):
        if not p.exists():
            raise DapcDataError(f"{p}: missing; rerun the rule that prepares {root.name} (snakemake makes it)")
    info = json.loads((root / "info.json").read_text())
    with np.load(root / "series.npz") as z:
        x, target = z["x"], z["target"]
        clean = z["clean"] if "clean" in z.files else None
    if x.ndim != 2 or target.ndim != 2 or len(x) != len(target) or len(x) != info["frames"]:
        raise DapcDataError(
            f"{root / 'series.npz'}: x {x.shape} and target {target.shape} disagree with info.json "
            f"({info['frames']} frames); delete {root} and rerun"
        )
    return PreparedSeries(x=x, target=target, info=info, clean=clean)


def sequence_windows(x: np.ndarray, window: int, stride: int, what: str = "series") -> np.ndarray:
    """(N, D) -> (B, window, D): windows starting every ``stride`` frames (the last one may overlap more)."""
    if window > len(x):
        raise DapcDataError(
            f"{what}: the part of {len(x)} frames is shorter than the window of {window} frames; "
            "lower dapc.window or lengthen the part"
        )
    starts = list(range(0, len(x) - window + 1, stride))
    if starts[-1] != len(x) - window:
        starts.append(len(x) - window)
    return np.stack([x[s : s + window] for s in starts])


def lorenz_name(snr: float) -> str:
    """The data set name of the Lorenz benchmark at ``snr``: ``lorenz_snr0.3``, ``lorenz_snr1.0``, ..."""
    return f"lorenz_snr{float(snr)}"


def prepare_lorenz(
    folder: str | os.PathLike[str],
    snr: float,
    seed: int = 0,
    noise: str = "power",
    frames: int = 10000,
    train: int = 7000,
    val: int = 1000,
    lift_dropout: float = 0.0,
    draws: int = 5000,
) -> dict[str, Any]:
    """Generate the noisy Lorenz series at ``snr`` (``seqstruct.dapc.lorenz.make_lorenz``) and write it as a
    prepared series: ``x`` the noisy 30-D observations, ``target`` the true 3-D state, ``clean`` the lifted
    signal. Returns its ``info``."""
    from seqstruct.dapc.lorenz import make_lorenz, measured_snr

    data = make_lorenz(snr, seed=seed, noise=noise, frames=frames, lift_dropout=lift_dropout, draws=draws)
    info = {
        "name": lorenz_name(snr),
        "task": "recovery",
        "bounds": split_bounds(frames, train, val),
        "lorenz": {**data.meta(), "lift_dropout": lift_dropout, "draws": draws},
        "measured_snr": measured_snr(data.clean, data.x, noise),
    }
    write_prepared(folder, data.x, data.state, info, clean=data.clean)
    return info


#: forecasting series kinds -> the raw file roles each reads (``dapc.series.<name>.files``)
SERIES_ROLES = {"temperature": ("temperature",), "spikes": ("spikes", "position")}


def _standardise(values: np.ndarray, train: int) -> tuple[np.ndarray, dict[str, list[float]]]:
    """(N, k) z-scored with the mean and std of the first ``train`` frames (a constant column keeps std 1)."""
    mean, std = values[:train].mean(0), values[:train].std(0)
    std = np.where(std > 0, std, 1.0)
    return (values - mean) / std, {"mean": mean.tolist(), "std": std.tolist()}


def _temperature_arrays(files: dict[str, Path], options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict]:
    from seqstruct.dapc.series import load_temperature

    values, cities, dates = load_temperature(
        files["temperature"], resample=options.get("resample", "D"), max_gap_hours=options.get("max_gap_hours", 24.0)
    )
    about = {"cities": cities, "first": str(dates[0].date()), "last": str(dates[-1].date())}
    return values, values, about  # the forecast target is the series itself


def _spike_arrays(files: dict[str, Path], options: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, dict]:
    from seqstruct.dapc.series import bin_spikes, load_position, load_spikes, position_at, spike_bin_edges

    units = load_spikes(files["spikes"])
    times, xy = load_position(files["position"])
    bin_s = float(options.get("bin_s", 0.05))
    start = max(float(times[0]), min(float(u[0]) for u in units))
    stop = min(float(times[-1]), max(float(u[-1]) for u in units))
    if options.get("frames"):  # bin only what is kept
        stop = min(stop, start + int(options["frames"]) * bin_s)
    edges = spike_bin_edges(units, bin_s, start, stop)
    counts = bin_spikes(units, bin_s, start, stop, sqrt=bool(options.get("sqrt", True)))
    position = position_at(times, xy, edges)
    about = {"units": len(units), "start_s": start, "bin_s": bin_s}
    return counts.astype(np.float64), position, about


def prepare_series(
    folder: str | os.PathLike[str],
    name: str,
    kind: str,
    files: dict[str, str | os.PathLike[str]],
    options: dict[str, Any] | None = None,
    train: float = 0.6,
    val: float = 0.2,
) -> dict[str, Any]:
    """Read a real forecasting series and write it as a prepared series (task ``forecast``).

    ``kind`` ``temperature``: per-period means of every city (``options.resample``, daily by default), NaN gaps
    interpolated; the target is the series itself. ``spikes``: sqrt spike counts per ``options.bin_s`` bin
    (from where spikes and position overlap) with the animal's mean position per bin as the target. Only the
    first ``options.frames`` frames are kept when it is set. Input and target are z-scored with the training
    part's statistics. ``train`` and ``val`` are fractions of the frames (in time order; the rest is the test
    part). Returns its ``info``."""
    if kind not in SERIES_ROLES:
        raise ValueError(f"unknown series kind {kind!r}; known: {list(SERIES_ROLES)}")
    paths = {role: Path(files[role]) for role in SERIES_ROLES[kind]}
    options = dict(options or {})
    x, target, about = (_temperature_arrays if kind == "temperature" else _spike_arrays)(paths, options)
    if options.get("frames"):
        x, target = x[: int(options["frames"])], target[: int(options["frames"])]
    frames = len(x)
    bounds = split_bounds(frames, int(train * frames), int(val * frames))
    x, x_stats = _standardise(x, bounds["train"][1])
    target, target_stats = _standardise(target, bounds["train"][1])
    info = {
        "name": name,
        "task": "forecast",
        "bounds": bounds,
        "kind": kind,
        "options": options,
        "source": {role: p.name for role, p in paths.items()},
        **about,
        "standardised": {"x": x_stats, "target": target_stats},
    }
    write_prepared(folder, x, target, info)
    return info
