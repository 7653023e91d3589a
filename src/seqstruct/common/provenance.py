"""What produced a result: git commit, package versions, host, and the checksums of the input files.

Two records: ``environment()`` for the process that writes a table (its ``meta.json``), and
``run_provenance()`` for one training run (the ``provenance`` entry of its ``metrics.json``), since the models
of one table may have been trained at other commits, on other hosts or under SLURM jobs.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seqstruct.common.io import sha256_file


def _requirements() -> tuple[str, ...]:
    """``seqstruct`` and every package it requires (its pins in pyproject.toml), as installed."""
    try:
        reqs = importlib.metadata.requires("seqstruct") or []
    except importlib.metadata.PackageNotFoundError:
        return ("seqstruct",)
    names = [re.split(r"[\s;<>=!~\[]", r, maxsplit=1)[0] for r in reqs if "extra ==" not in r]
    return ("seqstruct", *dict.fromkeys(names))


#: the packages whose versions every table and run records: seqstruct's own requirements, whatever the domain
PACKAGES = _requirements()


def git_commit(cwd: str | Path = ".") -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository at ``cwd``.

    ``dirty`` means uncommitted changes to tracked files outside ``results/``: the committed tables, reports
    and figures there are outputs (Snakemake deletes them before the job that rewrites them), not code."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude,top)results"],
                cwd=cwd,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
        return {"commit": sha, "dirty": dirty}
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions of ``names`` (None when not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def raw_checksums(paths: list[str | Path]) -> dict[str, dict[str, str]]:
    """sha256 of raw input files grouped by dataset id, for paths of the form ``.../raw/<dataset>/<file>``."""
    out: dict[str, dict[str, str]] = {}
    for p in map(Path, paths):
        out.setdefault(p.parent.name, {})[p.name] = sha256_file(p)
    return out


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second, e.g. ``2026-11-26T02:03:01+00:00``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def environment() -> dict[str, Any]:
    """Host, Python and package versions and the current UTC time."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": platform.node(),
        "packages": package_versions(),
        "created_utc": utc_now(),
    }


def run_provenance(
    started_utc: str | None = None, inputs: Sequence[str | Path] = (), cwd: str | Path = "."
) -> dict[str, Any]:
    """What trained one model: code commit, host, times, torch version, SLURM job and input checksums.

    Parameters
    ----------
    started_utc
        When the run started (``utc_now()`` taken at its start); None when unknown.
    inputs
        Files the run read (e.g. the prepared NetCDF); their sha256 is recorded under their path as
        given.
    cwd
        The repository whose commit is recorded (the workflow's working directory).

    Returns
    -------
    dict
        ``{"commit", "dirty", "host", "started_utc", "finished_utc", "python", "torch", "slurm_job_id",
        "inputs"}``; ``commit``/``dirty`` are None outside a git checkout, ``slurm_job_id`` is the
        ``SLURM_JOB_ID`` environment variable or None outside SLURM.
    """
    return {
        **git_commit(cwd),
        "host": platform.node(),
        "started_utc": started_utc,
        "finished_utc": utc_now(),
        "python": platform.python_version(),
        "torch": package_versions(("torch",))["torch"],
        "slurm_job_id": os.environ.get("SLURM_JOB_ID"),
        "inputs": {os.fspath(p): sha256_file(p) for p in inputs},
    }
