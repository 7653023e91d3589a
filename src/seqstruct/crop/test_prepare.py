import logging
import os
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from seqstruct.crop.layout import KHAKI_SOYBEAN
from seqstruct.crop.prepare import build_crop_dataset, impute_features, main, write_netcdf
from seqstruct.crop.raw import CropDataError, load_khaki_npz
from seqstruct.crop.synthetic import write_synthetic_crop

MIRROR = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "crop"
REAL = {
    "npz": MIRROR / "soybean_data.npz",
    "loc_csv": MIRROR / "Soybeans_Loc_ID.csv",
    "abbrev_txt": MIRROR / "us_county_abbrev.txt",
    "adjacency_txt": MIRROR / "county_adjacency.txt",
    "shp": MIRROR / "gz_2010_us_050_00_20m.shp",
}
ARGS = ("npz", "loc_csv", "abbrev_txt", "adjacency_txt", "shp")

DIMS = {
    "yield": ("county", "year"),
    "weekly": ("county", "year", "weekly_var", "week"),
    "soil": ("county", "year", "soil_var", "depth"),
    "extra": ("county", "year", "extra_var"),
    "observed": ("county", "year"),
    "loc_id": ("county",),
    "name": ("county",),
    "state": ("county",),
    "lon": ("county",),
    "lat": ("county",),
    "edge_index": ("pair", "edge"),
}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_synthetic_crop(
        tmp_path_factory.mktemp("syn"), n_rows=6, n_cols=6, years=(2000, 2012), missing_frac=0.1
    )


@pytest.fixture(scope="module")
def synthetic_ds(synthetic: dict[str, Path]) -> xr.Dataset:
    return build_crop_dataset(**{k: synthetic[k] for k in ARGS})


def check_schema(ds: xr.Dataset) -> None:
    """The schema contract of seqstruct.crop.prepare (read by the training code)."""
    assert set(ds.data_vars) == set(DIMS)
    for var, dims in DIMS.items():
        assert ds[var].dims == dims, var
    for var in ("yield", "weekly", "soil", "extra"):
        assert ds[var].dtype == np.float32, var
    assert ds["observed"].dtype == bool
    for var in ("loc_id", "edge_index", "county", "year", "week", "depth"):
        assert ds[var].dtype == np.int64, var
    for var in ("lon", "lat"):
        assert ds[var].dtype == np.float64
    for var in ("name", "state", "weekly_var", "soil_var", "extra_var"):
        assert ds[var].dtype.kind in "UO" and all(isinstance(v, str) for v in ds[var].values.tolist()), var
    assert ds.sizes["pair"] == 2
    county = ds["county"].values
    assert np.all(np.diff(county) > 0)
    assert np.array_equal(ds["year"].values, np.arange(ds["year"].values[0], ds["year"].values[-1] + 1))
    assert ds["weekly_var"].values.tolist() == list(KHAKI_SOYBEAN.weekly_vars)
    assert ds["soil_var"].values.tolist() == list(KHAKI_SOYBEAN.soil_vars)
    assert ds["extra_var"].values.tolist() == list(KHAKI_SOYBEAN.extra_vars)
    assert ds["week"].values.tolist() == list(range(1, 53))
    assert ds["depth"].values.tolist() == list(range(1, 11))
    # labels: NaN exactly where there is no row
    assert np.array_equal(np.isnan(ds["yield"].values), ~ds["observed"].values)
    for var in ("weekly", "soil", "extra"):
        assert np.isfinite(ds[var].values).all(), var
    # graph: symmetric, no self loops, no duplicates, positions in range
    ei = ds["edge_index"].values
    n = ds.sizes["county"]
    assert ei.min() >= 0 and ei.max() < n
    pairs = set(map(tuple, ei.T.tolist()))
    assert len(pairs) == ei.shape[1]
    assert all(a != b for a, b in pairs)
    assert pairs == {(b, a) for a, b in pairs}
    assert set(ds.attrs) >= {"crop", "source", "dropped_loc_ids", "layout"}
    assert np.isfinite(ds["lon"].values).all() and np.isfinite(ds["lat"].values).all()


def test_synthetic_build_schema(synthetic: dict[str, Path], synthetic_ds: xr.Dataset) -> None:
    ds = synthetic_ds
    check_schema(ds)
    assert ds.sizes["county"] == 36 and ds.sizes["year"] == 13
    assert ds.attrs["dropped_loc_ids"] == "1114" and ds.attrs["crop"] == "soybean"
    assert ds.attrs["layout"] == "khaki_soybean"
    assert set(ds["state"].values.tolist()) == {"IL", "IN"}
    assert (~ds["observed"]).sum() > 0
    # interior cells of the 6x6 queen grid have 8 neighbours, corners 3
    deg = np.bincount(ds["edge_index"].values[0], minlength=36)
    assert deg.max() == 8 and deg.min() == 3
    # observed rows carry the raw values unchanged
    raw = load_khaki_npz(synthetic["npz"])
    row = raw[(raw[:, 0] == int(ds["loc_id"][3])) & (raw[:, 1] == 2005)]
    if len(row):
        np.testing.assert_allclose(
            ds["weekly"].isel(county=3).sel(year=2005).values.ravel(), row[0, KHAKI_SOYBEAN.weekly_slice()], rtol=1e-6
        )
        assert float(ds["yield"].isel(county=3).sel(year=2005)) == pytest.approx(row[0, 2], rel=1e-6)


def test_dropped_loc_is_logged(synthetic: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="seqstruct.crop.prepare"):
        build_crop_dataset(**{k: synthetic[k] for k in ARGS})
    assert "1114" in caplog.text and "13 rows dropped" in caplog.text


def _short_loc_table(synthetic: dict[str, Path], dest: Path, keep: int) -> Path:
    """The synthetic loc table with only its first ``keep`` counties."""
    lines = synthetic["loc_csv"].read_text().splitlines(keepends=True)
    dest.write_text("".join(lines[: keep + 1]))
    return dest


def test_too_many_dropped_rows_is_an_error(synthetic: dict[str, Path], tmp_path: Path) -> None:
    args = {k: synthetic[k] for k in ARGS}
    args["loc_csv"] = _short_loc_table(synthetic, tmp_path / "loc.csv", keep=5)  # 31 of 36 counties unknown
    with pytest.raises(CropDataError) as err:
        build_crop_dataset(**args)
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith(f"{synthetic['npz']}: ") and f"are not in {args['loc_csv']}" in msg
    assert "dropped, more than the allowed 5.0%: their loc_IDs (5, 6, 7, 8, 9, ...)" in msg
    assert msg.endswith(
        "use the loc table of the same crop and data set as soybean_data.npz (or allow more: config "
        "crop.max_dropped_share, --max-dropped-share)"
    )
    ds = build_crop_dataset(**args, max_dropped_share=1.0)  # allowed: a warning, five counties left
    assert ds.sizes["county"] == 5


def test_dropped_share_threshold(synthetic: dict[str, Path], caplog: pytest.LogCaptureFixture) -> None:
    args = {k: synthetic[k] for k in ARGS}
    raw = load_khaki_npz(synthetic["npz"])
    share = float((raw[:, 0] == 1114).mean())  # the orphan loc_ID's rows: 13 of 434 (3.0%)
    assert 0.0 < share < 0.05
    with pytest.raises(CropDataError, match=r"13 of 434 rows \(3.0%\) dropped, more than the allowed 2.9%"):
        build_crop_dataset(**args, max_dropped_share=share - 0.001)
    with caplog.at_level(logging.WARNING, logger="seqstruct.crop.prepare"):
        build_crop_dataset(**args, max_dropped_share=share)  # exactly the share passes
    assert "13 rows dropped" in caplog.text
    with pytest.raises(ValueError, match=r"max_dropped_share must be in \[0, 1\], got 1.5"):
        build_crop_dataset(**args, max_dropped_share=1.5)


def test_impute_features_neighbours_then_year_mean() -> None:
    # 4 counties, path graph 0-1-2 and an isolated 3; one year; feature = county id * 10
    x = np.arange(4, dtype=float)[:, None, None] * 10.0 * np.ones((4, 1, 2))
    observed = np.array([[True], [False], [True], [False]])
    edge_index = np.array([[0, 1, 1, 2], [1, 0, 2, 1]])
    x_nan = np.where(observed[:, :, None], x, np.nan)
    out = impute_features(x_nan, observed, edge_index)
    np.testing.assert_allclose(out[1, 0], [10.0, 10.0])  # mean of neighbours 0 and 2 (0 and 20)
    np.testing.assert_allclose(out[3, 0], [10.0, 10.0])  # no neighbours: mean of observed counties 0 and 2
    np.testing.assert_allclose(out[observed], x[observed])
    # an unobserved neighbour does not contribute
    observed2 = np.array([[True], [False], [False], [True]])
    out2 = impute_features(np.where(observed2[:, :, None], x, np.nan), observed2, edge_index)
    np.testing.assert_allclose(out2[1, 0], [0.0, 0.0])  # only neighbour 0 is observed
    np.testing.assert_allclose(out2[2, 0], [15.0, 15.0])  # neighbour 1 unobserved -> year mean of 0 and 3


def test_netcdf_roundtrip(synthetic_ds: xr.Dataset, tmp_path: Path) -> None:
    path = write_netcdf(synthetic_ds, tmp_path / "crop" / "soybean.nc")
    assert [p.name for p in path.parent.iterdir()] == ["soybean.nc"]
    ds = xr.load_dataset(path, engine="h5netcdf")
    check_schema(ds)
    xr.testing.assert_identical(ds, synthetic_ds)


def test_cli_writes_and_reports_errors(
    synthetic: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "soybean.nc"
    argv = [
        "--npz",
        str(synthetic["npz"]),
        "--loc",
        str(synthetic["loc_csv"]),
        "--abbrev",
        str(synthetic["abbrev_txt"]),
        "--adjacency",
        str(synthetic["adjacency_txt"]),
        "--shp",
        str(synthetic["shp"]),
        "--out",
        str(out),
    ]
    assert main(argv) == 0 and out.exists()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(synthetic["npz"].read_bytes()[:1000])
    out2 = tmp_path / "never.nc"
    argv[1], argv[-1] = str(bad), str(out2)
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and str(bad) in err[-1] and "not a readable .npz" in err[-1]
    assert not out2.exists()
    # --max-dropped-share: 0 refuses the orphan loc_ID's rows, a value outside [0, 1] is a usage error
    argv[1] = str(synthetic["npz"])
    assert main([*argv, "--max-dropped-share", "0"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {synthetic['npz']}: 13 of 434 rows (3.0%) dropped, more than the allowed 0.0%")
    assert not out2.exists()
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--max-dropped-share", "1.5"])
    assert exit_info.value.code == 2 and "'1.5' is not a share in [0, 1]" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*argv, "--max-dropped-share", "lots"])
    assert main([*argv, "--max-dropped-share", "0.5"]) == 0 and out2.exists()


@pytest.mark.slow
@pytest.mark.skipif(
    not all(p.exists() for p in REAL.values()),
    reason=f"real crop data not found under {MIRROR} (set SEQSTRUCT_DATA_MIRROR)",
)
def test_real_soybean_dataset(caplog: pytest.LogCaptureFixture) -> None:
    start = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        ds = build_crop_dataset(**REAL)
    elapsed = time.perf_counter() - start
    check_schema(ds)
    assert ds.sizes["county"] == 105
    assert ds["year"].values.tolist() == list(range(1980, 2019))
    assert ds.attrs["dropped_loc_ids"] == "1114"
    assert "1114" in caplog.text and "39 rows dropped" in caplog.text
    assert int(ds["observed"].sum()) == 4000 - 39
    assert set(ds["state"].values.tolist()) == {"IL", "IN"}
    assert sorted(ds["loc_id"].values.tolist()) == list(range(105))  # Illinois 0-100 and Indiana 101-104 all matched
    # every county of the data is a node of the Census graph; report the isolated ones
    deg = np.bincount(ds["edge_index"].values[0], minlength=105)
    isolated = [f"{int(f)} {n}" for f, n, d in zip(ds["county"].values, ds["name"].values, deg) if d == 0]
    print(
        f"real soybean: 105 counties, {ds.sizes['edge']} directed edges, {len(isolated)} without neighbours "
        f"in the set {isolated}, built in {elapsed:.2f} s"
    )
    assert ds.sizes["edge"] > 400
    assert len(isolated) <= 5
    assert float(ds["lat"].min()) > 36.9 and float(ds["lat"].max()) < 42.6  # Illinois/Indiana latitudes
