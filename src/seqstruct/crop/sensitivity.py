"""What a trained crop model relies on: permutation importance of its feature groups on the test year
(``seqstruct.common.sensitivity``), the RMSE increase when one group is scrambled.

The groups (``GROUPS``), each scrambled on the test year only unless it says otherwise:

``weather_current``
    the test year's weekly weather, permuted across counties (every county gets another county's whole season).
``planting_current``
    the test year's weekly planting-progress extras (``CropTensors.extra_week`` > 0), permuted across counties.
    The progress is reported per state, so within a two-state region the permutation changes little.
``weather_history``
    the weather of the earlier years of a 5-year window, permuted across counties (5y models only).
``soil``
    the soil profile of every year of the window, permuted across counties.
``extras``
    the county's other scalar extras (every year of the window), permuted across counties.
``prev_year_yield``
    the previous-year mean yield of the test year. It is one value for all counties, so a permutation across
    counties cannot move it: it takes the value of a training year drawn at random instead.
``neighbours`` (graph models)
    the county graph rewired: every edge's source replaced through a random permutation of the counties, so a
    county keeps its own inputs and hears from random counties instead of its neighbours.
``own`` (graph models)
    every county's own inputs (all groups, every year of the window) replaced by a random county's, while its
    neighbours keep theirs. Counties are perturbed in batches no two of which lie within ``hops`` of each
    other, so each prediction sees only its own county's change.

Scores are RMSEs in training-std units, like the tables. Two options probe further: ``year`` scores another
year than the test year (e.g. a training year, to see whether the model uses a group at all), and
``within_year`` scores the RMSE left after removing the year's mean error (``within_year_rmse``), i.e. how
well the model ranks and spreads the counties regardless of the level of the whole year.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
import torch

from seqstruct.common.metrics import rmse
from seqstruct.common.sensitivity import (
    GroupImportance,
    PerturbedScore,
    drawn_value,
    permutation_importance,
    permuted_rows,
    scrambled,
)
from seqstruct.crop.dataset import PREV_YEAR, CropTensors

#: every group, in the order of the table
GROUPS = (
    "weather_current",
    "planting_current",
    "weather_history",
    "soil",
    "extras",
    "prev_year_yield",
    "neighbours",
    "own",
)


def within_year_rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """RMSE after removing the mean error, over the finite targets: (N,), (N,) -> float."""
    ok = np.isfinite(y_true)
    err = np.asarray(y_pred, dtype=float)[ok] - y_true[ok]
    return float(np.sqrt(np.mean((err - err.mean()) ** 2)))


def crop_groups(
    data: CropTensors,
    predict_year: Callable[[int], np.ndarray],
    history: int,
    hops: int = 0,
    year: int | None = None,
    within_year: bool = False,
) -> tuple[Callable[[], float], dict[str, PerturbedScore]]:
    """The score and the perturbed score of every applicable group (see the module docstring).

    Parameters
    ----------
    data : CropTensors
        The split; its tensors are perturbed in place and restored.
    predict_year : callable
        ``predict_year(year)`` -> (N,) standardised predictions from the current ``data``.
    history : int
        Years per input window (1 or 5); ``weather_history`` needs more than one.
    hops : int
        GNN layers of a graph model (0 for the others): adds ``neighbours`` and ``own``.
    year : int, optional
        The year scored and scrambled (default the test year).
    within_year : bool
        Score :func:`within_year_rmse` instead of the RMSE.
    """
    year = data.split.test_year if year is None else year
    t = data.year_index(year)
    w = data.window(year, history)
    y_true = data.y[:, t].cpu().numpy()
    metric = within_year_rmse if within_year else rmse

    def measured(pred: np.ndarray) -> float:
        return metric(y_true, pred)

    def score() -> float:
        return measured(predict_year(year))

    planting = [int(i) for i in np.flatnonzero(data.extra_week > 0)]
    prev = data.extra_vars.index(PREV_YEAR)
    extras = [i for i in range(len(data.extra_vars)) if i not in planting and i != prev]
    train_prev = data.extra[0, : data.year_index(data.split.val_year), prev]  # values of earlier years
    groups: dict[str, PerturbedScore] = {
        "weather_current": scrambled(lambda rng: permuted_rows(data.weekly, rng, (t,)), score),
    }
    if planting:
        groups["planting_current"] = scrambled(lambda rng: permuted_rows(data.extra, rng, (t, planting)), score)
    if history > 1:
        groups["weather_history"] = scrambled(lambda rng: permuted_rows(data.weekly, rng, (slice(w.start, t),)), score)
    groups["soil"] = scrambled(lambda rng: permuted_rows(data.soil, rng, (w,)), score)
    if extras:
        groups["extras"] = scrambled(lambda rng: permuted_rows(data.extra, rng, (w, extras)), score)
    groups["prev_year_yield"] = scrambled(
        lambda rng: drawn_value(data.extra, (slice(None), t, prev), train_prev[1:, None], rng), score
    )
    if hops > 0:
        groups["neighbours"] = scrambled(lambda rng: rewired(data, rng), score)
        batches = hop_batches(data.edge_index, data.n_counties, hops)  # the graph is fixed: colour it once
        groups["own"] = lambda rng: _own_score(data, predict_year, year, measured, batches, rng)
    return score, groups


def crop_sensitivity(
    data: CropTensors,
    predict_year: Callable[[int], np.ndarray],
    history: int,
    hops: int = 0,
    n_permutations: int = 3,
    seed: int = 0,
    year: int | None = None,
    within_year: bool = False,
) -> list[GroupImportance]:
    """Permutation importance of every applicable crop feature group on the test year (RMSE increase);
    ``year`` and ``within_year`` as in :func:`crop_groups`."""
    score, groups = crop_groups(data, predict_year, history, hops, year, within_year)
    return permutation_importance(score, groups, n_permutations=n_permutations, seed=seed)


@contextmanager
def rewired(data: CropTensors, rng: np.random.Generator) -> Iterator[None]:
    """Inside the block, every edge's source county ``u`` is replaced by ``perm[u]`` (one random permutation of
    the counties); targets, and so every county's degree, are kept. Restored on exit."""
    kept = data.edge_index.clone()
    perm = torch.as_tensor(rng.permutation(data.n_counties), device=kept.device)
    data.edge_index[0] = perm[kept[0]]
    try:
        yield
    finally:
        data.edge_index.copy_(kept)


def hop_batches(edge_index: torch.Tensor, n_nodes: int, hops: int) -> list[np.ndarray]:
    """Greedy colouring of the graph's ``hops``-th power: batches of nodes no two of which are within ``hops``
    edges of each other, so changing the inputs of a batch's nodes changes each one's ``hops``-layer GNN output
    only through its own inputs.

    Shapes
    ------
    edge_index : (2, E)
    output : list of (n_b,) node arrays covering 0..n_nodes-1 once
    """
    ei = edge_index.cpu().numpy()
    adj = [set() for _ in range(n_nodes)]
    for a, b in ei.T:
        adj[a].add(int(b))
        adj[b].add(int(a))
    near = []
    for v in range(n_nodes):
        seen, frontier = {v}, {v}
        for _ in range(hops):
            frontier = {u for f in frontier for u in adj[f]} - seen
            seen |= frontier
        near.append(seen - {v})
    colour = np.full(n_nodes, -1)
    for v in range(n_nodes):
        used = {colour[u] for u in near[v] if colour[u] >= 0}
        colour[v] = next(c for c in range(n_nodes) if c not in used)
    return [np.flatnonzero(colour == c) for c in range(colour.max() + 1)]


def _own_score(
    data: CropTensors,
    predict_year: Callable[[int], np.ndarray],
    year: int,
    measured: Callable[[np.ndarray], float],
    batches: list[np.ndarray],
    rng: np.random.Generator,
) -> float:
    """Score of ``year`` when every county's own inputs are another county's (``own`` in the module docstring);
    ``batches`` from :func:`hop_batches`."""
    perm = rng.permutation(data.n_counties)
    pred = np.empty(data.n_counties)
    tensors = (data.weekly, data.soil, data.extra)
    for batch in batches:
        idx = torch.as_tensor(batch, device=data.weekly.device)
        src = torch.as_tensor(perm[batch], device=data.weekly.device)
        kept = [x[idx].clone() for x in tensors]
        for x in tensors:
            x[idx] = x[src]
        try:
            pred[batch] = predict_year(year)[batch]
        finally:
            for x, k in zip(tensors, kept):
                x[idx] = k
    return measured(pred)


def main(argv: list[str] | None = None) -> int:
    """``python -m seqstruct.crop.sensitivity --model RUN/model.pt --data results/data/crop/soybean.nc
    --test-year 2017``: print the sensitivity of a trained model (again, e.g. with more permutations)."""
    import argparse

    from seqstruct.crop.dataset import Split, make_tensors, open_prepared
    from seqstruct.crop.predictor import load_predictor

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--model", required=True, help="model.pt of a training run")
    parser.add_argument("--data", required=True, help="the prepared NetCDF the run was trained on")
    parser.add_argument("--test-year", type=int, required=True)
    parser.add_argument("--permutations", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--year", type=int, help="score this year instead of the test year (e.g. a training year)")
    parser.add_argument("--within-year", action="store_true", help="score the RMSE left after the year's mean error")
    args = parser.parse_args(argv)
    data = make_tensors(open_prepared(args.data), Split(args.test_year))
    p = load_predictor(args.model, data)
    rows = crop_sensitivity(
        data, p.predict_year, p.history, p.gnn_hops, args.permutations, args.seed, args.year, args.within_year
    )
    for r in rows:
        print(f"{r.group:18s} RMSE {r.baseline:.4f} -> +{r.mean:.4f} (± {r.std:.4f} over {len(r.scores)} permutations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
