"""Multi-label classification metrics (pure numpy), as the thesis' MLC tables report them (methods.md §3.4).

Shapes: ``y_true`` and ``y_pred`` are (N, L) 0/1 matrices (samples x labels); ``scores`` are (N, L) real
scores (probabilities), thresholded into ``y_pred`` by ``multilabel_metrics``.

Empty samples and classes, stated once (the authors' ``evals.py`` behaviour, which the thesis numbers use):

- **example-F1** is the mean over samples of ``2 tp / (|y| + |ŷ|)``; a sample with no true and no predicted
  label has no F1 and is left out of the mean (NaN if every sample is such).
- **micro-F1** is ``2 Σtp / (2 Σtp + Σfp + Σfn)`` over all (sample, label) pairs (the thesis' formula lacks the
  factor 2, a typo); 0 when there is no true and no predicted label at all.
- **macro-F1** is the mean over labels of ``2 tp / (2 tp + fp + fn)``; a label with no true and no predicted
  sample counts **0 and is kept** in the mean (the authors add 1e-6 to the denominator; here 0/0 is 0 exactly,
  which differs from theirs by at most 1e-6 relative).
- **Hamming accuracy** is ``1 - mean(y XOR ŷ)`` over all pairs.
- **precision@k** is the mean over all samples of the share of true labels among the k highest scores (ties
  broken by label order); a sample without true labels counts 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: which way each metric of ``multilabel_metrics`` is better
DIRECTIONS = {
    "ex_f1": "higher",
    "mi_f1": "higher",
    "ma_f1": "higher",
    "ha": "higher",
    "p_at_1": "higher",
    "threshold": "none",
    "n": "none",
}
#: the decision thresholds tried on validation (0.05, 0.10, ..., 0.95)
THRESHOLDS: tuple[float, ...] = tuple(round(0.05 * i, 2) for i in range(1, 20))


def _binary(y: np.ndarray, what: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"{what} must be a (samples, labels) matrix, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{what} must hold only 0 and 1")
    return y.astype(bool)


def _pair(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t, p = _binary(y_true, "y_true"), _binary(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"shape mismatch: y_true {t.shape} vs y_pred {p.shape}")
    if t.shape[0] == 0:
        raise ValueError("no samples to evaluate")
    return t, p


def example_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean per-sample F1 over the samples with a true or a predicted label (module docstring)."""
    t, p = _pair(y_true, y_pred)
    tp = (t & p).sum(1)
    denom = t.sum(1) + p.sum(1)
    keep = denom > 0
    return float(np.mean(2 * tp[keep] / denom[keep])) if keep.any() else float("nan")


def micro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """F1 of all (sample, label) pairs pooled: ``2 Σtp / (2 Σtp + Σfp + Σfn)``; 0 without any label."""
    t, p = _pair(y_true, y_pred)
    tp, fp, fn = (t & p).sum(), (~t & p).sum(), (t & ~p).sum()
    denom = 2 * tp + fp + fn
    return float(2 * tp / denom) if denom else 0.0


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean per-label F1; a label with no true and no predicted sample counts 0 (module docstring)."""
    t, p = _pair(y_true, y_pred)
    tp, fp, fn = (t & p).sum(0), (~t & p).sum(0), (t & ~p).sum(0)
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros(t.shape[1]), where=denom > 0)
    return float(f1.mean())


def hamming_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``1 - mean(y XOR ŷ)`` over all (sample, label) pairs."""
    t, p = _pair(y_true, y_pred)
    return float(1.0 - np.mean(t ^ p))


def precision_at_k(y_true: np.ndarray, scores: np.ndarray, k: int = 1) -> float:
    """Mean share of true labels among each sample's ``k`` highest scores (ties: the lower label index first)."""
    t = _binary(y_true, "y_true")
    s = np.asarray(scores, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"shape mismatch: y_true {t.shape} vs scores {s.shape}")
    if not 1 <= k <= t.shape[1]:
        raise ValueError(f"k must be in 1..{t.shape[1]} (the number of labels), got {k}")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN/inf")
    top = np.argsort(-s, axis=1, kind="stable")[:, :k]
    return float(np.take_along_axis(t, top, axis=1).mean())


def multilabel_metrics(y_true: np.ndarray, scores: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """Every metric of the MLC tables for ``scores`` thresholded at ``threshold`` (``ŷ = scores >= threshold``).

    Parameters
    ----------
    y_true : ndarray, shape (N, L)
        0/1 true labels.
    scores : ndarray, shape (N, L)
        Real scores, e.g. probabilities.
    threshold : float
        Decision threshold of the F1 and Hamming metrics (precision@1 uses the scores).

    Returns
    -------
    dict
        ``ex_f1``, ``mi_f1``, ``ma_f1``, ``ha``, ``p_at_1``, ``threshold`` and ``n`` (samples).
    """
    s = np.asarray(scores, dtype=np.float64)
    y_pred = (s >= threshold).astype(np.uint8)
    return {
        "ex_f1": example_f1(y_true, y_pred),
        "mi_f1": micro_f1(y_true, y_pred),
        "ma_f1": macro_f1(y_true, y_pred),
        "ha": hamming_accuracy(y_true, y_pred),
        "p_at_1": precision_at_k(y_true, s, 1),
        "threshold": float(threshold),
        "n": int(np.asarray(y_true).shape[0]),
    }


def choose_threshold(
    y_true: np.ndarray, scores: np.ndarray, metric: str, thresholds: Sequence[float] = THRESHOLDS
) -> tuple[float, float]:
    """The threshold of ``thresholds`` that maximises ``metric`` on these (validation) scores.

    Parameters
    ----------
    y_true, scores : ndarray, shape (N, L)
        Validation labels and scores; never the test split (the chosen threshold is then applied to test).
    metric : str
        A thresholded metric: ``ex_f1``, ``mi_f1``, ``ma_f1`` or ``ha``.
    thresholds : sequence of float
        The candidates.

    Returns
    -------
    (float, float)
        The chosen threshold and its metric value; ties go to the threshold closest to 0.5, then the lower.
    """
    if metric not in {"ex_f1", "mi_f1", "ma_f1", "ha"}:
        raise ValueError(f"choose_threshold needs a thresholded metric (ex_f1, mi_f1, ma_f1, ha), got {metric!r}")
    if not thresholds:
        raise ValueError("no thresholds to choose from")
    values = [multilabel_metrics(y_true, scores, th)[metric] for th in thresholds]
    order = sorted(range(len(values)), key=lambda i: (-np.nan_to_num(values[i], nan=-1.0), abs(thresholds[i] - 0.5)))
    best = order[0]
    return float(thresholds[best]), float(values[best])
