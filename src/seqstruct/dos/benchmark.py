"""Table 2.7: seconds per training epoch of the DoS models, measured side by side in one run.

Every model trains for ``epochs`` epochs on the same prepared data set with the same batch size and seed, each in a
fresh process with one CPU thread or the GPU (``seqstruct.common.benchmark.measure_methods``), one after the
other, through the pipeline's own training loop (``seqstruct.dos.train.fit``: the per-epoch validation pass
included, as in a real run). Each model uses the settings chosen on validation (``selection.json``), with the
epochs and batch size replaced. Rows: ``method`` (the thesis name), ``slug``, ``seconds_per_epoch`` (the trainer's
wall time over the epochs run), ``n_parameters``, ``batch_size``, ``epochs``, ``n_train``, ``device``,
``ratio_to_xtal2dos`` (seconds per epoch over Xtal2DoS's; the thesis: Mat2Spec 3.0, RNN 4.9, RNN+Attn 6.3,
Chunk RNN+Attn 3.8), ``peak_rss_mb``, ``torch_threads``, ``cuda_peak_mb``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from seqstruct.common.benchmark import add_ratio, measure_methods
from seqstruct.dos.prepare import load_prepared
from seqstruct.dos.train import METHODS, fit

log = logging.getLogger(__name__)

REFERENCE = "xtal2dos"


def time_method(
    method: str, data_dir: str | os.PathLike[str], params: dict[str, Any], epochs: int, batch_size: int, seed: int
) -> dict[str, Any]:
    """Train ``method`` for ``epochs`` epochs (picklable, for a fresh process); its row of the table."""
    data = load_prepared(data_dir)
    settings = {**params, "epochs": epochs, "batch_size": batch_size, "patience": 0}
    _, extra, _, device = fit(method, data, settings, seed)
    return {
        "method": METHODS[method],
        "slug": method,
        "seconds_per_epoch": extra["seconds_per_epoch"],
        "n_parameters": extra["n_parameters"],
        "batch_size": batch_size,
        "epochs": epochs,
        "n_train": len(data.split["train"]),
        "device": str(device),
    }


def time_methods(
    data_dir: str | os.PathLike[str],
    params: Mapping[str, dict[str, Any]],
    epochs: int = 2,
    batch_size: int = 64,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per method of ``params`` (slug -> settings), in that order, with ``ratio_to_xtal2dos``."""
    jobs = {m: (m, str(data_dir), dict(p), epochs, batch_size, seed) for m, p in params.items()}
    table = measure_methods(time_method, jobs)
    return add_ratio(table, f"ratio_to_{REFERENCE}", "slug", REFERENCE)
