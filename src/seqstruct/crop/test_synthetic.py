from pathlib import Path

import numpy as np
import pytest

from seqstruct.crop.counties import county_geometry, map_loc_ids, read_adjacency
from seqstruct.crop.layout import KHAKI_SOYBEAN
from seqstruct.crop.prepare import build_crop_dataset
from seqstruct.crop.raw import load_khaki_npz, read_loc_table, read_state_abbrev
from seqstruct.crop.synthetic import RAW_FILES, main, write_synthetic_crop

ARGS = ("npz", "loc_csv", "abbrev_txt", "adjacency_txt", "shp")
REAL_NAMES = {
    "soybean_data.npz",
    "Soybeans_Loc_ID.csv",
    "us_county_abbrev.txt",
    "county_adjacency.txt",
    "gz_2010_us_050_00_20m.shp",
    "gz_2010_us_050_00_20m.shx",
    "gz_2010_us_050_00_20m.dbf",
    "gz_2010_us_050_00_20m.prj",
}


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_synthetic_crop(tmp_path_factory.mktemp("syn_default"))


def test_file_names_match_the_real_data(default_run: dict[str, Path]) -> None:
    assert {p.name for p in default_run.values()} == REAL_NAMES
    folder = default_run["npz"].parent
    assert {p.name for p in folder.iterdir()} == REAL_NAMES  # no temporary files left behind
    assert set(RAW_FILES) == REAL_NAMES  # the workflow's synthesize_crop outputs


def test_deterministic(default_run: dict[str, Path], tmp_path: Path) -> None:
    again = write_synthetic_crop(tmp_path / "again")
    a, b = load_khaki_npz(default_run["npz"]), load_khaki_npz(again["npz"])
    assert a.tobytes() == b.tobytes()
    for key in ("loc_csv", "abbrev_txt", "adjacency_txt", "shp", "shx", "prj"):
        assert default_run[key].read_bytes() == again[key].read_bytes(), key
    other = load_khaki_npz(write_synthetic_crop(tmp_path / "other", seed=1)["npz"])
    assert other.shape == a.shape and not np.array_equal(other, a)


def test_raw_formats_and_contents(default_run: dict[str, Path]) -> None:
    data = load_khaki_npz(default_run["npz"])
    lay = KHAKI_SOYBEAN
    assert data.shape[1] == 433
    ids = data[:, 0].astype(int)
    assert 1114 in ids and (ids == 1114).sum() == 29
    grid = data[ids != 1114]
    n_cells = 64 * 29
    assert len(grid) == n_cells - round(0.05 * n_cells)  # missing_frac of county-years absent
    assert set(grid[:, 1].astype(int)) == set(range(1990, 2019))
    assert len(set(ids[ids != 1114])) == 64
    weekly = data[:, lay.weekly_slice()].reshape(-1, 6, 52)
    prcp, srad, swe, tmax, tmin, vp = (weekly[:, v] for v in range(6))
    assert prcp.min() >= 0 and 1 < prcp.mean() < 5
    assert 100 < srad.mean() < 450 and swe.min() >= 0 and vp.min() > 0
    assert (tmin < tmax).all() and tmax.min() > -30 and tmax.max() < 50
    assert tmax[:, 27].mean() > tmax[:, 1].mean() + 15  # summer warmer than winter
    assert swe[:, 25:32].mean() < 0.5 < 5 < swe[:, 0:4].mean()  # snow in winter only
    soil = data[:, lay.soil_slice()].reshape(-1, 10, 10)
    assert (soil[:, 0, 9] > soil[:, 0, 0]).all()  # bulk-density-like variable rises with depth
    planting = data[:, 415:429]
    assert planting.min() >= 0 and (planting.sum(1) >= 85).all() and (planting.sum(1) <= 101).all()
    assert data[:, 2].min() >= 5

    loc = read_loc_table(default_run["loc_csv"])
    abbrev = read_state_abbrev(default_run["abbrev_txt"])
    fips, names, edges = read_adjacency(default_run["adjacency_txt"])
    mapping, unmatched = map_loc_ids(loc, abbrev, names)
    assert unmatched == [] and len(mapping) == 64
    assert 1114 not in mapping
    assert names[35013] == "Do\u00f1a Ana County, NM"
    raw = default_run["adjacency_txt"].read_bytes()
    assert b"\xf1" in raw  # ISO-8859-1, not UTF-8
    assert b'"McHenry County, IL"\t17001\t' in raw
    assert b'\t\t"McHenry County, IL"\t17001\n' in raw  # every county lists itself
    assert set(loc["County"]) >= {"la salle", "de kalb", "st clair", "mchenry"}
    gdf = county_geometry(default_run["shp"], sorted(mapping.values()))
    assert gdf.crs.to_epsg() == 4269 and len(gdf) == 64
    assert {"STATE", "COUNTY", "NAME", "LSAD", "CENSUSAREA"} <= set(gdf.columns)
    assert (gdf["CENSUSAREA"] > 500).all()


def test_neighbours_carry_the_planted_signal(default_run: dict[str, Path]) -> None:
    ds = build_crop_dataset(**{k: default_run[k] for k in ARGS})
    tmax = ds["weekly"].sel(weekly_var="tmax", week=slice(20, 36)).mean("week").values  # (county, year)
    y, obs = ds["yield"].values, ds["observed"].values
    anomaly = tmax - tmax.mean(axis=0, keepdims=True)
    n = ds.sizes["county"]
    adj = np.zeros((n, n))
    adj[ds["edge_index"].values[0], ds["edge_index"].values[1]] = 1.0
    neigh = adj @ anomaly / adj.sum(1, keepdims=True)
    resid = y - np.nanmean(y, axis=1, keepdims=True) - np.nanmean(y, axis=0, keepdims=True)
    own_r = np.corrcoef(anomaly[obs], resid[obs])[0, 1]
    neigh_r = np.corrcoef(neigh[obs], resid[obs])[0, 1]
    assert own_r < -0.2  # hot growing season -> lower yield
    assert neigh_r < own_r - 0.05  # averaging over neighbours denoises the field


def test_small_grid_one_state_and_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    paths = write_synthetic_crop(tmp_path / "one", n_rows=3, n_cols=1, years=(2010, 2012), missing_frac=0.0)
    # 3 of its 12 rows belong to the orphan loc_ID that every synthetic file has: allow them here
    ds = build_crop_dataset(**{k: paths[k] for k in ARGS}, max_dropped_share=1.0)
    assert ds.sizes["county"] == 3 and set(ds["state"].values.tolist()) == {"IL"}
    assert bool(ds["observed"].all())
    assert main(["--out", str(tmp_path / "cli"), "--seed", "3", "--rows", "2", "--cols", "2"]) == 0
    assert "npz\t" in capsys.readouterr().out
    assert (tmp_path / "cli" / "soybean_data.npz").exists()


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing_frac"):
        write_synthetic_crop(tmp_path, missing_frac=1.0)
    with pytest.raises(ValueError, match="grid"):
        write_synthetic_crop(tmp_path, n_rows=0)
