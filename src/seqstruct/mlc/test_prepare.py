import os
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from seqstruct.mlc.arff import read_label_names, read_mulan
from seqstruct.mlc.prepare import (
    MlcDataError,
    dataset_statistics,
    load_prepared,
    main,
    prepare_mulan,
    split_indices,
    write_prepared,
)

MIRROR = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR") or Path(__file__).resolve().parents[4] / "shared" / "data")


def test_split_is_seeded_disjoint_complete_and_per_dataset() -> None:
    split = split_indices(1000, seed=0, dataset="toy")
    assert [len(split[k]) for k in ("train", "val", "test")] == [800, 100, 100]
    assert np.array_equal(np.sort(np.concatenate(list(split.values()))), np.arange(1000))
    again = split_indices(1000, seed=0, dataset="toy")
    assert all(np.array_equal(split[k], again[k]) for k in split)
    assert not np.array_equal(split["test"], split_indices(1000, seed=0, dataset="other")["test"])
    assert not np.array_equal(split["test"], split_indices(1000, seed=1, dataset="toy")["test"])
    with pytest.raises(ValueError, match="summing to 1"):
        split_indices(10, 0, "toy", (0.5, 0.1, 0.1))


def test_statistics_by_hand() -> None:
    y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 1, 1]])
    assert dataset_statistics(y) == {
        "n_samples": 4,
        "n_labels": 3,
        "mean_labels_per_sample": 1.5,
        "median_labels_per_sample": 1.5,
        "max_labels_per_sample": 3,
        "mean_samples_per_label": 2.0,
    }


@pytest.mark.parametrize("sparse", [False, True])
def test_write_then_load_round_trip(tmp_path: Path, sparse: bool) -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((50, 6)) < 0.3).astype(np.float32)
    y = (rng.random((50, 4)) < 0.4).astype(np.uint8)
    features = sp.csr_matrix(x) if sparse else x
    write_prepared(tmp_path / "toy", "toy", features, y, list("abcd"), list("uvwxyz"), ["a.arff"], seed=3)
    back = load_prepared(tmp_path / "toy")
    dense = back.features.toarray() if sparse else back.features
    assert sp.issparse(back.features) == sparse and np.array_equal(dense, x) and np.array_equal(back.labels, y)
    assert back.info["sizes"] == {"train": 40, "val": 5, "test": 5} and back.info["label_names"] == list("abcd")
    xt, yt = back.part("test")
    assert yt.shape == (5, 4) and xt.shape == (5, 6)


def test_load_refuses_parts_that_disagree(tmp_path: Path) -> None:
    y = np.eye(10, 3, dtype=np.uint8)
    write_prepared(tmp_path / "toy", "toy", np.ones((10, 2)), y, list("abc"), list("uv"), [], seed=0)
    np.save(tmp_path / "toy/test_idx.npy", np.array([0, 1], dtype=np.int64))
    with pytest.raises(MlcDataError, match="disagree; delete the folder"):
        load_prepared(tmp_path / "toy")
    with pytest.raises(MlcDataError, match="not found"):
        load_prepared(tmp_path / "missing")
    with pytest.raises(MlcDataError, match="3 label names for 2 labels"):
        write_prepared(tmp_path / "bad", "bad", np.ones((10, 2)), y[:, :2], list("abc"), list("uv"), [], seed=0)


def test_real_yeast_statistics() -> None:
    root = MIRROR / "mlc/yeast"
    if not (root / "yeast-train.arff.xz").is_file():
        pytest.skip(f"no data mirror at {MIRROR}: set SEQSTRUCT_DATA_MIRROR to the folder holding mlc/yeast")
    train, test = read_mulan(root / "yeast-train.arff.xz", root / "yeast-test.arff.xz", root / "yeast.xml")
    assert sorted(read_label_names(root / "yeast.xml")) == sorted(train.label_names)
    stats = dataset_statistics(np.concatenate([train.labels, test.labels]))
    assert (stats["n_samples"], stats["n_labels"], stats["max_labels_per_sample"]) == (2417, 14, 11)
    assert stats["mean_labels_per_sample"] == pytest.approx(4.237, abs=1e-3)


def test_prepare_mulan_cli_on_the_real_yeast_files(tmp_path: Path) -> None:
    root = MIRROR / "mlc/yeast"
    if not (root / "yeast-train.arff.xz").is_file():
        pytest.skip(f"no data mirror at {MIRROR}: set SEQSTRUCT_DATA_MIRROR to the folder holding mlc/yeast")
    args = ["--train", str(root / "yeast-train.arff.xz"), "--test", str(root / "yeast-test.arff.xz")]
    args += ["--xml", str(root / "yeast.xml"), "--dataset", "yeast", "--out", str(tmp_path / "yeast")]
    assert main(args) == 0
    back = load_prepared(tmp_path / "yeast")
    assert back.info["sizes"] == {"train": 1933, "val": 242, "test": 242}
    assert back.features.shape == (2417, 103) and back.labels.shape == (2417, 14)


def test_prepare_mulan_cli_refuses_a_label_count_that_disagrees_with_the_xml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arff = (
        "@relation t\\n@attribute f1 numeric\\n@attribute a {0,1}\\n@attribute b {0,1}\\n@data\\n0.5,1,0\\n0.1,0,1\\n"
    )
    for name in ("t-train.arff", "t-test.arff"):
        (tmp_path / name).write_text(arff.replace("\\n", "\n"))
    labels = '<label name="b"/><label name="z"/>'  # the ARFF's last two attributes are a, b
    (tmp_path / "t.xml").write_text(f'<labels xmlns="http://mulan.sourceforge.net/labels">{labels}</labels>')
    args = ["--train", str(tmp_path / "t-train.arff"), "--test", str(tmp_path / "t-test.arff")]
    assert main([*args, "--xml", str(tmp_path / "t.xml"), "--dataset", "t", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "t-train.arff" in err[0] and not (tmp_path / "out").exists()


def test_write_prepared_takes_the_seeded_split_and_extra_info(tmp_path: Path) -> None:
    y = np.eye(10, 3, dtype=np.uint8)
    split = split_indices(10, seed=4, dataset="toy")
    written = write_prepared(tmp_path / "a", "toy", np.ones((10, 2)), y, list("abc"), list("uv"), [], 4, split=split)
    assert all(np.array_equal(written.split[k], split[k]) for k in split)
    back = write_prepared(tmp_path / "b", "toy", np.ones((10, 2)), y, list("abc"), list("uv"), [], 4, extra={"n": 7})
    assert back.info["n"] == 7 and load_prepared(tmp_path / "b").info["n"] == 7
    other = split_indices(10, seed=5, dataset="toy")
    with pytest.raises(ValueError, match="not split_indices"):
        write_prepared(tmp_path / "c", "toy", np.ones((10, 2)), y, list("abc"), list("uv"), [], 4, split=other)
    with pytest.raises(ValueError, match="clash"):
        write_prepared(tmp_path / "c", "toy", np.ones((10, 2)), y, list("abc"), list("uv"), [], 4, extra={"sizes": 1})
    assert not (tmp_path / "c").exists()


def test_cli_arguments_cover_every_format_and_refuse_foreign_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from seqstruct.mlc.formats import ROLES
    from seqstruct.mlc.prepare import _PART_HELP, FORMAT_OPTIONS

    assert set(FORMAT_OPTIONS) == set(ROLES) and set(_PART_HELP) == {r for roles in ROLES.values() for r in roles}
    out = ["--dataset", "d", "--out", str(tmp_path / "out")]
    for args, message in [
        (["--format", "reuters"], "--format reuters needs --archive"),
        (["--format", "sider", "--csv", "a.csv", "--min-df", "2"], "--format sider does not take --min-df"),
        (["--train", "a", "--test", "b", "--xml", "c", "--csv", "d"], "--format mulan does not take --csv"),
    ]:
        with pytest.raises(SystemExit) as info:
            main([*args, *out])
        assert info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_standardize_uses_training_split_statistics_only(tmp_path: Path) -> None:
    from seqstruct.mlc.synthetic import SyntheticMlc, write_synthetic_mulan

    files = write_synthetic_mulan(tmp_path / "raw", "s", SyntheticMlc(n_train=80, n_test=20))
    plain = prepare_mulan(files["train"], files["test"], files["xml"], "s", tmp_path / "plain", seed=0)
    scaled = prepare_mulan(files["train"], files["test"], files["xml"], "s", tmp_path / "z", seed=0, standardize=True)
    train = scaled.split["train"]
    assert np.array_equal(train, plain.split["train"])
    np.testing.assert_allclose(scaled.features[train].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(scaled.features[train].std(0), 1, atol=1e-4)
    mean = np.asarray(scaled.info["standardized"]["mean"])
    np.testing.assert_allclose(mean, plain.features[train].mean(0), rtol=1e-5)  # not the val/test rows'
