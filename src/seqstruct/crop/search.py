"""Hyperparameter search for the crop models on the validation year only (the test year is never scored).

    python -m seqstruct.crop.search --data results/data/crop/soybean.nc --method gnn_rnn_5y \\
        --test-year 2018 --base '{"epochs": 25}' --grid '{"lr": [0.001, 0.0003], "dropout": [0.1, 0.3]}' \\
        --out results/search/gnn_rnn_5y_2018.csv

Every grid point is trained with the given seeds; the CSV lists the settings, the validation RMSE/R²/Corr per
seed and the mean validation RMSE, best first.

The workflow's ``select_crop`` rule calls ``select`` for every (method, test year): the grid of
``crop.grids.<method>`` in config, trained with the first configured seed, the point with the lowest validation
RMSE written to ``selection.json`` that the training runs of all seeds read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from seqstruct.common.io import atomic_path, write_json
from seqstruct.common.logs import setup_logging
from seqstruct.crop.train import run

log = logging.getLogger(__name__)


def grid_points(grid: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product of ``grid`` as a list of settings dicts (keys in the given order)."""
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def search(data: str | Path, method: str, test_year: int, base: dict[str, Any], grid: dict[str, list[Any]],
           seeds: list[int], threads: int = 1) -> pd.DataFrame:
    """Train every grid point (merged over ``base``) with every seed; return validation metrics, best first."""
    rows, points = [], grid_points(grid)
    for i, point in enumerate(points, 1):
        params = {**base, **point}
        for seed in seeds:
            with tempfile.TemporaryDirectory() as tmp:
                m = run(method, data, test_year, seed, params, tmp, threads=threads, evaluate_test=False)
            rows.append({**point, "point": i - 1, "seed": seed, "val_rmse": m["val"]["rmse"], "val_r2": m["val"]["r2"],
                         "val_corr": m["val"]["corr"], "best_epoch": m.get("best_epoch")})
            log.info("%s grid point %d/%d %s seed %d: val rmse %.4f", method, i, len(points), point, seed,
                     m["val"]["rmse"])
    table = pd.DataFrame(rows)
    keys = list(grid)
    table["mean_val_rmse"] = table.groupby(keys, dropna=False)["val_rmse"].transform("mean")
    return table.sort_values(["mean_val_rmse", "seed"], kind="stable").reset_index(drop=True)


def select(data: str | Path, method: str, test_year: int, base: dict[str, Any], grid: dict[str, list[Any]],
           seed: int, out: str | Path, threads: int = 1) -> dict[str, Any]:
    """Choose ``method``'s settings for ``test_year`` on its validation year and write them to ``out`` (JSON).

    The record holds the base settings, the grid, every point's validation metrics (``points``, best first),
    the chosen point (``chosen``) and the merged settings to train with (``params``). A grid of one point (or
    none) leaves nothing to choose: it is taken without training anything and ``points`` stays empty.
    """
    record: dict[str, Any] = {"method": method, "test_year": int(test_year), "val_year": int(test_year) - 1,
                              "seed": seed, "base": base, "grid": grid, "points": [], "chosen": {}}
    points = grid_points(grid)
    if len(points) == 1:
        record["chosen"] = points[0]
    else:
        table = search(data, method, test_year, base, grid, [seed], threads=threads)
        # settings from the grid itself, not the table (pandas turns [3, None] into 3.0, NaN)
        record["points"] = [{"settings": points[int(r["point"])], "val_rmse": r["val_rmse"],
                             "val_r2": r["val_r2"], "val_corr": r["val_corr"], "best_epoch": _plain(r["best_epoch"])}
                            for r in table.to_dict("records")]
        record["chosen"] = record["points"][0]["settings"]
        log.info("%s %d: chose %s (validation RMSE %.4f)", method, test_year, record["chosen"],
                 record["points"][0]["val_rmse"])
    record["params"] = {**base, **record["chosen"]}
    write_json(out, record)
    return record


def _plain(v: Any) -> Any:
    """A pandas/numpy cell as a plain JSON value (NaN -> None, numpy scalars -> Python)."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    return v.item() if hasattr(v, "item") else v


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--method", required=True)
    p.add_argument("--test-year", type=int, required=True)
    p.add_argument("--base", default="{}", help="JSON settings shared by all grid points")
    p.add_argument("--grid", required=True, help='JSON {"setting": [values, ...]}')
    p.add_argument("--seeds", default="0", help="comma-separated seeds")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    setup_logging(None)
    table = search(args.data, args.method, args.test_year, json.loads(args.base), json.loads(args.grid),
                   [int(s) for s in args.seeds.split(",")])
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")  # keeps small settings (1e-05)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
