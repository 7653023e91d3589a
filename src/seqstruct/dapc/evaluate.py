"""Linear read-outs of a representation: recovery of the Lorenz state and forecasting (thesis §3.1.4-3.1.5).

Every score is the pooled R² of a closed-form least-squares map (with intercept) from the representation
``z`` (N, d) to a target ``y`` (N, k): ``1 − Σ(y − ŷ)² / Σ(y − ȳ)²`` summed over all target dimensions
(``methods.md`` §4.4: pooled, not the mean of per-dimension R²).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def pooled_r2(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Pooled R² of (N, k) predictions; raises ``ValueError`` on a shape mismatch or a constant target."""
    y_true, y_pred = np.asarray(y_true, np.float64), np.asarray(y_pred, np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"R² of predictions {y_pred.shape} against targets {y_true.shape}")
    total = ((y_true - y_true.mean(0)) ** 2).sum()
    if total == 0:
        raise ValueError("R² of a constant target is undefined")
    return float(1.0 - ((y_true - y_pred) ** 2).sum() / total)


@dataclass(frozen=True)
class LinearMap:
    """``ŷ = z W + b``: ``weight`` (d, k), ``bias`` (k,)."""

    weight: np.ndarray
    bias: np.ndarray

    def predict(self, z: np.ndarray) -> np.ndarray:
        """(N, d) -> (N, k)."""
        return np.asarray(z, np.float64) @ self.weight + self.bias


def fit_linear(z: np.ndarray, y: np.ndarray) -> LinearMap:
    """Least-squares map from ``z`` (N, d) to ``y`` (N, k) with an intercept (``lstsq``, minimum-norm)."""
    z, y = np.asarray(z, np.float64), np.asarray(y, np.float64)
    if z.ndim != 2 or y.ndim != 2 or len(z) != len(y):
        raise ValueError(f"a linear map needs z (N, d) and y (N, k); got {z.shape} and {y.shape}")
    if not np.isfinite(z).all():
        raise ValueError("the representation holds non-finite values (a diverged model?)")
    design = np.hstack([z, np.ones((len(z), 1))])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return LinearMap(weight=coef[:-1], bias=coef[-1])


def recovery_r2(
    z: np.ndarray, state: np.ndarray, fit_frac: float = 0.5, in_sample_frames: int = 500
) -> dict[str, float]:
    """R² of the true state from latents ``z`` (N, d) of one held-out sequence, ``state`` (N, 3).

    ``r2``: the map is fitted on the first ``fit_frac`` of the frames and scored on the rest (held out).
    ``r2_in_sample``: fitted and scored on the first ``in_sample_frames`` frames (the thesis' protocol).
    """
    n = len(z)
    cut = int(round(fit_frac * n))
    if not 2 <= cut <= n - 2 or in_sample_frames < 2:
        raise ValueError(f"a recovery split of {fit_frac} over {n} frames leaves a part with under 2 frames")
    held = pooled_r2(state[cut:], fit_linear(z[:cut], state[:cut]).predict(z[cut:]))
    k = min(in_sample_frames, n)
    in_sample = pooled_r2(state[:k], fit_linear(z[:k], state[:k]).predict(z[:k]))
    return {"r2": held, "r2_in_sample": in_sample}


def lagged_pairs(z: np.ndarray, y: np.ndarray, lag: int) -> tuple[np.ndarray, np.ndarray]:
    """``(z[:-lag], y[lag:])``: features at ``t`` beside the target at ``t + lag``."""
    if lag < 1 or lag >= len(z):
        raise ValueError(f"a forecast lag of {lag} frames does not fit a part of {len(z)} frames")
    return z[:-lag], y[lag:]


def forecast_r2(z_tr: np.ndarray, y_tr: np.ndarray, z_te: np.ndarray, y_te: np.ndarray, lag: int) -> float:
    """R² on the test part of the map from features at ``t`` to the target at ``t + lag``, fitted on train."""
    fit = fit_linear(*lagged_pairs(z_tr, y_tr, lag))
    z, y = lagged_pairs(z_te, y_te, lag)
    return pooled_r2(y, fit.predict(z))
