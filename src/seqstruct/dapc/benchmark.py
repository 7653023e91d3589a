"""Training-speed benchmark of the deep DAPC-chapter runs: seconds per epoch and peak memory of every deep run of
``dapc.methods`` on one prepared series, in one run, written to a CSV (not a timed test: numbers depend on the
machine).

    python -m seqstruct.dapc.benchmark --data results/data/dapc/lorenz_snr1.0 --configfile config/config.yaml \\
        --epochs 2 --out results/benchmarks/dapc_training.csv [--methods dapc,cpc,mr]

Each run trains in a fresh process (``seqstruct.common.benchmark``: its own peak memory, one CPU thread or the
GPU) through ``seqstruct.dapc.train.run`` with seed 0 and the settings the pipeline gives it on that series
(``seqstruct.dapc.train.run_settings``), with ``--epochs`` epochs. Default: every deep run of the config.

Columns: ``method`` (the run name), ``model``, ``dataset``, ``frames`` (of the train part), ``dims``,
``train_windows``, ``epochs``, ``seconds_per_epoch`` (the trainer's wall time per epoch: training plus the
validation loss), ``peak_rss_mb``, ``device``, ``torch_threads``, ``ratio_to_dapc`` (seconds per epoch over
``dapc``'s; empty when it is not benchmarked) and ``cuda_peak_mb`` (empty on CPU).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import pandas as pd

from seqstruct.common.benchmark import add_ratio, measure_methods
from seqstruct.common.config import merge_configs
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import write_csv
from seqstruct.dapc.prepare import load_prepared
from seqstruct.dapc.train import DEEP, check_params, run, run_settings

REFERENCE = "dapc"
COLUMNS = (
    "method",
    "model",
    "dataset",
    "frames",
    "dims",
    "train_windows",
    "epochs",
    "seconds_per_epoch",
    "peak_rss_mb",
    "device",
    "torch_threads",
    "ratio_to_dapc",
    "cuda_peak_mb",
)


def deep_methods(dapc: dict[str, Any]) -> list[str]:
    """The run names of ``dapc.methods`` whose model is deep, in config order."""
    return [m for m, entry in dapc.get("methods", {}).items() if entry["model"] in DEEP]


def _train_once(method: str, model: str, data_dir: str, params: dict[str, Any]) -> dict[str, Any]:
    """In the benchmark's child process: one run, its device, epochs, windows and seconds per epoch."""
    with tempfile.TemporaryDirectory() as tmp:
        record = run(method, model, data_dir, 0, params, tmp, threads=1)
    return {
        "device": record["device"],
        "epochs": record["epochs_run"],
        "train_windows": record["train_windows"],
        "seconds_per_epoch": record["seconds_per_epoch"],
    }


def benchmark(data_dir: str, config: dict[str, Any], epochs: int, methods: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per deep run (``COLUMNS``) on the prepared series in ``data_dir``.

    Raises
    ------
    ValueError
        A run that is not in ``dapc.methods`` or not deep, or a setting its model refuses (checked for all
        before anything trains).
    """
    dapc = config["dapc"]
    deep = deep_methods(dapc)
    methods = list(methods or deep)
    unknown = [m for m in methods if m not in deep]
    if unknown:
        raise ValueError(f"not deep runs of dapc.methods: {unknown}; known: {', '.join(deep)}")
    data = load_prepared(data_dir)
    name = data.info["name"]
    jobs = {}
    for m in methods:
        model = dapc["methods"][m]["model"]
        params = {**run_settings(dapc, m, name), "epochs": epochs, "patience": 0}
        check_params(model, params)
        jobs[m] = (m, model, str(data_dir), params)
    table = measure_methods(_train_once, jobs)
    table.insert(0, "method", methods)
    table["model"] = [dapc["methods"][m]["model"] for m in methods]
    table["dataset"] = name
    start, stop = data.info["bounds"]["train"]
    table["frames"], table["dims"] = stop - start, data.x.shape[1]
    add_ratio(table, "ratio_to_dapc", "method", REFERENCE)
    return table[list(COLUMNS)]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared DAPC folder (results/data/dapc/<dataset>)")
    p.add_argument("--configfile", nargs="+", default=["config/config.yaml"], help="merged left to right")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--methods", default="", help="comma-separated run names (default: every deep run)")
    p.add_argument("--out", required=True, help="CSV to write")
    args = p.parse_args(argv)
    setup_logging(None)
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    methods = [m for m in args.methods.split(",") if m] or None
    table = benchmark(args.data, merge_configs(*args.configfile), args.epochs, methods)
    write_csv(table, args.out)
    print(table.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
