import json
from pathlib import Path

import pandas as pd
import pytest

from seqstruct.crop.benchmark import main, method_settings
from seqstruct.crop.conftest import TINY_DEEP


def test_settings_are_the_base_with_the_first_grid_point() -> None:
    config = {"crop": {"methods": {"gnn_1y": {"epochs": 9, "lr": 0.1}}, "grids": {"gnn_1y": {"lr": [0.5, 0.7]}}}}
    assert method_settings(config, "gnn_1y") == {"epochs": 9, "lr": 0.5}
    assert method_settings(config, "cnn_1y") == {}


def test_benchmark_writes_one_row_per_method(tiny_nc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(
        json.dumps({"scale": "tiny", "crop": {"methods": {m: TINY_DEEP for m in ("cnn_rnn_5y", "gnn_rnn_5y")}}})
    )
    out = tmp_path / "bench.csv"
    code = main(
        [
            "--data",
            str(tiny_nc),
            "--configfile",
            str(cfg),
            "--epochs",
            "2",
            "--test-year",
            "2003",
            "--methods",
            "cnn_rnn_5y,gnn_rnn_5y",
            "--max-gnn-ratio",
            "0.001",
            "--out",
            str(out),
        ]
    )
    assert code == 1 and "ABOVE the limit of 0.001x" in capsys.readouterr().out  # the CSV is written anyway
    table = pd.read_csv(out)
    assert list(table["slug"]) == ["cnn_rnn_5y", "gnn_rnn_5y"] and set(table["scale"]) == {"tiny"}
    assert (table["epochs"] == 2).all() and (table["seconds_per_epoch"] > 0).all()
    assert (table["peak_rss_mb"] > 50).all()  # a process that imported torch
    assert table.loc[0, "vs_cnn_rnn"] == 1.0 and table.loc[1, "batches_per_epoch"] > 0
