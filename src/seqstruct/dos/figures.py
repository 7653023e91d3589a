"""Figures 2.16 / 2.17: predicted (red) and true (blue) spectra of a few test materials.

For each configured model, the test materials with the lowest, median and highest error (normalised-space MAE of
the model's own predictions, first seed) are drawn on the data set's grid, both sum-normalised, with the
material id and its MAE in the panel title. One row per model, three columns (best, median, worst).

Shapes: ``predictions.npz`` holds ``pred`` (N, L) shapes, ``true`` (N, L) spectra and ``ids`` (N,).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from seqstruct.common.metrics.spectra import normalise
from seqstruct.common.plots import plt, save_figure

PICKS = ("best", "median", "worst")


def pick_materials(true: np.ndarray, pred: np.ndarray) -> dict[str, int]:
    """Row of the best, median and worst material by normalised MAE: (N, L), (N, L) -> pick -> row."""
    err = np.abs(normalise(pred) - normalise(true)).mean(axis=1)
    order = np.argsort(err, kind="stable")
    return {"best": int(order[0]), "median": int(order[len(order) // 2]), "worst": int(order[-1])}


def plot_spectra(
    runs: Mapping[str, str | Path], grid: Sequence[float], out: str | Path, x_label: str = "frequency (cm$^{-1}$)"
) -> None:
    """One row per model (name -> its ``predictions.npz``), the best, median and worst test material of each."""
    x = np.asarray(grid)
    fig, axes = plt.subplots(len(runs), 3, figsize=(11, 2.8 * len(runs)), squeeze=False)
    for row, (name, path) in zip(axes, runs.items()):
        with np.load(path) as f:
            pred, true, ids = f["pred"], f["true"], f["ids"]
        picks = pick_materials(true, pred)
        for ax, pick in zip(row, PICKS):
            i = picks[pick]
            t, p = normalise(true[i : i + 1])[0], normalise(pred[i : i + 1])[0]
            ax.plot(x, t, color="tab:blue", label="true")
            ax.plot(x, p, color="tab:red", label="predicted")
            ax.set_title(f"{name}, {pick}: {ids[i]} (MAE {np.abs(p - t).mean():.2g})", fontsize=9)
            ax.set_xlabel(x_label)
        row[0].set_ylabel("DoS (sum-normalised)")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)
