"""Spectrum metrics (DoS, thesis §2.2.4), as the Xtal2DoS / Mat2Spec code computes them (methods.md §2.4).

Both spaces start from the true spectrum ``y`` (N, L) as stored and a predicted *shape* ``q`` (N, L) (a softmax
over positions, re-normalised here to sum 1):

- **normalised space**: the truth is ``p = y / (Σ_l y + 1e-10)`` and the prediction ``q``;
- **original space**: the prediction is ``q · Σ_l y``, i.e. scaled by the *true* spectrum's sum (an oracle
  scale: the model never predicts the magnitude; docs/deviations.md), compared with ``y``.

In each space (truth ``t``, prediction ``u``):

- ``mae = mean |u - t|`` and ``mse = mean (u - t)²`` over all N x L entries;
- ``r2`` = scikit-learn's ``r2_score(t, u, multioutput="variance_weighted")``: per position, R² across samples,
  weighted by the variance of the truth at that position. That is ``1 - Σ (t - u)² / Σ (t - t̄_l)²`` with
  ``t̄_l`` the mean over samples at position l (not the per-spectrum R² of thesis eq. 2.15);
- ``wd`` = the mean over samples of the 1-D Wasserstein-1 distance between the two shapes on the grid points
  0..L-1 (``scipy.stats.wasserstein_distance(range(L), range(L), u_i, t_i)``, both normalised), times
  ``wd_unit`` (0.0625 in the reference code: 8 eV / 128 bins, applied to the phonon grid too). On a grid the
  distance is ``Σ_l |U_l - T_l|`` of the cumulative sums (thesis eq. 2.17). WD depends on the shapes only, so it
  is the same in both spaces ("WD is always computed after normalization").

Shapes: y_true, y_pred (N, L), y_pred non-negative (probabilities or any non-negative shape).
"""

from __future__ import annotations

import numpy as np

#: metric -> which way is better (``_ori``: the original space)
DIRECTIONS = {
    "r2": "higher",
    "mae": "lower",
    "mse": "lower",
    "wd": "lower",
    "r2_ori": "higher",
    "mae_ori": "lower",
    "mse_ori": "lower",
    "kl": "lower",
}
#: the reference code's WD factor (eV per bin of the 128-point eDoS grid)
WD_UNIT = 0.0625
EPS = 1e-10  # the reference code's guard in y / (Σ y + eps)


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(y_true, dtype=np.float64)
    u = np.asarray(y_pred, dtype=np.float64)
    if t.ndim != 2 or t.shape != u.shape:
        raise ValueError(f"spectra must be (N, L) arrays of one shape, got {t.shape} and {u.shape}")
    if len(t) == 0:
        raise ValueError("no spectra to score")
    if not (np.isfinite(t).all() and np.isfinite(u).all()):
        raise ValueError("spectra contain NaN or inf")
    if (u < 0).any() or (t < 0).any():
        raise ValueError("spectra must be non-negative")
    return t, u


def normalise(y: np.ndarray) -> np.ndarray:
    """Each row divided by its sum (+1e-10, as the reference code): (N, L) -> (N, L) rows summing to 1."""
    y = np.asarray(y, dtype=np.float64)
    return y / (y.sum(axis=1, keepdims=True) + EPS)


def variance_weighted_r2(t: np.ndarray, u: np.ndarray) -> float:
    """``r2_score(t, u, multioutput="variance_weighted")``: ``1 - Σ_{l: v_l > 0} SS_res,l / Σ_l SS_tot,l`` with
    ``SS_tot,l`` (= N v_l) about the mean over samples at position l. Positions where the truth has no variance
    carry no weight, so their errors do not count (as in scikit-learn); a truth without variance anywhere gives 1
    for a perfect prediction and 0 otherwise."""
    ss_res = ((t - u) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    if not (ss_tot > 0).any():
        return 1.0 if not ss_res.any() else 0.0
    return 1.0 - float(ss_res[ss_tot > 0].sum() / ss_tot.sum())


def wasserstein_grid(t: np.ndarray, u: np.ndarray, unit: float = WD_UNIT) -> float:
    """Mean over rows of the Wasserstein-1 distance between the normalised rows of ``t`` and ``u`` placed on the
    grid points 0..L-1, times ``unit``: ``unit · mean_i Σ_l |cumsum(u_i)_l - cumsum(t_i)_l|``."""
    tn = t / t.sum(axis=1, keepdims=True)
    un = u / u.sum(axis=1, keepdims=True)
    return unit * float(np.abs(np.cumsum(un - tn, axis=1))[:, :-1].sum(axis=1).mean())


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    """Mean over rows of ``KL(p ‖ q) = Σ_l p log(p / q)`` (the training loss; 1e-10 guards both logs)."""
    return float((p * (np.log(p + EPS) - np.log(q + EPS))).sum(axis=1).mean())


def spectrum_metrics(y_true: np.ndarray, y_pred: np.ndarray, wd_unit: float = WD_UNIT) -> dict[str, float]:
    """All metrics of both spaces: ``r2, mae, mse, wd`` (normalised), ``r2_ori, mae_ori, mse_ori`` (original
    space, the prediction scaled by the true sum) and ``kl``.

    Parameters
    ----------
    y_true : (N, L) array
        The true spectra as stored (any positive scale; a row summing to 0 is refused).
    y_pred : (N, L) array
        Predicted shapes, non-negative (softmax probabilities); rows are re-normalised to sum 1.
    wd_unit : float
        Factor of the Wasserstein distance (grid step in the metric's unit).

    Raises
    ------
    ValueError
        Mismatched or non-2-D shapes, NaN/inf, negative values, or a row (true or predicted) summing to 0.
    """
    t, u = _check(y_true, y_pred)
    sums = t.sum(axis=1, keepdims=True)
    if (sums <= 0).any() or (u.sum(axis=1) <= 0).any():
        raise ValueError("every true and predicted spectrum must have a positive sum")
    p, q = normalise(t), u / u.sum(axis=1, keepdims=True)
    ori = q * sums
    out = {
        "r2": variance_weighted_r2(p, q),
        "mae": float(np.abs(q - p).mean()),
        "mse": float(((q - p) ** 2).mean()),
        "wd": wasserstein_grid(p, q, wd_unit),
        "r2_ori": variance_weighted_r2(t, ori),
        "mae_ori": float(np.abs(ori - t).mean()),
        "mse_ori": float(((ori - t) ** 2).mean()),
        "kl": _kl(p, q),
    }
    return out
