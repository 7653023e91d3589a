from pathlib import Path

import pytest

from seqstruct.common.errors import InputError
from seqstruct.common.io import write_json
from seqstruct.common.meta import RUN_PROVENANCE_KEYS, format_meta, load_meta, meta_path, missing_keys

REPO = Path(__file__).resolve().parents[3]


def _meta(**changes: object) -> dict:
    run = {
        "crop": "soybean",
        "method": "gnn-rnn 5y",
        "test_year": 2018,
        "seed": 1,
        "seconds": 12.34,
        "device": "cuda",
        "best_epoch": 7,
        "epochs_run": 9,
        "commit": "b" * 40,
        "dirty": False,
        "host": "gpu-node3",
        "slurm_job_id": "5551",
        "finished_utc": "2026-01-01T00:00:00+00:00",
        "inputs": {"results/data/crop/soybean.nc": "c" * 64},
    }
    meta = {
        "table": "table2_1",
        "created_utc": "2026-01-02T00:00:00+00:00",
        "host": "login1",
        "python": "3.11.7",
        "git": {"commit": "a" * 40, "dirty": True},
        "packages": {"torch": "2.13.0", "dvc": None},
        "datasets": {"khaki_soybean": {"soybean_data.npz": "d" * 64}},
        "scale": "paper",
        "source": "real",
        "seeds": [0, 1],
        "test_years": [2018],
        "wall_time_seconds": 12.34,
        "methods": {"gnn_rnn_5y": {"lr": 0.001}},
        "runs": [run],
    }
    return {**meta, **changes}


def test_format_meta_shows_every_field() -> None:
    text = format_meta(_meta())
    for expected in [
        "table2_1",
        "2026-01-02T00:00:00+00:00 on login1",
        "aaaaaaaaaaaa (uncommitted changes)",
        "bbbbbbbbbbbb (clean) (1 run)",
        "scale:          paper",
        "seeds:          0, 1",
        "12.3 s",
        "test_years  [2018]",
        "khaki_soybean",
        "soybean_data.npz  dddddddddddd",
        "results/data/crop/soybean.nc  cccccccccccc  1 run",
        "torch 2.13.0, dvc -",
        "gnn_rnn_5y  lr=0.001",
    ]:
        assert expected in text, expected
    lines = text.splitlines()
    header, row = lines[lines.index("runs (1):") + 1 : lines.index("runs (1):") + 3]
    assert header.split() == [
        "crop",
        "method",
        "test",
        "year",
        "seed",
        "device",
        "seconds",
        "epochs",
        "host",
        "slurm",
        "job",
        "commit",
    ]
    assert row.split() == [
        "soybean",
        "gnn-rnn",
        "5y",
        "2018",
        "1",
        "cuda",
        "12.3",
        "7/9",
        "gpu-node3",
        "5551",
        "bbbbbbb",
    ]
    assert "INCOMPLETE" not in text


def test_format_meta_flags_what_is_missing_or_unrecorded() -> None:
    meta = _meta(runs=[{"method": "lasso 1y", "seed": 0, "seconds": 1.0, "device": "cpu"}])
    del meta["datasets"]
    text = format_meta(meta)
    assert "INCOMPLETE:     lacks datasets" in text
    assert "training code:  not recorded for 1 run" in text and "? = not recorded" in text
    same = _meta(git={"commit": "b" * 40, "dirty": False})
    assert "same as the table's (1 run)" in format_meta(same)


def test_meta_path_accepts_csv_meta_or_name() -> None:
    assert meta_path("results/tables/t.csv") == meta_path("t") == meta_path("results/tables/t.meta.json")
    with pytest.raises(InputError, match="not a table"):
        meta_path("notes.txt")


def test_load_meta_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match=f"{tmp_path}/x.meta.json not found: run `snakemake --cores 2 {tmp_path}/x.csv` first"
    ):
        load_meta(tmp_path / "x.csv")
    (tmp_path / "bad.meta.json").write_text('{"table": ')
    with pytest.raises(InputError, match="bad.meta.json is not valid JSON .*--force .*bad.csv"):
        load_meta(tmp_path / "bad.csv")
    write_json(tmp_path / "list.meta.json", [1])
    with pytest.raises(InputError, match="holds a JSON list"):
        load_meta(tmp_path / "list.meta.json")


def _written_meta(tmp_path: Path, with_provenance: bool = True) -> dict:
    """A meta.json as write_table writes it, for three runs of two methods."""
    from seqstruct.common.tables import table_meta, write_table

    raw = tmp_path / "raw" / "toy_data" / "a.txt"
    raw.parent.mkdir(parents=True)
    raw.write_text("raw data\n")
    files = []
    for i, (method, seed) in enumerate([("m1", 0), ("m1", 1), ("m2", 0)]):
        record = {
            "method": method,
            "split": "s1",
            "seed": seed,
            "seconds": 2.0,
            "device": "cpu",
            "best_epoch": 3,
            "epochs_run": 4,
            "test": {"rmse": 0.1 * (i + 1), "r2": 0.5},
        }
        if with_provenance:
            record["provenance"] = {
                "commit": "c" * 40,
                "dirty": False,
                "host": "node1",
                "slurm_job_id": None,
                "finished_utc": "2026-01-01T00:00:00+00:00",
                "inputs": {},
            }
        files.append(tmp_path / f"m{i}.json")
        write_json(files[-1], record)
    write_table(
        files,
        tmp_path / "t.csv",
        ["split", "method"],
        ["rmse", "r2"],
        table_meta(scale="smoke", source="real", raw=[raw], methods={"m1": {"lr": 0.1}}),
    )
    return load_meta(tmp_path / "t.csv")


def test_meta_written_by_write_table_is_complete_and_prints(tmp_path: Path) -> None:
    """The table writer's own meta.json has every required key and prints every run's provenance."""
    meta = _written_meta(tmp_path)
    assert missing_keys(meta) == []
    assert meta["directions"] == {"rmse": "lower", "r2": "higher"} and meta["number_format"] == "4 significant digits"
    text = format_meta(meta)
    assert "table:          t" in text and "scale:          smoke" in text and "INCOMPLETE" not in text
    assert "metrics:        rmse (lower), r2 (higher); 4 significant digits" in text
    assert "toy_data" in text and "m1  lr=0.1" in text
    assert "runs (3):" in text and "not recorded" not in text and "same as the table's" not in text
    lines = text.splitlines()
    assert lines[lines.index("runs (3):") + 2].split()[:4] == ["s1", "m1", "0", "cpu"]


def test_meta_from_before_run_provenance_prints_question_marks(tmp_path: Path) -> None:
    """Runs whose metrics.json predates per-run provenance print with ``?``."""
    meta = _written_meta(tmp_path, with_provenance=False)
    assert all(r[k] is None for r in meta["runs"] for k in RUN_PROVENANCE_KEYS)
    text = format_meta(meta)
    assert "training code:  not recorded for 3 runs" in text and "? = not recorded" in text
