"""Figures shared by every chapter: a table's metric beside the thesis, and validation curves of the runs.

Both take the tidy records the pipeline already writes (a thesis table CSV as ``aggregate`` makes it, the
per-run ``metrics.json`` records) and save a PNG atomically. Matplotlib runs headless (Agg); chapter modules
take ``plt`` and ``save_figure`` from here, so the backend is chosen in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from seqstruct.common.io import atomic_path


def save_figure(fig: plt.Figure, out: str | Path) -> None:
    """Write ``fig`` to ``out`` as a PNG (120 dpi, tight box) atomically, then close it."""
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_metric_vs_thesis(
    table: pd.DataFrame,
    thesis: pd.DataFrame,
    metric: str,
    panel: str,
    out: str | Path,
    thesis_panel: dict[Any, Any] | None = None,
    label: str | None = None,
    method_key: str = "method",
) -> None:
    """Bars of ``<metric>_mean`` ± ``<metric>_std`` per method, one panel per value of ``panel``; the thesis
    value of the same method as a black diamond.

    Parameters
    ----------
    table : pandas.DataFrame
        A thesis table as written by the pipeline (``method_key``, ``panel``, ``<metric>_mean/_std``).
    thesis : pandas.DataFrame
        The published numbers (``method_key``, ``panel``, ``<metric>``), e.g. config/thesis/table2_1.csv;
        further key columns must already be filtered to the rows that match ``table``.
    metric : str
        The metric name, e.g. ``rmse``.
    panel : str
        The column that splits panels, e.g. ``test_year``.
    out : path
        The PNG path.
    thesis_panel : dict, optional
        Maps a panel value of ``table`` to the thesis panel it stands for (default: the same).
    label : str, optional
        y-axis label (default: ``metric``).
    method_key : str
        The column naming the bars (default ``method``).
    """
    panels = list(dict.fromkeys(table[panel]))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False, sharey=True)
    for ax, value in zip(axes[0], panels):
        rows = table[table[panel] == value]
        x = np.arange(len(rows))
        ax.bar(
            x,
            rows[f"{metric}_mean"],
            yerr=rows[f"{metric}_std"],
            capsize=4,
            color="tab:blue",
            alpha=0.8,
            label="this run (mean ± std over seeds)",
        )
        ref_value = (thesis_panel or {}).get(value, value)
        ref = thesis[thesis[panel] == ref_value].set_index(method_key)[metric]
        known = [i for i, m in enumerate(rows[method_key]) if m in ref.index]
        ax.scatter(
            x[known],
            [ref[rows[method_key].iloc[i]] for i in known],
            marker="D",
            color="black",
            zorder=3,
            label="thesis",
        )
        ax.set_xticks(x, rows[method_key], rotation=30, ha="right")
        title = f"{panel.replace('_', ' ')} {value}" + (f" (thesis {ref_value})" if ref_value != value else "")
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel(label or metric)
    axes[0][-1].legend(loc="best", fontsize="small")
    save_figure(fig, out)


def plot_validation_curves(
    runs: Sequence[dict[str, Any]],
    panel: str,
    out: str | Path,
    label: str = "validation score",
    method_key: str = "method",
) -> None:
    """Validation score per epoch of every run that has a ``history``: one panel per (``method_key``,
    ``panel``) value, one line per seed, a dot at the epoch chosen on validation (``best_epoch``).

    Runs without a history (closed-form baselines) are left out; with none at all the figure says so.
    """
    groups: dict[tuple[str, Any], list[dict[str, Any]]] = {}
    for r in runs:
        if r.get("history"):
            groups.setdefault((r[method_key], r[panel]), []).append(r)
    n = max(1, len(groups))
    cols = min(n, 3)
    fig, axes = plt.subplots(
        (n + cols - 1) // cols, cols, figsize=(4.2 * cols, 3.2 * ((n + cols - 1) // cols)), squeeze=False
    )
    flat = axes.ravel()
    for ax, ((method, value), group) in zip(flat, groups.items()):
        for r in sorted(group, key=lambda r: r["seed"]):
            epochs = [h["epoch"] for h in r["history"]]
            scores = [h["val_score"] for h in r["history"]]
            (line,) = ax.plot(epochs, scores, label=f"seed {r['seed']}")
            if r.get("best_epoch"):
                ax.scatter([r["best_epoch"]], [scores[epochs.index(r["best_epoch"])]], color=line.get_color(), zorder=3)
        ax.set_title(f"{method}, {panel.replace('_', ' ')} {value}")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    if not groups:
        flat[0].text(0.5, 0.5, "no run has a training history", ha="center", va="center")
    for ax in flat[max(1, len(groups)) :]:
        ax.axis("off")
    for ax in axes[:, 0]:
        ax.set_ylabel(label)
    fig.tight_layout()
    save_figure(fig, out)


def plot_importance(
    summary: pd.DataFrame,
    out: str | Path,
    row: str = "method",
    panel: str | None = None,
    label: str = "score increase",
    order: Sequence[str] = (),
) -> None:
    """Heat map of permutation importance (``seqstruct.common.sensitivity.summarise``): one row per ``row``
    value, one column per group (the groups of ``order`` first, in that order), the mean increase written in
    each cell (± its spread across runs when there are several); one panel per value of ``panel``. Groups a
    model has no such input for stay blank."""
    panels = [(None, summary)] if panel is None else list(summary.groupby(panel, sort=False))
    if not panels or summary.empty:
        raise ValueError("plot_importance: nothing to plot")
    present = set(summary["group"])
    groups = [g for g in order if g in present] + [g for g in dict.fromkeys(summary["group"]) if g not in order]
    rows = list(dict.fromkeys(summary[row]))
    vmax = max(float(summary["increase_mean"].abs().max()), 1e-9)
    fig, axes = plt.subplots(
        1, len(panels), figsize=(1.1 * len(groups) * len(panels) + 2.5, 0.42 * len(rows) + 1.6), squeeze=False
    )
    for ax, (name, part) in zip(axes[0], panels):
        mean = part.pivot(index=row, columns="group", values="increase_mean").reindex(index=rows, columns=groups)
        std = part.pivot(index=row, columns="group", values="increase_std").reindex(index=rows, columns=groups)
        image = ax.imshow(mean.to_numpy(float), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
        for (i, j), v in np.ndenumerate(mean.to_numpy(float)):
            if np.isfinite(v):
                s = std.iat[i, j]
                text = f"{v:.2f}" if not np.isfinite(s) or s == 0 else f"{v:.2f}\n±{s:.2f}"
                ax.text(
                    j, i, text, ha="center", va="center", fontsize=6.5, color="white" if abs(v) > vmax / 2 else "black"
                )
        ax.set_xticks(range(len(groups)), groups, rotation=40, ha="right", fontsize="small")
        ax.set_yticks(range(len(rows)), rows, fontsize="small")
        if name is not None:
            ax.set_title(f"{panel} {name}")
    fig.colorbar(image, ax=axes[0].tolist(), label=label, shrink=0.8)
    save_figure(fig, out)
