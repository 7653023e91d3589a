"""Shared figures: they are written as PNG, mark the thesis values, and cope with runs without a history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.collections import PathCollection

from seqstruct.common import plots

PNG = b"\x89PNG"


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[plt.Figure]]:
    """The figures the plot functions save (kept open for inspection)."""
    figs: list[plt.Figure] = []

    def save(fig: plt.Figure, out: str | Path) -> None:
        figs.append(fig)
        with open(out, "wb") as f:
            fig.savefig(f, format="png")

    monkeypatch.setattr(plots, "save_figure", save)
    yield figs
    for f in figs:
        plt.close(f)


def markers(ax: plt.Axes) -> list[float]:
    """y values of the scatter markers of ``ax``, rounded."""
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return [round(float(y), 2) for _, y in points.get_offsets()]


def test_metric_vs_thesis_marks_the_known_methods(tmp_path: Path, captured: list[plt.Figure]) -> None:
    table = pd.DataFrame(
        {
            "method": ["a", "b", "new"] * 2,
            "year": [1] * 3 + [2] * 3,
            "rmse_mean": [0.5, 0.6, 0.7, 0.4, 0.5, 0.6],
            "rmse_std": [0, 0.1, 0.1, 0, 0.1, 0.1],
        }
    )
    thesis = pd.DataFrame({"method": ["a", "b", "a", "b"], "year": [1, 1, 3, 3], "rmse": [0.55, 0.65, 0.3, 0.2]})
    plots.plot_metric_vs_thesis(table, thesis, "rmse", "year", tmp_path / "f.png", thesis_panel={2: 3})
    assert (tmp_path / "f.png").read_bytes().startswith(PNG)
    (fig,) = captured
    left, right = fig.axes[:2]
    assert markers(left) == [0.55, 0.65]  # "new" has no thesis value
    assert markers(right) == [0.3, 0.2]  # panel 2 stands for the thesis' 3
    assert right.get_title() == "year 2 (thesis 3)"


def test_validation_curves_one_panel_per_method_and_year(tmp_path: Path, captured: list[plt.Figure]) -> None:
    hist = [{"epoch": e, "val_score": 1.0 / e} for e in (1, 2, 3)]
    runs = [{"method": "m", "year": 1, "seed": s, "history": hist, "best_epoch": 3} for s in (0, 1)]
    runs.append({"method": "lasso", "year": 1, "seed": 0})  # no history: left out
    plots.plot_validation_curves(runs, "year", tmp_path / "c.png")
    (fig,) = captured
    (ax,) = [a for a in fig.axes if a.axison]
    assert len(ax.get_lines()) == 2 and ax.get_title() == "m, year 1"


def test_validation_curves_without_any_history(tmp_path: Path) -> None:
    plots.plot_validation_curves([{"method": "lasso", "year": 1, "seed": 0}], "year", tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes().startswith(PNG)


def test_importance_heat_map_orders_groups_and_leaves_missing_ones_blank(
    tmp_path: Path, captured: list[plt.Figure]
) -> None:
    summary = pd.DataFrame(
        {
            "method": ["a", "a", "b", "b", "b"],
            "year": [1] * 5,
            "group": ["x", "z", "x", "y", "z"],
            "increase_mean": [0.5, 0.0, 0.1, -0.2, 0.3],
            "increase_std": [0.0, 0.0, 0.05, 0.0, 0.0],
        }
    )
    plots.plot_importance(summary, tmp_path / "h.png", panel="year", order=["x", "y", "z"])
    assert (tmp_path / "h.png").read_bytes().startswith(PNG)
    ax = captured[0].axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["x", "y", "z"]  # "y" first seen after "z"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]
    cells = sorted(t.get_text() for t in ax.texts)
    assert cells == sorted(["0.50", "0.00", "0.10\n±0.05", "-0.20", "0.30"])  # a has no "y": blank
    assert ax.get_title() == "year 1"
    with pytest.raises(ValueError, match="nothing to plot"):
        plots.plot_importance(summary.iloc[:0], tmp_path / "e.png")
