"""The linear baselines of chapter 3.1: PCA, SFA and DCA, behind one ``fit(x)`` / ``transform(x)`` interface.

- ``pca``: ``sklearn.decomposition.PCA``.
- ``sfa``: slow feature analysis from ``sklearn-sfa`` (whitening, then the directions of least temporal
  derivative variance), fitted on the frames in time order.
- ``dca``: dynamical components analysis (Clark et al. 2019) from the ``DynamicalComponentsAnalysis`` package:
  the ``d``-dim projection maximising the Gaussian PI over windows of ``T`` frames (``n_init`` restarts).

Shapes: ``x`` (N, D) in time order -> (N, d).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

LINEAR_MODELS = ("pca", "sfa", "dca")


class LinearRepresentation(Protocol):
    """What the trainer needs of a linear model."""

    def fit(self, x: np.ndarray) -> LinearRepresentation: ...

    def transform(self, x: np.ndarray) -> np.ndarray: ...


class _Dca:
    """DCA with its inputs z-scored on the training frames (the package centres but does not scale)."""

    def __init__(self, d: int, T: int, n_init: int, seed: int) -> None:
        from dca import DynamicalComponentsAnalysis

        self.model = DynamicalComponentsAnalysis(d=d, T=T, n_init=n_init, rng_or_seed=seed)
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x: np.ndarray) -> _Dca:
        x = np.asarray(x, np.float64)
        self.mean, self.scale = x.mean(0), x.std(0) + 1e-12
        self.model.fit((x - self.mean) / self.scale)
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        if self.mean is None or self.scale is None:
            raise RuntimeError("DCA: transform before fit")
        return np.asarray(self.model.transform((np.asarray(x, np.float64) - self.mean) / self.scale))


def make_linear(name: str, d: int, **opts: Any) -> LinearRepresentation:
    """A fresh linear model ``name`` with ``d`` output dimensions; ``dca`` takes ``T``, ``n_init``, ``seed``."""
    if name == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=d)
    if name == "sfa":
        from sksfa import SFA

        return SFA(n_components=d)
    if name == "dca":
        return _Dca(d, int(opts.get("T", 4)), int(opts.get("n_init", 1)), int(opts.get("seed", 0)))
    raise ValueError(f"unknown linear model {name!r}; known: {list(LINEAR_MODELS)}")
