"""The MLC training-speed benchmark on a tiny synthetic prepared set: settings, the CSV, the shared helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from seqstruct.common.benchmark import add_ratio, first_grid_point, peak_rss_mb
from seqstruct.mlc.benchmark import COLUMNS, main, method_settings
from seqstruct.mlc.prepare import prepare_mulan
from seqstruct.mlc.synthetic import SyntheticMlc, write_synthetic_mulan

TINY = {"epochs": 9, "lr": 2e-3, "scheduler": "none", "batch_size": 16}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mlc_bench")
    files = write_synthetic_mulan(root / "raw", "toy", SyntheticMlc(n_train=80, n_test=20))
    prepare_mulan(files["train"], files["test"], files["xml"], "toy", root / "toy", seed=0)
    return root / "toy"


def test_settings_are_base_then_overrides_then_the_first_grid_point() -> None:
    config = {
        "mlc": {
            "methods": {"asl": {"epochs": 9, "lr": 0.1, "hidden": [4]}},
            "overrides": {"toy": {"asl": {"epochs": 3}}},
            "grids": {"asl": {"lr": [0.5, 0.7], "hidden": [[8], [16]]}},
            "dataset_grids": {"big": {"asl": {}}},
        }
    }
    assert method_settings(config, "asl", "toy") == {"epochs": 3, "lr": 0.5, "hidden": [8]}
    assert method_settings(config, "asl", "big") == {"epochs": 9, "lr": 0.1, "hidden": [4]}  # its own grid: none
    assert method_settings(config, "cgmvae", "toy") == {}
    assert first_grid_point({}) == {}


def test_ratio_is_relative_to_the_reference_row_or_missing() -> None:
    table = pd.DataFrame({"method": ["a", "b"], "seconds_per_epoch": [1.0, 4.0]})
    assert list(add_ratio(table, "r", "method", "b")["r"]) == [0.25, 1.0]
    assert add_ratio(table, "r", "method", "c")["r"].isna().all()
    assert peak_rss_mb() > 10  # this process, in MiB


def test_benchmark_writes_one_row_per_method(prepared: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "tiny.yaml"
    methods = {"asl": {**TINY, "hidden": [8]}, "cgmvae": {**TINY, "latent": 4, "embed": 8, "encoder": [8]}}
    methods["cgmvae"].update(label_encoder=[8], decoder=8)
    cfg.write_text(json.dumps({"mlc": {"methods": methods, "grids": {"asl": {"lr": [1e-3, 1e-2]}}}}))
    out = tmp_path / "bench.csv"
    argv = ["--data", str(prepared), "--configfile", str(cfg), "--epochs", "1", "--batch-size", "32"]
    assert main([*argv, "--methods", "asl,cgmvae", "--out", str(out)]) == 0
    table = pd.read_csv(out)
    assert list(table.columns) == list(COLUMNS)
    assert list(table["method"]) == ["ASL", "C-GMVAE"] and set(table["dataset"]) == {"toy"}
    assert (table["epochs"] == 1).all() and (table["batch_size"] == 32).all()  # the command line wins
    assert (table["seconds_per_epoch"] > 0).all() and (table["torch_threads"] == 1).all()
    assert (table["peak_rss_mb"] > 50).all()  # a process that imported torch
    assert table.loc[1, "ratio_to_cgmvae"] == 1.0 and table.loc[0, "ratio_to_cgmvae"] > 0
    n = len(json.loads((prepared / "info.json").read_text())["label_names"])
    assert (table["n_labels"] == n).all() and (table["n_train"] > 0).all() and (table["n_features"] > 0).all()


def test_an_unknown_or_shallow_method_is_refused(prepared: Path, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--data", str(prepared), "--methods", "asl,mlknn", "--out", str(tmp_path / "x.csv")])
