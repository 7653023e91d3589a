"""The MLC part of the workflow: what the config plans, the smoke run's tables, a data set added by config alone,
and one-line errors for bad MLC config."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, mirror_dir, planned, snakemake

from seqstruct.common.config import merge_configs
from seqstruct.mlc.synthetic import SyntheticMlc, write_synthetic_mulan
from seqstruct.mlc.train import DETERMINISTIC, METHODS


def _expected(config: dict) -> dict[str, int]:
    """One selection per (method, data set) any run needs, one run per (run, data set, seed) (first seed only for
    BR/MLKNN/HARAM), one prepared folder per data set, one table per table, Table 2.11, the two figures."""
    mlc, seeds = config["mlc"], config["seeds"]
    variants = dict(mlc["variants"])
    fr = mlc["fractions"]
    for m in fr["methods"]:
        variants.update({f"{m}_p{p}": {"method": m} for p in fr["percents"] if p < 100})
    base = {**{m: m for m in METHODS}, **{v: d["method"] for v, d in variants.items()}}
    methods = [m for ms in mlc["tables"].values() for m in ms]
    pairs = {(m, d) for m in methods for d in [*mlc["table_datasets"], *mlc["extra_datasets"]]}
    pairs |= {(run, d) for rows in mlc["ablations"].values() for run in rows.values() for d in mlc["ablation_datasets"]}
    pairs |= {
        (m if p == 100 else f"{m}_p{p}", d) for m in fr["methods"] for p in fr["percents"] for d in fr["datasets"]
    }
    figure_sets = mlc["embedding_figure"]["datasets"]
    return {
        "prepare_mlc": len({d for _, d in pairs} | set(figure_sets)),
        "select_mlc": len({(base[r], d) for r, d in pairs} | {("cgmvae", d) for d in figure_sets}),
        "train_mlc": sum(len(seeds[:1] if base[r] in DETERMINISTIC else seeds) for r, _ in pairs),
        "mlc_table": len(mlc["tables"]) + (1 if mlc["extra_datasets"] else 0) + len(mlc["ablations"]),
        "mlc_statistics": 1,
        "mlc_fraction_figure": 1 if fr["methods"] else 0,
        "mlc_embedding_figure": len(figure_sets),
        "mlc_dataset_runs": len({*mlc["table_datasets"], *mlc["extra_datasets"]}),
    }


@pytest.mark.parametrize("smoke", [False, True], ids=["default", "smoke"])
def test_dry_run_plans_what_the_config_asks_for(workdir: Path, smoke: bool) -> None:
    counts = planned(workdir, *(["--configfile", SMOKE] if smoke else []))
    config = merge_configs(ROOT / "config/config.yaml", *([ROOT / SMOKE] if smoke else []))
    expected = _expected(config)
    assert {k: counts.get(k, 0) for k in expected} == expected
    assert counts.get("synthesize_mlc", 0) == (1 if smoke else 0)


def test_bad_mlc_config_is_one_clear_error(workdir: Path) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "mlc={table_datasets: [yeest]}")
    assert res.returncode != 0
    assert "config mlc: data set 'yeest'" in res.stdout + res.stderr
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "mlc={methods: {cgmvae: {embedd: 8}}}")
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "config mlc: settings of cgmvae" in out and "'embedd'" in out and "Traceback" not in out


@pytest.mark.slow
def test_smoke_run_makes_every_mlc_table(smoke_run: Path) -> None:
    names = list(METHODS.values())
    for table, metrics in {
        "table2_8": ["ex_f1", "mi_f1"],
        "table2_9": ["ma_f1", "ha"],
        "table2_10": ["p_at_1"],
        "mlc_extras": ["ex_f1", "mi_f1", "ma_f1", "ha", "p_at_1"],
    }.items():
        df = pd.read_csv(smoke_run / f"results/tables/{table}.csv")
        assert list(df.columns) == [
            "dataset",
            "method",
            *[f"{m}_{s}" for m in metrics for s in ("mean", "std")],
            "n_seeds",
        ]
        assert list(df["method"]) == names and set(df["dataset"]) == {"toy"}
        assert df[[f"{m}_mean" for m in metrics]].notna().all().all()
        meta = json.loads((smoke_run / f"results/tables/{table}.meta.json").read_text())
        assert meta["scale"] == "smoke" and meta["split_seed"] == 0 and meta["thesis"]["panel_keys"] == ["dataset"]
        assert "cgmvae toy" in meta["selected"] and meta["source"] == "synthetic"
    report = (smoke_run / "results/reports/table2_8.md").read_text()
    assert "thesis bookmarks: not available" in report and "thesis eBird: not available" in report
    stats = pd.read_csv(smoke_run / "results/tables/table2_11.csv")
    assert stats.loc[0, "n_samples_mean"] == 160  # the synthetic train + test rows
    prepared = json.loads((smoke_run / "results/data/mlc/toy/info.json").read_text())
    assert prepared["sparse"] and sum(prepared["sizes"].values()) == 160
    runs = pd.read_csv(smoke_run / "results/models/mlc/toy.runs.csv")  # the data set's own target
    n_seeds = len(merge_configs(ROOT / "config/config.yaml", ROOT / SMOKE)["seeds"])
    per_method = {name: 1 if m in DETERMINISTIC else n_seeds for m, name in METHODS.items()}
    assert runs.groupby("method", sort=False).size().to_dict() == per_method
    assert runs[["threshold", "ex_f1", "p_at_1", "seconds"]].notna().all().all()


@pytest.mark.slow
def test_a_mulan_data_set_is_added_by_config_alone(workdir: Path) -> None:
    """An ARFF + XML pair, a registry entry for it and its name in the config: no code, and it runs."""
    raw = workdir / "resources/raw/mulan_newset"
    files = write_synthetic_mulan(raw, "newset", SyntheticMlc(n_train=60, n_test=20, n_features=6, n_labels=4))
    entries = "".join(
        f"      - name: {p.name}\n        url: https://example.org/newset/{p.name}\n"
        f"        size: {p.stat().st_size}\n        sha256: {hashlib.sha256(p.read_bytes()).hexdigest()}\n"
        f"        mirror: mlc/newset/{p.name}\n"
        for p in files.values()
    )
    registry = workdir / "config/datasets.yaml"
    registry.write_text(
        registry.read_text() + "  mulan_newset:\n    title: N\n    license: L\n    citation: C\n    files:\n" + entries
    )
    extra = workdir / "newset.yaml"
    extra.write_text(
        yaml.safe_dump(
            {
                "seeds": [0],
                "mlc": {
                    "datasets": {"newset": {"registry": "mulan_newset", "format": "mulan"}},
                    "table_datasets": [],
                    "extra_datasets": ["newset"],
                    "tables": {"table2_8": ["br"], "table2_9": ["br"], "table2_10": ["br"]},
                },
            }
        )
    )
    res = snakemake(workdir, "results/tables/mlc_extras.csv", "--cores", "2", "--configfile", str(extra))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(workdir / "results/tables/mlc_extras.csv")
    assert list(table["dataset"]) == ["newset"] and list(table["method"]) == ["BR"]
    meta = json.loads((workdir / "results/tables/mlc_extras.meta.json").read_text())
    assert set(meta["datasets"]["mulan_newset"]) == {p.name for p in files.values()}


@pytest.mark.slow
def test_real_yeast_through_the_mlc_rules(workdir: Path) -> None:
    """The real yeast files from the mirror through prepare, select, train and the tables: BR and one epoch of a
    tiny C-GMVAE, one seed."""
    if mirror_dir() is None:
        pytest.skip("no data mirror: set SEQSTRUCT_DATA_MIRROR to the folder holding mlc/yeast/")
    cfg = workdir / "real_tiny.yaml"
    cfg.write_text(
        "seeds: [0]\nmlc:\n  table_datasets: [yeast]\n"
        "  tables: {table2_8: [br, cgmvae], table2_9: [br, cgmvae], table2_10: [br, cgmvae]}\n"
        "  grids: {br: {c: [1.0]}, cgmvae: {lr: [0.002]}}\n"
        "  methods: {cgmvae: {epochs: 1, embed: 16, latent: 4, encoder: [16], label_encoder: [16], decoder: 16}}\n"
    )
    targets = ["results/tables/table2_8.csv", "results/tables/table2_11.csv"]
    res = snakemake(workdir, *targets, "--cores", "2", "--configfile", str(cfg), timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(workdir / "results/tables/table2_8.csv")
    assert list(table["method"]) == ["BR", "C-GMVAE"] and (table["ex_f1_mean"] > 0.5).all()  # yeast: ~0.6
    stats = pd.read_csv(workdir / "results/tables/table2_11.csv").iloc[0]
    assert stats["n_samples_mean"] == 2417 and stats["n_labels_mean"] == 14  # 1500 + 917 Mulan rows, 14 labels
    meta = json.loads((workdir / "results/tables/table2_8.meta.json").read_text())
    assert meta["datasets"]["mulan_yeast"]["yeast-train.arff"] == (
        "e759dc991ff54694a4ff9c4314f3be0d6fd2b1994a4b563f57e416394c6aebbd"
    )
