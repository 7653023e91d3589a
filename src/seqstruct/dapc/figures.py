"""Figures 3.2 and 3.5 of the thesis: the noisy Lorenz data (3.2 upper), the recovered trajectories (3.2 lower)
and the forecasting R² gain of each method over PCA (3.5).

Upper: per SNR, the true 3-D state, the first three principal components of the lifted 30-D signal and of the
noisy observations, over the first ``frames`` frames. Lower: per method, the latents mapped to the state by the
least-squares map of the held-out protocol (fitted on the first half of the test frames), drawn on the second
half beside the true trajectory, titled with its R². Figures 3.5 and 3.6: grouped bars of each method's
forecasting R² minus the baseline's (PCA), per series and lag (3.5) or per lag and latent dimension (3.6).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqstruct.common.plots import plt, save_figure
from seqstruct.dapc.evaluate import fit_linear, pooled_r2


def _pcs(x: np.ndarray, k: int = 3) -> np.ndarray:
    """(N, D) -> (N, k): the top-``k`` principal component scores."""
    x = x - x.mean(0)
    _, _, vt = np.linalg.svd(x, full_matrices=False)
    return x @ vt[:k].T


def _trajectory(ax: plt.Axes, xyz: np.ndarray, title: str, color: str = "C0") -> None:
    ax.plot(*xyz[:, :3].T, lw=0.5, color=color)
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_zticks([])


def lorenz_figure(
    series: Sequence[Mapping[str, np.ndarray]], snrs: Sequence[float], out: str | Path, frames: int = 1000
) -> None:
    """Upper panel: one row per SNR (``series[i]`` holds ``x`` (N, 30), ``clean`` (N, 30), ``target`` (N, 3))."""
    fig = plt.figure(figsize=(9, 3 * len(snrs)))
    for i, (s, snr) in enumerate(zip(series, snrs)):
        views = [
            (s["target"], "true state"),
            (_pcs(s["clean"]), "lifted 30-D (top 3 PCs)"),
            (_pcs(s["x"]), f"noisy, SNR {snr:g} (top 3 PCs)"),
        ]
        for j, (xyz, title) in enumerate(views):
            _trajectory(fig.add_subplot(len(snrs), 3, 3 * i + j + 1, projection="3d"), xyz[:frames], title, f"C{j}")
    fig.suptitle("Noisy Lorenz attractor (thesis Figure 3.2, upper)")
    save_figure(fig, out)


def latent_figure(
    latents: Mapping[str, Mapping[str, np.ndarray]], snr: float, out: str | Path, frames: int = 500
) -> None:
    """Lower panel at one SNR: ``latents[method]`` holds ``latents`` (N, d) and ``target`` (N, 3) of the test
    part; the first panel is the true state."""
    names = list(latents)
    cols = min(4, len(names) + 1)
    rows = -(-(len(names) + 1) // cols)
    fig = plt.figure(figsize=(3 * cols, 3 * rows))
    first = next(iter(latents.values()))["target"]
    cut = len(first) // 2
    _trajectory(fig.add_subplot(rows, cols, 1, projection="3d"), first[cut : cut + frames], "true state", "k")
    for i, name in enumerate(names):
        z, y = latents[name]["latents"], latents[name]["target"]
        pred = fit_linear(z[:cut], y[:cut]).predict(z[cut:])
        r2 = pooled_r2(y[cut:], pred)
        ax = fig.add_subplot(rows, cols, i + 2, projection="3d")
        _trajectory(ax, pred[:frames], f"{name}: R² {r2:.3f}", f"C{i % 10}")
    fig.suptitle(f"Recovered Lorenz trajectories, SNR {snr:g}, held-out frames (thesis Figure 3.2, lower)")
    save_figure(fig, out)


def gain_figure(
    runs: Sequence[Mapping],
    out: str | Path,
    baseline: str,
    panel: str = "dataset",
    group: str = "lag",
    labels: Mapping[Any, str] | None = None,
    title: str = "",
) -> None:
    """Grouped bars of each method's R² gain over ``baseline``, from forecast records
    (``seqstruct.dapc.report.forecast_records``: ``method``, ``seed``, ``test.r2`` and the ``panel`` and
    ``group`` keys): one panel per value of ``panel``, one bar group per value of ``group``; a bar is the mean
    over seeds of the method's R² minus the baseline's mean R² in the same panel and group, ± the std of the
    method's R² over seeds. Figure 3.5: panels = series, groups = lags; Figure 3.6: panels = lags, groups = d."""
    import pandas as pd

    labels = labels or {}
    frame = pd.DataFrame(
        [{panel: r[panel], group: r[group], "method": r["method"], "r2": r["test"]["r2"]} for r in runs]
    )
    panels = list(dict.fromkeys(frame[panel]))
    methods = [m for m in dict.fromkeys(frame["method"]) if m != baseline]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    width = 0.8 / max(1, len(methods))
    for ax, name in zip(axes[0], panels):
        part = frame[frame[panel] == name]
        stats = part.groupby(["method", group])["r2"].agg(["mean", "std"]).fillna(0.0)
        groups = sorted(part[group].unique())
        base = stats.loc[baseline]["mean"]
        for i, m in enumerate(methods):
            gain = [stats.loc[(m, g), "mean"] - base[g] for g in groups]
            err = [stats.loc[(m, g), "std"] for g in groups]
            ax.bar(np.arange(len(groups)) + (i - (len(methods) - 1) / 2) * width, gain, width, yerr=err, label=m)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xticks(np.arange(len(groups)), [f"{group} {g}" for g in groups])
        ax.set_title(textwrap.fill(labels.get(name, f"{panel} {name}"), 60), fontsize=7)
        ax.set_ylabel(f"R² − R²({baseline})")
    axes[0][-1].legend(fontsize=7, frameon=False)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    save_figure(fig, out)
