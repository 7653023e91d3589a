import json
from pathlib import Path

import numpy as np
import pytest

from seqstruct.dapc.conftest import write_temperature_csv
from seqstruct.dapc.prepare import (
    load_prepared,
    lorenz_name,
    prepare_lorenz,
    prepare_series,
    sequence_windows,
    split_bounds,
    write_prepared,
)
from seqstruct.dapc.series import DapcDataError


def test_split_bounds_are_contiguous_and_refuse_an_empty_part() -> None:
    assert split_bounds(10, 6, 2) == {"train": [0, 6], "val": [6, 8], "test": [8, 10]}
    with pytest.raises(ValueError, match="leaves no test part"):
        split_bounds(10, 8, 2)


def test_lorenz_is_stored_with_its_recipe(tmp_path: Path) -> None:
    info = prepare_lorenz(tmp_path / "l", snr=1.0, frames=600, train=300, val=100, draws=20)
    data = load_prepared(tmp_path / "l")
    assert info["name"] == lorenz_name(1.0) == "lorenz_snr1.0" and info["task"] == "recovery"
    assert data.x.shape == (600, 30) and data.target.shape == (600, 3) and data.clean.shape == (600, 30)
    assert data.info["lorenz"]["seed"] == 0 and abs(data.info["measured_snr"] - 1.0) < 0.05
    x, y = data.part("val")
    assert np.array_equal(x, data.x[300:400]) and np.array_equal(y, data.target[300:400])


def test_load_prepared_names_the_broken_file(tmp_path: Path) -> None:
    with pytest.raises(DapcDataError, match="series.npz: missing"):
        load_prepared(tmp_path)
    bounds = split_bounds(10, 6, 2)
    write_prepared(tmp_path, np.zeros((10, 2)), np.ones((10, 1)), {"name": "s", "task": "forecast", "bounds": bounds})
    info = json.loads((tmp_path / "info.json").read_text())
    (tmp_path / "info.json").write_text(json.dumps({**info, "frames": 11}))
    with pytest.raises(DapcDataError, match="disagree with info.json") as err:
        load_prepared(tmp_path)
    assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="bounds end at"):
        write_prepared(tmp_path, np.zeros((9, 2)), np.ones((9, 1)), {"name": "s", "task": "forecast", "bounds": bounds})


def test_sequence_windows_cover_the_part_and_refuse_a_long_window() -> None:
    x = np.arange(23.0)[:, None]
    w = sequence_windows(x, 10, 5)
    assert w.shape == (4, 10, 1) and w[:, 0, 0].tolist() == [0, 5, 10, 13]  # the last one ends at the end
    with pytest.raises(DapcDataError, match="temp train part: the part of 23 frames is shorter than the window"):
        sequence_windows(x, 24, 5, "temp train part")


def test_temperature_series_is_standardised_on_its_train_part(tmp_path: Path) -> None:
    csv = tmp_path / "temperatures.csv"
    write_temperature_csv(csv, hours=24 * 10, cities=3)
    info = prepare_series(
        tmp_path / "temp", "temp", "temperature", {"temperature": csv}, {"resample": "h", "frames": 200}, 0.5, 0.25
    )
    data = load_prepared(tmp_path / "temp")
    assert info["bounds"] == {"train": [0, 100], "val": [100, 150], "test": [150, 200]} and data.x.shape == (200, 3)
    x_tr, y_tr = data.part("train")
    assert np.allclose(x_tr.mean(0), 0, atol=1e-5) and np.allclose(x_tr.std(0), 1, atol=1e-4)
    assert np.array_equal(data.x, data.target) and info["cities"] == ["City0", "City1", "City2"]


def test_spike_series_pairs_counts_with_position(tmp_path: Path, spike_files: dict[str, Path]) -> None:
    info = prepare_series(tmp_path / "hc", "hc", "spikes", spike_files, {"bin_s": 0.1, "frames": 500})
    data = load_prepared(tmp_path / "hc")
    assert data.x.shape == (500, 2) and data.target.shape == (500, 2) and info["units"] == 2
    assert info["task"] == "forecast" and info["bounds"]["test"] == [400, 500]
    # the place cells' counts carry the position: the unit centred at 140 fires when x is high
    assert np.corrcoef(data.x[:, 1], data.target[:, 0])[0, 1] > 0.3


def test_unknown_series_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown series kind 'audio'"):
        prepare_series(tmp_path, "a", "audio", {})
