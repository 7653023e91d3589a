"""Shared fixtures for workflow tests: a throw-away copy of the workflow to run Snakemake in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "envs", "profiles", "tests/config")


def mirror_dir() -> Path | None:
    """The offline data mirror ($SEQSTRUCT_DATA_MIRROR, else ../shared/data beside the checkout), if present."""
    path = Path(os.environ.get("SEQSTRUCT_DATA_MIRROR", ROOT.parent / "shared" / "data"))
    return path.resolve() if path.is_dir() else None


def copy_workflow(dest: Path) -> Path:
    """Copy the workflow (not results/resources) into ``dest`` so a test run cannot touch the checkout."""
    for name in WORKFLOW_FILES:
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def snakemake(workdir: Path, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    """Run the Snakemake CLI of this interpreter in ``workdir``; returns the completed process."""
    exe = Path(sys.executable).with_name("snakemake")
    env = dict(os.environ)
    env["PATH"] = f"{exe.parent}{os.pathsep}{env.get('PATH', '')}"  # shell rules run this interpreter's python
    if (m := mirror_dir()) is not None:
        env["SEQSTRUCT_DATA_MIRROR"] = str(m)
    return subprocess.run([str(exe), *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)


SMOKE = "tests/config/smoke.yaml"


def planned(workdir: Path, *args: str, targets: tuple[str, ...] = ()) -> dict[str, int]:
    """Job counts per rule of a dry run (``snakemake -n --quiet rules``); targets go first, since options such
    as ``--configfile`` take every word after them."""
    res = snakemake(workdir, *targets, "-n", "--cores", "2", "--quiet", "rules", *args)
    assert res.returncode == 0, res.stdout + res.stderr
    rows = (line.split() for line in res.stdout.splitlines())
    return {r[0]: int(r[1]) for r in rows if len(r) == 2 and r[1].isdigit() and r[0] not in ("total", "job")}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return copy_workflow(tmp_path / "wf")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workflow copy in which the smoke config has run locally to the end, once per test session.

    Tests may read it and add files of their own, but must not change or delete its outputs."""
    work = copy_workflow(tmp_path_factory.mktemp("smoke") / "wf")
    res = snakemake(work, "--cores", "2", "--configfile", SMOKE, timeout=1800)  # about 15-20 min on 2 cores
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return work
