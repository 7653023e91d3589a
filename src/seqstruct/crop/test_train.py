import json
from pathlib import Path

import pandas as pd
import pytest

from seqstruct.crop.conftest import TINY_DEEP as FAST
from seqstruct.crop.train import run
from seqstruct.data import sha256_file


@pytest.mark.parametrize("method", ["lasso_1y", "cnn_rnn_5y", "gnn_rnn_5y"])
def test_run_writes_outputs(method: str, tiny_nc: Path, tmp_path: Path) -> None:
    params = {"alphas": [0.01, 0.1]} if method == "lasso_1y" else FAST
    out = tmp_path / method
    m = run(method, tiny_nc, 2003, 0, params, out, ckpt_dir=tmp_path / "ckpt" / method)
    assert {p.name for p in out.iterdir()} == {"metrics.json", "predictions.csv", "model.pt"}
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test"] == m["test"] and saved["test"]["n"] == 8  # county 4 has no 2003 yield
    assert saved["provenance"]["inputs"] == {str(tiny_nc): sha256_file(tiny_nc)}
    assert {"commit", "dirty", "host", "torch", "slurm_job_id"} <= saved["provenance"].keys()
    assert saved["provenance"]["started_utc"] <= saved["provenance"]["finished_utc"]
    preds = pd.read_csv(out / "predictions.csv")
    assert set(preds["split"]) == {"val", "test"} and preds["y_pred"].notna().all()


def test_lasso_learns_the_planted_signal(tiny_nc: Path, tmp_path: Path) -> None:
    m = run("lasso_1y", tiny_nc, 2003, 0, {"alphas": [0.01, 0.03]}, tmp_path)
    assert m["test"]["r2"] > 0.5 and m["selection"]["alpha"] in (0.01, 0.03)


@pytest.mark.parametrize("method", ["cnn_rnn_5y", "gnn_rnn_5y"])
def test_same_seed_same_numbers(method: str, tiny_nc: Path, tmp_path: Path) -> None:
    a = run(method, tiny_nc, 2003, 1, FAST, tmp_path / "a")
    b = run(method, tiny_nc, 2003, 1, FAST, tmp_path / "b")
    c = run(method, tiny_nc, 2003, 2, FAST, tmp_path / "c")
    assert a["test"] == b["test"] and a["history"] == b["history"]
    assert a["history"] != c["history"]


def test_unknown_setting_raises(tiny_nc: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown model settings \\['lr_typo'\\]"):
        run("cnn_rnn_5y", tiny_nc, 2003, 0, {"lr_typo": 1}, tmp_path)


def test_search_scores_validation_only(tiny_nc: Path) -> None:
    from seqstruct.crop.search import grid_points, search

    assert grid_points({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    table = search(tiny_nc, "cnn_rnn_5y", 2003, FAST, {"lr": [1e-3, 1e-2]}, seeds=[0])
    assert list(table.columns) == ["lr", "seed", "val_rmse", "val_r2", "val_corr", "best_epoch", "mean_val_rmse"]
    assert table["mean_val_rmse"].is_monotonic_increasing and not any("test" in c for c in table.columns)


def test_run_without_test_evaluation(tiny_nc: Path, tmp_path: Path) -> None:
    m = run("lasso_1y", tiny_nc, 2003, 0, {"alphas": [0.01]}, tmp_path, evaluate_test=False)
    assert "test" not in m
    assert set(pd.read_csv(tmp_path / "predictions.csv")["split"]) == {"val"}


def test_graph_batches_are_exact_subgraphs() -> None:
    """Seeds' outputs on their 2-hop subgraph equal the full-graph outputs (no sampling, nothing truncated)."""
    import numpy as np
    import torch

    from seqstruct.crop.conftest import tiny_prepared
    from seqstruct.crop.dataset import Split, make_tensors
    from seqstruct.crop.models import GNNRNN, CropModelConfig
    from seqstruct.crop.train import _GraphBatches

    data = make_tensors(tiny_prepared(n_side=4), Split(2003))
    shapes = {g: tuple(getattr(data, g).shape[2:]) for g in ("weekly", "soil", "extra")}
    model = GNNRNN(shapes, CropModelConfig(weekly_channels=(4, 4, 4, 4), soil_channels=(4, 4, 4), hidden=8)).eval()
    batches = _GraphBatches(data, [2001], batch_size=3, seed=0, hops=2)
    w = data.window(2001, 5)
    with torch.no_grad():
        full = model(data.weekly[:, w], data.soil[:, w], data.extra[:, w], data.edge_index)
        seen = []
        for year, seeds in batches(0):
            pred, target = batches.forward(model, (year, seeds))
            torch.testing.assert_close(pred, full[torch.as_tensor(seeds)])
            torch.testing.assert_close(target, data.y[torch.as_tensor(seeds), w], equal_nan=True)
            seen += list(seeds)
    labelled = np.flatnonzero(~torch.isnan(data.y[:, data.year_index(2001)]).numpy())
    assert sorted(seen) == list(labelled)


def test_search_cli_keeps_small_settings_exact(tiny_nc: Path, tmp_path: Path) -> None:
    from seqstruct.crop.search import main

    out = tmp_path / "search.csv"
    assert main(["--data", str(tiny_nc), "--method", "cnn_rnn_5y", "--test-year", "2003", "--base",
                 json.dumps({**FAST, "epochs": 1}), "--grid", '{"weight_decay": [1e-05, 0.0001]}',
                 "--out", str(out)]) == 0
    assert sorted(pd.read_csv(out)["weight_decay"]) == [1e-05, 0.0001]
