"""The aggregation benchmark's bookkeeping (the benchmark itself is a script, not a test)."""

from __future__ import annotations

import pandas as pd

from seqstruct.crop.rasters.benchmark import ENGINES, plot_benchmark


def test_benchmark_figure(tmp_path) -> None:
    df = pd.DataFrame(
        {
            "engine": list(ENGINES),
            "days_timed": [365, 365, 365, 30, 10],
            "seconds_per_variable_year": [4.0, 5.0, 27.0, 900.0, 9000.0],
            "peak_memory_mb": [300.0, 400.0, 3600.0, 8000.0, 500.0],
        }
    )
    plot_benchmark(df, tmp_path / "b.png")
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
