"""DVC around the workflow, for real on the smoke config: repro, no-op repro, params, push/pull, dvc add of raw data.

Each test works in its own git repository made from the workflow (``dvc_project``) whose config/config.yaml is
the smoke config merged in, so the exact ``dvc.yaml`` stage runs the smoke pipeline. The commands are the ones
the README documents.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, copy_workflow, mirror_dir
from snakemake.utils import update_config

from seqstruct.common.io import sha256_file

BIN = Path(sys.executable).parent
TABLE = "results/tables/table2_1.csv"
METHODS = ["lasso_1y", "gnn_rnn_5y"]  # the DVC project's Table 2.1
STAGE_RAN = "Running stage 'reproduce'"
RAWS = ("resources/raw/synthetic_crop",)  # the raw input of the DVC project (the smoke config, chapter 2.1)


def sh(cwd: Path, *cmd: str, timeout: float = 600) -> str:
    """Run ``cmd`` (git, dvc, snakemake of this venv) in ``cwd``; its stdout+stderr; fails the test on error."""
    env = {
        **os.environ,
        "DVC_NO_ANALYTICS": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    if (m := mirror_dir()) is not None:
        env["SEQSTRUCT_DATA_MIRROR"] = str(m)
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"{' '.join(cmd)} failed in {cwd}:\n{out[-4000:]}"
    return out


def dvc_project(dest: Path, config: dict | None = None) -> Path:
    """A git + DVC repository holding the workflow, dvc.yaml and ``config`` (default: the smoke config merged in)."""
    work = copy_workflow(dest)
    shutil.copytree(ROOT / "src/seqstruct", work / "src/seqstruct", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("dvc.yaml", ".gitignore", "resources/raw/.gitignore", ".dvcignore", ".dvc/config", ".dvc/.gitignore"):
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, work / name)
    if config is None:
        # a JSON round trip first: YAML aliases (`lstm_1y: *grid_1y`) load as one shared dict, which an in-place
        # merge would change for every alias at once (Snakemake's own --configfile merge does not)
        config = json.loads(json.dumps(yaml.safe_load((ROOT / "config/config.yaml").read_text())))
        update_config(config, yaml.safe_load((ROOT / SMOKE).read_text()))  # in place, as --configfile merges
        # DVC wraps whatever Snakemake builds, so one small slice of the smoke pipeline shows it: chapter 2.1
        # only (`domains`), soybean only (corn's raster path adds ~5 min), Table 2.1 of two methods (a linear
        # one and the deep GNN-RNN); every rule of every domain runs in the smoke workflow test
        config["domains"] = ["crop"]
        config["crop"]["crops"] = ["soybean"]
        config["crop"]["tables"] = {"table2_1": METHODS}
    (work / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    sh(work, "git", "init", "-q", "-b", "main")
    sh(work, "git", "add", "-A")
    sh(work, "git", "commit", "-q", "-m", "workflow")
    return work


def commit_all(work: Path, message: str) -> None:
    sh(work, "git", "add", "-A")
    sh(work, "git", "commit", "-q", "-m", message)


def file_digests(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``, by path relative to it."""
    return {str(p.relative_to(root)): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_stage_deps_and_params_exist() -> None:
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["reproduce"]
    assert stage["cmd"].startswith("snakemake ")
    for dep in stage["deps"]:
        assert (ROOT / dep).exists(), dep
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    (params,) = stage["params"]
    assert set(params["config/config.yaml"]) <= set(config)
    # every setting that changes a result reruns the stage: the shared keys and every domain's key (each domain
    # is a $ref to its own schema file), all but the registry path (config/datasets.yaml is a dependency)
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())["properties"]
    domains = {k for k, v in schema.items() if "$ref" in v}
    assert domains and set(params["config/config.yaml"]) == set(schema) - {"registry"}
    outs = {next(iter(o)): o[next(iter(o))] for o in stage["outs"]}
    assert all(o["persist"] for o in outs.values())
    assert outs["results/tables"]["cache"] is False  # tables are committed to git


@pytest.fixture(scope="module")
def pushed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(project, remote): ``dvc repro`` ran, its raw inputs were ``dvc add``-ed, results and raw data are
    committed (git: dvc.lock, .dvc files, tables, reports) and pushed (DVC remote: raw data, prepared data,
    models)."""
    base = tmp_path_factory.mktemp("dvc")
    work, remote = dvc_project(base / "project"), base / "remote"
    out = sh(work, "dvc", "repro")
    assert STAGE_RAN in out
    sh(work, "dvc", "add", *RAWS)  # the smoke config's raw inputs: the synthetic stand-ins
    sh(work, "dvc", "remote", "add", "-d", "local", str(remote))
    commit_all(work, "results")
    sh(work, "dvc", "push")
    return work, remote


def pull_clone(project: Path, dest: Path) -> Path:
    """A fresh clone of ``project`` after the documented ``dvc pull`` and ``snakemake --touch --forceall``."""
    sh(dest.parent, "git", "clone", "-q", str(project), dest.name)
    sh(dest, "dvc", "pull")
    sh(dest, "snakemake", "--touch", "--forceall", "--cores", "1")
    return dest


@pytest.mark.slow
def test_repro_runs_the_smoke_pipeline_and_then_nothing(pushed: tuple[Path, Path], smoke_run: Path) -> None:
    work, _ = pushed
    ours, smoke = pd.read_csv(work / TABLE), pd.read_csv(smoke_run / TABLE)  # same as running Snakemake itself
    rows = (smoke["crop"] == "soybean") & smoke["method"].isin(ours["method"])
    assert ours["method"].nunique() == len(METHODS)
    pd.testing.assert_frame_equal(ours, smoke[rows].reset_index(drop=True))
    lock = yaml.safe_load((work / "dvc.lock").read_text())["stages"]["reproduce"]
    assert {o["path"] for o in lock["outs"]} >= {"results/models", "results/data", "results/tables"}
    again = sh(work, "dvc", "repro")
    assert STAGE_RAN not in again and "didn't change" in again
    assert sh(work, "dvc", "status").strip().endswith("Data and pipelines are up to date.")


@pytest.mark.slow
def test_push_pull_round_trips_models_and_touch_avoids_retraining(pushed: tuple[Path, Path], tmp_path: Path) -> None:
    work, _ = pushed
    clone = pull_clone(work, tmp_path / "clone")
    for folder in (*RAWS, "results/models", "results/data", "results/tables", "results/reports", "results/figures"):
        assert file_digests(clone / folder) == file_digests(work / folder), folder
    dry = sh(clone, "snakemake", "-n", "--cores", "1", TABLE)
    assert "Nothing to be done" in dry, dry[-2000:]
    assert STAGE_RAN not in sh(clone, "dvc", "repro")


@pytest.mark.slow
@pytest.mark.parametrize("where", ["project", "clone"])
def test_param_change_reruns_the_stage_and_only_the_stale_jobs(
    pushed: tuple[Path, Path], tmp_path: Path, where: str
) -> None:
    """In the project that ran `dvc repro` (a hard-linked copy of it) and in a pulled clone."""
    if where == "clone":
        work = pull_clone(pushed[0], tmp_path / "clone")
    else:  # cp -a keeps the hard links between DVC's cache and the workspace, and the file times
        work = tmp_path / "project"
        subprocess.run(["cp", "-a", str(pushed[0]), str(work)], check=True)
        # the real soybean.nc (3.6 MB) is above the size up to which Snakemake compares checksums instead of
        # file times (1 MB); the smoke one is not, unless the limit is lowered. File times then decide, and DVC
        # must not have scrambled them (it does with hard-linked outputs: .dvc/config uses copies)
        with open(work / "profiles/default/config.yaml", "a") as f:
            f.write("max-checksum-file-size: 1\n")
    deep = work / "results/models/crop/gnn_rnn_5y/soybean_2018/seed0/metrics.json"
    before = deep.read_text()
    config = yaml.safe_load((work / "config/config.yaml").read_text())
    config["crop"]["grids"]["lasso_1y"] = {"alpha": [0.05, 0.5]}  # a key under `crop`, a param of the stage
    (work / "config/config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    out = sh(work, "dvc", "repro")
    assert STAGE_RAN in out
    assert "Job stats:" in out and "crop_table" in out
    assert out.count("rule train_crop:") == 1 and "wildcards: method=lasso_1y" in out, out[-3000:]
    assert out.count("rule select_crop:") == 1  # lasso's new grid, nothing else
    assert deep.read_text() == before  # the deep models were not retrained (nor resumed)
    lasso = yaml.safe_load((work / "results/tables/table2_1.meta.json").read_text())["grids"]["lasso_1y"]
    assert lasso["alpha"] == [0.05, 0.5]


@pytest.mark.slow
def test_dvc_add_raw_dataset_round_trips(tmp_path: Path) -> None:
    """`dvc add resources/raw/<dataset>` beside the stage; after push and a clone's pull nothing is refetched."""
    if mirror_dir() is None:
        pytest.skip("no data mirror: set SEQSTRUCT_DATA_MIRROR to the folder holding crop/county_adjacency.txt")
    work = dvc_project(tmp_path / "project", config=yaml.safe_load((ROOT / "config/config.yaml").read_text()))
    raw = "resources/raw/census_county_adjacency"
    sh(work, "python", "-m", "seqstruct.data.fetch", "census_county_adjacency", "--no-download")
    sh(work, "dvc", "add", raw)
    assert (work / f"{raw}.dvc").is_file()
    assert "resources/raw/census_county_adjacency/" in sh(work, "git", "status", "--ignored", "--porcelain")
    sh(work, "dvc", "remote", "add", "-d", "local", str(tmp_path / "remote"))
    commit_all(work, "raw data")
    assert f"{raw}.dvc" in sh(work, "git", "ls-files", "resources/raw")
    sh(work, "dvc", "push")
    assert STAGE_RAN in sh(work, "dvc", "repro", "--dry")  # the stage and the .dvc file do not overlap

    clone = tmp_path / "clone"
    sh(tmp_path, "git", "clone", "-q", str(work), "clone")
    sh(clone, "dvc", "pull", raw)
    assert file_digests(clone / raw) == file_digests(work / raw)
    target = f"{raw}/county_adjacency.txt"
    assert "Nothing to be done" in sh(clone, "snakemake", "-n", "--cores", "1", target)
