"""Permutation importance by feature group: how much worse a trained model scores when one group of its
inputs is scrambled and the rest is left as it is.

A domain describes each group as a function ``rng -> score``: it scrambles the group's inputs with the given
numpy Generator, scores the model, and restores the inputs. For the usual case, a group whose values are
permuted across samples in place, :func:`scrambled` turns a context manager (such as :func:`permuted_rows`)
and a score function into that function. :func:`permutation_importance` scores the model once on the intact
inputs and once per group and permutation seed, and reports the increase of the score (for a lower-is-better
score such as RMSE; with ``higher_is_better=True`` for an accuracy-like one, so that a positive increase
always means "the model relies on this group"):

    importance(group) = mean over seeds s of  score(inputs with the group scrambled by seed s) - score(intact)

A group the model ignores scores exactly 0 (its prediction does not move); the spread over seeds says how
much of a small value is chance. Seed ``s`` of group ``g`` uses ``seeding.generator(seed,
"permutation-importance", g, s)``, so the same call gives the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from seqstruct.common.seeding import generator

#: a group's perturbed score: Generator -> the score with the group scrambled (inputs restored afterwards)
PerturbedScore = Callable[[np.random.Generator], float]


@dataclass(frozen=True)
class GroupImportance:
    """The importance of one feature group.

    Attributes
    ----------
    group : str
        The group's name.
    baseline : float
        Score on the intact inputs.
    scores : tuple of float
        Score with the group scrambled, one per permutation seed.
    higher_is_better : bool
        Whether the score is better when higher (flips the sign of the increase).
    """

    group: str
    baseline: float
    scores: tuple[float, ...]
    higher_is_better: bool = False

    @property
    def increases(self) -> np.ndarray:
        """(n_seeds,) score change per seed, signed so that positive means worse without the group."""
        delta = np.asarray(self.scores) - self.baseline
        return -delta if self.higher_is_better else delta

    @property
    def mean(self) -> float:
        """Mean increase over the permutation seeds."""
        return float(self.increases.mean())

    @property
    def std(self) -> float:
        """Standard deviation of the increase over the permutation seeds (0 for one seed)."""
        return float(self.increases.std())

    def as_row(self) -> dict[str, float | int | str]:
        """A flat record: group, baseline, score_mean, increase_mean, increase_std, n_permutations."""
        return {
            "group": self.group,
            "baseline": self.baseline,
            "score_mean": float(np.mean(self.scores)),
            "increase_mean": self.mean,
            "increase_std": self.std,
            "n_permutations": len(self.scores),
        }


def permutation_importance(
    score: Callable[[], float],
    groups: Mapping[str, PerturbedScore],
    n_permutations: int = 3,
    seed: int = 0,
    higher_is_better: bool = False,
) -> list[GroupImportance]:
    """Score the model with each feature group scrambled; one :class:`GroupImportance` per group, in order.

    Parameters
    ----------
    score : callable
        ``score()`` predicts with the model on the current inputs and returns one number.
    groups : mapping of str to PerturbedScore
        Each group's perturbed score (see the module docstring; :func:`scrambled` builds the common kind).
    n_permutations : int
        Permutation seeds per group (``>= 1``).
    seed : int
        Base seed of the permutations.
    higher_is_better : bool
        True for a score that is better when higher (the increase is then ``baseline - score``).

    Raises
    ------
    ValueError
        If ``n_permutations < 1``, or a group leaves the inputs changed (the score after it differs from the
        intact score).
    """
    if n_permutations < 1:
        raise ValueError(f"n_permutations must be at least 1, got {n_permutations}")
    baseline = float(score())
    out = []
    for name, perturbed in groups.items():
        scores = tuple(
            float(perturbed(generator(seed, "permutation-importance", name, s))) for s in range(n_permutations)
        )
        after = float(score())
        if not np.isclose(after, baseline, rtol=1e-6, atol=1e-9):
            raise ValueError(f"feature group {name!r} did not restore the inputs (score {baseline} -> {after})")
        out.append(GroupImportance(name, baseline, scores, higher_is_better))
    return out


def scrambled(
    perturbation: Callable[[np.random.Generator], AbstractContextManager[object]], score: Callable[[], float]
) -> PerturbedScore:
    """The :data:`PerturbedScore` that calls ``score()`` inside ``perturbation(rng)``."""

    def perturbed(rng: np.random.Generator) -> float:
        with perturbation(rng):
            return score()

    return perturbed


@contextmanager
def permuted_rows(tensor: torch.Tensor, rng: np.random.Generator, index: tuple[object, ...] = ()) -> Iterator[None]:
    """Inside the block, the part ``tensor[:, *index]`` is permuted along axis 0 (the samples): every sample
    carries another sample's part, whose inner structure (e.g. a weekly series) stays intact. ``tensor`` is
    changed in place and restored exactly on exit.

    Parameters
    ----------
    tensor : torch.Tensor
        (n_samples, ...) inputs.
    rng : numpy.random.Generator
        Source of the permutation.
    index : tuple
        Index of the group in the axes after the first (slices, ints or one list of positions).
    """
    where = (slice(None), *index)
    kept = tensor[where].clone()
    perm = torch.as_tensor(rng.permutation(tensor.shape[0]), device=tensor.device)
    tensor[where] = kept[perm]
    try:
        yield
    finally:
        tensor[where] = kept


@contextmanager
def drawn_value(
    tensor: torch.Tensor, index: tuple[object, ...], pool: torch.Tensor, rng: np.random.Generator
) -> Iterator[None]:
    """Inside the block, ``tensor[index]`` holds one entry of ``pool`` drawn at random along its first axis.

    For a group with one value shared by every sample (e.g. a year-wide feature), which a permutation across
    samples cannot change: another year's value is drawn instead. Restored exactly on exit.

    Shapes
    ------
    pool : (n_candidates, ...) each entry broadcastable to ``tensor[index]``
    """
    kept = tensor[index].clone()
    tensor[index] = pool[int(rng.integers(len(pool)))].expand_as(kept)
    try:
        yield
    finally:
        tensor[index] = kept


def importance_rows(results: Sequence[GroupImportance], **keys: object) -> list[dict[str, object]]:
    """Rows of :meth:`GroupImportance.as_row` with ``keys`` (e.g. method, year, seed) first in each."""
    return [{**keys, **r.as_row()} for r in results]


def summarise(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per ``keys`` and group, the mean over runs (training seeds) of the baseline score and of each run's mean
    increase, the std of the increase across runs, and the run and permutation counts.

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per run and group: ``keys``, ``group``, ``baseline``, ``increase_mean``, ``n_permutations``.
    keys : sequence of str
        Columns naming a model (e.g. method and test year).

    Returns
    -------
    pandas.DataFrame
        ``keys``, group, baseline_mean, increase_mean, increase_std, n_runs, n_permutations; groups in order
        of first appearance.
    """
    by = [*keys, "group"]
    out = (
        rows.groupby(by, sort=False)
        .agg(
            baseline_mean=("baseline", "mean"),
            increase=("increase_mean", "mean"),
            increase_std=("increase_mean", lambda x: float(np.std(x))),
            n_runs=("increase_mean", "size"),
            n_permutations=("n_permutations", "first"),
        )
        .reset_index()
        .rename(columns={"increase": "increase_mean"})
    )
    return out


def reliance(summary: pd.DataFrame, floor: float) -> tuple[list[str], list[str]]:
    """Groups a model relies on and groups it ignores, from one model's rows of :func:`summarise`.

    A group is relied on when its mean increase exceeds ``floor`` and twice its spread across runs (largest
    first); it is ignored when its increase is below ``floor`` in absolute value (in the order of ``summary``).
    """
    used = summary[(summary.increase_mean > floor) & (summary.increase_mean > 2 * summary.increase_std)]
    ignored = summary[summary.increase_mean.abs() < floor]
    return list(used.sort_values("increase_mean", ascending=False).group), list(ignored.group)
