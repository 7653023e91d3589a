"""Training-speed benchmark of the deep MLC methods: seconds per epoch and peak memory of every deep method on one
prepared data set, in one run, written to a CSV (not a timed test: numbers depend on the machine).

    python -m seqstruct.mlc.benchmark --data results/data/mlc/yeast --configfile config/config.yaml \\
        --epochs 2 --out results/benchmarks/mlc_training.csv [--methods c2ae,lamp,mpvae,asl,cgmvae] [--batch-size 128]

Each method trains in a fresh process (so its peak resident memory is its own) with one CPU thread or the GPU
(``seqstruct.common.benchmark``), through ``seqstruct.mlc.train.run`` with seed 0 and ``evaluate_test=False``
(validation scored every epoch, as in the pipeline; the test split is never scored). Its settings are those the
pipeline would train at the first grid point: ``mlc.methods.<method>`` merged with
``mlc.overrides.<dataset>.<method>`` and the first point of the method's grid on that data set
(``mlc.dataset_grids.<dataset>.<method>`` where given, else ``mlc.grids.<method>``), with ``--epochs`` epochs and
the same ``--batch-size`` for every method. The data set's name is the ``dataset`` of the folder's ``info.json``.

Columns: ``method`` (the thesis name), ``dataset``, ``n_train``, ``n_features``, ``n_labels``, ``batch_size``,
``epochs``, ``seconds_per_epoch`` (the trainer's wall time over its epochs: training plus the per-epoch
validation), ``peak_rss_mb``, ``device``, ``torch_threads``, ``ratio_to_cgmvae`` (seconds per epoch over
C-GMVAE's; empty when C-GMVAE is not benchmarked) and ``cuda_peak_mb`` (empty on CPU).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import pandas as pd

from seqstruct.common.benchmark import add_ratio, first_grid_point, measure_methods
from seqstruct.common.config import merge_configs
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import write_csv
from seqstruct.mlc.prepare import load_prepared
from seqstruct.mlc.train import DEEP, METHODS, check_params, run

log = logging.getLogger(__name__)

#: the deep methods, in the thesis' table order
DEEP_METHODS = tuple(m for m in METHODS if m in DEEP)
#: the method every other one's seconds per epoch is divided by
REFERENCE = "cgmvae"
COLUMNS = (
    "method",
    "dataset",
    "n_train",
    "n_features",
    "n_labels",
    "batch_size",
    "epochs",
    "seconds_per_epoch",
    "peak_rss_mb",
    "device",
    "torch_threads",
    "ratio_to_cgmvae",
    "cuda_peak_mb",
)


def method_settings(config: dict[str, Any], method: str, dataset: str) -> dict[str, Any]:
    """``method``'s settings on ``dataset``: base, data set overrides, then the first point of its grid there."""
    mlc = config.get("mlc", {})
    own = mlc.get("dataset_grids", {}).get(dataset, {})
    grid = own[method] if method in own else mlc.get("grids", {}).get(method, {})
    return {
        **mlc.get("methods", {}).get(method, {}),
        **mlc.get("overrides", {}).get(dataset, {}).get(method, {}),
        **first_grid_point(grid),
    }


def _train_once(method: str, data_dir: str, params: dict[str, Any]) -> dict[str, Any]:
    """In the benchmark's child process: one run, its device, epochs and seconds per epoch."""
    with tempfile.TemporaryDirectory() as tmp:
        record = run(method, data_dir, 0, params, tmp, threads=1, evaluate_test=False)
    return {
        "device": record["device"],
        "epochs": record["epochs_run"],
        "seconds_per_epoch": record["train_seconds"] / record["epochs_run"],
    }


def benchmark(
    data_dir: str | os.PathLike[str],
    config: dict[str, Any],
    epochs: int,
    batch_size: int,
    methods: Sequence[str] = DEEP_METHODS,
) -> pd.DataFrame:
    """One row per deep method (``COLUMNS``) on the prepared data set in ``data_dir``.

    Raises
    ------
    MlcDataError
        ``data_dir`` is not a complete prepared folder.
    ValueError
        A method that is not a deep one, or a setting it refuses (checked for all before anything trains).
    """
    unknown = [m for m in methods if m not in DEEP]
    if unknown:
        raise ValueError(f"not deep MLC methods: {unknown}; known: {', '.join(DEEP_METHODS)}")
    data = load_prepared(data_dir)
    dataset = data.info["dataset"]
    params = {m: {**method_settings(config, m, dataset), "epochs": epochs, "batch_size": batch_size} for m in methods}
    for m, p in params.items():
        check_params(m, p)
    table = measure_methods(_train_once, {METHODS[m]: (m, str(data_dir), p) for m, p in params.items()})
    table.insert(0, "method", [METHODS[m] for m in methods])
    table["dataset"] = dataset
    table["n_train"] = len(data.split["train"])
    table["n_features"] = data.features.shape[1]
    table["n_labels"] = data.labels.shape[1]
    table["batch_size"] = batch_size
    add_ratio(table, "ratio_to_cgmvae", "method", METHODS[REFERENCE])
    return table[list(COLUMNS)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared MLC folder (results/data/mlc/<dataset>)")
    p.add_argument("--configfile", nargs="+", default=["config/config.yaml"], help="merged left to right")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--batch-size", type=int, default=128, help="the same for every method")
    p.add_argument("--methods", default=",".join(DEEP_METHODS), help="comma-separated deep method slugs")
    p.add_argument("--out", required=True, help="CSV to write")
    args = p.parse_args(argv)
    setup_logging(None)
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = sorted(set(methods) - set(DEEP))
    if unknown:
        p.error(f"unknown deep MLC methods {unknown}; known: {', '.join(DEEP_METHODS)}")
    if args.epochs < 1 or args.batch_size < 1:
        p.error("--epochs and --batch-size must be >= 1")
    table = benchmark(args.data, merge_configs(*args.configfile), args.epochs, args.batch_size, methods)
    write_csv(table, args.out)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
