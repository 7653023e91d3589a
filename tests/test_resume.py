"""Faults: a training job killed mid-run resumes from its checkpoint; a killed rule leaves nothing taken as done.

A deep model is trained for 60 short epochs on the smoke data; once its checkpoint (results/ckpt/..., undeclared
scratch) holds a few epochs, Snakemake and its job are killed together, as Slurm does: SIGTERM (scancel, the first
signal at a wall-time limit) or SIGKILL (after KillWait, or a node failure: no clean-up at all). The rerun must
continue after the checkpointed epoch, not start over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import SMOKE, snakemake

pytestmark = pytest.mark.slow
RUN = "results/models/crop/cnn_rnn_5y/soybean_2018/seed0"
CKPT = "results/ckpt/crop/cnn_rnn_5y/soybean_2018/seed0/last.pt"
EPOCHS = 60
CONFIG = ("--configfile", SMOKE, "long.yaml")  # last on a command line: --configfile takes several values


def start_training(work: Path) -> subprocess.Popen[str]:
    """Prepare the smoke data, then start (not wait for) Snakemake on one 60-epoch CNN-RNN run."""
    (work / "long.yaml").write_text(f"crop: {{methods: {{cnn_rnn_5y: {{epochs: {EPOCHS}}}}}}}\n")
    res = snakemake(work, "results/data/crop/soybean.nc", "--cores", "1", *CONFIG)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    exe = Path(sys.executable).with_name("snakemake")
    return subprocess.Popen(
        [str(exe), f"{RUN}/metrics.json", "--cores", "1", *CONFIG],
        cwd=work,
        text=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def checkpoint_epoch(work: Path) -> int:
    """Epochs finished according to the checkpoint (0 when there is none yet)."""
    path = work / CKPT
    if not path.exists():
        return 0
    return int(torch.load(path, map_location="cpu", weights_only=False)["epoch"])


def kill_mid_training(work: Path, how: str, min_epoch: int = 3, timeout: float = 120) -> int:
    """Start training, send signal ``how`` to Snakemake and its job after ``min_epoch`` checkpointed epochs.

    Returns the epoch the checkpoint holds afterwards."""
    proc = start_training(work)
    deadline = time.monotonic() + timeout
    try:
        while checkpoint_epoch(work) < min_epoch:
            assert proc.poll() is None, "training ended before it could be killed"
            assert time.monotonic() < deadline, f"no checkpoint with {min_epoch} epochs after {timeout} s"
            time.sleep(0.02)
        os.killpg(proc.pid, getattr(signal, how))
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    epoch = checkpoint_epoch(work)
    assert min_epoch <= epoch < EPOCHS, f"killed at epoch {epoch}: not mid-run"
    return epoch


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_killed_training_resumes_from_its_checkpoint(workdir: Path, how: str) -> None:
    killed_at = kill_mid_training(workdir, how)
    out = workdir / RUN
    assert not [p.name for p in out.glob("*") if not p.name.startswith(".")], "a killed run left outputs"
    target = (f"{RUN}/metrics.json", "--cores", "1")
    if how == "SIGKILL":  # Snakemake had no chance to release its lock: the documented `--unlock` step
        locked = snakemake(workdir, *target, *CONFIG)
        assert locked.returncode != 0 and "LockException" in locked.stdout + locked.stderr
        assert snakemake(workdir, "--unlock", *CONFIG).returncode == 0
    plan = snakemake(workdir, *target, "-n", *CONFIG)
    assert "Missing output files" in plan.stdout, plan.stdout[-2000:]

    res = snakemake(workdir, *target, *CONFIG)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["resumed_from"] == killed_at  # continued after the checkpointed epoch, not from epoch 1
    assert [h["epoch"] for h in metrics["history"]] == list(range(1, EPOCHS + 1))
    log = (workdir / "logs/train_crop/cnn_rnn_5y/soybean_2018/seed0.log").read_text()
    assert f"after epoch {killed_at}" in log


def test_incomplete_outputs_after_a_kill_need_rerun_incomplete(workdir: Path) -> None:
    """A kill can also come between two output writes: Snakemake's markers then flag the partial output.

    The trainer writes model.pt before metrics.json; a partial model.pt is put there by hand as such a kill
    would leave it. Without ``--rerun-incomplete`` (the default profile sets it) Snakemake refuses to go on."""
    kill_mid_training(workdir, "SIGKILL")
    assert snakemake(workdir, "--unlock", *CONFIG).returncode == 0
    assert list((workdir / ".snakemake/incomplete").rglob("*")), "Snakemake marked no output as incomplete"
    (workdir / RUN / "model.pt").write_bytes(b"partial")
    target = (f"{RUN}/model.pt", "-n", "--cores", "1")
    refused = snakemake(workdir, *target, "--workflow-profile", "none", *CONFIG)
    assert refused.returncode != 0 and "IncompleteFilesException" in refused.stdout + refused.stderr
    planned = snakemake(workdir, *target, *CONFIG)  # profiles/default sets rerun-incomplete: true
    assert planned.returncode == 0, planned.stdout[-2000:] + planned.stderr[-2000:]
    assert "rule train_crop:" in planned.stdout and "reason: Forced execution" in planned.stdout
