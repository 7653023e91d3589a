"""Why ridge 1y misses a test year by a level: its regularisation path split into the year-level offset and
the error left within the year (docs/crop-audit.md).

For every alpha of the grid, ridge is fitted as in ``seqstruct.crop.train`` (flattened standardised single-year
features of the training years) and scored on the validation and the test year:

* ``rmse``: the table's RMSE (training-std units);
* ``bias_bu``: the mean error in bu/acre (the level offset of the whole year);
* ``within``: the RMSE left after removing that offset, ``sqrt(rmse^2 - bias^2)`` (how well the counties are
  ranked and spread within the year);
* ``coef_l1``: the sum of the absolute coefficients (how much the fit leans on combinations of collinear
  columns);

once with all features and once without the previous-year mean yield (the one trend feature).

    python -m seqstruct.crop.ridge_audit --data results/data/crop/soybean.nc --test-year 2017
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge

from seqstruct.crop.dataset import PREV_YEAR, CropTensors, Split, make_tensors, open_prepared

ALPHAS = (0.01, 0.1, 1, 10, 100, 1000, 10000)  # the small-scale grid (config/config.yaml)


def _year(data: CropTensors, year: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = data.flat_features(year)[:, keep]
    y = data.y[:, data.year_index(year)].cpu().numpy()
    rows = ~np.isnan(y)
    return x[rows], y[rows]


def ridge_path(data: CropTensors, alphas: Sequence[float] = ALPHAS) -> pd.DataFrame:
    """One row per (features, alpha, split) with rmse, bias_bu, within and coef_l1 (module docstring)."""
    n_flat = data.flat_features(data.split.val_year).shape[1]
    prev = n_flat - len(data.extra_vars) + data.extra_vars.index(PREV_YEAR)
    rows = []
    for label, keep in (("all", np.arange(n_flat)), ("without prev_year_yield", np.delete(np.arange(n_flat), prev))):
        parts = [_year(data, t, keep) for t in data.train_years(history=1)]
        x, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        for alpha in alphas:
            model = Ridge(alpha=float(alpha)).fit(x, y)
            for split, year in (("val", data.split.val_year), ("test", data.split.test_year)):
                xs, ys = _year(data, year, keep)
                err = model.predict(xs) - ys
                rmse, bias = float(np.sqrt(np.mean(err**2))), float(err.mean())
                rows.append(
                    {
                        "features": label,
                        "alpha": alpha,
                        "split": split,
                        "year": year,
                        "rmse": rmse,
                        "bias_bu": bias * data.y_std,
                        "within": float(np.sqrt(max(rmse**2 - bias**2, 0.0))),
                        "coef_l1": float(np.abs(model.coef_).sum()),
                    }
                )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="prepared crop NetCDF")
    parser.add_argument("--test-year", type=int, required=True)
    args = parser.parse_args(argv)
    data = make_tensors(open_prepared(args.data), Split(args.test_year))
    table = ridge_path(data).pivot_table(
        index=["features", "alpha"], columns="split", values=["rmse", "bias_bu", "within"]
    )
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
