"""What produced a result: git commit, package versions, host, and the checksums of the input files."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import platform
import subprocess
from pathlib import Path
from typing import Any

PACKAGES = ("seqstruct", "torch", "torch-geometric", "numpy", "pandas", "scikit-learn", "xarray", "geopandas",
            "snakemake", "dvc")


def git_commit(cwd: str | Path = ".") -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the repository at ``cwd``."""
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                                    capture_output=True, text=True, check=True).stdout.strip())
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
    from seqstruct.data import sha256_file

    out: dict[str, dict[str, str]] = {}
    for p in map(Path, paths):
        out.setdefault(p.parent.name, {})[p.name] = sha256_file(p)
    return out


def environment() -> dict[str, Any]:
    """Host, Python and package versions and the current UTC time."""
    return {"python": platform.python_version(), "platform": platform.platform(), "host": platform.node(),
            "packages": package_versions(), "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
