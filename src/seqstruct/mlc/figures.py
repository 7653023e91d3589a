"""The MLC figures: performance relative to a reference method on shares of the training data (thesis Figure 2.20)
and the label-embedding inner products of a trained C-GMVAE (Figure 2.19)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqstruct.common.plots import plt, save_figure
from seqstruct.common.tables import aggregate

#: Figure 2.20's metrics, in the thesis' panel order
FRACTION_METRICS = ("ha", "ex_f1", "mi_f1", "ma_f1")
LABELS = {"ha": "HA", "ex_f1": "ex-F1", "mi_f1": "mi-F1", "ma_f1": "ma-F1"}


def fraction_table(runs: Sequence[Mapping[str, Any]], reference: str) -> pd.DataFrame:
    """Mean test metrics per (dataset, method, data_pct) over seeds, and each divided by the ``reference``
    method's mean at the same data set and share (``<metric>_rel``; 1 = as good as the reference).

    Raises
    ------
    ValueError
        When the reference method lacks a (dataset, data_pct) that another method has.
    """
    table = aggregate(runs, ["dataset", "method", "data_pct"], list(FRACTION_METRICS))
    ref = table[table["method"] == reference].set_index(["dataset", "data_pct"])
    missing = {(d, p) for d, p in zip(table["dataset"], table["data_pct"])} - set(ref.index)
    if missing:
        raise ValueError(f"the reference {reference} has no run on {sorted(missing)}")
    for m in FRACTION_METRICS:
        base = ref.loc[list(zip(table["dataset"], table["data_pct"])), f"{m}_mean"].to_numpy()
        table[f"{m}_rel"] = table[f"{m}_mean"].to_numpy() / np.where(base > 0, base, np.nan)
    return table


def plot_fractions(table: pd.DataFrame, reference: str, out: str | Path) -> None:
    """One row of panels per data set, one panel per metric: each method's mean relative to ``reference`` (y) at
    each share of the training data (x, %)."""
    datasets = list(dict.fromkeys(table["dataset"]))
    fig, axes = plt.subplots(
        len(datasets), len(FRACTION_METRICS), figsize=(3.2 * len(FRACTION_METRICS), 2.8 * len(datasets)), squeeze=False
    )
    for row, dataset in zip(axes, datasets):
        part = table[table["dataset"] == dataset]
        for ax, metric in zip(row, FRACTION_METRICS):
            for method, rows in part.groupby("method", sort=False):
                rows = rows.sort_values("data_pct")
                ax.plot(rows["data_pct"], rows[f"{metric}_rel"], marker="o", label=str(method))
            ax.axhline(1.0, color="grey", lw=0.8, ls="--")
            ax.set_title(f"{dataset}: {LABELS[metric]}")
            ax.set_xlabel("training data (%)")
            ax.set_xticks(sorted(part["data_pct"].unique()))
        row[0].set_ylabel(f"relative to {reference}")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)


def plot_label_inner_products(
    embeddings: np.ndarray, names: Sequence[str], out: str | Path, title: str = "", max_labels: int = 20
) -> list[str]:
    """Heatmap of the inner products of the label embeddings (L, E), diagonal subtracted as in the thesis, for
    the first ``max_labels`` labels of ``names`` (the caller orders them, e.g. by frequency), ordered by a
    greedy nearest-neighbour chain so that similar labels sit together; returns the plotted order."""
    k = min(max_labels, len(names))
    e = np.asarray(embeddings, dtype=float)[:k]
    g = e @ e.T
    g = g - np.diag(np.diag(g))
    order = [int(np.argmax(g.sum(1)))]
    while len(order) < k:
        rest = [i for i in range(k) if i not in order]
        order.append(max(rest, key=lambda i: g[order[-1], i]))
    g = g[np.ix_(order, order)]
    labels = [str(names[i]) for i in order]
    fig, ax = plt.subplots(figsize=(0.35 * k + 3, 0.35 * k + 2))
    im = ax.imshow(g, cmap="Blues")
    ax.set_xticks(range(k), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(k), labels, fontsize=7)
    ax.set_title(title or "label-embedding inner products (diagonal removed)")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    save_figure(fig, out)
    return labels
