import json
from pathlib import Path

import numpy as np
import pytest

from seqstruct.dapc.benchmark import COLUMNS, benchmark
from seqstruct.dapc.prepare import prepare_lorenz, split_bounds, write_prepared
from seqstruct.dapc.series import DapcDataError
from seqstruct.dapc.train import dim_variants, run, run_settings

TINY = {"epochs": 1, "hidden": 4, "layers": 1, "dropout": 0.0, "decoder_hidden": 4, "decoder_layers": 1,
        "window": 40, "stride": 40, "batch_size": 4, "time_width": 5, "in_sample_frames": 100}  # fmt: skip
DAPC = {
    "train": TINY,
    "methods": {"dapc": {"model": "dapc"}, "cpc": {"model": "cpc", "params": {"k": 2}}, "pca": {"model": "pca"}},
    "series": {"s": {"params": {"d": 2, "bidirectional": False}}},
}


@pytest.fixture(scope="module")
def lorenz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lorenz")
    prepare_lorenz(folder, snr=1.0, frames=500, train=250, val=100, draws=10)
    return folder


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("series")
    rng = np.random.default_rng(0)
    t = np.arange(400)
    x = np.stack([np.sin(t / 7), np.cos(t / 7), rng.normal(size=400)], axis=1)
    write_prepared(folder, x, x[:, :2], {"name": "s", "task": "forecast", "bounds": split_bounds(400, 240, 80)})
    return folder


def test_run_settings_layer_train_series_and_method() -> None:
    deep = run_settings(DAPC, "cpc", "s")
    assert deep["k"] == 2 and deep["d"] == 2 and deep["bidirectional"] is False and deep["hidden"] == 4
    assert "decoder_hidden" not in deep  # CPC has no decoder
    assert run_settings(DAPC, "pca", "s") == {"d": 2}  # linear: no training settings
    assert "bidirectional" not in run_settings(DAPC, "dapc")  # Lorenz: no series params


def test_deep_recovery_run_writes_its_record_and_latents(lorenz: Path, tmp_path: Path) -> None:
    record = run("dapc", "dapc", lorenz, 0, run_settings(DAPC, "dapc"), tmp_path / "out")
    assert set(record["test"]) == {"r2", "r2_in_sample"} and record["select"] == "val_loss"
    assert record["epochs_run"] == 1 and record["seconds_per_epoch"] > 0 and record["train_windows"] == 7
    epoch = record["history"][0]
    assert "val_r2_truth" in epoch and epoch["val_score"] == epoch["val_loss"]  # recorded, not used to select
    with np.load(tmp_path / "out/latents.npz") as z:
        assert z["latents"].shape == (150, 3) and z["target"].shape == (150, 3)
    assert json.loads((tmp_path / "out/metrics.json").read_text())["seed"] == 0


def test_ground_truth_selection_is_labelled(lorenz: Path, tmp_path: Path) -> None:
    record = run("dapc", "dapc", lorenz, 0, {**run_settings(DAPC, "dapc"), "select": "ground_truth"}, tmp_path)
    assert record["select"] == "ground_truth"
    assert all(e["val_score"] == e["val_r2_truth"] for e in record["history"])


def test_forecast_runs_score_every_lag(series: Path, tmp_path: Path) -> None:
    for method in ("cpc", "pca"):
        record = run(
            method, DAPC["methods"][method]["model"], series, 1, run_settings(DAPC, method, "s"), tmp_path / method
        )
        assert set(record["test"]) == {"r2_lag5", "r2_lag10", "r2_lag15"}
    assert record["test"]["r2_lag5"] > 0.3  # PCA of an oscillation (plus a noise channel) forecasts it


def test_a_window_longer_than_the_part_writes_nothing(series: Path, tmp_path: Path) -> None:
    with pytest.raises(DapcDataError, match="s train part: the part of 240 frames is shorter than the window of 500"):
        run("cpc", "cpc", series, 0, {**run_settings(DAPC, "cpc", "s"), "window": 500}, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_benchmark_measures_each_deep_run_in_one_table(lorenz: Path) -> None:
    table = benchmark(str(lorenz), {"dapc": DAPC}, epochs=1, methods=["cpc"])
    assert list(table.columns) == list(COLUMNS) and table["seconds_per_epoch"].iloc[0] > 0
    assert table["frames"].iloc[0] == 250 and table["epochs"].iloc[0] == 1
    with pytest.raises(ValueError, match=r"not deep runs of dapc.methods: \['pca'\]"):
        benchmark(str(lorenz), {"dapc": DAPC}, epochs=1, methods=["pca"])


def test_dim_variants_copy_a_run_at_each_latent_dimension() -> None:
    dapc = {**DAPC, "dims_figure": {"series": "s", "dims": [1, 4], "baseline": "pca", "rows": {"CPC": "cpc"}}}
    variants = dim_variants(dapc)
    assert sorted(variants) == ["cpc_d1", "cpc_d4", "pca_d1", "pca_d4"]
    assert variants["cpc_d4"] == {"model": "cpc", "params": {"k": 2, "d": 4}}
    assert (
        run_settings({**dapc, "methods": {**dapc["methods"], **variants}}, "cpc_d1", "s")["d"] == 1
    )  # over the series' d
    assert dim_variants(DAPC) == {}
    with pytest.raises(ValueError, match="dims_figure: 'dapcc' is not in dapc.methods"):
        dim_variants({**dapc, "dims_figure": {**dapc["dims_figure"], "rows": {"X": "dapcc"}}})
