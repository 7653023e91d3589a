"""Training-speed benchmark of the deep crop models: seconds per epoch and peak memory of every deep method on
the same data, in one run, written to a CSV (not a timed test: numbers depend on the machine).

    python -m seqstruct.crop.benchmark --data results/data/crop/soybean.nc --configfile config/config.yaml \\
        --out results/benchmarks/crop_training.csv

Each method trains in a fresh process (so its peak resident memory is its own) with one CPU thread or the GPU,
with its base settings from the config and the first value of each grid entry, for ``--epochs`` epochs on the
split of ``--test-year`` (validation scored every epoch, as in the pipeline; the test year is never scored). The
seconds per epoch come from the trainer (training plus the per-epoch validation). The thesis' claim to check:
GNN-RNN costs no more than 3x CNN-RNN per epoch (``--max-gnn-ratio``; exit status 1 when exceeded).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from typing import Any

import pandas as pd

from seqstruct.common.benchmark import add_ratio, first_grid_point, measure_methods
from seqstruct.common.config import merge_configs
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import write_csv
from seqstruct.crop.models import ARCHITECTURES


def method_settings(config: dict[str, Any], method: str) -> dict[str, Any]:
    """A method's base settings with the first point of its grid (what the benchmark trains)."""
    crop = config.get("crop", {})
    return {**crop.get("methods", {}).get(method, {}), **first_grid_point(crop.get("grids", {}).get(method, {}))}


def _measure(method: str, data: str, test_year: int, params: dict[str, Any]) -> dict[str, Any]:
    """In the benchmark's own process: train once; the timing and the settings that matter for speed."""
    from seqstruct.crop.train import run

    with tempfile.TemporaryDirectory() as tmp:
        m = run(method, data, test_year, 0, params, tmp, threads=1, evaluate_test=False)
    return {
        "method": m["method"],
        "slug": method,
        "device": m["device"],
        "epochs": m["epochs_run"],
        "batches_per_epoch": m["batches_per_epoch"],
        "seconds_per_epoch": m["train_seconds"] / m["epochs_run"],
        "batch_size": m["config"]["deep"]["batch_size"],
        "hidden": m["config"]["model"]["hidden"],
        "fanouts": m["config"]["deep"]["fanouts"],
    }


def benchmark(
    data: str, config: dict[str, Any], epochs: int, test_year: int, methods: tuple[str, ...] = ARCHITECTURES
) -> pd.DataFrame:
    """One row per deep method: seconds per epoch, peak memory, the settings that matter for speed; each in a
    fresh process (``seqstruct.common.benchmark``)."""
    jobs = {m: (m, data, test_year, {**method_settings(config, m), "epochs": epochs}) for m in methods}
    table = measure_methods(_measure, jobs)
    if "cnn_rnn_5y" in set(table["slug"]):
        add_ratio(table, "vs_cnn_rnn", "slug", "cnn_rnn_5y")
    return table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, help="prepared crop NetCDF")
    p.add_argument("--configfile", nargs="+", default=["config/config.yaml"], help="merged left to right")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--test-year", type=int, default=2018)
    p.add_argument("--methods", default=",".join(ARCHITECTURES), help="comma-separated deep method slugs")
    p.add_argument("--max-gnn-ratio", type=float, default=3.0, help="GNN-RNN / CNN-RNN seconds per epoch limit")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    setup_logging(None)
    config = merge_configs(*args.configfile)
    methods = tuple(m for m in args.methods.split(",") if m)
    unknown = sorted(set(methods) - set(ARCHITECTURES))
    if unknown:
        p.error(f"unknown deep methods {unknown}; known: {', '.join(ARCHITECTURES)}")
    table = benchmark(args.data, config, args.epochs, args.test_year, methods)
    table.insert(0, "scale", config.get("scale", "?"))
    write_csv(table, args.out)
    print(table.to_string(index=False))
    if "vs_cnn_rnn" in table and "gnn_rnn_5y" in set(table["slug"]):
        ratio = float(table.set_index("slug").loc["gnn_rnn_5y", "vs_cnn_rnn"])
        verdict = "within" if ratio <= args.max_gnn_ratio else "ABOVE"
        print(f"GNN-RNN costs {ratio:.2f}x CNN-RNN per epoch: {verdict} the limit of {args.max_gnn_ratio}x")
        if ratio > args.max_gnn_ratio:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
