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

    def seeds_of(runs: set[str]) -> int:
        return sum(len(seeds[:1] if dapc["methods"][m]["model"] in DETERMINISTIC else seeds) for m in runs)

    runs = {m for rows in dapc["tables"].values() for m in rows.values()}
    snrs = len(dapc["lorenz"]["snrs"])
    figure = {dapc["forecast_figure"]["baseline"], *dapc["forecast_figure"]["rows"].values()}
    forecast = sum(
        seeds_of(figure | {m for t in dapc["forecast_tables"].values() if s in t["series"] for m in t["rows"].values()})
        for s in dapc["series"]
    )
    dims = dapc["dims_figure"]
    dims_runs = len(dims["dims"]) * seeds_of({dims["baseline"], *dims["rows"].values()})
    return {
        "prepare_dapc_lorenz": snrs,
        "prepare_dapc_series": len(dapc["series"]),
        "train_dapc": snrs * seeds_of(runs) + forecast + dims_runs,
        "dapc_table": len(dapc["tables"]),
        "dapc_forecast_table": len(dapc["forecast_tables"]),
        "dapc_lorenz_figure": 1,
        "dapc_latent_figure": snrs,
        "dapc_forecast_figure": 1,
        "dapc_dims_figure": 1,
    }


@pytest.mark.parametrize("smoke", [False, True], ids=["default", "smoke"])
def test_dry_run_plans_what_the_config_asks_for(workdir: Path, smoke: bool) -> None:
    counts = planned(workdir, *(["--configfile", SMOKE] if smoke else []))
    config = merge_configs(ROOT / "config/config.yaml", *([ROOT / SMOKE] if smoke else []))
    expected = _expected(config)
    assert {k: counts.get(k, 0) for k in expected} == expected


@pytest.mark.parametrize(
    "override, message",
    [
        ("dapc={methods: {cpc: {model: cpc, params: {kk: 3}}}}", "config dapc: settings of cpc"),
        ("dapc={train: {hiden: 3}}", "config dapc: train: ['hiden']"),
        ("dapc={tables: {table3_2: {Regular: dapcc}}}", "tables.table3_2.Regular: 'dapcc'"),
        (
            "dapc={series: {hc: {files: {audio: a.wav}}}}",
            "series.hc.files: a spikes series needs the roles ['spikes', 'position'], got ['audio',",
        ),
        (
            "dapc={series: {temp: {files: {temperature: t.csv}}}}",
            "series.temp.files.temperature: 't.csv' is not a file of registry entry",
        ),
        ("dapc={forecast_tables: {table3_6: {series: [tmp]}}}", "forecast_tables.table3_6.series: 'tmp' is not in"),
        ("dapc={dims_figure: {rows: {X: dapcc}}}", "config dapc: dims_figure: 'dapcc' is not in dapc.methods"),
    ],
    ids=["setting", "train", "table-row", "series-roles", "series-file", "table-series", "dims-row"],
)
def test_bad_dapc_config_is_one_clear_error(workdir: Path, override: str, message: str) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", override)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and message in out and "Traceback" not in out


@pytest.mark.slow
def test_smoke_run_makes_every_dapc_table_and_figure(smoke_run: Path) -> None:
    config = merge_configs(ROOT / "config/config.yaml", ROOT / SMOKE)
    for table, rows in config["dapc"]["tables"].items():
        df = pd.read_csv(smoke_run / f"results/tables/{table}.csv")
        assert list(df.columns) == [
            "snr",
            "method",
            "r2_mean",
            "r2_std",
            "r2_in_sample_mean",
            "r2_in_sample_std",
            "n_seeds",
        ]
        assert set(df["method"]) == set(rows) and set(df["snr"]) == {1.0}
        assert df["r2_mean"].between(-5, 1).all() and df["r2_in_sample_mean"].between(0, 1).all()
        meta = json.loads((smoke_run / f"results/tables/{table}.meta.json").read_text())
        assert meta["scale"] == "smoke" and meta["seeds"] == [0, 1] and meta["rows"] == rows
        report = (smoke_run / f"results/reports/{table}.md").read_text()
        assert "## SNR 1.0, thesis SNR 1.0" in report
    for fig in ["figure3_2_upper.png", "figure3_2_lower_lorenz_snr1.0.png"]:
        assert (smoke_run / "results/figures" / fig).stat().st_size > 10_000
    record = json.loads((smoke_run / "results/models/dapc/dapc/lorenz_snr1.0/seed1/metrics.json").read_text())
    assert record["epochs_run"] == 2 and record["select"] == "val_loss" and record["seed"] == 1


@pytest.mark.slow
def test_smoke_run_makes_the_forecasting_tables_and_figure(smoke_run: Path) -> None:
    config = merge_configs(ROOT / "config/config.yaml", ROOT / SMOKE)
    t5 = pd.read_csv(smoke_run / "results/tables/table3_5.csv")
    assert list(t5.columns) == ["dataset", "lag", "method", "r2_mean", "r2_std", "n_seeds", "pi_gain_r2", "pi_gain_pct"]
    assert set(t5["dataset"]) == {"temp", "hc"} and set(t5["lag"]) == {5, 10, 15}
    assert t5["pi_gain_pct"].notna().sum() == 2 * 3 * 2  # FR+PI and MR+PI, per series and lag
    t6 = pd.read_csv(smoke_run / "results/tables/table3_6.csv")
    assert list(t6.columns)[:2] == ["lag", "method"] and set(t6["method"]) == set(
        config["dapc"]["forecast_tables"]["table3_6"]["rows"]
    )
    meta = json.loads((smoke_run / "results/tables/table3_5.meta.json").read_text())
    assert set(meta["series"]) == {"temp", "hc"} and meta["datasets"]  # raw file checksums
    assert "Temp stand-in" in (smoke_run / "results/reports/table3_5.md").read_text()
    info = json.loads((smoke_run / "results/data/dapc/hc/info.json").read_text())
    assert info["frames"] == 1000 and info["task"] == "forecast" and info["units"] == 25
    record = json.loads((smoke_run / "results/models/dapc/dapc/temp/seed0/metrics.json").read_text())
    assert record["config"]["model"]["bidirectional"] is False and set(record["test"]) == {
        "r2_lag5",
        "r2_lag10",
        "r2_lag15",
    }
    for fig in ("figure3_5.png", "figure3_6.png"):
        assert (smoke_run / "results/figures" / fig).stat().st_size > 10_000
    assert (
        json.loads((smoke_run / "results/models/dapc/cpc_d1/temp/seed0/metrics.json").read_text())["params"]["d"] == 1
    )
