"""Validation grid search for the DoS methods (the test split is never scored here).

The workflow's ``select_dos`` rule calls ``select`` for every (method, data set): the grid of
``dos.grids.<method>`` merged over the base settings, trained with the first configured seed and scored on the
validation split only (``seqstruct.dos.train.run`` with ``evaluate_test=False``); the point with the best
validation ``metric`` goes to ``selection.json``, which the training runs of every seed read
(``seqstruct.common.search``).
"""

from __future__ import annotations

import os
from typing import Any

from seqstruct.common import search as grid_search
from seqstruct.common.metrics import direction
from seqstruct.dos.train import METHODS, run


def select(
    data_dir: str | os.PathLike[str],
    method: str,
    dataset: str,
    base: dict[str, Any],
    grid: dict[str, list[Any]],
    seed: int,
    out: str | os.PathLike[str],
    metric: str = "mse_ori",
    threads: int = 1,
) -> dict[str, Any]:
    """Choose ``method``'s settings on the validation split of ``dataset``, write them to ``out`` (JSON) and
    return the record; ``metric``'s direction (``seqstruct.common.metrics``) says which way is better."""
    return grid_search.select_runs(
        run,
        method,
        data_dir,
        base,
        grid,
        seed,
        out,
        metric,
        maximize=direction(metric) == "higher",
        context={"method": method, "dataset": dataset},
        desc=f"{METHODS[method]} {dataset}",
        threads=threads,
    )
