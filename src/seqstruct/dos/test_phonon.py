"""The phonon CSV reader and the tutorial split: the real layout, and every bad row as a one-line error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

from seqstruct.dos.conftest import DOS_MIRROR
from seqstruct.dos.phonon import PhononDataError, read_phonon_csv, tutorial_split
from seqstruct.dos.synthetic import SyntheticDos, write_synthetic

NACL = {
    "numbers": [11, 17],
    "positions": [[0.0, 0.0, 0.0], [2.82, 2.82, 2.82]],
    "cell": [[0.0, 2.82, 2.82], [2.82, 0.0, 2.82], [2.82, 2.82, 0.0]],
    "pbc": [True, True, True],
}


def _write(path: Path, rows: list[dict]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _row(mid: str = "mp-22862", structure: dict | None = None, dos: list | None = None, n: int = 5) -> dict:
    grid = np.linspace(0, 1000, n).tolist()
    return {
        "mp_id": mid,
        "structure": repr(structure or NACL),
        "phfreq": repr(grid),
        "phdos": repr(dos if dos is not None else [0.0, 0.5, 1.0, 0.2, 0.0][:n]),
    }


def test_reads_structures_and_spectra(tmp_path: Path) -> None:
    s = read_phonon_csv(_write(tmp_path / "d.csv", [_row(), _row("mp-2")]), expected_len=5)
    assert s.ids == ["mp-22862", "mp-2"] and s.spectra.shape == (2, 5) and s.spectra.dtype == np.float32
    assert_allclose(s.grid, [0, 250, 500, 750, 1000])
    nacl = s.structures[0]
    assert [str(e) for e in nacl.species] == ["Na", "Cl"]
    assert_allclose(nacl.lattice.volume, abs(np.linalg.det(np.array(NACL["cell"]))), rtol=1e-9)
    assert_allclose(nacl.cart_coords, NACL["positions"], atol=1e-9)


def test_reads_the_synthetic_file_it_writes(tmp_path: Path) -> None:
    write_synthetic(tmp_path / "syn.csv", SyntheticDos(n_materials=12, n_points=51, seed=3))
    s = read_phonon_csv(tmp_path / "syn.csv", expected_len=51)
    assert len(s.ids) == 12 and s.spectra.shape == (12, 51)
    assert_allclose(s.spectra.max(axis=1), 1.0, rtol=1e-6)  # max-normalised like the real set
    write_synthetic(tmp_path / "again.csv", SyntheticDos(n_materials=12, n_points=51, seed=3))
    assert (tmp_path / "syn.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()  # deterministic


@pytest.mark.parametrize(
    ("row", "match"),
    [
        (
            _row(dos=[0.0, 1.0, np.nan, 0.0, 0.0]),
            r"mp-22862: column 'phdos' is not a Python literal \('\[0.0, 1.0, nan",
        ),
        ({**_row(), "phdos": "[0.0, 1e999, 1.0, 0.0, 0.0]"}, "mp-22862: phdos contains NaN or inf"),
        (_row(dos=[0.0, 1.0, 0.0]), "phdos has 3 points, expected 5"),
        (_row(dos=[0.0, -1.0, 1.0, 0.0, 0.0]), "negative"),
        (_row(dos=[0.0] * 5), "zero everywhere"),
        (_row(structure={**NACL, "numbers": [], "positions": []}), "mp-22862: the structure has zero atoms"),
        (_row(structure={**NACL, "numbers": [11]}), "1 atomic numbers but positions of shape"),
        (_row(structure={**NACL, "cell": [[1, 0, 0], [2, 0, 0], [0, 0, 1]]}), "non-singular"),
        (_row(structure={**NACL, "numbers": [0, 17]}), "atomic number 0"),
        ({**_row(), "structure": "{'numbers': [11"}, "not a Python literal"),
    ],
)
def test_bad_rows_name_the_file_and_material(tmp_path: Path, row: dict, match: str) -> None:
    path = _write(tmp_path / "bad.csv", [row])
    with pytest.raises(PhononDataError, match=match) as err:
        read_phonon_csv(path, expected_len=5)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(PhononDataError, match="missing column"):
        read_phonon_csv(_write(tmp_path / "a.csv", [{"mp_id": "x", "structure": "{}"}]))
    with pytest.raises(PhononDataError, match="appears more than once"):
        read_phonon_csv(_write(tmp_path / "b.csv", [_row(), _row()]))
    other = {**_row("mp-2"), "phfreq": repr(np.linspace(0, 500, 5).tolist())}
    with pytest.raises(PhononDataError, match="mp-2: its grid differs"):
        read_phonon_csv(_write(tmp_path / "c.csv", [_row(), other]))


def test_tutorial_split_drops_rows_past_the_end(tmp_path: Path) -> None:
    files = {}
    for name, idx in {"train": [0, 2, 5], "val": [1], "test": [3, 4]}.items():
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text("".join(f"{i}\n" for i in idx))
    split = tutorial_split(files, 5)  # index 5 is the tutorial's appended row
    assert {k: v.tolist() for k, v in split.items()} == {"train": [0, 2], "val": [1], "test": [3, 4]}
    files["val"].write_text("1\n2\n")
    with pytest.raises(PhononDataError, match="share row indices"):
        tutorial_split(files, 5)
    files["val"].write_text("\n")
    with pytest.raises(PhononDataError, match="covers 4 of the 5 rows"):
        tutorial_split(files, 5)


def test_tutorial_split_on_the_staged_files() -> None:
    d = DOS_MIRROR
    if not (d / "phdos_idx_train.txt").exists():
        pytest.skip(f"the tutorial split files are not in {d} (set SEQSTRUCT_DATA_MIRROR)")
    split = tutorial_split(
        {"train": d / "phdos_idx_train.txt", "val": d / "phdos_idx_valid.txt", "test": d / "phdos_idx_test.txt"}, 1521
    )
    assert {k: len(v) for k, v in split.items()} == {"train": 1191, "val": 141, "test": 189}
