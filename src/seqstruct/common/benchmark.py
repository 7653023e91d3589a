"""The domain-neutral parts of the training-speed benchmarks (each domain's ``benchmark`` module): every
measurement in a fresh process, peak memory, one row per method.

A benchmark is a picklable, module-level function ``fn(*args) -> dict`` (one training run; its row holds at
least ``seconds_per_epoch``) and one ``args`` tuple per method. :func:`measure_methods` calls ``fn`` for each
method in a new ``spawn``-ed process (nothing inherited, so the peak resident memory is that method's own) with
one torch CPU thread, and adds to each row what every benchmark reports about the process:

    peak_rss_mb     peak resident set size of the process (``resource.getrusage``), MiB
    cuda_peak_mb    peak CUDA memory allocated by torch in it, MiB (empty when CUDA was not used)
    torch_threads   torch's intra-op CPU threads when ``fn`` returned

The numbers depend on the machine and its load: they go to a CSV (``seqstruct.common.tables.write_csv``), never
into a timed test.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import resource
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pandas as pd
import torch

from seqstruct.common.search import grid_points

log = logging.getLogger(__name__)

#: one benchmark run: ``fn(*args)`` -> its row (at least ``seconds_per_epoch``)
RunFn = Callable[..., Mapping[str, Any]]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def first_grid_point(grid: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The first point of a validation grid (every entry's first value; ``{}`` for an empty grid)."""
    return grid_points(grid)[0]


def _child(fn: RunFn, args: tuple[Any, ...]) -> dict[str, Any]:
    """In the fresh process: one torch thread, run ``fn``, add the process' own numbers."""
    torch.set_num_threads(1)
    row = dict(fn(*args))
    row["peak_rss_mb"] = peak_rss_mb()
    row["cuda_peak_mb"] = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_initialized() else None
    row["torch_threads"] = torch.get_num_threads()
    return row


def run_isolated(fn: RunFn, *args: Any, name: str = "benchmark") -> dict[str, Any]:
    """``fn(*args)`` in a new spawned process with one torch thread; its row plus ``peak_rss_mb``,
    ``cuda_peak_mb`` and ``torch_threads`` of that process.

    An exception in ``fn`` is raised here (with the child's traceback as its cause).

    Raises
    ------
    RuntimeError
        When the process died without an answer (killed, e.g. out of memory); ``name`` says which run.
    """
    with ProcessPoolExecutor(max_workers=1, mp_context=mp.get_context("spawn")) as pool:
        try:
            return pool.submit(_child, fn, args).result()
        except BrokenProcessPool as err:
            raise RuntimeError(f"{name}: the benchmark process died without a result (killed? out of memory?)") from err


def measure_methods(fn: RunFn, jobs: Mapping[str, tuple[Any, ...]]) -> pd.DataFrame:
    """One row per job ``name -> args``: ``fn(*args)`` run by :func:`run_isolated`, one after the other, with
    one log line per job (seconds per epoch, peak memory)."""
    rows = []
    for i, (name, args) in enumerate(jobs.items(), 1):
        row = run_isolated(fn, *args, name=name)
        log.info(
            "[%d/%d] %s: %.3g s/epoch, peak RSS %.0f MB%s",
            i,
            len(jobs),
            name,
            row["seconds_per_epoch"],
            row["peak_rss_mb"],
            f", peak CUDA {row['cuda_peak_mb']:.0f} MB" if row["cuda_peak_mb"] is not None else "",
        )
        rows.append(row)
    table = pd.DataFrame(rows)
    table["cuda_peak_mb"] = pd.to_numeric(table["cuda_peak_mb"])  # None (CPU) -> NaN
    return table


def add_ratio(
    table: pd.DataFrame, name: str, key: str, reference: Any, column: str = "seconds_per_epoch"
) -> pd.DataFrame:
    """Add column ``name``: ``column`` divided by its value in the row whose ``key`` is ``reference`` (NaN
    throughout when no row is the reference); returns ``table``."""
    ref = table.loc[table[key] == reference, column]
    table[name] = table[column] / float(ref.iloc[0]) if len(ref) else float("nan")
    return table
