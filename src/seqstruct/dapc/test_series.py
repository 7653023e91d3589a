import logging
from pathlib import Path

import numpy as np
import pytest

from seqstruct.dapc.conftest import write_position, write_spikes_mat, write_temperature_csv
from seqstruct.dapc.series import (
    DapcDataError,
    bin_spikes,
    check_window,
    load_position,
    load_spikes,
    load_temperature,
    position_at,
    spike_bin_edges,
)


def test_temperature_gaps_are_interpolated_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "t.csv"
    true = write_temperature_csv(path, gap=(5, 8))
    with caplog.at_level(logging.INFO):
        hourly, cities, dates = load_temperature(path, resample="h")
    assert cities == ["City0", "City1", "City2"] and len(dates) == len(true) and np.isfinite(hourly).all()
    assert "interpolated 3 missing hourly values" in caplog.text
    # linear in time between the neighbours of the gap; the rest unchanged
    expected = np.interp([5, 6, 7], [4, 8], true[[4, 8], 0])
    assert np.allclose(hourly[5:8, 0], expected) and np.allclose(
        np.delete(hourly, [5, 6, 7], 0), np.delete(true, [5, 6, 7], 0)
    )
    daily, _, days = load_temperature(path)  # daily means of the filled hours
    assert daily.shape == (30, 3) and np.allclose(daily[1:, 1], true[24:, 1].reshape(29, 24).mean(1))


def test_bad_temperature_files_are_one_line_errors(tmp_path: Path) -> None:
    long_gap = tmp_path / "gap.csv"
    write_temperature_csv(long_gap, gap=(100, 160))
    with pytest.raises(DapcDataError, match=r"gap.csv: column 'City0' has a gap of 60 h") as err:
        load_temperature(long_gap)
    assert "\n" not in str(err.value)
    no_time = tmp_path / "no_time.csv"
    no_time.write_text("when,A\n1,2\n")
    with pytest.raises(DapcDataError, match="no 'datetime' column"):
        load_temperature(no_time)
    text = tmp_path / "text.csv"
    text.write_text("datetime,A\n01/01/2013 00:00,280\n01/01/2013 01:00,warm\n")
    with pytest.raises(DapcDataError, match=r"column 'A' holds non-numeric values such as 'warm' \(row 3\)"):
        load_temperature(text)
    with pytest.raises(DapcDataError, match="no such file"):
        load_temperature(tmp_path / "absent.csv")


def test_spikes_are_found_in_the_nested_layout(spike_files: dict[str, Path]) -> None:
    units = load_spikes(spike_files["spikes"])
    assert len(units) == 2 and all(np.all(np.diff(u) >= 0) for u in units)  # the empty unit is dropped


def test_a_spike_file_of_another_layout_is_one_line_error(tmp_path: Path) -> None:
    import scipy.io

    flat = tmp_path / "flat.mat"
    scipy.io.savemat(flat, {"spike_times": np.arange(5.0)})  # times without the struct of units
    with pytest.raises(DapcDataError, match="no struct with a 'time' field anywhere; expected a nested MATLAB cell"):
        load_spikes(flat)
    empty = tmp_path / "empty.mat"
    write_spikes_mat(empty, [])
    with pytest.raises(DapcDataError, match="all 1 units are empty"):
        load_spikes(empty)
    junk = tmp_path / "junk.mat"
    junk.write_bytes(b"not a MATLAB file at all" * 10)
    with pytest.raises(DapcDataError, match="not a readable MATLAB file") as err:
        load_spikes(junk)
    assert "\n" not in str(err.value)


def test_binning_counts_every_spike_once() -> None:
    units = [np.array([0.0, 0.01, 0.06, 0.2]), np.array([0.12])]
    edges = spike_bin_edges(units, 0.05)
    counts = bin_spikes(units, 0.05)
    assert len(edges) == len(counts) + 1 and counts.sum() == 5
    assert counts[:, 0].tolist() == [2, 1, 0, 0, 1] and counts[2, 1] == 1
    assert np.allclose(bin_spikes(units, 0.05, sqrt=True), np.sqrt(counts))


def test_position_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    path = tmp_path / "p.videoPositionTracking"
    t = 0.025 + 0.1 * np.arange(20)  # two samples inside each 0.2 s bin
    xy = np.stack([np.arange(20.0) + 1, np.full(20, 7.0)], axis=1)
    write_position(path, t, xy)
    times, got = load_position(path)
    assert np.allclose(times, t) and np.allclose(got, xy)
    binned = position_at(times, got, np.arange(0, 2.01, 0.2))  # two samples per bin
    assert np.allclose(binned[:, 0], xy[:, 0].reshape(10, 2).mean(1))
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(DapcDataError, match="not whole 12-byte records"):
        load_position(path)
    path.write_bytes(b"no header here")
    with pytest.raises(DapcDataError, match="no '<End settings>' line"):
        load_position(path)


def test_a_window_longer_than_the_series_is_one_line_error() -> None:
    check_window(100, 100, "temp train part")
    with pytest.raises(
        DapcDataError, match=r"temp train part: the series of 99 frames is shorter than the window"
    ) as e:
        check_window(99, 100, "temp train part")
    assert "dapc.window" in str(e.value) and "\n" not in str(e.value)
