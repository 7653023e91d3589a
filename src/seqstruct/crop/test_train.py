import json
from pathlib import Path

import pandas as pd
import pytest

from seqstruct.common.io import sha256_file
from seqstruct.crop.conftest import TINY_DEEP as FAST
from seqstruct.crop.dataset import Split, make_tensors, open_prepared
from seqstruct.crop.predictor import load_predictor
from seqstruct.crop.train import METHODS, SKLEARN, run


@pytest.mark.parametrize("method", list(METHODS))
def test_run_writes_outputs(method: str, tiny_nc: Path, tmp_path: Path) -> None:
    params = {} if method in SKLEARN else FAST
    out = tmp_path / method
    m = run(method, tiny_nc, 2003, 0, params, out, ckpt_dir=tmp_path / "ckpt" / method, early_weeks=[13, 30, 52])
    assert {p.name for p in out.iterdir()} == {"metrics.json", "predictions.csv", "model.pt"}
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["test"] == m["test"] and saved["test"]["n"] == 8  # county 4 has no 2003 yield
    # early prediction: masked after week 22 (Table 2.2) and the curve; masking after week 52 changes nothing
    assert saved["test_early"]["mask_after_week"] == 22 and saved["test_early"]["n"] == 8
    assert saved["early"]["weeks"] == [13, 30, 52]
    assert saved["early"]["rmse"][-1] == pytest.approx(saved["test"]["rmse"], rel=1e-6)
    assert saved["provenance"]["inputs"] == {str(tiny_nc): sha256_file(tiny_nc)}
    assert {"commit", "dirty", "host", "torch", "slurm_job_id"} <= saved["provenance"].keys()
    assert saved["provenance"]["started_utc"] <= saved["provenance"]["finished_utc"]
    preds = pd.read_csv(out / "predictions.csv")
    assert set(preds["split"]) == {"val", "test"} and preds["y_pred"].notna().all()
    # the feature groups of the method, each permuted 3 times on the test year
    groups = [g["group"] for g in saved["sensitivity"]]
    expected = ["weather_current", "planting_current", "soil", "extras", "prev_year_yield"]
    if method.endswith("_5y"):
        expected.insert(2, "weather_history")
    if method in ("gnn_1y", "gnn_rnn_5y"):
        expected += ["neighbours", "own"]
    assert groups == expected and {g["n_permutations"] for g in saved["sensitivity"]} == {3}
    assert [g["baseline"] for g in saved["sensitivity"]] == pytest.approx([m["test"]["rmse"]] * len(groups))
    # the saved model predicts the same test year again
    data = make_tensors(open_prepared(tiny_nc), Split(2003))
    test = preds[preds["split"] == "test"]
    again = load_predictor(out / "model.pt", data).predict_year(2003) * data.y_std + data.y_mean
    pos = {f: i for i, f in enumerate(data.fips)}
    assert again[[pos[f] for f in test["fips"]]] == pytest.approx(test["y_pred"].to_numpy(), rel=1e-4)


@pytest.mark.parametrize("method", ["lasso_1y", "ridge_1y", "gradient_boosting_1y"])
def test_shallow_baselines_learn_the_planted_signal(method: str, tiny_nc: Path, tmp_path: Path) -> None:
    m = run(method, tiny_nc, 2003, 0, {}, tmp_path)
    assert m["test"]["corr"] > 0.6


def test_masking_the_planted_weeks_hurts(tiny_nc: Path, tmp_path: Path) -> None:
    """The tiny data's yield is driven by weeks 21-30 of the first weekly variable: hiding them costs accuracy."""
    m = run("lasso_1y", tiny_nc, 2003, 0, {}, tmp_path, early_weeks=[15, 52])
    assert m["early"]["rmse"][0] > m["early"]["rmse"][1] + 0.1


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
    with pytest.raises(ValueError, match="unknown ridge_1y settings \\['alphas'\\]"):
        run("ridge_1y", tiny_nc, 2003, 0, {"alphas": [1]}, tmp_path)
    with pytest.raises(ValueError, match="fanouts \\[10\\] must name one count per GNN layer"):
        run("gnn_1y", tiny_nc, 2003, 0, {**FAST, "fanouts": [10]}, tmp_path)


def test_search_scores_validation_only(tiny_nc: Path) -> None:
    from seqstruct.crop.search import search

    table = search(tiny_nc, "cnn_rnn_5y", 2003, FAST, {"lr": [1e-3, 1e-2]}, seeds=[0])
    assert list(table.columns) == [
        "lr",
        "point",
        "seed",
        "val_rmse",
        "val_r2",
        "val_corr",
        "best_epoch",
        "mean_val_rmse",
    ]
    assert table["mean_val_rmse"].is_monotonic_increasing and not any("test" in c for c in table.columns)


def test_run_without_test_evaluation(tiny_nc: Path, tmp_path: Path) -> None:
    m = run("lasso_1y", tiny_nc, 2003, 0, {"alpha": 0.01}, tmp_path, evaluate_test=False)
    assert "test" not in m and "test_early" not in m and "early" not in m
    assert set(pd.read_csv(tmp_path / "predictions.csv")["split"]) == {"val"}


@pytest.mark.parametrize("method", ["gnn_1y", "gnn_rnn_5y"])
def test_graph_batches_with_all_neighbours_are_exact(method: str) -> None:
    """With fan-out 0 (every neighbour) the seeds' outputs on their sampled blocks equal the full-graph outputs,
    and every labelled county of the year is a seed exactly once."""
    import numpy as np
    import torch

    from seqstruct.crop.batches import GraphBatches
    from seqstruct.crop.conftest import tiny_prepared
    from seqstruct.crop.dataset import Split, make_tensors
    from seqstruct.crop.models import CropModelConfig, build_model
    from seqstruct.crop.sampler import NeighborSampler

    data = make_tensors(tiny_prepared(n_side=4), Split(2003))
    shapes = {g: tuple(getattr(data, g).shape[2:]) for g in ("weekly", "soil", "extra")}
    model = build_model(
        method, shapes, CropModelConfig(weekly_channels=(4, 4, 4, 4), soil_channels=(4, 4, 4), hidden=8)
    ).eval()
    history = 5 if method.endswith("5y") else 1
    sampler = NeighborSampler(data.edge_index, data.n_counties, (0, 0))
    batches = GraphBatches(data, [2001], batch_size=3, seed=0, history=history, sampler=sampler)
    w = data.window(2001, history)
    with torch.no_grad():
        full = model(data.weekly[:, w], data.soil[:, w], data.extra[:, w], data.edge_index)
        seen = []
        for batch in batches(0):
            seeds = torch.as_tensor(batch[1][: batch[3]])
            pred, target = batches.forward(model, batch)
            torch.testing.assert_close(pred, full[seeds])
            torch.testing.assert_close(target, data.y[seeds, w], equal_nan=True)
            seen += seeds.tolist()
    labelled = np.flatnonzero(~torch.isnan(data.y[:, data.year_index(2001)]).numpy())
    assert sorted(seen) == list(labelled) and len(batches) == -(-len(labelled) // 3)


def test_select_writes_the_validation_choice(tiny_nc: Path, tmp_path: Path) -> None:
    from seqstruct.crop.search import select

    rec = select(
        tiny_nc, "lasso_1y", 2003, {"max_iter": 5000}, {"alpha": [0.01, 10.0]}, seed=0, out=tmp_path / "selection.json"
    )
    assert json.loads((tmp_path / "selection.json").read_text()) == rec
    assert rec["chosen"] == {"alpha": 0.01}  # alpha 10 zeroes every coefficient
    assert rec["params"] == {"max_iter": 5000, "alpha": 0.01} and rec["val_year"] == 2002
    assert [p["settings"]["alpha"] for p in rec["points"]] == [0.01, 10.0]
    assert rec["points"][0]["score"] < rec["points"][1]["score"] == rec["points"][1]["val"]["rmse"]
    assert rec["metric"] == "rmse" and rec["maximize"] is False
    mixed = select(
        tiny_nc,
        "gradient_boosting_1y",
        2003,
        {"max_iter": 5},
        {"max_depth": [2, None]},
        seed=0,
        out=tmp_path / "gb.json",
    )
    assert {type(p["settings"]["max_depth"]) for p in mixed["points"]} == {int, type(None)}  # not 2.0 / NaN
    one = select(tiny_nc, "cnn_rnn_5y", 2003, FAST, {"lr": [0.5]}, seed=0, out=tmp_path / "one.json")
    assert one["points"] == [] and one["params"]["lr"] == 0.5  # one point: nothing trained


def test_search_cli_keeps_small_settings_exact(tiny_nc: Path, tmp_path: Path) -> None:
    from seqstruct.crop.search import main

    out = tmp_path / "search.csv"
    assert (
        main(
            [
                "--data",
                str(tiny_nc),
                "--method",
                "cnn_rnn_5y",
                "--test-year",
                "2003",
                "--base",
                json.dumps({**FAST, "epochs": 1}),
                "--grid",
                '{"weight_decay": [1e-05, 0.0001]}',
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(pd.read_csv(out)["weight_decay"]) == [1e-05, 0.0001]


def test_schema_names_exactly_the_methods_of_the_code() -> None:
    """The crop schema's method enum is seqstruct.crop.train.METHODS (the one list the code has)."""
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[3] / "workflow/schemas/crop.schema.yaml").read_text())
    assert schema["$defs"]["method"]["enum"] == list(METHODS)
    assert set(schema["properties"]["methods"]["properties"]) == set(SKLEARN)


def test_paper_scale_restores_the_thesis_weekly_cnn() -> None:
    """The small scale halves the weekly CNN; config merges are deep, so the paper scale must set it back."""
    from seqstruct.common.config import merge_configs

    root = Path(__file__).resolve().parents[3]
    small = merge_configs(root / "config/config.yaml")["crop"]["methods"]
    paper = merge_configs(root / "config/config.yaml", root / "config/scales/paper.yaml")["crop"]["methods"]
    for method in ("cnn_1y", "gnn_1y", "cnn_rnn_5y", "gnn_rnn_5y"):
        assert small[method]["weekly_channels"] == [32, 64, 128, 256], method
        assert paper[method]["weekly_channels"] == [64, 128, 256, 512], method
