"""Regression metrics (pure numpy; NaN targets are dropped, never imputed).

Every function pools all positions of its inputs: ``y_true`` and ``y_pred`` of any equal shape are flattened,
so the metric is over every (sample, output) pair with a target (the crop tables score every county of a test
year). Per-sample metrics of vector outputs (spectra) belong to their own task module.

They follow thesis §2.1 "Evaluation Metrics" and the reference code (methods.md §1.8): the crop RMSE is
computed on standardised values, i.e. divided by the yield standard deviation of the *training years*.
"""

from __future__ import annotations

import numpy as np

#: which way each metric of ``regression_metrics`` is better (``none``: no better direction, e.g. a count)
DIRECTIONS = {"rmse": "lower", "r2": "higher", "corr": "higher", "bias": "none", "n": "none"}


def _clean(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten both arrays and drop positions where the target is NaN; predictions must be finite there."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shape mismatch: y_true {y_true.shape} vs y_pred {y_pred.shape}")
    keep = ~np.isnan(y_true)
    if not np.all(np.isfinite(y_pred[keep])):
        raise ValueError("predictions contain NaN/inf where a target exists")
    if not keep.any():
        raise ValueError("no non-NaN targets to evaluate")
    return y_true[keep], y_pred[keep]


def rmse(y_true: np.ndarray, y_pred: np.ndarray, scale: float = 1.0) -> float:
    """Root mean squared error divided by ``scale`` (e.g. the training-years yield std)."""
    t, p = _clean(y_true, y_pred)
    return float(np.sqrt(np.mean((t - p) ** 2)) / scale)


def r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Coefficient of determination 1 - SS_res / SS_tot (SS_tot about the mean of the evaluated targets)."""
    t, p = _clean(y_true, y_pred)
    ss_tot = np.sum((t - t.mean()) ** 2)
    if ss_tot == 0:
        return float("nan")
    return float(1.0 - np.sum((t - p) ** 2) / ss_tot)


def pearson(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pearson correlation of prediction and target; 0 when either is constant (as the reference code does)."""
    t, p = _clean(y_true, y_pred)
    tc, pc = t - t.mean(), p - p.mean()
    denom = np.sqrt(np.sum(tc**2) * np.sum(pc**2))
    return float(np.sum(tc * pc) / denom) if denom > 0 else 0.0


def bias(y_true: np.ndarray, y_pred: np.ndarray, scale: float = 1.0) -> float:
    """Mean error ``mean(y_pred - y_true) / scale``: negative when the model predicts too low on average."""
    t, p = _clean(y_true, y_pred)
    return float(np.mean(p - t) / scale)


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray, scale: float = 1.0) -> dict[str, float]:
    """``rmse`` and ``bias`` (divided by ``scale``), ``r2``, ``corr`` and the number ``n`` of evaluated targets."""
    t, _ = _clean(y_true, y_pred)
    return {
        "rmse": rmse(y_true, y_pred, scale),
        "r2": r2(y_true, y_pred),
        "corr": pearson(y_true, y_pred),
        "bias": bias(y_true, y_pred, scale),
        "n": int(t.size),
    }
