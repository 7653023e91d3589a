"""Tests of the crop prediction figures on a tiny synthetic shapefile (four square counties) and tiny CSVs."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from numpy.testing import assert_allclose
from shapely.geometry import box

from seqstruct.crop import maps
from seqstruct.crop.maps import NO_DATA_COLOR, mean_predictions, plot_county_maps, plot_scatter
from seqstruct.crop.raw import CropDataError

FIPS = [17001, 17003, 17005, 17007]


@pytest.fixture
def shp(tmp_path: Path) -> Path:
    """A 2x2 grid of 0.5-degree squares in Illinois, in the Census field layout (STATE, COUNTY strings)."""
    cells = [
        box(-89 + 0.5 * (i % 2), 40 + 0.5 * (i // 2), -88.5 + 0.5 * (i % 2), 40.5 + 0.5 * (i // 2)) for i in range(4)
    ]
    gdf = gpd.GeoDataFrame(
        {"STATE": ["17"] * 4, "COUNTY": [f"{f % 1000:03d}" for f in FIPS]}, geometry=cells, crs="EPSG:4269"
    )
    path = tmp_path / "counties.shp"
    gdf.to_file(path)
    return path


def _write(path: Path, rows: list[tuple[str, int, int, float, float]]) -> Path:
    pd.DataFrame(rows, columns=["split", "fips", "year", "y_true", "y_pred"]).to_csv(path, index=False)
    return path


@pytest.fixture
def seeds(tmp_path: Path) -> list[Path]:
    """Two seeds; seed 1 misses county 17005, both carry a val row that must be ignored."""
    a = _write(
        tmp_path / "s0.csv",
        [
            ("val", 17001, 2017, 10.0, 99.0),
            ("test", 17001, 2018, 50.0, 48.0),
            ("test", 17003, 2018, 60.0, 62.0),
            ("test", 17005, 2018, 55.0, 53.0),
        ],
    )
    b = _write(
        tmp_path / "s1.csv",
        [("val", 17001, 2017, 10.0, -99.0), ("test", 17001, 2018, 50.0, 52.0), ("test", 17003, 2018, 60.0, 66.0)],
    )
    return [a, b]


@pytest.fixture
def capture(monkeypatch: pytest.MonkeyPatch) -> list[plt.Figure]:
    """Keep the figures that the plot functions save (and still write them), to inspect what was drawn."""
    figs: list[plt.Figure] = []
    real = maps.save_figure

    def keep(fig: plt.Figure, out: str | Path) -> None:
        figs.append(fig)
        fig.canvas.draw()
        real(fig, out)

    monkeypatch.setattr(maps, "save_figure", keep)
    return figs


def test_mean_predictions_averages_seeds(seeds: list[Path]) -> None:
    pred = mean_predictions(seeds)
    assert list(pred.columns) == ["fips", "year", "y_true", "y_pred", "n_seeds"]
    assert pred["fips"].tolist() == [17001, 17003, 17005]
    assert (pred["year"] == 2018).all()
    assert_allclose(pred["y_pred"], [50.0, 64.0, 53.0])
    assert_allclose(pred["y_true"], [50.0, 60.0, 55.0])
    assert pred["n_seeds"].tolist() == [2, 2, 1]
    val = mean_predictions(seeds, split="val")
    assert_allclose(val["y_pred"], [0.0])


def test_mean_predictions_rejects_disagreeing_truth(seeds: list[Path], tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.csv", [("test", 17001, 2018, 50.0, 48.0), ("test", 17003, 2018, 61.0, 62.0)])
    with pytest.raises(ValueError, match=r"bad\.csv.*17003"):
        mean_predictions([*seeds, bad])


def test_mean_predictions_rejects_missing_column_and_empty_split(tmp_path: Path, seeds: list[Path]) -> None:
    no_pred = tmp_path / "nopred.csv"
    pd.DataFrame({"split": ["test"], "fips": [17001], "year": [2018], "y_true": [1.0]}).to_csv(no_pred, index=False)
    with pytest.raises(ValueError, match=r"nopred\.csv.*y_pred"):
        mean_predictions([seeds[0], no_pred])
    with pytest.raises(ValueError, match=r"s0\.csv.*'train'"):
        mean_predictions(seeds, split="train")
    with pytest.raises(ValueError, match="no predictions"):
        mean_predictions([])


def test_map_frame_marks_counties_without_prediction(seeds: list[Path], shp: Path) -> None:
    gdf = maps._map_frame(mean_predictions(seeds), FIPS, shp)
    assert gdf["FIPS"].tolist() == FIPS
    assert gdf["no_data"].tolist() == [False, False, False, True]
    assert_allclose(gdf["diff"].iloc[:3], [0.0, 4.0, -2.0])
    assert gdf.crs.to_epsg() == 5070


def test_plot_county_maps_draws_no_data_grey(
    seeds: list[Path], shp: Path, tmp_path: Path, capture: list[plt.Figure]
) -> None:
    out = tmp_path / "fig" / "maps.png"
    plot_county_maps(mean_predictions(seeds), FIPS, shp, out, "test maps")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = capture
    map_axes = [ax for ax in fig.axes if ax.get_title() in ("predicted", "true", "difference (predicted - true)")]
    assert len(map_axes) == 3
    grey = np.array(to_rgba(NO_DATA_COLOR))
    for ax in map_axes:
        faces = np.concatenate([c.get_facecolor() for c in ax.collections])
        assert len(faces) == 4  # every county drawn once
        assert np.isclose(faces, grey).all(axis=1).sum() == 1  # exactly one grey (no data) county
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no data"]
    labels = [ax.get_ylabel() for ax in fig.axes]
    assert "yield (bu/acre)" in labels
    assert any(lbl.startswith("predicted - true (bu/acre)") for lbl in labels)
    diff_bar = next(ax for ax in fig.axes if ax.get_ylabel().startswith("predicted - true"))
    lo, hi = diff_bar.get_ylim()
    assert_allclose([lo, hi], [-4.0, 4.0])  # differences 0, 4, -2: symmetric at the largest |difference|


def test_plot_county_maps_rejects_several_years_and_unknown_county(
    seeds: list[Path], shp: Path, tmp_path: Path
) -> None:
    pred = mean_predictions(seeds)
    two_years = pd.concat([pred, pred.assign(year=2017)])
    with pytest.raises(ValueError, match="several years"):
        plot_county_maps(two_years, FIPS, shp, tmp_path / "x.png", "x")
    with pytest.raises(CropDataError, match="not in the file"):
        plot_county_maps(pred, [*FIPS, 17099], shp, tmp_path / "x.png", "x")
    assert not (tmp_path / "x.png").exists()


def test_plot_scatter_annotates_metrics(seeds: list[Path], tmp_path: Path, capture: list[plt.Figure]) -> None:
    out = tmp_path / "scatter.png"
    plot_scatter(mean_predictions(seeds), out, "test scatter")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (fig,) = capture
    ax = fig.axes[0]
    text = "\n".join(t.get_text() for t in ax.texts)
    # errors 0, 4, -2 -> RMSE sqrt(20/3); truth 50, 60, 55 -> SS_tot 50, R^2 = 1 - 20/50
    assert f"RMSE = {np.sqrt(20 / 3):.2f} bu/acre" in text
    assert "n = 3" in text and "R$^2$ = 0.600" in text
    assert "r = 0.950" in text and "mean of 1-2 seeds" in text
    assert ax.get_xlim() == ax.get_ylim()
    line = ax.get_lines()[0]
    assert_allclose(line.get_xdata(), line.get_ydata())  # the 1:1 line


def test_counties_of_states_lists_the_whole_states(tmp_path: Path) -> None:
    from seqstruct.crop.maps import counties_of_states

    cells = [box(i, 0, i + 1, 1) for i in range(4)]
    gdf = gpd.GeoDataFrame(
        {"STATE": ["17", "17", "18", "19"], "COUNTY": ["001", "003", "005", "001"]}, geometry=cells, crs="EPSG:4269"
    )
    gdf.to_file(tmp_path / "c.shp")
    assert counties_of_states(tmp_path / "c.shp", [17003, 18005]) == [17003, 18005, 17001]
