"""Figures 3.2 and 3.5 of the thesis: the noisy Lorenz data (3.2 upper), the recovered trajectories (3.2 lower)
and the forecasting R² gain of each method over PCA (3.5).

Upper: per SNR, the true 3-D state, the first three principal components of the lifted 30-D signal and of the
noisy observations, over the first ``frames`` frames. Lower: per method, the latents mapped to the state by the
least-squares map of the held-out protocol (fitted on the first half of the test frames), drawn on the second
half beside the true trajectory, titled with its R². Figure 3.5: per series, grouped bars of each method's
forecasting R² minus the baseline's, per lag, with the std over seeds.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

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


def forecast_figure(runs: Sequence[Mapping], labels: Mapping[str, str], out: str | Path, baseline: str) -> None:
    """Figure 3.5 from forecast records (``seqstruct.dapc.report.forecast_records``: ``dataset``, ``lag``,
    ``method``, ``seed``, ``test.r2``): one panel per series, the mean over seeds of each method's R² minus
    the mean R² of ``baseline`` at the same lag, ± the std of the method's R² over seeds."""
    import pandas as pd

    frame = pd.DataFrame(
        [{**{k: r[k] for k in ("dataset", "lag", "method", "seed")}, "r2": r["test"]["r2"]} for r in runs]
    )
    series = list(dict.fromkeys(frame["dataset"]))
    methods = [m for m in dict.fromkeys(frame["method"]) if m != baseline]
    fig, axes = plt.subplots(1, len(series), figsize=(4.5 * len(series), 3.6), squeeze=False)
    width = 0.8 / max(1, len(methods))
    for ax, name in zip(axes[0], series):
        part = frame[frame["dataset"] == name]
        stats = part.groupby(["method", "lag"])["r2"].agg(["mean", "std"]).fillna(0.0)
        lags = sorted(part["lag"].unique())
        base = stats.loc[baseline]["mean"]
        for i, m in enumerate(methods):
            gain = [stats.loc[(m, lag), "mean"] - base[lag] for lag in lags]
            err = [stats.loc[(m, lag), "std"] for lag in lags]
            ax.bar(np.arange(len(lags)) + (i - (len(methods) - 1) / 2) * width, gain, width, yerr=err, label=m)
        ax.axhline(0.0, color="k", lw=0.6)
        ax.set_xticks(np.arange(len(lags)), [f"lag {lag}" for lag in lags])
        ax.set_title(textwrap.fill(labels.get(name, name), 60), fontsize=7)
        ax.set_ylabel(f"R² − R²({baseline})")
    axes[0][-1].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    save_figure(fig, out)
