import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from seqstruct.crop.layout import KHAKI_SOYBEAN, KHAKI_SOYBEAN_RANGES, ColumnLayout
from seqstruct.crop.raw import CropDataError, load_khaki_npz, read_loc_table, read_state_abbrev
from seqstruct.data.values import Bounds

REAL_NPZ = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "crop" / "soybean_data.npz"


def _rows(n_locs: int = 3, years: tuple[int, ...] = (2000, 2001)) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = []
    for loc in range(n_locs):
        for year in years:
            r = rng.uniform(0.1, 0.9, KHAKI_SOYBEAN.n_columns)  # inside every plausible range
            r[:3] = (loc, year, 40.0 + loc)
            rows.append(r)
    return np.array(rows)


def _save(path: Path, **arrays: np.ndarray) -> Path:
    np.savez_compressed(path, **arrays)
    return path


def _single_line(err: pytest.ExceptionInfo) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    return msg


def test_khaki_layout_slices() -> None:
    lay = KHAKI_SOYBEAN
    assert lay.n_columns == 433
    assert lay.weekly_slice() == slice(3, 315)
    assert lay.soil_slice() == slice(315, 415)
    assert lay.extra_slice() == slice(415, 433)
    assert (lay.id_col, lay.year_col, lay.yield_col) == (0, 1, 2)
    assert lay.weekly_vars == ("prcp", "srad", "swe", "tmax", "tmin", "vp")
    assert lay.extra_vars[0] == "planting_01" and lay.extra_vars[13] == "planting_14"
    assert lay.extra_vars[14:] == ("extra_0", "extra_1", "extra_2", "extra_3")
    assert lay.soil_vars[-1] == "soil_9" and lay.n_depths == 10
    # variable-major: col = start + 52 v + (week - 1)
    assert lay.weekly_column("tmax", 1) == 3 + 52 * 3
    assert lay.weekly_column("vp", 52) == 314
    assert lay.soil_column("soil_0", 10) == 324
    assert lay.soil_column("soil_9", 10) == 414
    with pytest.raises(ValueError):
        lay.weekly_column("prcp", 53)


def test_layout_rejects_overlapping_blocks() -> None:
    with pytest.raises(ValueError, match="overlap"):
        ColumnLayout(
            name="bad",
            n_columns=10,
            id_col=0,
            year_col=1,
            yield_col=2,
            weekly_start=3,
            weekly_vars=("a",),
            n_weeks=4,
            soil_start=5,
            soil_vars=("s",),
            n_depths=2,
            extra_start=9,
            extra_vars=("e",),
        )


def test_khaki_ranges_cover_every_variable() -> None:
    cols = KHAKI_SOYBEAN.variable_columns()
    assert list(cols) == ["yield", *KHAKI_SOYBEAN.weekly_vars, *KHAKI_SOYBEAN.soil_vars, *KHAKI_SOYBEAN.extra_vars]
    assert set(KHAKI_SOYBEAN.ranges) == set(cols) and KHAKI_SOYBEAN.ranges is KHAKI_SOYBEAN_RANGES
    covered = np.concatenate(list(cols.values()))
    assert sorted(covered.tolist()) == list(range(2, 433))  # every column but id and year, once
    assert cols["tmax"].tolist() == list(range(3 + 52 * 3, 3 + 52 * 4))
    assert cols["soil_9"].tolist() == list(range(405, 415)) and cols["extra_3"].tolist() == [432]
    assert str(KHAKI_SOYBEAN.ranges["yield"]) == "(0, 150] bu/acre"
    assert str(KHAKI_SOYBEAN.ranges["tmax"]) == "[-60, 60] degC"


def test_layout_ranges_cover_all_or_nothing() -> None:
    partial = {"yield": Bounds(0, 150, "bu/acre")}
    with pytest.raises(ValueError, match=r"ranges must cover every variable or be empty \(missing \['prcp'"):
        dataclasses.replace(KHAKI_SOYBEAN, ranges=partial)
    with pytest.raises(ValueError, match=r"unknown \['rain'\]"):
        dataclasses.replace(KHAKI_SOYBEAN, ranges={**KHAKI_SOYBEAN_RANGES, "rain": Bounds(0, 1, "mm")})
    with pytest.raises(ValueError, match="used in two blocks"):
        dataclasses.replace(KHAKI_SOYBEAN, soil_vars=("prcp", *KHAKI_SOYBEAN.soil_vars[1:]))
    unchecked = dataclasses.replace(KHAKI_SOYBEAN, ranges={})
    assert unchecked.ranges == {} and hash(unchecked) == hash(KHAKI_SOYBEAN)


@pytest.mark.skipif(
    not REAL_NPZ.is_file(), reason=f"real crop data not found at {REAL_NPZ} (set SEQSTRUCT_DATA_MIRROR)"
)
def test_real_file_is_inside_every_range() -> None:
    data = load_khaki_npz(REAL_NPZ)
    assert data.shape == (4000, 433)
    for name, cols in KHAKI_SOYBEAN.variable_columns().items():
        b = KHAKI_SOYBEAN.ranges[name]
        lo, hi = data[:, cols].min(), data[:, cols].max()
        assert b.contains([lo, hi]).all(), name


def test_load_khaki_npz_roundtrip(tmp_path: Path) -> None:
    arr = _rows()
    out = load_khaki_npz(_save(tmp_path / "ok.npz", data=arr))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.float64


def test_truncated_npz_names_file(tmp_path: Path) -> None:
    path = _save(tmp_path / "soybean_data.npz", data=_rows())
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CropDataError, match="is not a readable .npz") as err:
        load_khaki_npz(path)
    msg = _single_line(err)
    assert str(path) in msg and "truncated download" in msg and "delete it and rerun" in msg


def test_corrupt_member_of_npz(tmp_path: Path) -> None:
    path = _save(tmp_path / "c.npz", data=_rows())
    raw = bytearray(path.read_bytes())
    mid = len(raw) // 2
    raw[mid : mid + 64] = bytes(64)  # damage the compressed member, keep the central directory
    path.write_bytes(bytes(raw))
    with pytest.raises(CropDataError, match="not a readable .npz") as err:
        load_khaki_npz(path)
    assert str(path) in _single_line(err)


def test_missing_file_and_missing_key(tmp_path: Path) -> None:
    with pytest.raises(CropDataError, match="not found"):
        load_khaki_npz(tmp_path / "nope.npz")
    path = _save(tmp_path / "k.npz", other=_rows())
    with pytest.raises(CropDataError, match="no array 'data'"):
        load_khaki_npz(path)


def test_wrong_column_count(tmp_path: Path) -> None:
    path = _save(tmp_path / "w.npz", data=_rows()[:, :432])
    with pytest.raises(CropDataError, match=r"expected \(rows, 433\)") as err:
        load_khaki_npz(path)
    assert str(path) in _single_line(err)


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (lambda a: a.__setitem__((1, 10), np.nan), "non-finite"),
        (lambda a: a.__setitem__((0, 0), 0.5), "non-integer"),
        (lambda a: a.__setitem__((0, 1), 1800), "outside 1900-2100"),
        (lambda a: a.__setitem__((2, 2), 0.0), "non-positive yields"),
        (lambda a: a.__setitem__((1, 1), 2000), "duplicated"),
    ],
)
def test_content_checks(tmp_path: Path, edit, pattern: str) -> None:
    arr = _rows()
    edit(arr)
    path = _save(tmp_path / "bad.npz", data=arr)
    with pytest.raises(CropDataError, match=pattern) as err:
        load_khaki_npz(path)
    assert str(path) in _single_line(err)


@pytest.mark.parametrize(
    ("convert", "pattern"),
    [
        (lambda a: a + 1j, r"holds complex numbers \(dtype complex128\), expected real floats \(the imaginary"),
        (lambda a: a.astype(np.int64), r"holds integers \(dtype int64\), expected real floats"),
        (lambda a: a.astype(np.float32), None),
        (lambda a: a > 0.5, r"holds booleans \(dtype bool\)"),
        (lambda a: a.astype(str), r"holds strings"),
    ],
)
def test_only_real_floats(tmp_path: Path, convert, pattern: str | None) -> None:
    path = _save(tmp_path / "d.npz", data=convert(_rows()))
    if pattern is None:
        assert load_khaki_npz(path).dtype == np.float64
        return
    with pytest.raises(CropDataError, match=pattern) as err:
        load_khaki_npz(path)
    assert _single_line(err).startswith(f"{path} (array 'data'): holds")


def test_object_array_is_not_a_truncated_download(tmp_path: Path) -> None:
    path = tmp_path / "obj.npz"
    np.savez(path, data=_rows().astype(object), allow_pickle=True)
    with pytest.raises(CropDataError) as err:
        load_khaki_npz(path)
    msg = _single_line(err)
    assert msg.startswith(f"{path} (array 'data'): holds pickled Python objects (dtype object), expected real floats")
    assert "truncated" not in msg and "re-fetch" in msg
    bare = tmp_path / "bare.npz"  # a bare .npy of objects under an .npz name
    np.save(tmp_path / "bare.npy", _rows().astype(object), allow_pickle=True)
    (tmp_path / "bare.npy").rename(bare)
    with pytest.raises(CropDataError, match="holds pickled Python objects"):
        load_khaki_npz(bare)


@pytest.mark.parametrize(
    ("row", "var", "week", "value", "pattern"),
    [
        (3, "yield", None, 1e9, r"yield = 1e\+09 at row 3, column 2 is outside its plausible range \(0, 150\] bu/acre"),
        (1, "tmax", 30, -1e6, r"tmax = -1e\+06 at row 1, column 188 is outside its plausible range \[-60, 60\] degC"),
        (0, "prcp", 1, -1e6, r"prcp = -1e\+06 at row 0, column 3 .* \[0, 300\] mm/day"),
        (5, "vp", 52, 1e9, r"vp = 1e\+09 at row 5, column 314 .* \[0, 8000\] Pa"),
        (2, "soil_7", 4, 15.0, r"soil_7 = 15 at row 2, column 388 .* \[0, 14\] pH"),
        (4, "planting_03", None, 101.0, r"planting_03 = 101 at row 4, column 417 .* \[0, 100\] %"),
    ],
)
def test_implausible_values(tmp_path: Path, row: int, var: str, week: int | None, value: float, pattern: str) -> None:
    arr = _rows()
    if var in KHAKI_SOYBEAN.weekly_vars:
        col = KHAKI_SOYBEAN.weekly_column(var, week)
    elif var in KHAKI_SOYBEAN.soil_vars:
        col = KHAKI_SOYBEAN.soil_column(var, week)
    else:
        col = int(KHAKI_SOYBEAN.variable_columns()[var][0])
    arr[row, col] = value
    path = _save(tmp_path / "soybean_data.npz", data=arr)
    with pytest.raises(CropDataError, match=pattern) as err:
        load_khaki_npz(path)
    msg = _single_line(err)
    assert msg.startswith(f"{path} (array 'data'): {var} = ") and "(1 value out of range, in " in msg
    assert msg.endswith("or a corrupt file - fix or re-fetch the file")


def test_read_loc_table(tmp_path: Path) -> None:
    path = tmp_path / "loc.csv"
    path.write_text("State,County,ID_loc\nIllinois, La Salle ,47\nindiana,de kalb,115\n")
    df = read_loc_table(path)
    assert list(df["County"]) == ["la salle", "de kalb"]
    assert list(df["State"]) == ["illinois", "indiana"]
    assert df["ID_loc"].dtype == np.int64


def test_loc_table_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "loc.csv"
    path.write_text("State,Name,ID_loc\nillinois,adams,0\n")
    with pytest.raises(CropDataError) as err:
        read_loc_table(path)
    msg = _single_line(err)
    assert str(path) in msg and "'County'" in msg and "Name" in msg


def test_loc_table_duplicate_id(tmp_path: Path) -> None:
    path = tmp_path / "loc.csv"
    path.write_text("State,County,ID_loc\nillinois,adams,0\nillinois,bond,0\n")
    with pytest.raises(CropDataError, match="more than once"):
        read_loc_table(path)


def test_read_state_abbrev(tmp_path: Path) -> None:
    path = tmp_path / "abbrev.txt"
    path.write_text("ALABAMA AL\nNEW YORK    NY\nNORTHERN MARIANA IS MP\n\nILLINOIS\tIL\n")
    assert read_state_abbrev(path) == {"alabama": "AL", "new york": "NY", "northern mariana is": "MP", "illinois": "IL"}
    path.write_text("ALABAMA AL\nTEXAS\n")
    with pytest.raises(CropDataError, match=r"abbrev.txt:2:"):
        read_state_abbrev(path)
