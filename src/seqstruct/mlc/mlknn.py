"""ML-kNN (Zhang & Zhou, "ML-KNN: A lazy learning approach to multi-label learning", Pattern Recognition 2007).

For each label l, ML-kNN estimates from the training set, with Laplace smoothing ``s``:

- the prior ``P(H1_l) = (s + #{i: y_il = 1}) / (2 s + m)`` and ``P(H0_l) = 1 - P(H1_l)``;
- ``P(E_j | H1_l)``, the probability that exactly ``j`` of the k nearest neighbours (the training instance itself
  excluded) carry label l, among the training instances that carry l:
  ``(s + c_l[j]) / (s (k + 1) + Σ_p c_l[p])``; likewise ``P(E_j | H0_l)`` among those that do not.

A new instance with ``C_l`` neighbours carrying l (among its k nearest training instances) scores
``P(H1_l | E_C) = P(H1_l) P(E_C | H1_l) / (P(H1_l) P(E_C | H1_l) + P(H0_l) P(E_C | H0_l))``, and is given the
label when that exceeds 0.5. Distances are Euclidean; sparse (CSR) features are accepted.

Shapes: features (N, F) dense or CSR; labels (N, L) 0/1; scores (N, L) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors


@dataclass
class MLkNN:
    """ML-kNN with ``k`` neighbours and smoothing ``s`` (the paper's defaults: k = 10, s = 1).

    Attributes
    ----------
    k : int
        Number of nearest neighbours.
    s : float
        Laplace smoothing of the prior and the neighbour-count likelihoods.
    """

    k: int = 10
    s: float = 1.0
    _index: Any = field(default=None, init=False, repr=False)
    _y: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    prior: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    like1: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]
    like0: np.ndarray = field(default=None, init=False, repr=False)  # type: ignore[assignment]

    def fit(self, x: Any, y: np.ndarray) -> MLkNN:
        """Estimate the prior and the likelihoods from training features ``x`` (N, F) and labels ``y`` (N, L)."""
        y = np.asarray(y).astype(bool)
        m, n_labels = y.shape
        if not 1 <= self.k < m:
            raise ValueError(f"k must be in 1..{m - 1} (fewer than the {m} training samples), got {self.k}")
        self._index = NearestNeighbors(n_neighbors=self.k + 1).fit(x)
        self._y = y
        self.prior = (self.s + y.sum(0)) / (2 * self.s + m)  # (L,)
        neighbours = self._index.kneighbors(x, return_distance=False)  # (N, k + 1), the sample itself first
        counts = _neighbour_counts(y, _drop_self(neighbours))  # (N, L) in 0..k
        hist1 = np.zeros((n_labels, self.k + 1))
        hist0 = np.zeros((n_labels, self.k + 1))
        for label in range(n_labels):
            hist1[label] = np.bincount(counts[y[:, label], label], minlength=self.k + 1)
            hist0[label] = np.bincount(counts[~y[:, label], label], minlength=self.k + 1)
        self.like1 = (self.s + hist1) / (self.s * (self.k + 1) + hist1.sum(1, keepdims=True))  # (L, k + 1)
        self.like0 = (self.s + hist0) / (self.s * (self.k + 1) + hist0.sum(1, keepdims=True))
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        """Posterior ``P(H1_l | E)`` of every label for features ``x`` (N, F); returns (N, L)."""
        if self._index is None:
            raise ValueError("MLkNN.predict_proba before fit")
        neighbours = self._index.kneighbors(x, n_neighbors=self.k, return_distance=False)  # (N, k)
        counts = _neighbour_counts(self._y, neighbours)  # (N, L)
        labels = np.arange(self._y.shape[1])
        p1 = self.prior * self.like1[labels, counts]
        p0 = (1 - self.prior) * self.like0[labels, counts]
        return p1 / (p1 + p0)

    def predict(self, x: Any) -> np.ndarray:
        """0/1 labels (N, L): posterior above 0.5."""
        return (self.predict_proba(x) > 0.5).astype(np.uint8)


def _drop_self(neighbours: np.ndarray) -> np.ndarray:
    """The k neighbours of each training sample without the sample itself (also when a duplicate comes first)."""
    rows = np.arange(len(neighbours))[:, None]
    is_self = neighbours == rows
    has_self = is_self.any(1)
    out = np.empty((len(neighbours), neighbours.shape[1] - 1), dtype=neighbours.dtype)
    out[has_self] = neighbours[has_self][~is_self[has_self]].reshape(-1, out.shape[1])
    out[~has_self] = neighbours[~has_self, :-1]  # a duplicate took its place: drop the farthest instead
    return out


def _neighbour_counts(y: np.ndarray, neighbours: np.ndarray) -> np.ndarray:
    """(N, L) number of the given neighbours of each sample that carry each label."""
    return y[neighbours].sum(1)
