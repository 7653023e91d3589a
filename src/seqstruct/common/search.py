"""Validation grid search and selection for any method: the test split is never scored here.

``select`` trains every point of a grid (merged over the base settings) with one seed, ranks the points by one
validation metric (lower or higher is better) and writes ``selection.json``, which the training runs of every
seed then read. ``search`` does the same for several seeds and returns the table, for exploring by hand.

The caller supplies ``train(params, seed)``, which trains on the training split, scores the validation split
only and returns a record with ``val`` (metric -> value) and optionally ``best_epoch``.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from seqstruct.common.io import write_json

log = logging.getLogger(__name__)

#: ``train(params, seed)`` -> a record with ``val`` (metric -> value) and optionally ``best_epoch``
TrainFn = Callable[[dict[str, Any], int], Mapping[str, Any]]


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The Cartesian product of ``grid`` as a list of settings dicts (keys in the given order).

    An empty grid has one point, ``{}`` (the base settings as they are).
    """
    keys = list(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[k] for k in keys))]


def search(
    train: TrainFn,
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seeds: Sequence[int],
    metric: str,
    maximize: bool = False,
    desc: str = "search",
) -> list[dict[str, Any]]:
    """Train every grid point with every seed; return one row per (point, seed), best point first.

    Parameters
    ----------
    train : callable
        ``train(params, seed)``, see the module docstring.
    base, grid : mapping
        Settings shared by every point; setting -> values to try.
    seeds : sequence of int
        Seeds each point is trained with.
    metric : str
        The validation metric that ranks the points (its mean over ``seeds``).
    maximize : bool
        True when a higher ``metric`` is better.
    desc : str
        Label of the log lines.

    Returns
    -------
    list of dict
        Rows ``{"point", "settings", "seed", "val", "best_epoch", "score"}`` with ``score`` the point's mean
        ``metric`` over seeds, sorted best first (ties keep grid order, then seed order).
    """
    rows, points = [], grid_points(grid)
    for i, point in enumerate(points):
        for seed in seeds:
            m = train({**base, **point}, seed)
            if metric not in m["val"]:
                raise KeyError(f"{desc}: the validation record has no {metric!r} (has {sorted(m['val'])})")
            rows.append(
                {"point": i, "settings": point, "seed": seed, "val": dict(m["val"]), "best_epoch": m.get("best_epoch")}
            )
            log.info(
                "%s grid point %d/%d %s seed %d: validation %s %.4f",
                desc,
                i + 1,
                len(points),
                point,
                seed,
                metric,
                m["val"][metric],
            )
    means = {i: _mean([r["val"][metric] for r in rows if r["point"] == i]) for i in range(len(points))}
    for r in rows:
        r["score"] = means[r["point"]]
    sign = -1.0 if maximize else 1.0
    return sorted(rows, key=lambda r: (sign * r["score"], r["point"], r["seed"]))


def select(
    train: TrainFn,
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seed: int,
    out: str | os.PathLike[str],
    metric: str,
    maximize: bool = False,
    context: Mapping[str, Any] | None = None,
    desc: str = "select",
) -> dict[str, Any]:
    """Choose settings on the validation split and write them to ``out`` (JSON).

    The record holds ``context`` (e.g. method and split), the seed, the base settings, the grid, every point's
    validation metrics (``points``, best first: ``settings``, ``score``, ``val``, ``best_epoch``), the metric
    and direction that ranked them, the chosen point (``chosen``) and the merged settings to train with
    (``params``). A grid of one point (or none) leaves nothing to choose: it is taken without training
    anything and ``points`` stays empty.

    Returns
    -------
    dict
        The record as written.
    """
    record: dict[str, Any] = {
        **(context or {}),
        "seed": seed,
        "base": dict(base),
        "grid": dict(grid),
        "metric": metric,
        "maximize": maximize,
        "points": [],
        "chosen": {},
    }
    points = grid_points(grid)
    if len(points) == 1:
        record["chosen"] = points[0]
    else:
        rows = search(train, base, grid, [seed], metric, maximize=maximize, desc=desc)
        record["points"] = [{k: r[k] for k in ("settings", "score", "val", "best_epoch")} for r in rows]
        record["chosen"] = rows[0]["settings"]
        log.info("%s: chose %s (validation %s %.4f)", desc, record["chosen"], metric, rows[0]["score"])
    record["params"] = {**base, **record["chosen"]}
    write_json(out, record)
    return record


def _mean(values: Sequence[float]) -> float:
    return math.fsum(float(v) for v in values) / len(values)


#: a domain's training entry: ``run(method, data_dir, seed, params, out_dir, threads=..., evaluate_test=False)``
RunFn = Callable[..., Mapping[str, Any]]


def select_runs(
    run: RunFn,
    method: str,
    data_dir: str | os.PathLike[str],
    base: Mapping[str, Any],
    grid: Mapping[str, Sequence[Any]],
    seed: int,
    out: str | os.PathLike[str],
    metric: str,
    maximize: bool,
    context: Mapping[str, Any],
    desc: str,
    threads: int = 1,
) -> dict[str, Any]:
    """:func:`select` with a domain's training entry: every grid point is one ``run(..., evaluate_test=False)``
    (validation only; its record and artifacts go to a temporary folder that is removed)."""

    def train(params: dict[str, Any], s: int) -> Mapping[str, Any]:
        with tempfile.TemporaryDirectory() as tmp:
            return run(method, data_dir, s, params, tmp, threads=threads, evaluate_test=False)

    return select(train, base, grid, seed, out, metric, maximize=maximize, context=context, desc=desc)
