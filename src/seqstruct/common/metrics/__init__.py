"""Metrics by task, each module with the ``DIRECTIONS`` of its metrics (``lower`` or ``higher`` is better).

``regression``: RMSE, R², Pearson correlation, mean error (crop). ``multilabel``: example-, micro- and macro-F1,
Hamming accuracy, precision@k and the validation threshold (MLC). ``spectra``: R², MAE, MSE and
Wasserstein distance of DoS spectra in the normalised and the original space (DoS). WER metrics arrive with
their domain as a module of its own; ``DIRECTIONS`` joins every module's table, and a metric name must
mean the same in every module that defines it.
"""

from __future__ import annotations

from seqstruct.common.metrics import multilabel, regression, spectra
from seqstruct.common.metrics.multilabel import choose_threshold, multilabel_metrics
from seqstruct.common.metrics.regression import bias, pearson, r2, regression_metrics, rmse
from seqstruct.common.metrics.spectra import spectrum_metrics

_MODULES = (regression, multilabel, spectra)


def _join() -> dict[str, str]:
    out: dict[str, str] = {}
    for module in _MODULES:
        for name, way in module.DIRECTIONS.items():
            if out.setdefault(name, way) != way:
                raise ValueError(f"metric {name!r} has two directions: {out[name]} and {way}")
    return out


#: metric name -> "lower", "higher" or "none": which way is better
DIRECTIONS: dict[str, str] = _join()


def direction(metric: str) -> str:
    """Which way ``metric`` is better: ``"lower"``, ``"higher"`` or ``"none"``.

    Raises
    ------
    KeyError
        For a metric no task module defines, naming the known ones.
    """
    try:
        return DIRECTIONS[metric]
    except KeyError:
        raise KeyError(f"metric {metric!r} has no direction; known: {sorted(DIRECTIONS)}") from None


__all__ = [
    "DIRECTIONS",
    "bias",
    "choose_threshold",
    "direction",
    "multilabel_metrics",
    "pearson",
    "r2",
    "regression_metrics",
    "rmse",
    "spectrum_metrics",
]
