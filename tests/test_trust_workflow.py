"""Regression list of the trust audit (issue [trust]): what a new user tried that got through, workflow side.

Each case ends with one line naming the file or key and the fix, a non-zero exit status and nothing partial.
The download cases are in test_trust_downloads.py, the numeric input cases in test_trust_values.py; every new
domain adds its own cases to these files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from conftest import mirror_dir, snakemake

from seqstruct.common.io import write_json
from seqstruct.common.tables import table_meta
from seqstruct.crop.conftest import TINY_DEEP, tiny_prepared
from seqstruct.crop.train import run
from seqstruct.data.registry import DataError, load_registry

NPZ = "resources/raw/khaki_soybean/soybean_data.npz"
STAMP = "resources/verified/khaki_soybean/soybean_data.npz.json"


def _error_lines(res: subprocess.CompletedProcess[str]) -> list[str]:
    """The distinct ``error:`` lines of a run (Snakemake repeats a failed job's stderr in its summary)."""
    return list(dict.fromkeys(line for line in (res.stdout + res.stderr).splitlines() if line.startswith("error: ")))


def _doubled_yields(src: Path, dest: Path) -> None:
    """A valid npz of the same layout with every yield doubled (column 2)."""
    with np.load(src) as npz:
        data = npz["data"].copy()
    data[:, 2] *= 2
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open(dest, "wb") as fh:
        np.savez_compressed(fh, data=data)


@pytest.fixture
def mirror() -> Path:
    m = mirror_dir()
    if m is None or not (m / "crop/soybean_data.npz").is_file():
        pytest.skip("no data mirror: set SEQSTRUCT_DATA_MIRROR to the folder holding crop/soybean_data.npz")
    return m


# ---------------------------------------------------------------- 1. checksums verified before use
def test_modified_raw_file_in_place_stops_before_preparation(workdir: Path, mirror: Path) -> None:
    """A valid npz with doubled yields placed where the fetched file goes is refused, not prepared."""
    _doubled_yields(mirror / "crop/soybean_data.npz", workdir / NPZ)
    res = snakemake(workdir, "--cores", "1", "results/data/crop/soybean.nc")
    assert res.returncode != 0
    (line,) = _error_lines(res)
    assert f"{NPZ} is corrupt or was modified" in line and "delete it and run again" in line
    assert not (workdir / "results/data/crop/soybean.nc").exists() and not (workdir / STAMP).exists()


def test_raw_file_modified_after_verification_stops_the_next_run(workdir: Path, mirror: Path) -> None:
    res = snakemake(workdir, "--cores", "1", STAMP)  # fetched from the mirror and verified
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads((workdir / STAMP).read_text())["sha256"].startswith("64f6ded2")
    (workdir / NPZ).unlink()
    _doubled_yields(mirror / "crop/soybean_data.npz", workdir / NPZ)
    res = snakemake(workdir, "--cores", "1", "results/data/crop/soybean.nc")
    assert res.returncode != 0
    (line,) = _error_lines(res)
    assert f"{NPZ} is corrupt or was modified" in line
    assert not (workdir / "results/data/crop/soybean.nc").exists()


def test_dry_run_plans_one_verification_per_raw_file(workdir: Path) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "results/data/crop/soybean.nc")
    assert res.returncode == 0, res.stderr[-2000:]
    counts = dict(line.split() for line in res.stdout.splitlines() if len(line.split()) == 2)
    registry = load_registry(workdir / "config/datasets.yaml")
    n_files = sum(
        len(registry[d].files) for d in ("khaki_soybean", "census_county_adjacency", "census_county_boundaries_2010")
    )
    assert counts["fetch_raw"] == counts["verify_raw"] == str(n_files) and counts["prepare_crop"] == "1"


def test_table_meta_checksums_are_compared_with_the_registry(tmp_path: Path) -> None:
    raw = tmp_path / "raw/toy/a.csv"
    raw.parent.mkdir(parents=True)
    raw.write_text("x\n1\n")
    registry = tmp_path / "datasets.yaml"
    registry.write_text(
        "datasets:\n  toy:\n    title: T\n    license: L\n    citation: C\n    files:\n"
        f"      - {{name: a.csv, sha256: '{'0' * 64}', mirror: toy/a.csv}}\n"
    )
    with pytest.raises(DataError, match=r"file 'a.csv' of dataset 'toy' has sha256 .* the registry says 0000"):
        table_meta("small", "real", [raw], registry=registry)
    assert table_meta("small", "synthetic", [raw])["datasets"]["toy"]["a.csv"]  # synthetic: recorded only


# ---------------------------------------------------------------- 2. the registry, validated once, in the workflow
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "dataset registry missing.yaml not found"),
        ("other: 1\n", "expected a top-level mapping 'datasets:'"),
        (
            "datasets:\n  ../../../../outside:\n    title: T\n    license: L\n    citation: C\n    files: []\n",
            "a dataset id must be a plain lower-case name",
        ),
    ],
)
def test_bad_registry_is_one_line_in_the_workflow(workdir: Path, content: str | None, expected: str) -> None:
    if content is not None:
        (workdir / "missing.yaml").write_text(content)
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "registry=missing.yaml")
    assert res.returncode != 0
    assert expected in res.stdout + res.stderr and "Traceback" not in res.stdout + res.stderr


def test_dataset_id_typo_in_config_has_did_you_mean(workdir: Path) -> None:
    cfg = workdir / "bad.yaml"
    cfg.write_text("crop: {datasets: [khaki_soybaen, census_county_adjacency, census_county_boundaries_2010]}\n")
    res = snakemake(workdir, "-n", "--cores", "1", "--configfile", str(cfg))
    assert res.returncode != 0
    assert "config crop.datasets: unknown dataset 'khaki_soybaen'" in res.stdout + res.stderr
    assert "did you mean 'khaki_soybean'?" in res.stdout + res.stderr


# ---------------------------------------------------------------- 4. checkpoints tied to their data
def test_checkpoint_is_not_resumed_after_the_prepared_data_changed(tmp_path: Path) -> None:
    nc = tmp_path / "prepared.nc"
    tiny_prepared().to_netcdf(nc, engine="h5netcdf")
    kw = {"method": "cnn_rnn_5y", "test_year": 2003, "seed": 0, "params": TINY_DEEP, "ckpt_dir": tmp_path / "ckpt"}
    first = run(data_path=nc, out_dir=tmp_path / "a", **kw)
    again = run(data_path=nc, out_dir=tmp_path / "b", **kw)
    assert again["resumed_from"] == first["epochs_run"]  # same data: the finished checkpoint is resumed
    with xr.open_dataset(nc, engine="h5netcdf") as ds:
        changed = ds.load()
    changed["weekly"][:] = 5.0  # the case: every weekly feature set to 5.0
    changed.to_netcdf(nc, engine="h5netcdf")
    fresh = run(data_path=nc, out_dir=tmp_path / "c", **kw)
    assert fresh["resumed_from"] == 0 and fresh["epochs_run"] == TINY_DEEP["epochs"]


# ---------------------------------------------------------------- 5. test years checked at dry-run time
@pytest.mark.parametrize(
    ("years", "expected"),
    [
        ("[1975]", "config crop.test_years: test year 1975 is outside the data's years 1980-2018"),
        ("[2030]", "config crop.test_years: test year 2030 is outside the data's years 1980-2018"),
        ("[1982]", "config crop.test_years: test year 1982 leaves"),
    ],
)
def test_test_year_the_data_cannot_serve_fails_the_dry_run(workdir: Path, years: str, expected: str) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", f"crop={{test_years: {years}}}")
    assert res.returncode != 0
    assert expected in res.stdout + res.stderr and "Traceback" not in res.stdout + res.stderr


def test_registry_years_of_the_crop_data_are_the_file_s(mirror: Path) -> None:
    with np.load(mirror / "crop/soybean_data.npz") as npz:
        years = npz["data"][:, 1]
    assert load_registry("config/datasets.yaml")["khaki_soybean"].years == (int(years.min()), int(years.max()))


# ---------------------------------------------------------------- 6. smaller
def _provenance(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seqstruct", "provenance", *args], capture_output=True, text=True)


def test_provenance_of_an_empty_meta_is_an_error(tmp_path: Path) -> None:
    write_json(tmp_path / "t.meta.json", {})
    res = _provenance(str(tmp_path / "t.csv"))
    assert res.returncode == 1 and "INCOMPLETE" in res.stdout
    assert res.stderr.strip().splitlines() == [
        f"error: {tmp_path / 't.meta.json'} is incomplete: it lacks table, created_utc, git, packages, datasets, "
        f"scale, seeds, wall_time_seconds, runs; rebuild it with `snakemake --cores 2 --force {tmp_path / 't.csv'}`"
    ]


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"runs": "all of them"}, "key 'runs' holds a JSON string, expected an array"),
        ({"runs": [1, 2]}, "entry #1 of 'runs' holds a JSON number, expected an object"),
        ({"datasets": {"d": "abc"}}, "entry #1 of 'datasets' holds a JSON string, expected an object"),
        ({"wall_time_seconds": "slow"}, "key 'wall_time_seconds' holds a JSON string, expected a number"),
    ],
)
def test_provenance_of_a_meta_with_wrong_types_is_one_line(tmp_path: Path, meta: dict, expected: str) -> None:
    write_json(tmp_path / "t.meta.json", meta)
    res = _provenance(str(tmp_path / "t.meta.json"))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    (line,) = res.stderr.strip().splitlines()
    assert line.startswith(f"error: {tmp_path / 't.meta.json'}: ") and expected in line and "rebuild it" in line


def test_verify_cli_refuses_a_missing_or_modified_file(tmp_path: Path) -> None:
    registry = tmp_path / "datasets.yaml"
    registry.write_text(
        "datasets:\n  toy:\n    title: T\n    license: L\n    citation: C\n    files:\n"
        f"      - {{name: a.csv, sha256: '{'0' * 64}', mirror: toy/a.csv}}\n"
    )
    cmd = [sys.executable, "-m", "seqstruct.data.verify", "toy", "a.csv", "--registry", str(registry)]
    args = ["--raw-dir", str(tmp_path / "raw"), "--stamp", str(tmp_path / "stamp.json")]
    res = subprocess.run(cmd + args, capture_output=True, text=True)
    assert res.returncode == 1 and "raw file of dataset 'toy' is missing" in res.stderr
    (tmp_path / "raw/toy").mkdir(parents=True)
    (tmp_path / "raw/toy/a.csv").write_text("x\n")
    res = subprocess.run(cmd + args, capture_output=True, text=True)
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1
    assert "is corrupt or was modified (expected sha256 0000" in res.stderr
    assert not (tmp_path / "stamp.json").exists()
