"""dvc.yaml: one stage wrapping Snakemake whose deps and params exist; `dvc repro --dry` plans it."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, copy_workflow


def test_stage_deps_and_params_exist() -> None:
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["reproduce"]
    assert stage["cmd"].startswith("snakemake ")
    for dep in stage["deps"]:
        assert (ROOT / dep).exists(), dep
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    (params,) = stage["params"]
    assert set(params["config/config.yaml"]) <= set(config)
    outs = {next(iter(o)): o[next(iter(o))] for o in stage["outs"]}
    assert all(o["persist"] for o in outs.values())
    assert outs["results/tables"]["cache"] is False  # tables are committed to git


def test_dvc_repro_dry_plans_the_stage(tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "wf")
    for name in ("dvc.yaml", "src"):
        src = ROOT / name
        shutil.copytree(src, work / name) if src.is_dir() else shutil.copy2(src, work / name)
    dvc = str(Path(sys.executable).with_name("dvc"))
    subprocess.run([dvc, "init", "--no-scm", "-q"], cwd=work, check=True)
    res = subprocess.run([dvc, "repro", "--dry"], cwd=work, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "Running stage 'reproduce'" in res.stdout
    assert "snakemake --cores all results/tables/table2_1.csv" in res.stdout
