"""Tests of the gSSURGO map-unit soil table: depth weighting, dominant component, texture one-hot, restrictive
depth, gdb / csv round trips, the writers, and the one-line errors on bad tables."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import xarray as xr
from affine import Affine

from seqstruct.crop.rasters.grid import Grid, RasterDataError
from seqstruct.crop.rasters.gssurgo import (
    EXTRA_VARS,
    SOIL_LAYERS_CM,
    SOIL_VARS,
    depth_weighted_means,
    dominant_components,
    read_gssurgo_tables,
    read_soil_properties,
    soil_properties,
    synthetic_gssurgo_tables,
    write_gssurgo_tables,
    write_mukey_raster,
)


def _hz(cokey: int, top: float, bottom: float, sand: float, silt: float, clay: float, base: float) -> dict:
    return {
        "cokey": cokey,
        "hzdept_r": top,
        "hzdepb_r": bottom,
        "awc_r": base / 10,
        "dbthirdbar_r": 1 + base / 10,
        "ec_r": base,
        "om_r": base,
        "sandtotal_r": sand,
        "silttotal_r": silt,
        "claytotal_r": clay,
        "ph1to1h2o_r": 5 + base,
    }


def _tiny() -> dict[str, pd.DataFrame]:
    """mukey 1: cokey 11 (60 %) dominant over 12; mukey 2: a 50/50 tie -> cokey 21; mukey 3: no comppct_r."""
    component = pd.DataFrame(
        {
            "mukey": [1, 1, 2, 2, 3],
            "cokey": [12, 11, 22, 21, 31],
            "comppct_r": [40.0, 60.0, 50.0, 50.0, np.nan],
            "majcompflag": ["Yes", "Yes", "Yes", "No", "No"],
        }
    )
    chorizon = pd.DataFrame(
        [
            _hz(11, 0, 10, 40, 40, 20, 1.0),  # loam
            _hz(11, 10, 30, 10, 60, 30, 3.0),  # silty clay loam
            _hz(12, 0, 200, 20, 20, 60, 9.0),
            _hz(21, 0, 50, 92, 5, 3, 2.0),  # sand
            _hz(22, 0, 200, 33, 34, 33, 7.0),
            _hz(31, 0, 100, 40, 40, 20, 5.0),
        ]
    )
    valu1 = pd.DataFrame(
        {
            "mukey": [1, 2],
            "nccpi3all": [0.8, 0.3],
            "nccpi3sg": [0.5, 0.2],
            "nccpi3corn": [0.8, 0.1],
            "nccpi3cot": [0.1, 0.3],
            "nccpi3soy": [0.7, 0.2],
        }
    )
    corestrictions = pd.DataFrame(
        {"cokey": [11, 11, 22], "reskind": ["Fragipan", "Lithic bedrock", "Duripan"], "resdept_r": [80.0, 50.0, 30.0]}
    )
    return {"component": component, "chorizon": chorizon, "Valu1": valu1, "corestrictions": corestrictions}


def _value(ds: xr.Dataset, mukey: int, var: str, depth: int) -> float:
    return float(ds["soil"].sel(mukey=mukey, soil_var=var, depth=depth))


def _one_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


# ------------------------------------------------------------------------------------------------------ method


def test_depth_weighting_known_answer() -> None:
    top, bottom = np.array([0.0, 10.0]), np.array([10.0, 30.0])
    values = np.array([[1.0, 10.0], [3.0, np.nan]])  # second variable missing in the lower horizon
    got = depth_weighted_means(top, bottom, values, np.array([0, 0]), 1, ((0, 5), (5, 15), (15, 30)))
    np.testing.assert_allclose(got[0, 0], [1.0, 2.0, 3.0])  # 5-15: (5*1 + 5*3) / 10
    np.testing.assert_allclose(got[0, 1, :2], [10.0, 10.0])  # only the covered part of 5-15 counts
    assert np.isnan(got[0, 1, 2])
    full = depth_weighted_means(top, bottom, values, np.array([0, 0]), 2)
    assert full.shape == (2, 2, 6)
    assert np.isnan(full[0, 0, 3:]).all() and np.isnan(full[1]).all()  # below 30 cm; a profile without horizons


def test_partial_layer_coverage_is_the_mean_of_the_covered_part() -> None:
    top, bottom, values = np.array([0.0, 40.0]), np.array([40.0, 70.0]), np.array([[2.0], [5.0]])
    got = depth_weighted_means(top, bottom, values, np.array([0, 0]), 1)
    np.testing.assert_allclose(got[0, 0, 3], (10 * 2 + 20 * 5) / 30)  # 30-60
    np.testing.assert_allclose(got[0, 0, 4], 5.0)  # 60-100 covered 60-70 only
    assert np.isnan(got[0, 0, 5])


def test_dominant_component_choice() -> None:
    comp = _tiny()["component"].assign(majcompflag=lambda d: d["majcompflag"].str.lower())
    dom = dominant_components(comp)
    assert dom.to_dict() == {1: 11, 2: 21}  # largest comppct_r; the tie goes to the lower cokey; NaN never
    assert dominant_components(comp, major_only=True).to_dict() == {1: 11, 2: 22}


def test_soil_properties_of_tiny_tables(tmp_path: Path) -> None:
    ds = read_soil_properties(write_gssurgo_tables(tmp_path / "csv", _tiny()))
    assert ds["soil"].dims == ("mukey", "soil_var", "depth") and ds["soil"].dtype == np.float32
    assert ds["extra"].dims == ("mukey", "extra_var") and ds["extra"].dtype == np.float32
    assert ds["mukey"].dtype == np.int64 and ds["mukey"].values.tolist() == [1, 2, 3]
    assert tuple(ds["soil_var"].values) == SOIL_VARS and len(SOIL_VARS) == 20
    assert tuple(ds["extra_var"].values) == EXTRA_VARS and len(EXTRA_VARS) == 6
    assert ds["depth"].values.tolist() == [1, 2, 3, 4, 5, 6]
    assert list(zip(ds["depth_top_cm"].values, ds["depth_bottom_cm"].values)) == list(SOIL_LAYERS_CM)
    assert ds["dominant_cokey"].values.tolist() == [11, 21, -1]
    # mukey 1: horizons 0-10 and 10-30 of cokey 11 onto 0-5, 5-15, 15-30
    np.testing.assert_allclose([_value(ds, 1, "ec", d) for d in (1, 2, 3)], [1.0, 2.0, 3.0])
    np.testing.assert_allclose([_value(ds, 1, "sand", d) for d in (1, 2, 3)], [40.0, 25.0, 10.0])
    np.testing.assert_allclose(_value(ds, 1, "awc", 2), 0.2, rtol=1e-6)
    np.testing.assert_allclose(_value(ds, 1, "ph", 3), 8.0)
    assert np.isnan(ds["soil"].sel(mukey=1, depth=[4, 5, 6]).values).all()
    # texture one-hot per layer: loam, then 25/50/25 = silt loam, then silty clay loam
    for depth, name in [(1, "frac_loam"), (2, "frac_silt_loam"), (3, "frac_silty_clay_loam")]:
        frac = ds["soil"].sel(mukey=1, depth=depth, soil_var=list(SOIL_VARS[7:19])).values
        assert frac.sum() == 1.0 and _value(ds, 1, name, depth) == 1.0
    assert _value(ds, 2, "frac_sand", 1) == 1.0  # the tie-winner cokey 21 is sand
    # extras
    extra = ds["extra"].to_pandas()
    assert extra.loc[1, "nccpi_all"] == pytest.approx(0.8) and extra.loc[1, "nccpi_cotton"] == pytest.approx(0.1)
    assert extra.loc[2, "nccpi_small_grains"] == pytest.approx(0.2) and extra.loc[2, "nccpi_soybean"] == 0.2
    assert extra.loc[1, "restrictive_depth"] == 50.0  # the shallowest of 80 and 50
    assert extra.loc[2, "restrictive_depth"] == 200.0  # cokey 21 has none (cokey 22's 30 cm is not dominant)


def test_missing_values_are_nan_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tables = read_gssurgo_tables(write_gssurgo_tables(tmp_path / "csv", _tiny()))
    with caplog.at_level(logging.WARNING, logger="seqstruct.crop.rasters.gssurgo"):
        ds = soil_properties(tables, mukeys=np.array([1, 3, 999]), no_restriction_cm=np.nan)
    assert np.isnan(ds["soil"].sel(mukey=[3, 999]).values).all()
    assert np.isnan(ds["extra"].sel(mukey=[3, 999]).values).all()
    assert not np.isnan(ds["extra"].sel(mukey=1).values).any()
    text = caplog.text
    assert "2 of 3 map units have no component" in text and "2 of 3 map units have no Valu1 NCCPI value" in text
    ds2 = soil_properties(tables, no_restriction_cm=np.nan)
    assert np.isnan(float(ds2["extra"].sel(mukey=2, extra_var="restrictive_depth")))


# ------------------------------------------------------------------------------------------------ round trips


def test_gdb_and_csv_round_trips_are_identical(tmp_path: Path) -> None:
    tables = synthetic_gssurgo_tables(np.array([101, 102, 205, 3000, 3001, 47]), seed=3)
    gdb = write_gssurgo_tables(tmp_path / "s.gdb", tables)
    csv = write_gssurgo_tables(tmp_path / "csv", tables)
    assert (csv / "Valu1.csv").is_file() and gdb.is_dir()
    from_gdb, from_csv = read_soil_properties(gdb), read_soil_properties(csv)
    xr.testing.assert_equal(from_gdb, from_csv)
    assert str(gdb) in from_gdb.attrs["source"] and str(csv) in from_csv.attrs["source"]
    assert read_soil_properties(gdb, major_only=True)["soil"].shape == from_gdb["soil"].shape
    with pytest.raises(FileExistsError):
        write_gssurgo_tables(gdb, tables)


def test_synthetic_tables_are_plausible(tmp_path: Path) -> None:
    mukeys = np.arange(500, 540)
    tables = synthetic_gssurgo_tables(mukeys, seed=0)
    comp, hz = tables["component"], tables["chorizon"]
    assert (comp.groupby("mukey")["comppct_r"].sum() <= 100).all()
    assert comp["cokey"].is_unique and set(comp["mukey"]) == set(mukeys)
    assert (comp.groupby("mukey")["cokey"].count() >= 1).all() and comp.groupby("mukey").size().max() > 1
    assert (hz.groupby("cokey")["hzdept_r"].min() == 0).all() and (hz["hzdept_r"] < hz["hzdepb_r"]).all()
    np.testing.assert_allclose(hz[["sandtotal_r", "silttotal_r", "claytotal_r"]].sum(axis=1), 100, atol=0.2)
    assert (hz[["sandtotal_r", "silttotal_r", "claytotal_r"]] >= 0).all().all()
    assert len(tables["corestrictions"]) > 0
    ds = read_soil_properties(write_gssurgo_tables(tmp_path / "csv", tables))
    top = ds["soil"].sel(depth=1)
    assert not np.isnan(top.values).any()  # every profile reaches the surface layer
    assert (ds["extra"].sel(extra_var="nccpi_all") >= ds["extra"].sel(extra_var="nccpi_corn")).all()
    assert synthetic_gssurgo_tables(mukeys, seed=0)["chorizon"].equals(hz)


def test_write_mukey_raster(tmp_path: Path) -> None:
    grid = Grid("EPSG:5070", Affine(30.0, 0, -100_000.0, 0, -30.0, 2_000_000.0), (3, 4))
    mukey = np.array([[1, 2, 3, 4], [5, -1, 7, 8], [2_900_000, 0, 1, 1]])
    path = write_mukey_raster(tmp_path / "mukey.tif", mukey, grid)
    with rasterio.open(path) as src:
        assert src.dtypes[0] == "uint32" and src.nodata == 2**32 - 1 and src.crs.to_epsg() == 5070
        assert Grid.of(src, path).same_as(grid)
        data = src.read(1, masked=True)
    assert data.mask.tolist() == (mukey < 0).tolist()
    assert data.compressed().tolist() == mukey[mukey >= 0].tolist()
    with pytest.raises(ValueError, match="does not match the grid"):
        write_mukey_raster(tmp_path / "bad.tif", mukey[:2], grid)
    signed = write_mukey_raster(tmp_path / "signed.tif", mukey, grid, nodata=-1, dtype="int32")
    with rasterio.open(signed) as src:
        assert src.dtypes[0] == "int32" and src.nodata == -1


# ------------------------------------------------------------------------------------------------- bad input


def _bad(tmp_path: Path, fmt: str, edit: dict[str, pd.DataFrame | None]) -> Path:
    tables = {**_tiny(), **edit}
    target = tmp_path / ("t.gdb" if fmt == "gdb" else "csv")
    return write_gssurgo_tables(target, {k: v for k, v in tables.items() if v is not None})


@pytest.mark.parametrize("fmt", ["gdb", "csv"])
def test_missing_table_is_named(tmp_path: Path, fmt: str) -> None:
    path = _bad(tmp_path, fmt, {"Valu1": None})
    with pytest.raises(RasterDataError) as err:
        read_gssurgo_tables(path)
    msg = _one_line(err)
    assert str(path) in msg and "Valu1" in msg and "fix" in msg


@pytest.mark.parametrize("fmt", ["gdb", "csv"])
def test_missing_column_is_named(tmp_path: Path, fmt: str) -> None:
    path = _bad(tmp_path, fmt, {"chorizon": _tiny()["chorizon"].drop(columns="awc_r")})
    with pytest.raises(RasterDataError) as err:
        read_gssurgo_tables(path)
    msg = _one_line(err)
    assert str(path) in msg and "'chorizon'" in msg and "'awc_r'" in msg
    if fmt == "csv":
        assert "chorizon.csv" in msg


def test_majcompflag_is_needed_only_for_major_only(tmp_path: Path) -> None:
    path = _bad(tmp_path, "csv", {"component": _tiny()["component"].drop(columns="majcompflag")})
    read_gssurgo_tables(path)
    with pytest.raises(RasterDataError, match="majcompflag"):
        read_gssurgo_tables(path, major_only=True)


def _edited(table: str, row: int, column: str, value: object) -> dict[str, pd.DataFrame]:
    frame = _tiny()[table].astype({column: object})
    frame.loc[row, column] = value
    return {table: frame}


@pytest.mark.parametrize(
    ("fmt", "edit", "expected"),
    [
        ("csv", _edited("component", 1, "cokey", 12), ["component.csv", "'component'", "duplicate cokey"]),
        ("gdb", _edited("Valu1", 1, "mukey", 1), ["t.gdb", "'Valu1'", "duplicate mukey"]),
        ("csv", _edited("chorizon", 1, "hzdept_r", 0), ["chorizon.csv", "duplicate cokey/hzdept_r"]),
        ("csv", _edited("chorizon", 0, "hzdepb_r", 0), ["chorizon.csv", "hzdept_r >= hzdepb_r", "cokey 11"]),
        ("gdb", _edited("chorizon", 2, "hzdept_r", 250), ["t.gdb", "'chorizon'", "hzdept_r >= hzdepb_r"]),
        ("csv", _edited("chorizon", 0, "sandtotal_r", 120), ["chorizon.csv", "'sandtotal_r'", "0..100"]),
        ("gdb", _edited("chorizon", 3, "om_r", -2), ["t.gdb", "'chorizon'", "'om_r'", "0..100"]),
        ("csv", _edited("component", 0, "comppct_r", 140), ["component.csv", "'comppct_r'", "0..100"]),
        ("csv", _edited("Valu1", 0, "nccpi3corn", 85), ["Valu1.csv", "'nccpi3corn'", "0..1"]),
        ("csv", _edited("corestrictions", 0, "resdept_r", -5), ["corestrictions.csv", "'resdept_r'"]),
        ("csv", _edited("component", 0, "cokey", "12a"), ["component.csv", "'cokey'", "non-integer keys", "12a"]),
        ("gdb", _edited("Valu1", 0, "mukey", ""), ["t.gdb", "'Valu1'", "'mukey'", "missing or non-integer"]),
        ("csv", _edited("chorizon", 0, "ec_r", "high"), ["chorizon.csv", "'ec_r'", "non-numeric", "high"]),
    ],
)
def test_bad_values_name_file_table_and_column(
    tmp_path: Path, fmt: str, edit: dict[str, pd.DataFrame], expected: list[str]
) -> None:
    path = _bad(tmp_path, fmt, edit)
    with pytest.raises(RasterDataError) as err:
        read_gssurgo_tables(path)
    msg = _one_line(err)
    for part in expected:
        assert part in msg
    assert "fix" in msg


def test_bad_paths(tmp_path: Path) -> None:
    with pytest.raises(RasterDataError, match="not found or not a folder"):
        read_gssurgo_tables(tmp_path / "nope.gdb")
    fake = tmp_path / "fake.gdb"
    fake.mkdir()
    (fake / "a00000001.gdbtable").write_bytes(b"junk")
    with pytest.raises(RasterDataError) as err:
        read_gssurgo_tables(fake)
    assert str(fake) in _one_line(err)
    (tmp_path / "csv").mkdir()
    (tmp_path / "csv" / "component.csv").write_text("")
    with pytest.raises(RasterDataError, match="component.csv"):
        read_gssurgo_tables(tmp_path / "csv")
