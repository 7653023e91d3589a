"""Binary relevance (BR): one independent logistic regression per label, the simplest thesis baseline.

A label that is constant in the training data (never or always present) gets a constant score (its training
frequency, 0 or 1) instead of a classifier, so that rare labels of a small split do not stop the fit.

Shapes: features (N, F) dense or CSR; labels (N, L) 0/1; scores (N, L) in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression


@dataclass
class BinaryRelevance:
    """L independent L2-regularised logistic regressions (scikit-learn ``lbfgs``).

    Attributes
    ----------
    c : float
        Inverse regularisation strength of every regression.
    max_iter : int
        Iteration cap of each fit.
    """

    c: float = 1.0
    max_iter: int = 1000
    models: list[Any] = field(default_factory=list, init=False, repr=False)

    def fit(self, x: Any, y: np.ndarray) -> BinaryRelevance:
        """Fit one regression per label column of ``y`` (N, L) on features ``x`` (N, F)."""
        y = np.asarray(y).astype(np.uint8)
        self.models = []
        for label in range(y.shape[1]):
            column = y[:, label]
            if column.min() == column.max():
                self.models.append(float(column[0]))  # constant in training: a constant score
            else:
                self.models.append(LogisticRegression(C=self.c, max_iter=self.max_iter).fit(x, column))
        return self

    def predict_proba(self, x: Any) -> np.ndarray:
        """Scores (N, L): each label's probability under its own regression."""
        if not self.models:
            raise ValueError("BinaryRelevance.predict_proba before fit")
        n = x.shape[0]
        cols = [np.full(n, m) if isinstance(m, float) else m.predict_proba(x)[:, 1] for m in self.models]
        return np.stack(cols, axis=1)
