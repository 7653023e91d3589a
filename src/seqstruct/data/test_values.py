import numpy as np
import pyproj
import pytest

from seqstruct.common.errors import InputError
from seqstruct.data.values import (
    Bounds,
    LonLatBox,
    check_dropped_share,
    check_finite,
    check_points_in_area,
    check_points_in_crs,
    check_ranges,
    check_real_array,
    check_real_dtype,
    crs_area,
)


class MyError(InputError, ValueError):
    """A domain's own error class."""


def _msg(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_bounds_contains_and_str() -> None:
    b = Bounds(0.0, 150.0, "bu/acre", lo_open=True)
    np.testing.assert_array_equal(b.contains([0.0, 1e-9, 150.0, 150.1, np.nan]), [False, True, True, False, False])
    assert str(b) == "(0, 150] bu/acre"
    c = Bounds(-60, 60, "degC", hi_open=True)
    np.testing.assert_array_equal(c.contains([-60, 60, -np.inf]), [True, False, False])
    assert str(c) == "[-60, 60) degC"
    assert str(Bounds(0, 1e5, "")) == "[0, 100000]"
    assert Bounds(-np.inf, 0, "m").contains(-1e300)


@pytest.mark.parametrize(("lo", "hi"), [(1.0, 1.0), (2.0, 1.0), (np.nan, 1.0), (0.0, np.nan)])
def test_bounds_need_lo_below_hi(lo: float, hi: float) -> None:
    with pytest.raises(ValueError, match="lo < hi"):
        Bounds(lo, hi, "x")


def test_check_real_array_accepts_floats() -> None:
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    assert check_real_array(a, "f.npz") is a  # no copy
    out = check_real_array(a.astype(np.float32), "f.npz")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, a)
    check_real_dtype(np.dtype(np.float16), "f.npz")


@pytest.mark.parametrize(
    ("arr", "what"),
    [
        (np.array([1 + 2j, 3.0]), "holds complex numbers (dtype complex128), expected real floats (the imaginary"),
        (np.array([1, 2], dtype=np.int64), "holds integers (dtype int64), expected real floats (an integer array"),
        (np.array([1, 2], dtype=np.uint8), "holds unsigned integers (dtype uint8)"),
        (np.array([True, False]), "holds booleans (dtype bool)"),
        (np.array([1.0, None], dtype=object), "holds pickled Python objects (dtype object), expected real floats;"),
        (np.array(["1.5", "2"]), "holds strings (dtype <U3)"),
        (np.array([b"1.5"]), "holds byte strings"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "f8")]), "holds structured records"),
        (np.zeros(2, dtype=[("a", "f8"), ("b", "O")]), "holds pickled Python objects"),
        (np.array(["2020-01-01"], dtype="datetime64[D]"), "holds datetimes"),
    ],
)
def test_check_real_array_refuses_other_dtypes(arr: np.ndarray, what: str) -> None:
    with pytest.raises(InputError) as err:
        check_real_array(arr, "x.npz (array 'data')", fix="re-export it")
    msg = _msg(err)
    assert msg.startswith(f"x.npz (array 'data'): {what}") and msg.endswith("; re-export it")


def test_error_class_is_the_callers() -> None:
    with pytest.raises(MyError):
        check_real_dtype(np.dtype(complex), "x", error=MyError)
    with pytest.raises(MyError):
        check_finite([np.nan], "x", error=MyError)


def test_check_finite() -> None:
    check_finite(np.ones((2, 3)), "f")
    a = np.ones((3, 4))
    a[1, 2] = np.nan
    a[2, 0] = np.inf
    with pytest.raises(InputError) as err:
        check_finite(a, "f.npz", fix="re-fetch it")
    assert _msg(err) == "f.npz: 2 non-finite values (first at row 1, column 2); re-fetch it"
    with pytest.raises(InputError, match=r"1 non-finite values \(first at index 2\)"):
        check_finite([1.0, 2.0, -np.inf], "v")
    with pytest.raises(InputError, match=r"first at position \(0, 1, 0\)"):
        check_finite(np.array([[[1.0], [np.nan]]]), "cube")


COLUMNS = {"yield": 0, "tmax": [1, 2], "vp": slice(3, 5)}
RANGES = {
    "yield": Bounds(0, 150, "bu/acre", lo_open=True),
    "tmax": Bounds(-60, 60, "degC"),
    "vp": Bounds(0, 8000, "Pa"),
}


def _table() -> np.ndarray:
    return np.array([[40.0, 20.0, 25.0, 1000.0, 1200.0]] * 4)


def test_check_ranges_passes_plausible_values() -> None:
    check_ranges(_table(), COLUMNS, RANGES, "t.npz")
    check_ranges(_table(), {}, {}, "t.npz")


def test_check_ranges_names_variable_position_value_range() -> None:
    a = _table()
    a[2, 4] = -1e6  # vp
    a[3, 0] = 1e9  # yield, later row
    a[2, 2] = 61.0  # tmax, same row as vp, lower column: the first bad value
    with pytest.raises(InputError) as err:
        check_ranges(a, COLUMNS, RANGES, "t.npz (array 'data')", fix="check the units")
    assert _msg(err) == (
        "t.npz (array 'data'): tmax = 61 at row 2, column 2 is outside its plausible range [-60, 60] degC "
        "(3 values out of range, in yield, tmax, vp); check the units"
    )
    b = _table()
    b[1, 0] = 1e9
    with pytest.raises(InputError, match=r"yield = 1e\+09 at row 1, column 0 .* \(0, 150\] bu/acre \(1 value out"):
        check_ranges(b, COLUMNS, RANGES, "t")
    b[1, 0] = np.nan  # NaN is never in range
    with pytest.raises(InputError, match="yield = nan at row 1"):
        check_ranges(b, COLUMNS, RANGES, "t")


def test_check_ranges_needs_a_range_per_variable_and_2d() -> None:
    with pytest.raises(ValueError, match=r"no plausible range declared for variable\(s\) \['srad'\]"):
        check_ranges(_table(), {"srad": 1}, RANGES, "t")
    with pytest.raises(ValueError, match="2-D"):
        check_ranges(np.ones(3), {"yield": 0}, RANGES, "t")


def test_check_dropped_share() -> None:
    assert check_dropped_share(39, 4000, 0.05, "d.npz") == pytest.approx(0.00975)
    assert check_dropped_share(5, 100, 0.05, "d.npz") == 0.05  # exactly the threshold passes
    assert check_dropped_share(0, 0, 0.0, "d.npz") == 0.0
    with pytest.raises(MyError) as err:
        check_dropped_share(
            3000, 4000, 0.05, "d.npz", detail=": their ids are not in loc.csv", fix="use loc.csv", error=MyError
        )
    assert _msg(err) == (
        "d.npz: 3000 of 4000 rows (75.0%) dropped, more than the allowed 5.0%: their ids are not in loc.csv; "
        "use loc.csv"
    )
    with pytest.raises(InputError, match="2 of 3 files"):
        check_dropped_share(2, 3, 0.5, "dir", what="files")


@pytest.mark.parametrize(("args", "pattern"), [((1, 10, 1.5), "max_share"), ((5, 4, 0.5), "n_dropped <= n_total")])
def test_check_dropped_share_bad_arguments(args: tuple, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        check_dropped_share(*args, "x")


def test_lonlat_box_across_the_antimeridian() -> None:
    box = LonLatBox(167.65, 14.92, -40.73, 86.45, "NAD83")
    np.testing.assert_array_equal(
        box.contains([179.5, -179.5, -90.0, -30.0, 100.0, -90.0, np.nan], [52, 52, 40, 40, 40, 0, 40]),
        [True, True, True, False, False, False, False],
    )
    assert str(box) == "NAD83 (lon 167.65..-40.73, lat 14.92..86.45)"
    plain = LonLatBox(-90, 0, -84, 84, "UTM 16N")
    np.testing.assert_array_equal(plain.contains([-91, -87, -87], [40, 40, 85]), [False, True, False])


def test_crs_area() -> None:
    nad83 = crs_area(4269)
    assert (nad83.west, nad83.south, nad83.east, nad83.north) == pytest.approx((167.65, 14.92, -40.73, 86.45))
    assert "NAD83" in nad83.name
    # an ESRI .prj carries no area of use: the matching EPSG code's is used
    esri = pyproj.CRS.from_wkt(pyproj.CRS(5070).to_wkt("WKT1_ESRI"))
    assert esri.area_of_use is None
    albers = crs_area(esri)
    assert (albers.west, albers.south) == pytest.approx((-124.79, 24.41))
    # a custom CRS with neither: the whole globe
    custom = crs_area("+proj=longlat +a=6000000 +b=6000000 +no_defs")
    assert (custom.west, custom.south, custom.east, custom.north) == (-180.0, -90.0, 180.0, 90.0)
    assert custom.name.startswith("the bounds of CRS")


def test_check_points_in_crs() -> None:
    lon, lat = np.array([-89.0, -86.5, 179.0]), np.array([40.0, 41.0, 52.0])
    check_points_in_crs(lon, lat, "EPSG:4269", "c.shp")
    with pytest.raises(InputError) as err:
        check_points_in_crs(lon, lat, 5070, "c.shp (centroids)", labels=["A", "B", "C"], fix="restore c.prj")
    assert _msg(err) == (
        "c.shp (centroids): 1 of 3 points fall outside the area of use of CRS 'NAD83 / Conus Albers' "
        "(lon -124.79..-66.91, lat 24.41..49.38), e.g. C at lon 179.0000, lat 52.0000; restore c.prj"
    )
    with pytest.raises(InputError) as err:
        check_points_in_crs([1.0, np.nan], [2.0, 3.0], 4326, "c.shp", fix="restore c.prj")
    assert _msg(err) == "c.shp: 1 of 2 points are not finite (e.g. point 1); restore c.prj"
    with pytest.raises(MyError, match="outside the bounds of CRS"):
        check_points_in_crs([0.0], [95.0], "+proj=longlat +a=6000000 +b=6000000 +no_defs", "c", error=MyError)


def test_check_points_in_area_lengths_must_match() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        check_points_in_area([1.0, 2.0], [1.0], LonLatBox(-180, -90, 180, 90, "globe"), "c")
