"""Tiny synthetic raw files in the real layouts (``shared/data/seq/PROVENANCE.md``) for the DAPC tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io

from seqstruct.dapc.series import DATETIME_FORMAT, HEADER_END, RECORD


def write_temperature_csv(path: Path, hours: int = 24 * 30, cities: int = 3, gap: tuple[int, int] | None = (5, 8)):
    """The Kaggle layout: ``datetime`` then one Kelvin column per city, hourly from 2013-01-01 00:00; the first
    city has NaN over the ``gap`` [start, stop) hours. Returns the values (hours, cities) before the gap."""
    t = np.arange(hours)
    values = np.stack([280 + 10 * np.sin(2 * np.pi * (t / 24 + c / cities)) + c for c in range(cities)], axis=1)
    frame = pd.DataFrame(values.copy(), columns=[f"City{c}" for c in range(cities)])
    if gap:
        frame.iloc[gap[0] : gap[1], 0] = np.nan
    frame.insert(0, "datetime", pd.date_range("2013-01-01", periods=hours, freq="h").strftime(DATETIME_FORMAT))
    frame.to_csv(path, index=False)
    return values


def write_spikes_mat(path: Path, units: list[np.ndarray]) -> None:
    """nelpy's layout: a cell of tetrodes, each a struct array (time, timerange, meanrate), one struct per
    unit; an empty tetrode and an empty unit are added, as in the real files."""
    dtype = [("time", "O"), ("timerange", "O"), ("meanrate", "O")]
    tetrode = np.empty((1, len(units) + 1), dtype=dtype)
    for j, times in enumerate([*units, np.zeros(0, np.uint8)]):
        tetrode[0, j] = (np.asarray(times, float).reshape(-1, 1), np.array([[0.0, 100.0]]), np.array([[1.0]]))
    cell = np.empty((1, 2), dtype=object)
    cell[0, 0], cell[0, 1] = tetrode, np.zeros((0, 0))
    scipy.io.savemat(path, {"spikes": cell})


def write_position(path: Path, times_s: np.ndarray, xy: np.ndarray, clock: float = 30000.0) -> None:
    """A ``videoPositionTracking`` file: the ASCII header, then one record per sample (only LED 1 tracked)."""
    rec = np.zeros(len(times_s), RECORD)
    rec["time"] = np.round(np.asarray(times_s) * clock).astype(np.uint32)
    rec["x1"], rec["y1"] = xy[:, 0], xy[:, 1]
    header = f"<Start settings>\nclockrate: {int(clock)}\n".encode() + HEADER_END
    path.write_bytes(header + rec.tobytes())


@pytest.fixture
def spike_files(tmp_path: Path) -> dict[str, Path]:
    """Two units firing where the animal is (place cells on a 1-D track) over 0-60 s, and its position."""
    rng = np.random.default_rng(0)
    t = np.arange(0.0, 60.0, 1 / 30)
    x = 100 + 50 * np.sin(2 * np.pi * t / 10)
    units = []
    for centre in (60.0, 140.0):
        rate = 20 * np.exp(-(((x - centre) / 20) ** 2))
        units.append(np.sort(t[rng.random(len(t)) < rate / 30]))
    files = {"spikes": tmp_path / "spikes.mat", "position": tmp_path / "trajectory.videoPositionTracking"}
    write_spikes_mat(files["spikes"], units)
    write_position(files["position"], t, np.stack([x, np.full_like(x, 50.0)], axis=1))
    return files
