"""Crop feature groups of the sensitivity tool, and the crop-audit check that a trained GNN-RNN uses the
current season's weather (and, for a 1-hop model, nothing of a far county)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seqstruct.crop.conftest import TINY_DEEP, tiny_prepared
from seqstruct.crop.dataset import PREV_YEAR, Split, make_tensors
from seqstruct.crop.predictor import load_predictor
from seqstruct.crop.sensitivity import GROUPS, crop_sensitivity, hop_batches, within_year_rmse
from seqstruct.crop.train import run

YEAR = 2003


def _data(n_side: int = 3):
    return make_tensors(tiny_prepared(n_side=n_side), Split(YEAR))


def _distances(edge_index: torch.Tensor, n: int) -> np.ndarray:
    d = np.full((n, n), np.inf)
    np.fill_diagonal(d, 0)
    for a, b in edge_index.T.tolist():
        d[a, b] = 1
    for k in range(n):  # Floyd-Warshall
        d = np.minimum(d, d[:, [k]] + d[[k], :])
    return d


@pytest.mark.parametrize("hops", [1, 2])
def test_hop_batches_cover_every_county_once_and_keep_batch_members_apart(hops: int) -> None:
    data = _data(n_side=5)
    batches = hop_batches(data.edge_index, data.n_counties, hops)
    assert sorted(np.concatenate(batches).tolist()) == list(range(data.n_counties))
    dist = _distances(data.edge_index, data.n_counties)
    for b in batches:
        for i in b:
            for j in b:
                assert i == j or dist[i, j] > hops
    assert len(batches) < data.n_counties  # it does batch


def _importance(data, predict, history: int = 1, hops: int = 0) -> dict[str, float]:
    return {r.group: r.mean for r in crop_sensitivity(data, predict, history, hops, n_permutations=2)}


def test_a_model_of_the_current_weather_depends_on_that_group_alone() -> None:
    data = _data()
    t = data.year_index(YEAR)
    res = _importance(data, lambda year: data.weekly[:, t, 0, 19:30].mean(-1).numpy())
    assert set(res) == {"weather_current", "planting_current", "soil", "extras", "prev_year_yield"}
    assert res["weather_current"] > 0
    assert all(v == 0.0 for g, v in res.items() if g != "weather_current")


def test_each_group_reaches_the_inputs_it_names() -> None:
    data = _data()
    t = data.year_index(YEAR)
    prev = data.extra_vars.index(PREV_YEAR)
    planting = int(np.flatnonzero(data.extra_week > 0)[0])
    other = [i for i in range(len(data.extra_vars)) if i not in (planting, prev)][0]
    models = {
        "soil": lambda year: data.soil[:, t, 0, 0].numpy(),
        "planting_current": lambda year: data.extra[:, t, planting].numpy(),
        "extras": lambda year: data.extra[:, t, other].numpy(),
        "prev_year_yield": lambda year: data.extra[:, t, prev].numpy() + data.soil[:, t, 0, 0].numpy(),
        "weather_history": lambda year: data.weekly[:, t - 2, 0].mean(-1).numpy(),
    }
    for group, predict in models.items():
        res = _importance(data, predict, history=5)
        assert res[group] != 0, group
        reached = {group, "soil"} if group == "prev_year_yield" else {group}
        assert all(v == 0.0 for g, v in res.items() if g not in reached), (group, res)
    assert list(res) == [g for g in GROUPS if g in res]


def test_graph_groups_separate_a_county_from_its_neighbours() -> None:
    data = _data()
    t = data.year_index(YEAR)
    src, dst = data.edge_index

    def neighbour_mean(year: int) -> np.ndarray:  # a 1-hop "GNN": the neighbours' current weather only
        x = data.weekly[:, t, 0].mean(-1)
        total = torch.zeros(data.n_counties).index_add_(0, dst, x[src])
        return (total / torch.bincount(dst, minlength=data.n_counties)).numpy()

    res = _importance(data, neighbour_mean, hops=1)
    assert res["neighbours"] != 0 and res["own"] == 0.0
    own = _importance(data, lambda year: data.weekly[:, t, 0].mean(-1).numpy(), hops=1)
    assert own["own"] != 0 and own["neighbours"] == 0.0


def test_within_year_rmse_ignores_the_year_level_and_missing_targets() -> None:
    y = np.array([1.0, 2.0, np.nan, 4.0])
    assert within_year_rmse(y, y + 3.0) == 0.0
    assert within_year_rmse(y, np.array([1.0, 2.0, 9.0, 5.0]) + 2.0) == pytest.approx(np.std([0.0, 0.0, 1.0]))


def test_another_year_is_scored_and_scrambled_when_asked() -> None:
    data = _data()
    earlier = YEAR - 1
    te = data.year_index(earlier)
    seen = []

    def predict(year: int) -> np.ndarray:  # the current weather of the year asked for
        seen.append(year)
        return data.weekly[:, data.year_index(year), 0, 19:30].mean(-1).numpy()

    rows = crop_sensitivity(data, predict, 1, n_permutations=2, year=earlier)
    assert set(seen) == {earlier} and rows[0].group == "weather_current" and rows[0].mean > 0
    y = data.y[:, te].numpy()
    assert rows[0].baseline == pytest.approx(float(np.sqrt(np.nanmean((predict(earlier) - y) ** 2))))
    shifted = crop_sensitivity(
        data, lambda year: predict(year) + 5.0, 1, n_permutations=2, year=earlier, within_year=True
    )
    assert shifted[0].baseline == pytest.approx(within_year_rmse(y, predict(earlier)))


@pytest.fixture(scope="module")
def weather_gnn_rnn(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 1-hop GNN-RNN trained on a 5 x 5 grid whose yield is driven by the current year's weeks 20-30."""
    tmp = tmp_path_factory.mktemp("weather_gnn_rnn")
    nc = tmp / "grid.nc"
    tiny_prepared(n_side=5, years=range(1984, 2004)).to_netcdf(nc, engine="h5netcdf")
    params = {**TINY_DEEP, "epochs": 40, "batch_size": 32, "gnn_layers": 1, "fanouts": [0], "lr": 3e-3}
    run("gnn_rnn_5y", nc, YEAR, 0, params, tmp / "run", permutations=0, early_weeks=())
    return nc, tmp / "run" / "model.pt"


def test_trained_gnn_rnn_moves_with_its_own_weather_and_not_a_far_countys(weather_gnn_rnn) -> None:
    import xarray as xr

    nc, model_pt = weather_gnn_rnn
    data = make_tensors(xr.load_dataset(nc, engine="h5netcdf"), Split(YEAR))
    p = load_predictor(model_pt, data)
    assert p.gnn_hops == 1 and p.history == 5
    t = data.year_index(YEAR)
    dist = _distances(data.edge_index, data.n_counties)
    county = 0
    far = int(np.flatnonzero(dist[county] > 1)[0])
    base = p.predict_year(YEAR)
    # the planted effect: +1 std of the driving variable over weeks 20-30 is +5 bu/acre, about 3 yield stds
    data.weekly[county, t, 0, 19:30] += 1.0
    moved = p.predict_year(YEAR)
    data.weekly[county, t, 0, 19:30] -= 1.0
    data.weekly[far, t, 0, 19:30] += 1.0
    far_moved = p.predict_year(YEAR)
    assert moved[county] - base[county] > 0.3, (base[county], moved[county])
    assert far_moved[county] == pytest.approx(base[county], abs=1e-6)
    assert far_moved[far] != pytest.approx(base[far], abs=1e-3)
