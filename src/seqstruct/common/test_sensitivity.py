"""Permutation importance (common.sensitivity) on a hand-made linear model whose inputs are known."""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest
import torch

from seqstruct.common.sensitivity import (
    drawn_value,
    importance_rows,
    permutation_importance,
    permuted_rows,
    reliance,
    scrambled,
    summarise,
)


def _model() -> tuple[torch.Tensor, torch.Tensor, callable]:
    """x: (200, 3) inputs; y depends on column 0 strongly, column 1 weakly, column 2 not at all."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=gen)
    y = 2.0 * x[:, 0] + 0.3 * x[:, 1]

    def score() -> float:
        pred = 2.0 * x[:, 0] + 0.3 * x[:, 1] + 0.0 * x[:, 2]
        return float(torch.sqrt(torch.mean((pred - y) ** 2)))

    return x, y, score


def _groups(x: torch.Tensor, score: callable) -> dict:
    return {f"col{j}": scrambled(lambda rng, j=j: permuted_rows(x, rng, (j,)), score) for j in range(3)}


def test_importance_orders_the_groups_and_an_unused_group_scores_zero() -> None:
    x, _, score = _model()
    res = {r.group: r for r in permutation_importance(score, _groups(x, score), n_permutations=4, seed=1)}
    assert res["col2"].mean == 0.0 and res["col2"].std == 0.0
    assert res["col0"].mean > res["col1"].mean > 0
    # permuting a N(0, 1) column with weight w costs about w * sqrt(2) in RMSE
    assert res["col0"].mean == pytest.approx(2.0 * np.sqrt(2), rel=0.2)
    assert all(r.baseline == 0.0 and len(r.scores) == 4 for r in res.values())


def test_importance_is_reproducible_and_depends_on_the_seed() -> None:
    x, _, score = _model()
    a = permutation_importance(score, _groups(x, score), n_permutations=2, seed=3)
    b = permutation_importance(score, _groups(x, score), n_permutations=2, seed=3)
    c = permutation_importance(score, _groups(x, score), n_permutations=2, seed=4)
    assert [r.scores for r in a] == [r.scores for r in b]
    assert a[0].scores != c[0].scores


def test_higher_is_better_flips_the_sign() -> None:
    x, _, score = _model()
    acc = lambda: -score()  # noqa: E731
    res = permutation_importance(
        acc, {"col0": scrambled(lambda rng: permuted_rows(x, rng, (0,)), acc)}, higher_is_better=True
    )
    assert res[0].mean > 0


def test_a_group_that_does_not_restore_its_inputs_is_an_error() -> None:
    x, _, score = _model()

    @contextmanager
    def leaky(rng: np.random.Generator):
        x[:, 0] += 1.0
        yield

    with pytest.raises(ValueError, match="'leak' did not restore"):
        permutation_importance(score, {"leak": scrambled(leaky, score)})
    with pytest.raises(ValueError, match="at least 1"):
        permutation_importance(score, {}, n_permutations=0)


def test_permuted_rows_moves_whole_rows_and_restores_exactly() -> None:
    t = torch.arange(24.0).reshape(6, 2, 2)
    before = t.clone()
    with permuted_rows(t, np.random.default_rng(0), (1,)):
        assert not torch.equal(t, before)
        assert torch.equal(t[:, 0], before[:, 0])  # only index 1 of axis 1 moved
        moved = t[:, 1]
        # every row is some other row's block, intact
        assert sorted(map(tuple, moved.tolist())) == sorted(map(tuple, before[:, 1].tolist()))
    assert torch.equal(t, before)


def test_drawn_value_takes_one_pool_entry_for_every_sample() -> None:
    t = torch.zeros(5, 3)
    pool = torch.tensor([[7.0], [9.0]])
    with drawn_value(t, (slice(None), 2), pool, np.random.default_rng(0)):
        assert t[:, 2].unique().numel() == 1 and float(t[0, 2]) in (7.0, 9.0)
        assert torch.equal(t[:, :2], torch.zeros(5, 2))
    assert torch.equal(t, torch.zeros(5, 3))


def test_summarise_averages_runs_and_reliance_reads_it() -> None:
    x, _, score = _model()
    rows = []
    for seed in (0, 1):
        rows += importance_rows(permutation_importance(score, _groups(x, score), seed=seed), method="m", seed=seed)
    table = summarise(pd.DataFrame(rows), ["method"])
    assert list(table.group) == ["col0", "col1", "col2"] and set(table.n_runs) == {2}
    per_seed = pd.DataFrame(rows).groupby("group").increase_mean.mean()
    assert table.set_index("group").increase_mean.to_dict() == pytest.approx(per_seed.to_dict())
    used, ignored = reliance(table, floor=0.01)
    assert used == ["col0", "col1"] and ignored == ["col2"]
