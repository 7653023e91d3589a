from pathlib import Path

import pytest

from seqstruct.common.io import read_json
from seqstruct.common.search import grid_points, search, select


def _train(calls: list):
    """A fake training run: validation 'err' is |lr - 0.01|, 'acc' its negative; seeds add a small offset."""

    def train(params: dict, seed: int) -> dict:
        calls.append((params, seed))
        err = abs(params["lr"] - 0.01) + 0.001 * seed
        return {"val": {"err": err, "acc": -err}, "best_epoch": 3}

    return train


def test_grid_points_is_the_product_in_order() -> None:
    assert grid_points({"a": [1, 2], "b": [3]}) == [{"a": 1, "b": 3}, {"a": 2, "b": 3}]
    assert grid_points({}) == [{}]


def test_search_ranks_by_the_mean_over_seeds_in_either_direction() -> None:
    calls: list = []
    rows = search(_train(calls), {"epochs": 2}, {"lr": [0.1, 0.01, 0.02]}, [0, 1], "err")
    assert len(calls) == 6 and all(p["epochs"] == 2 for p, _ in calls)
    assert [r["settings"]["lr"] for r in rows] == [0.01, 0.01, 0.02, 0.02, 0.1, 0.1]
    assert rows[0]["score"] == pytest.approx(0.0005) and rows[0]["seed"] == 0
    best = search(_train([]), {}, {"lr": [0.1, 0.01]}, [0], "acc", maximize=True)
    assert best[0]["settings"] == {"lr": 0.01}
    with pytest.raises(KeyError, match="no 'f1'"):
        search(_train([]), {}, {"lr": [0.1]}, [0], "f1")


def test_select_writes_every_point_and_the_choice(tmp_path: Path) -> None:
    rec = select(
        _train([]),
        {"epochs": 2},
        {"lr": [0.1, 0.01]},
        0,
        tmp_path / "s.json",
        "err",
        context={"method": "m", "split": "a"},
    )
    assert read_json(tmp_path / "s.json") == rec
    assert rec["chosen"] == {"lr": 0.01} and rec["params"] == {"epochs": 2, "lr": 0.01}
    assert rec["method"] == "m" and rec["split"] == "a" and rec["metric"] == "err" and rec["seed"] == 0
    assert [p["settings"]["lr"] for p in rec["points"]] == [0.01, 0.1] and rec["points"][0]["best_epoch"] == 3


def test_select_of_one_point_trains_nothing(tmp_path: Path) -> None:
    calls: list = []
    rec = select(_train(calls), {"epochs": 2}, {"lr": [0.5]}, 0, tmp_path / "s.json", "err")
    assert calls == [] and rec["points"] == [] and rec["params"] == {"epochs": 2, "lr": 0.5}
