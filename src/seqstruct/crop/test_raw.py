from pathlib import Path

import numpy as np
import pytest

from seqstruct.crop.layout import KHAKI_SOYBEAN, ColumnLayout
from seqstruct.crop.raw import CropDataError, load_khaki_npz, read_loc_table, read_state_abbrev


def _rows(n_locs: int = 3, years: tuple[int, ...] = (2000, 2001)) -> np.ndarray:
    rng = np.random.default_rng(0)
    rows = []
    for loc in range(n_locs):
        for year in years:
            r = rng.uniform(0.5, 2.0, KHAKI_SOYBEAN.n_columns)
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
