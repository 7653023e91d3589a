"""The DAPC part of the workflow: what the config plans, the smoke run's tables and figures, and one-line errors
for bad DAPC config."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, SMOKE, planned, snakemake

from seqstruct.common.config import merge_configs
from seqstruct.dapc.train import DETERMINISTIC


def _expected(config: dict) -> dict[str, int]:
    """One prepared series per SNR, one run per (table run, SNR, seed) (first seed only for PCA/SFA/DCA), one
    table per table, the upper figure and one lower figure per SNR."""
    dapc, seeds = config["dapc"], config["seeds"]
    runs = {m for rows in dapc["tables"].values() for m in rows.values()}
    snrs = len(dapc["lorenz"]["snrs"])
    per_snr = sum(len(seeds[:1] if dapc["methods"][m]["model"] in DETERMINISTIC else seeds) for m in runs)
    return {
        "prepare_dapc_lorenz": snrs,
        "train_dapc": snrs * per_snr,
        "dapc_table": len(dapc["tables"]),
        "dapc_lorenz_figure": 1,
        "dapc_latent_figure": snrs,
    }


@pytest.mark.parametrize("smoke", [False, True], ids=["default", "smoke"])
def test_dry_run_plans_what_the_config_asks_for(workdir: Path, smoke: bool) -> None:
    counts = planned(workdir, *(["--configfile", SMOKE] if smoke else []))
    config = merge_configs(ROOT / "config/config.yaml", *([ROOT / SMOKE] if smoke else []))
    expected = _expected(config)
    assert {k: counts.get(k, 0) for k in expected} == expected


def test_bad_dapc_config_is_one_clear_error(workdir: Path) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "dapc={methods: {cpc: {model: cpc, params: {kk: 3}}}}")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "config dapc: settings of cpc" in out and "'kk'" in out and "Traceback" not in out
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "dapc={train: {hiden: 3}}")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "config dapc: train: ['hiden']" in out
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "dapc={tables: {table3_2: {Regular: dapcc}}}")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "tables.table3_2.Regular: 'dapcc'" in out


@pytest.mark.slow
def test_smoke_run_makes_every_dapc_table_and_figure(smoke_run: Path) -> None:
    config = merge_configs(ROOT / "config/config.yaml", ROOT / SMOKE)
    for table, rows in config["dapc"]["tables"].items():
        df = pd.read_csv(smoke_run / f"results/tables/{table}.csv")
        assert list(df.columns) == ["snr", "method", "r2_mean", "r2_std", "r2_in_sample_mean", "r2_in_sample_std"]
        assert set(df["method"]) == set(rows) and set(df["snr"]) == {1.0}
        assert df["r2_mean"].between(-5, 1).all() and df["r2_in_sample_mean"].between(0, 1).all()
        meta = json.loads((smoke_run / f"results/tables/{table}.meta.json").read_text())
        assert meta["scale"] == "smoke" and meta["seeds"] == [0, 1] and meta["rows"] == rows
        report = (smoke_run / f"results/reports/{table}.md").read_text()
        assert "thesis" in report.lower() and "SNR" in report or "snr" in report
    for fig in ["figure3_2_upper.png", "figure3_2_lower_lorenz_snr1.0.png"]:
        assert (smoke_run / "results/figures" / fig).stat().st_size > 10_000
    record = json.loads((smoke_run / "results/models/dapc/dapc/lorenz_snr1.0/seed1/metrics.json").read_text())
    assert record["epochs_run"] == 2 and record["select"] == "val_loss" and record["seed"] == 1
