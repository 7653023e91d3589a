import os
from pathlib import Path

import numpy as np
import pytest

from seqstruct.mlc.prepare import MlcDataError, load_prepared, main
from seqstruct.mlc.standin import prepare_csv_pairs

STANDIN = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", "/work/shared/data")) / "mlc" / "ebird_standin_norberg_birds"


@pytest.fixture
def pairs(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    parts = {
        "xt": rng.normal(size=(12, 3)),
        "yt": (rng.random((12, 4)) < 0.5).astype(int),
        "xv": rng.normal(size=(8, 3)),
        "yv": (rng.random((8, 4)) < 0.5).astype(int),
    }
    paths = {}
    for key, value in parts.items():
        paths[key] = tmp_path / f"{key[0].upper()}{key[1]}_1_toy.csv"
        np.savetxt(paths[key], value, delimiter=",", fmt="%d" if key[0] == "y" else "%.17g")
    return paths


def test_pooled_train_first_and_labelled_a_stand_in(tmp_path: Path, pairs: dict[str, Path]) -> None:
    prepared = prepare_csv_pairs(**pairs, dataset="toy", out_dir=tmp_path / "out", seed=0)
    back = load_prepared(tmp_path / "out")
    assert back.features.shape == (20, 3) and back.labels.shape == (20, 4) and back.features.dtype == np.float32
    xt = np.loadtxt(pairs["xt"], delimiter=",")
    np.testing.assert_allclose(back.features[:12], xt.astype(np.float32))
    np.testing.assert_array_equal(back.labels[12:], np.loadtxt(pairs["yv"], delimiter=",").astype(np.uint8))
    assert back.info["stand_in_for"] == "eBird" and "not eBird" in back.info["note"]
    assert back.info["sizes"] == {"train": 16, "val": 2, "test": 2} and back.info["source_rows"] == {
        "train": 12,
        "test": 8,
    }
    assert prepared.info == back.info
    plain = prepare_csv_pairs(**pairs, dataset="toy", out_dir=tmp_path / "plain", seed=0, stand_in_for=None)
    assert "stand_in_for" not in plain.info and "note" not in plain.info


def test_cli(tmp_path: Path, pairs: dict[str, Path]) -> None:
    args = ["--format", "csv_pairs", *(a for k, p in pairs.items() for a in (f"--{k}", str(p)))]
    assert main([*args, "--dataset", "toy", "--out", str(tmp_path / "out")]) == 0
    assert load_prepared(tmp_path / "out").info["stand_in_for"] == "eBird"
    assert main([*args, "--dataset", "toy", "--out", str(tmp_path / "o2"), "--stand-in-for", ""]) == 0
    assert "stand_in_for" not in load_prepared(tmp_path / "o2").info
    with pytest.raises(SystemExit):
        main([*args[:-2], "--dataset", "toy", "--out", str(tmp_path / "o3")])  # no --yv


def test_row_count_mismatch_names_both_files(
    tmp_path: Path, pairs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    pairs["yt"].write_text("\n".join(pairs["yt"].read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(MlcDataError, match=f"{pairs['xt']} has 12 rows but {pairs['yt']} has 11") as info:
        prepare_csv_pairs(**pairs, dataset="toy", out_dir=tmp_path / "out", seed=0)
    assert "\n" not in str(info.value) and not (tmp_path / "out").exists()
    args = ["--format", "csv_pairs", *(a for k, p in pairs.items() for a in (f"--{k}", str(p)))]
    assert main([*args, "--dataset", "toy", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(pairs["yt"]) in err[0] and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("key", "text", "match"),
    [
        ("yv", "0,1,0,1\n" * 7 + "0,0.5,1,0\n", r"Yv_1_toy\.csv, row 8, column 2: label value 0\.5 is not 0 or 1"),
        ("xv", "1,2,3\n" * 7 + "1,x,3\n", r"Xv_1_toy\.csv: not a numeric headerless CSV"),
        ("xv", "1,2,3\n" * 7 + "1,nan,3\n", r"Xv_1_toy\.csv, row 8, column 2: value nan is not finite"),
        ("xv", "1,2\n" * 8, r"Xt_1_toy\.csv has 3 features columns but .*Xv_1_toy\.csv has 2"),
        ("xv", "", r"Xv_1_toy\.csv: the file holds no rows"),
    ],
)
def test_bad_files(tmp_path: Path, pairs: dict[str, Path], key: str, text: str, match: str) -> None:
    pairs[key].write_text(text)
    with pytest.raises(MlcDataError, match=match) as info:
        prepare_csv_pairs(**pairs, dataset="toy", out_dir=tmp_path / "out", seed=0)
    assert "\n" not in str(info.value) and not (tmp_path / "out").exists()


@pytest.mark.slow
def test_real_ebird_standin(tmp_path: Path) -> None:
    files = {k: STANDIN / f"{k[0].upper()}{k[1]}_1_birds.csv" for k in ("xt", "yt", "xv", "yv")}
    if not all(p.is_file() for p in files.values()):
        pytest.skip(f"eBird stand-in CSVs not found in {STANDIN} (set SEQSTRUCT_DATA_MIRROR)")
    prepared = prepare_csv_pairs(**files, dataset="ebird_standin", out_dir=tmp_path / "out", seed=0)
    assert prepared.features.shape == (1200, 5) and prepared.labels.shape == (1200, 141)
    assert (
        prepared.info["sizes"] == {"train": 960, "val": 120, "test": 120} and prepared.info["stand_in_for"] == "eBird"
    )
    assert prepared.labels.sum(axis=0).min() > 0
