"""Hyperparameter search for the crop models on the validation year only (the test year is never scored).

    python -m seqstruct.crop.search --data results/data/crop/soybean.nc --method gnn_rnn_5y \\
        --test-year 2018 --base '{"epochs": 25}' --grid '{"lr": [0.001, 0.0003], "dropout": [0.1, 0.3]}' \\
        --out results/search/gnn_rnn_5y_2018.csv

Every grid point is trained with the given seeds; the CSV lists the settings, the validation RMSE/R²/Corr per
seed and the mean validation RMSE, best first.

The workflow's ``select_crop`` rule calls ``select`` for every (method, test year): the grid of
``crop.grids.<method>`` in config, trained with the first configured seed, the point with the lowest validation
RMSE written to ``selection.json`` that the training runs of all seeds read. Both are the shared
``seqstruct.common.search`` with crop's training run (``seqstruct.crop.train.run`` without the test year).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from seqstruct.common import search as grid_search
from seqstruct.common.io import atomic_path
from seqstruct.common.logs import setup_logging
from seqstruct.crop.train import run

METRIC = "rmse"  # the validation metric that ranks grid points (lower is better)


def _trainer(data: str | Path, method: str, test_year: int, threads: int) -> grid_search.TrainFn:
    """``train(params, seed)`` for the shared search: one crop run scored on the validation year only."""

    def train(params: dict[str, Any], seed: int) -> dict[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            return run(method, data, test_year, seed, params, tmp, threads=threads, evaluate_test=False)

    return train


def search(
    data: str | Path,
    method: str,
    test_year: int,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    seeds: list[int],
    threads: int = 1,
) -> pd.DataFrame:
    """Train every grid point (merged over ``base``) with every seed; return validation metrics, best first."""
    rows = grid_search.search(
        _trainer(data, method, test_year, threads), base, grid, seeds, METRIC, desc=f"{method} {test_year}"
    )
    return pd.DataFrame(
        [
            {
                **r["settings"],
                "point": r["point"],
                "seed": r["seed"],
                **{f"val_{k}": r["val"][k] for k in ("rmse", "r2", "corr")},
                "best_epoch": r["best_epoch"],
                "mean_val_rmse": r["score"],
            }
            for r in rows
        ]
    )


def select(
    data: str | Path,
    method: str,
    test_year: int,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    seed: int,
    out: str | Path,
    threads: int = 1,
) -> dict[str, Any]:
    """Choose ``method``'s settings for ``test_year`` on its validation year and write them to ``out`` (JSON).

    See ``seqstruct.common.search.select``; the record also names the method, test year and validation year.
    """
    context = {"method": method, "test_year": int(test_year), "val_year": int(test_year) - 1}
    return grid_search.select(
        _trainer(data, method, test_year, threads),
        base,
        grid,
        seed,
        out,
        METRIC,
        context=context,
        desc=f"{method} {test_year}",
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
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
    table = search(
        args.data,
        args.method,
        args.test_year,
        json.loads(args.base),
        json.loads(args.grid),
        [int(s) for s in args.seeds.split(",")],
    )
    with atomic_path(args.out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")  # keeps small settings (1e-05)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
