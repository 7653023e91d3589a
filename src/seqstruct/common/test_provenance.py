import hashlib
import subprocess
from pathlib import Path

import pytest

from seqstruct.common.provenance import git_commit, run_provenance, utc_now


def test_run_provenance_records_slurm_job_and_input_checksums(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "prepared.nc"
    data.write_bytes(b"netcdf bytes")
    monkeypatch.setenv("SLURM_JOB_ID", "4242")
    started = utc_now()
    p = run_provenance(started, inputs=[data], cwd=tmp_path)
    assert p["slurm_job_id"] == "4242" and p["started_utc"] == started <= p["finished_utc"]
    assert p["inputs"] == {str(data): hashlib.sha256(b"netcdf bytes").hexdigest()}
    assert p["host"] and p["torch"] and p["python"]
    assert (p["commit"], p["dirty"]) == (None, None)  # tmp_path is no git checkout
    monkeypatch.delenv("SLURM_JOB_ID")
    assert run_provenance(cwd=tmp_path)["slurm_job_id"] is None


def test_git_commit_sees_uncommitted_changes(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=tmp_path, check=True, capture_output=True
        )

    git("init", "-q")
    (tmp_path / "a.txt").write_text("1")
    (tmp_path / "results").mkdir()
    (tmp_path / "results/t.csv").write_text("x")
    git("add", "a.txt", "results/t.csv")
    git("commit", "-qm", "one")
    clean = git_commit(tmp_path)
    assert len(clean["commit"]) == 40 and clean["dirty"] is False
    (tmp_path / "results/t.csv").unlink()  # an output being rewritten does not make the code dirty
    assert git_commit(tmp_path)["dirty"] is False
    assert git_commit(tmp_path / "results")["dirty"] is False  # the same from a sub-folder
    (tmp_path / "a.txt").write_text("2")
    assert git_commit(tmp_path) == {"commit": clean["commit"], "dirty": True}
