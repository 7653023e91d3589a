import subprocess
import sys
from pathlib import Path

import pytest

from seqstruct.cli import main
from seqstruct.common.io import write_json
from seqstruct.common.tables import write_table


def test_provenance_prints_a_table_written_by_write_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prov = {
        "commit": "0123456789abcdef" * 2 + "01234567",
        "dirty": False,
        "host": "node9",
        "slurm_job_id": "77",
        "inputs": {"prepared.nc": "9" * 64},
    }
    write_json(
        tmp_path / "m.json",
        {
            "method": "gnn-rnn 5y",
            "test_year": 2018,
            "seed": 3,
            "seconds": 61.0,
            "device": "cuda",
            "best_epoch": 4,
            "epochs_run": 6,
            "test": {"rmse": 1.0},
            "provenance": prov,
        },
    )
    write_table(
        [tmp_path / "m.json"],
        tmp_path / "t.csv",
        ["test_year", "method"],
        ["rmse"],
        {"scale": "paper", "source": "synthetic", "datasets": {"demo": {"a.npz": "8" * 64}}},
    )
    assert main(["provenance", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out
    for expected in [
        "table:          t",
        "metrics:        rmse",
        "scale:          paper",
        "source:         synthetic",
        "seeds:          3",
        "a.npz  888888888888",
        "prepared.nc  999999999999",
        "0123456789ab (clean) (1 run)",
    ]:
        assert expected in out, expected
    assert out.splitlines()[-1].split() == [
        "2018",
        "gnn-rnn",
        "5y",
        "3",
        "cuda",
        "61.0",
        "4/6",
        "node9",
        "77",
        "0123456",
    ]


def test_missing_meta_exits_2_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["provenance", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {tmp_path}/x.meta.json not found: run `snakemake --cores 2 {tmp_path}/x.csv` first"


def test_python_dash_m_seqstruct(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "seqstruct", "provenance", str(tmp_path / "y.meta.json")], capture_output=True, text=True
    )
    assert done.returncode == 2 and "y.meta.json not found" in done.stderr and done.stdout == ""
