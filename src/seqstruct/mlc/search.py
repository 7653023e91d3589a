"""Validation grid search for the MLC methods (the test split is never scored here).

The workflow's ``select_mlc`` rule calls ``select`` for every (method, data set): the grid of
``mlc.grids.<method>`` merged over the base settings, trained with the first configured seed and scored on the
validation split only (``seqstruct.mlc.train.run`` with ``evaluate_test=False``); the point with the best
validation ``metric`` (each point at its own validation-chosen threshold) is written to ``selection.json``, which
the training runs of every seed read. The search itself is the shared ``seqstruct.common.search``.
"""

from __future__ import annotations

import os
from typing import Any

from seqstruct.common import search as grid_search
from seqstruct.mlc.train import METHODS, run


def select(
    data_dir: str | os.PathLike[str],
    method: str,
    dataset: str,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    seed: int,
    out: str | os.PathLike[str],
    metric: str = "mi_f1",
    threads: int = 1,
) -> dict[str, Any]:
    """Choose ``method``'s settings on the validation split of ``dataset`` and write them to ``out`` (JSON);
    returns the record (``seqstruct.common.search.select``; higher ``metric`` is better)."""
    return grid_search.select_runs(
        run,
        method,
        data_dir,
        base,
        grid,
        seed,
        out,
        metric,
        maximize=True,
        context={"method": method, "dataset": dataset},
        desc=f"{METHODS[method]} {dataset}",
        threads=threads,
    )
