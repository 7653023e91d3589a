"""The Snakemake workflow: lint, dry runs, the smoke run end to end, and clear errors for bad config."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import xarray as xr
import yaml
from conftest import ROOT, SMOKE, mirror_dir, planned, snakemake

from seqstruct.common.config import merge_configs
from seqstruct.crop.train import DETERMINISTIC, METHODS
from seqstruct.mlc.formats import roles

THESIS_METHODS = METHODS.values()


def test_lint_is_clean() -> None:
    res = snakemake(ROOT, "--lint")
    assert res.returncode == 0, res.stderr
    assert "Congratulations, your workflow is in a good condition" in res.stdout + res.stderr


@pytest.mark.parametrize("config", [[], ["--configfile", SMOKE]], ids=["default", "smoke"])
def test_dry_run(workdir: Path, config: list[str]) -> None:
    res = snakemake(workdir, "-n", "--cores", "2", *config)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "train_crop" in res.stdout and "crop_table" in res.stdout


def _expected_crop_jobs(config: dict) -> dict[str, int]:
    """What the crop config asks for: one selection per (method, test year), one training run per seed (the
    first seed only for deterministic methods), one table per table name, maps per test year."""
    crop, seeds = config["crop"], config["seeds"]
    methods = sorted({m for ms in crop["tables"].values() for m in ms})
    panels = len(crop["test_years"]) * len(crop["crops"])  # one sub-table per crop and test year
    runs = sum(len(seeds[:1] if m in DETERMINISTIC else seeds) for m in methods) * panels
    return {
        "select_crop": len(methods) * panels,
        "train_crop": runs,
        "crop_table": len(crop["tables"]),
        "crop_maps": panels if "gnn_rnn_5y" in crop["tables"].get("table2_1", []) else 0,
        "crop_sensitivity": 1 if crop.get("sensitivity_permutations", 3) > 0 else 0,
    }


def test_default_dry_run_plans_what_the_config_asks_for(workdir: Path) -> None:
    counts = planned(workdir)
    config = merge_configs(ROOT / "config/config.yaml")
    expected = _expected_crop_jobs(config)
    assert {k: counts.get(k, 0) for k in expected} == expected
    assert counts["scoreboard"] == 1 and counts["all"] == 1
    registry = yaml.safe_load((ROOT / "config/datasets.yaml").read_text())["datasets"]
    files = {(d, f["name"]) for d in config["crop"]["datasets"] for f in registry[d]["files"]}
    mlc = config["mlc"]
    for name in {*mlc["table_datasets"], *mlc["extra_datasets"]}:  # the files each MLC format reads
        entry = mlc["datasets"][name]
        names = [f["name"] for f in registry[entry["registry"]]["files"]]
        files |= {(entry["registry"], n) for n in roles(entry["format"], names, name).values()}
    dos = config["dos"]  # the phonon CSV (random split: no index files); MP eDoS comes from fetch_mp_edos
    files |= {
        (dos["datasets"][t["dataset"]]["registry"], "data.csv")
        for t in dos["tables"].values()
        if t["dataset"] == "phdos"
    }
    dapc = config["dapc"]  # the real forecasting series of the forecasting tables (Lorenz is generated)
    used = {s for t in dapc["forecast_tables"].values() for s in t["series"]}
    files |= {(dapc["series"][s]["registry"], f) for s in used for f in dapc["series"][s]["files"].values()}
    assert counts["fetch_raw"] == len(files)
    assert counts["train_dos"] == len(
        {m for t in dos["tables"].values() if t["dataset"] == "phdos" for m in t["methods"]}
    ) * len(config["seeds"])
    assert counts["dos_timing"] == 1 and "fetch_mp_edos" not in counts  # no eDoS without dos.edos.ids_file


def test_numbers_given_on_the_command_line(workdir: Path) -> None:
    """Snakemake parses nested --config values as strings; the schema's numbers still come out as numbers."""
    counts = planned(workdir, "--config", "seeds=[0]", "crop={test_years: [2017], methods: {gnn_rnn_5y: {lr: 1e-3}}}")
    config = merge_configs(ROOT / "config/config.yaml")
    config["seeds"], config["crop"]["test_years"] = [0], [2017]
    assert counts["train_crop"] == _expected_crop_jobs(config)["train_crop"]  # one year, one seed


def test_domains_pick_the_chapters_rule_all_builds(workdir: Path) -> None:
    counts = planned(workdir, "--config", "domains=[crop]")
    assert counts["train_crop"] > 0 and counts["scoreboard"] == 1
    assert not {"train_dos", "train_mlc", "train_dapc", "dos_table", "mlc_table", "dapc_table"} & set(counts)
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "domains=[crop, asr]")
    assert res.returncode != 0 and "domains/1: 'asr' is not one of" in res.stdout + res.stderr


def test_named_target_tables_makes_every_table_without_figures(workdir: Path) -> None:
    counts = planned(workdir, "--configfile", SMOKE, targets=("tables",))
    assert counts["crop_table"] == 2 and "crop_figures" not in counts and "scoreboard" not in counts


def test_crop_table_rule_claims_only_its_own_table_names(workdir: Path) -> None:
    """Table names are explicit per domain: another chapter's table is not taken for a crop table."""
    res = snakemake(workdir, "results/tables/table2_3.csv", "-n", "--cores", "1", "--quiet", "rules")
    assert res.returncode == 0 and "dos_table " in res.stdout and "crop_table " not in res.stdout
    res = snakemake(workdir, "-n", "--cores", "1", "results/tables/table3_9.csv")  # chapter 3.2: no rule yet
    assert res.returncode != 0 and "MissingRuleException" in res.stdout + res.stderr
    assert "rule crop_table" not in res.stdout + res.stderr
    res = snakemake(workdir, "results/tables/table2_8.csv", "-n", "--cores", "1", "--quiet", "rules")
    assert res.returncode == 0 and "mlc_table " in res.stdout and "crop_table " not in res.stdout  # job counts


def test_unavailable_data_stops_with_what_to_obtain(workdir: Path) -> None:
    """A registry dataset with `access: unavailable` stops its fetch with the one-line reason in Snakemake's own
    output: what is missing, why, and where a copy would go."""
    registry = workdir / "config/datasets.yaml"
    registry.write_text(
        registry.read_text()
        + (
            "  walled_garden:\n    title: W\n    license: L\n    citation: C\n"
            "    access: {unavailable: 'the authors never released it'}\n"
            "    files:\n      - {name: w.csv, sha256: '" + "ab" * 32 + "'}\n"
        )
    )
    res = snakemake(workdir, "--cores", "1", "resources/raw/walled_garden/w.csv")
    out = res.stdout + res.stderr
    assert res.returncode != 0
    line = next(line for line in out.splitlines() if line.startswith("error: "))
    assert "walled_garden" in line and "never released" in line and "resources/raw/walled_garden/w.csv" in line


def test_config_typo_is_one_clear_error(workdir: Path) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "crop={test_yeras: [2018]}")
    assert res.returncode != 0
    assert "config: crop: unknown key(s) ['test_yeras']" in res.stdout + res.stderr
    assert "Failed validating" not in res.stdout + res.stderr  # no schema dump


@pytest.mark.slow
def test_smoke_workflow_end_to_end(smoke_run: Path) -> None:
    workdir = smoke_run  # the session's local smoke run (conftest.py)
    table = pd.read_csv(workdir / "results/tables/table2_1.csv")
    assert list(table.columns) == [
        "crop",
        "test_year",
        "method",
        "rmse_mean",
        "rmse_std",
        "r2_mean",
        "r2_std",
        "corr_mean",
        "corr_std",
        "n_seeds",
    ]
    assert sorted(set(table["crop"])) == ["corn", "soybean"]  # corn through the whole raster path
    for _, part in table.groupby("crop"):
        assert list(part["method"]) == list(THESIS_METHODS)
        assert list(part["n_seeds"]) == [1, 1, 1] + [2] * 8  # the scikit-learn baselines are deterministic
    assert table[["rmse_mean", "r2_mean", "corr_mean"]].notna().all().all()
    meta = json.loads((workdir / "results/tables/table2_1.meta.json").read_text())
    assert meta["scale"] == "smoke" and meta["seeds"] == [0, 1] and len(meta["runs"]) == 38
    assert set(meta["datasets"]["synthetic_crop"]) >= {"soybean_data.npz", "county_adjacency.txt"}
    assert (
        meta["crop_data"]["corn"].startswith("synthetic rasters") and "synthetic_crop" in meta["crop_data"]["soybean"]
    )
    corn = xr.open_dataset(workdir / "results/data/crop/corn.nc", engine="h5netcdf")
    assert list(corn["weekly_var"].values) == ["ppt"] and corn.sizes["depth"] == 6
    assert corn.sizes["county"] > 80 and (corn["county"] // 1000 == 19).all()  # real Iowa counties
    assert corn.attrs["layout"] == "rasters" and corn["yield"].notnull().mean() > 0.9
    parts = sorted(p.name for p in (workdir / "results/data/crop/rasters/synthetic/prism").iterdir())
    assert parts[0] == "ppt_2011.nc" and len(parts) == 8  # one job per variable-year
    assert meta["selected"]["cnn_1y 2018"]["lr"] in (0.001, 0.01) and meta["split"] == "test"
    report = (workdir / "results/reports/table2_1.md").read_text()
    assert "## soybean 2018, thesis soybean 2018" in report and "| ordering agrees |" in report
    assert "## Settings chosen on the validation year" in report

    # Table 2.2: the same runs, scored with the test year's weekly features masked after week 22
    early = pd.read_csv(workdir / "results/tables/table2_2.csv")
    for _, part in early.groupby("crop"):
        assert list(part["method"]) == ["lstm 1y", "cnn 1y", "gnn 1y", "lstm 5y", "cnn-rnn 5y", "gnn-rnn 5y"]
    early, table = early[early["crop"] == "soybean"], table[table["crop"] == "soybean"]
    meta2 = json.loads((workdir / "results/tables/table2_2.meta.json").read_text())
    assert meta2["split"] == "test_early" and meta2["early_week"] == 22 and meta2["early_mask"] == ["weather"]
    run = json.loads((workdir / "results/models/crop/cnn_1y/soybean_2018/seed1/metrics.json").read_text())
    assert early.set_index("method").loc["cnn 1y", "rmse_mean"] != table.set_index("method").loc["cnn 1y", "rmse_mean"]
    assert run["test_early"]["mask_after_week"] == 22 and run["early"]["weeks"] == list(range(13, 53))
    assert run["test_early"]["rmse"] != run["test"]["rmse"] and run["early"]["rmse"][-1] == run["test"]["rmse"]
    assert (
        "thesis corn 2018 (the thesis reports corn 2018 only)" in (workdir / "results/reports/table2_2.md").read_text()
    )
    for fig in ("table2_2_masking_week", "crop_map_gnn_rnn_5y_soybean_2018", "crop_scatter_gnn_rnn_5y_soybean_2018"):
        assert (workdir / f"results/figures/{fig}.png").read_bytes()[:4] == b"\x89PNG"
    # what every model relies on: one row per (test year, method, applicable feature group)
    sens = pd.read_csv(workdir / "results/tables/crop_sensitivity.csv")
    assert sorted(set(sens["crop"])) == ["corn", "soybean"]
    sens = sens[sens["crop"] == "soybean"]  # the raster layout has no planting-progress extras
    assert list(dict.fromkeys(sens["method"])) == list(THESIS_METHODS)
    groups = sens.groupby("method", sort=False)["group"].apply(list).to_dict()
    assert groups["lasso 1y"] == ["weather_current", "planting_current", "soil", "extras", "prev_year_yield"]
    assert groups["cnn-rnn 5y"] == groups["lasso 1y"][:2] + ["weather_history"] + groups["lasso 1y"][2:]
    assert groups["gnn-rnn 5y"] == groups["cnn-rnn 5y"] + ["neighbours", "own"]
    assert set(sens["n_runs"]) == {1, 2} and sens[["baseline_mean", "increase_mean"]].notna().all().all()
    assert "lasso 1y" in (workdir / "results/reports/crop_sensitivity.md").read_text()
    assert (workdir / "results/figures/crop_sensitivity.png").read_bytes()[:4] == b"\x89PNG"
    board = (workdir / "results/reports/index.md").read_text()  # the scoreboard: every thesis table
    assert board.count("\n| Table ") + board.count("\n| [Table ") == 33
    assert "| [Table 2.1](table2_1.md) | 2.1 |" in board and "reproduced on stand-in data: synthetic crop data" in board
    assert "RMSE: soybean 2018: " in board and "| Table 3.9 | 3.2 |" in board
    assert "corn: synthetic rasters" in board  # which data each crop's sub-tables used
    assert not list(workdir.rglob("*.tmp*")), "temporary files left behind"
    # a second run has nothing to do
    again = snakemake(workdir, "-n", "--cores", "2", "--configfile", SMOKE)
    assert "Nothing to be done" in again.stdout + again.stderr


@pytest.mark.slow
def test_real_data_pipeline_small(workdir: Path) -> None:
    """The real soybean data through every rule with one seed and tiny models (fetches from the mirror)."""
    if mirror_dir() is None:
        pytest.skip("no data mirror: set SEQSTRUCT_DATA_MIRROR to the folder holding crop/soybean_data.npz")
    cfg = workdir / "real_tiny.yaml"
    cfg.write_text(
        "seeds: [0]\ncrop:\n  test_years: [2018]\n"
        "  tables: {table2_1: [lasso_1y, cnn_rnn_5y, gnn_rnn_5y], table2_2: [cnn_rnn_5y, gnn_rnn_5y]}\n"
        "  grids: {lasso_1y: {alpha: [0.01, 0.1]}, cnn_rnn_5y: &g {lr: [0.001], weight_decay: [0.0]}, gnn_rnn_5y: *g}\n"
        "  methods:\n"
        "    cnn_rnn_5y: &t {epochs: 1, batch_size: 128, weekly_channels: [8, 8, 8, 8], hidden: 8}\n"
        "    gnn_rnn_5y: *t\n"
    )
    targets = [f"results/tables/table2_{i}.csv" for i in (1, 2)] + [
        "results/figures/crop_map_gnn_rnn_5y_soybean_2018.png"
    ]
    res = snakemake(workdir, *targets, "--cores", "2", "--configfile", str(cfg), timeout=1200)  # crop's only
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(workdir / "results/tables/table2_1.csv")
    lasso = table.set_index("method").loc["lasso 1y"]
    # the real data carries signal a linear model finds: it ranks the 2018 counties (R² suffers from the
    # 2018 record yields lying far above the training years, so it is not the criterion here)
    assert lasso["corr_mean"] > 0.5
    meta = json.loads((workdir / "results/tables/table2_1.meta.json").read_text())
    assert meta["datasets"]["khaki_soybean"]["soybean_data.npz"] == (
        "64f6ded2d36f6a70cdda18c84996cbb9ca7ae0c9482533b9db776fd3cc9f0f28"
    )
    metrics = json.loads((workdir / "results/models/crop/gnn_rnn_5y/soybean_2018/seed0/metrics.json").read_text())
    with xr.open_dataset(workdir / "results/data/crop/soybean.nc", engine="h5netcdf") as ds:
        reported = ds["yield"].notnull().sum("county").to_series()  # counties with a reported yield, per year
    assert metrics["test"]["n"] == reported[2018] and metrics["val"]["n"] == reported[2017]
    # the maps draw the real county boundaries
    assert (workdir / "results/figures/crop_map_gnn_rnn_5y_soybean_2018.png").stat().st_size > 20_000


@pytest.mark.slow
def test_report_holds_every_table_report_and_figure_with_captions(smoke_run: Path) -> None:
    """`snakemake --report`: every produced table, markdown report and figure, byte for byte, with its caption."""
    res = snakemake(smoke_run, "--report", "results/report.zip", "--configfile", SMOKE)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    produced = [
        p
        for pattern in ("tables/*.csv", "reports/*.md", "figures/*.png")
        for p in sorted((smoke_run / "results").glob(pattern))
    ]
    assert {p.suffix for p in produced} == {".csv", ".md", ".png"}
    with zipfile.ZipFile(smoke_run / "results/report.zip") as z:
        data = {Path(n).name: z.read(n) for n in z.namelist() if n.startswith("report/data/raw/")}
        html = z.read("report/report.html").decode()
    for path in produced:
        assert data.get(path.name) == path.read_bytes(), f"{path.name} missing from the report"
    for caption in sorted((ROOT / "workflow/report").glob("*.rst")):
        first_words = " ".join(caption.read_text().split()[:6])
        assert first_words in html, f"caption {caption.name} not in the report"
