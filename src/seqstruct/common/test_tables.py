import json
from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from seqstruct.common.io import write_json
from seqstruct.common.tables import aggregate, write_table


def _rec(method: str, seed: int, rmse: float) -> dict:
    return {"method": method, "test_year": 2018, "seed": seed, "seconds": 1.5, "test": {"rmse": rmse, "r2": 0.5}}


def test_aggregate_mean_std_and_order() -> None:
    recs = [_rec("b", 0, 1.0), _rec("a", 0, 0.5), _rec("b", 1, 3.0)]
    t = aggregate(recs, ["test_year", "method"], ["rmse", "r2"])
    assert list(t["method"]) == ["b", "a"]
    assert_allclose(t.loc[0, ["rmse_mean", "rmse_std", "n_seeds"]].astype(float), [2.0, 1.0, 2])
    assert t.loc[1, "rmse_std"] == 0.0 and t.loc[1, "n_seeds"] == 1
    assert list(t.columns) == ["test_year", "method", "rmse_mean", "rmse_std", "r2_mean", "r2_std", "n_seeds"]


def test_duplicate_seed_is_an_error() -> None:
    with pytest.raises(ValueError, match="duplicate seeds"):
        aggregate([_rec("a", 0, 1.0), _rec("a", 0, 2.0)], ["method"], ["rmse"])


def test_write_table_and_meta(tmp_path: Path) -> None:
    files = []
    for i, r in enumerate([0.4, 0.6]):
        files.append(tmp_path / f"m{i}.json")
        write_json(files[-1], _rec("a", i, r))
    write_table(files, tmp_path / "t.csv", ["test_year", "method"], ["rmse"], {"scale": "small"})
    assert pd.read_csv(tmp_path / "t.csv").loc[0, "rmse_mean"] == 0.5
    meta = json.loads((tmp_path / "t.meta.json").read_text())
    assert meta["scale"] == "small" and meta["seeds"] == [0, 1] and meta["wall_time_seconds"] == 3.0
    assert "torch" in meta["packages"] and "commit" in meta["git"]
