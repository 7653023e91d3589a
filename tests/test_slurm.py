"""The SLURM profile on a real one-node Slurm cluster started by the test (tests/localslurm.py).

The smoke workflow is submitted through ``profiles/slurm`` with only the site keys changed (what the README
tells a user to edit); data preparation and every training run must have run as Slurm jobs (the deep models
with a GPU request; the synthetic inputs and the table are local rules), and the outputs must equal those of a
local run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, SMOKE, copy_workflow, snakemake
from localslurm import LocalSlurm, unavailable

pytestmark = [pytest.mark.slow, pytest.mark.slurm]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSlurm]:
    if (why := unavailable()) is not None:
        pytest.skip(f"no local Slurm cluster: {why}")
    slurm = LocalSlurm(tmp_path_factory.mktemp("slurm"))
    try:
        slurm.start()
        yield slurm
    finally:
        slurm.stop()


def site_profile(dest: Path) -> Path:
    """``profiles/slurm`` with this cluster's site values: partition ``debug``, no accounts, small jobs.

    Only keys the README names as site-specific change (account, partitions, sizes), plus three that make the
    test quick and checkable (status checks every 2 s, not the cluster-friendly 10-40 s; keep the Slurm logs
    of successful jobs)."""
    profile = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    profile["default-resources"].pop("slurm_account")
    profile["slurm-no-account"] = True  # accounting is off on this cluster
    profile["default-resources"].update(slurm_partition="debug", mem_mb=1000, cpus_per_task=1, runtime=10)
    for rule in ("train_crop", "select_crop", "train_mlc", "select_mlc", "mlc_embedding_figure"):
        profile["set-resources"][rule].update(slurm_partition="debug", mem_mb=1500, cpus_per_gpu=1)
    profile.update(
        {
            "seconds-between-status-checks": 2,
            "slurm-init-seconds-before-status-checks": 2,
            "slurm-keep-successful-logs": True,
            "latency-wait": 5,
        }
    )
    dest.mkdir(parents=True)
    (dest / "config.yaml").write_text(yaml.safe_dump(profile))
    return dest


def test_smoke_workflow_on_slurm_equals_local_run(cluster: LocalSlurm, smoke_run: Path, tmp_path: Path) -> None:
    work = copy_workflow(tmp_path / "wf")
    profile = site_profile(tmp_path / "profile")
    # three methods of the smoke config are enough to see jobs, GPUs and outputs (each Slurm job costs ~20 s)
    (work / "few.yaml").write_text(
        "crop: {crops: [soybean], tables: {table2_1: [lasso_1y, cnn_rnn_5y, gnn_rnn_5y], "
        "table2_2: [cnn_rnn_5y, gnn_rnn_5y]}}\n"
    )
    # the crop tables and two MLC runs (a deterministic and a deep one): each domain's rules reach Slurm
    mlc_runs = [f"results/models/mlc/{m}/toy/seed0/metrics.json" for m in ("br", "cgmvae")]
    targets = ["results/tables/table2_1.csv", "results/tables/table2_2.csv", *mlc_runs]
    res = snakemake(work, *targets, "--profile", str(profile), "--configfile", SMOKE, "few.yaml", timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:] + cluster.log_tail()
    assert "has been submitted with SLURM jobid" in res.stdout + res.stderr

    runs = sorted((work / "results/models/crop").rglob("metrics.json"))
    assert len(runs) == 5
    for path in runs:
        metrics = json.loads(path.read_text())
        job_id = metrics["provenance"]["slurm_job_id"]
        assert job_id is not None, f"{path} was not trained inside a Slurm job"
        job = cluster.job(job_id)
        assert job["JobState"] == "COMPLETED" and job["Partition"] == "debug"
        # the profile's GPU request reaches sbatch for the deep models only (gpu=1 -> --gpus=1)
        assert ("gpu" in job.get("TresPerJob", "")) == (metrics["slug"] != "lasso_1y"), job
        assert list((work / ".snakemake/slurm_logs/rule_train_crop").glob(f"*/{job_id}.log"))
    assert list((work / ".snakemake/slurm_logs/rule_prepare_crop").glob("*/*.log"))
    assert "launch task StepId=" in cluster.logs["slurmd"].read_text()

    for path in runs:  # the same runs as in the local smoke run, to the byte
        rel = path.parent.relative_to(work)
        assert (work / rel / "predictions.csv").read_bytes() == (smoke_run / rel / "predictions.csv").read_bytes()
        assert (
            json.loads(path.read_text())["test"] == json.loads((smoke_run / rel / "metrics.json").read_text())["test"]
        )
    for target in mlc_runs:  # MLC: trained in a Slurm job (the deep model with a GPU request), as locally
        metrics = json.loads((work / target).read_text())
        job = cluster.job(metrics["provenance"]["slurm_job_id"])
        assert job["JobState"] == "COMPLETED" and ("gpu" in job.get("TresPerJob", "")) == (metrics["slug"] != "br")
        assert metrics["test"] == json.loads((smoke_run / target).read_text())["test"]
