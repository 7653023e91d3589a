from pathlib import Path

import pandas as pd
import pytest
from numpy.testing import assert_allclose

from seqstruct.common.io import read_json, write_json
from seqstruct.common.meta import META_KEYS, missing_keys
from seqstruct.common.tables import aggregate, write_table


def _rec(method: str, seed: int, rmse: float) -> dict:
    return {"method": method, "test_year": 2018, "seed": seed, "seconds": 1.5, "test": {"rmse": rmse, "r2": 0.5}}


def test_aggregate_mean_std_and_order() -> None:
    recs = [_rec("b", 0, 1.0), _rec("a", 0, 0.5), _rec("b", 1, 3.0)]
    t = aggregate(recs, ["test_year", "method"], ["rmse", "r2"])
    assert list(t["method"]) == ["b", "a"]
    assert_allclose(t.loc[0, ["rmse_mean", "rmse_std", "n_seeds"]].astype(float), [2.0, 1.0, 2])
    assert t.loc[1, "rmse_std"] == 0.0 and t.loc[1, "n_seeds"] == 1
    assert list(t.columns) == ["test_year", "method", "rmse_mean", "rmse_std", "r2_mean", "r2_std", "n_seeds"]


def test_duplicate_seed_is_an_error() -> None:
    with pytest.raises(ValueError, match="duplicate seeds"):
        aggregate([_rec("a", 0, 1.0), _rec("a", 0, 2.0)], ["method"], ["rmse"])


def test_write_table_and_meta(tmp_path: Path) -> None:
    files = []
    for i, r in enumerate([0.4, 0.6]):
        files.append(tmp_path / f"m{i}.json")
        write_json(files[-1], _rec("a", i, r))
    write_table(files, tmp_path / "t.csv", ["test_year", "method"], ["rmse"], {"scale": "small", "datasets": {}})
    assert pd.read_csv(tmp_path / "t.csv").loc[0, "rmse_mean"] == 0.5
    meta = read_json(tmp_path / "t.meta.json")
    assert meta["scale"] == "small" and meta["seeds"] == [0, 1] and meta["wall_time_seconds"] == 3.0
    assert "torch" in meta["packages"] and "commit" in meta["git"]


#: what a training run records about itself (``seqstruct.common.provenance.run_provenance``)
PROV = {
    "commit": "a" * 40,
    "dirty": True,
    "host": "node7",
    "slurm_job_id": "991",
    "started_utc": "x",
    "finished_utc": "y",
    "inputs": {"results/data/crop/soybean.nc": "f" * 64},
}
DATASETS = {"khaki_soybean": {"soybean_data.npz": "e" * 64}}


def test_meta_is_complete_and_carries_run_provenance(tmp_path: Path) -> None:
    """Dataset checksums, code version, seeds, scale and timing; each run's commit, host and SLURM job."""
    files = [tmp_path / "new.json", tmp_path / "old.json"]
    write_json(files[0], {**_rec("a", 0, 0.4), "device": "cuda", "provenance": PROV})
    write_json(files[1], _rec("a", 1, 0.6))  # written before runs recorded provenance
    write_table(files, tmp_path / "t.csv", ["method"], ["rmse"], {"scale": "paper", "datasets": DATASETS})
    meta = read_json(tmp_path / "t.meta.json")
    assert missing_keys(meta) == [] and set(META_KEYS) <= set(meta)
    assert meta["datasets"] == DATASETS and meta["scale"] == "paper" and meta["seeds"] == [0, 1]
    assert meta["wall_time_seconds"] == 3.0 and meta["created_utc"] and "commit" in meta["git"]
    new, old = meta["runs"]
    assert new == {
        "method": "a",
        "seed": 0,
        "seconds": 1.5,
        "device": "cuda",
        "best_epoch": None,
        "epochs_run": None,
        **{k: PROV[k] for k in PROV if k != "started_utc"},
    }
    assert old["seed"] == 1 and old["commit"] is old["host"] is old["slurm_job_id"] is old["inputs"] is None


@pytest.mark.parametrize("key", ["scale", "datasets"])
def test_meta_without_scale_or_datasets_is_refused(tmp_path: Path, key: str) -> None:
    write_json(tmp_path / "m.json", _rec("a", 0, 0.4))
    meta = {"scale": "small", "datasets": DATASETS}
    del meta[key]
    with pytest.raises(ValueError, match=f"t.csv lacks \\['{key}'\\]"):
        write_table([tmp_path / "m.json"], tmp_path / "t.csv", ["method"], ["rmse"], meta)
    assert not (tmp_path / "t.csv").exists()


def test_numbers_keep_significant_digits_and_directions_are_recorded(tmp_path: Path) -> None:
    files = []
    for i, (hl, f1) in enumerate([(0.0012345, 0.61234), (0.0012355, 0.62234)]):
        files.append(tmp_path / f"m{i}.json")
        write_json(files[-1], {"method": "a", "seed": i, "test": {"yeast": {"hamming_loss": hl, "f1": f1}}})
    write_table(
        files,
        tmp_path / "t.csv",
        ["method"],
        ["hamming_loss", "f1"],
        {"scale": "s", "datasets": {}},
        split="test.yeast",
        directions={"hamming_loss": "lower", "f1": "higher"},
    )
    text = (tmp_path / "t.csv").read_text()
    assert "0.001235," in text and "5e-07" in text and "0.6173" in text  # not %.4f's 0.0012 and 0.0000
    meta = read_json(tmp_path / "t.meta.json")
    assert meta["directions"] == {"hamming_loss": "lower", "f1": "higher"} and meta["split"] == "test.yeast"
    write_table(
        files,
        tmp_path / "d.csv",
        ["method"],
        ["f1"],
        {"scale": "s", "datasets": {}},
        split="test.yeast",
        directions={"f1": "higher"},
        decimals=2,
    )
    assert (tmp_path / "d.csv").read_text().splitlines()[1] == "a,0.62,0.01,2"
    with pytest.raises(KeyError, match="no direction"):
        write_table(files, tmp_path / "x.csv", ["method"], ["f1"], {"scale": "s", "datasets": {}}, split="test.yeast")


def test_lookup_names_the_missing_part() -> None:
    from seqstruct.common.tables import lookup

    assert lookup({"a": {"b": 1}}, "a.b") == 1
    with pytest.raises(KeyError, match="'a.c': a has no 'c' \\(has \\['b'\\]\\)"):
        lookup({"a": {"b": 1}}, "a.c")


def test_table_meta_is_the_same_for_every_domain(tmp_path: Path) -> None:
    from seqstruct.common.io import sha256_file
    from seqstruct.common.tables import table_meta

    raw = tmp_path / "ds" / "f.bin"
    raw.parent.mkdir()
    raw.write_bytes(b"x")
    sel = [{"method": "m", "dataset": "yeast", "chosen": {"lr": 0.1}}]
    meta = table_meta(
        "small",
        "real",
        [raw],
        methods={"m": {}},
        grids={"m": {"lr": [0.1, 1]}},
        selections=sel,
        selection_label=("method", "dataset"),
        test_years=[1],
    )
    assert meta == {
        "scale": "small",
        "source": "real",
        "datasets": {"ds": {"f.bin": sha256_file(raw)}},
        "methods": {"m": {}},
        "grids": {"m": {"lr": [0.1, 1]}},
        "selected": {"m yeast": {"lr": 0.1}},
        "test_years": [1],
    }
