"""The DoS part of the workflow: what the config plans, the smoke run's tables and figures, a phonon-format data
set added by config alone, the eDoS ingestion without a key, one-line errors for bad DoS config, and the real
phonon data through every rule at tiny size."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, mirror_dir, planned, snakemake

from seqstruct.common.config import merge_configs
from seqstruct.dos.synthetic import SyntheticDos, write_synthetic
from seqstruct.dos.train import METHODS


def _expected(config: dict) -> dict[str, int]:
    """One prepared folder per data set in use, one selection per (method, data set), one run per seed, one
    table per table whose data set is ingested (eDoS needs dos.edos.ids_file unless synthetic), Table 2.7, the
    figures of the tables made."""
    dos, seeds = config["dos"], config["seeds"]
    synthetic = dos["source"] == "synthetic"
    tables = {
        t: s
        for t, s in dos["tables"].items()
        if synthetic or dos["datasets"][s["dataset"]]["format"] != "mp_edos" or dos["edos"]["ids_file"]
    }
    pairs = {(m, s["dataset"]) for s in tables.values() for m in s["methods"]}
    pairs |= {(m, dos["timing"]["dataset"]) for m in dos["timing"]["methods"]}
    figures = [f for f, t in {"figure2_16": "table2_3", "figure2_17": "table2_4"}.items() if t in tables]
    return {
        "prepare_dos": len({d for _, d in pairs}),
        "select_dos": len(pairs),
        "train_dos": len({(m, s["dataset"]) for s in tables.values() for m in s["methods"]}) * len(seeds),
        "dos_table": len(tables),
        "dos_timing": 1,
        "dos_figure": len(figures),
        "synthesize_dos": len({d for _, d in pairs}) if synthetic else 0,
    }


@pytest.mark.parametrize("smoke", [False, True], ids=["default", "smoke"])
def test_dry_run_plans_what_the_config_asks_for(workdir: Path, smoke: bool) -> None:
    counts = planned(workdir, *(["--configfile", SMOKE] if smoke else []))
    config = merge_configs(ROOT / "config/config.yaml", *([ROOT / SMOKE] if smoke else []))
    expected = _expected(config)
    assert {k: counts.get(k, 0) for k in expected} == expected


def test_bad_dos_config_is_one_clear_error(workdir: Path) -> None:
    res = snakemake(workdir, "-n", "--cores", "1", "--config", "dos={methods: {xtal2dos: {d_modle: 8}}}")
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "config dos: settings of xtal2dos" in out and "'d_modle'" in out
    assert "Traceback" not in out
    res = snakemake(
        workdir, "-n", "--cores", "1", "--config", "dos={tables: {table2_3: {dataset: phdoss, methods: [gatgnn]}}}"
    )
    assert res.returncode != 0 and "tables.table2_3.dataset 'phdoss' is not in dos.datasets" in res.stdout + res.stderr


def test_edos_without_a_key_stops_with_one_line(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an ids file the eDoS tables are planned; without MP_API_KEY the fetch stops naming the variable."""
    monkeypatch.delenv("MP_API_KEY", raising=False)
    (workdir / "ids.txt").write_text("mp-149\nmp-13\n")
    cfg = workdir / "edos.yaml"
    cfg.write_text("dos:\n  edos: {ids_file: ids.txt}\n")
    counts = planned(workdir, "--configfile", str(cfg))
    assert counts["dos_table"] == 4 and counts["fetch_mp_edos"] == 1
    res = snakemake(workdir, "resources/raw/mp_edos/edos.csv", "--cores", "1", "--configfile", str(cfg))
    assert res.returncode != 0
    line = next(x for x in (res.stdout + res.stderr).splitlines() if x.startswith("error: "))
    assert "MP_API_KEY" in line
    assert not (workdir / "resources/raw/mp_edos/edos.csv").exists()


@pytest.mark.slow
def test_smoke_run_makes_every_dos_table(smoke_run: Path) -> None:
    config = merge_configs(ROOT / "config/config.yaml", ROOT / SMOKE)
    for table, spec in config["dos"]["tables"].items():
        df = pd.read_csv(smoke_run / f"results/tables/{table}.csv")
        metrics = [f"{m}_{s}" for m in ("r2", "mae", "mse", "wd") for s in ("mean", "std")]
        assert list(df.columns) == ["space", "method", *metrics, "n_seeds"]
        names = [METHODS[m] for m in spec["methods"]]
        assert list(df["method"]) == [n for n in names for _ in (0, 1)]
        assert list(df["space"]) == ["normalized", "original"] * len(names)
        assert df[metrics[::2]].notna().all().all() and set(df["n_seeds"]) == {len(config["seeds"])}
        meta = json.loads((smoke_run / f"results/tables/{table}.meta.json").read_text())
        assert meta["scale"] == "smoke" and meta["source"] == "synthetic" and meta["thesis"]["panel_keys"] == ["space"]
        assert "oracle scale" in (smoke_run / f"results/reports/{table}.md").read_text()
    assert json.loads((smoke_run / "results/tables/table2_3.meta.json").read_text())["selected"]["xtal2dos phdos"][
        "lr"
    ] in (0.001, 0.01)
    timing = pd.read_csv(smoke_run / "results/tables/table2_7.csv")
    assert list(timing["method"]) == [METHODS[m] for m in config["dos"]["timing"]["methods"]]
    assert (timing["seconds_per_epoch_mean"] > 0).all()
    assert timing.set_index("method").loc["Xtal2DoS", "ratio_to_xtal2dos_mean"] == 1
    for figure in ("figure2_16", "figure2_17"):
        assert (smoke_run / f"results/figures/{figure}.png").read_bytes()[:4] == b"\x89PNG"
    info = json.loads((smoke_run / "results/data/dos/edos/info.json").read_text())
    assert len(info["grid"]) == 128 and info["excluded"] == {}


@pytest.mark.slow
def test_a_phonon_format_data_set_is_added_by_config_alone(workdir: Path) -> None:
    """A CSV in the phonon layout, a registry entry for it and its name in the config: no code, and it runs."""
    raw = workdir / "resources/raw/my_phonons/data.csv"
    raw.parent.mkdir(parents=True)
    write_synthetic(raw, SyntheticDos(n_materials=30, max_atoms=3, n_points=21, seed=5))
    extra = _register_phonons(workdir, raw, 21)
    res = snakemake(workdir, "results/tables/table2_3.csv", "--cores", "2", "--configfile", str(extra))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    table = pd.read_csv(workdir / "results/tables/table2_3.csv")
    assert list(table["method"]) == ["GATGNN", "GATGNN"]
    meta = json.loads((workdir / "results/tables/table2_3.meta.json").read_text())
    assert set(meta["datasets"]["my_phonons"]) == {"data.csv"} and meta["sizes"] == {"train": 24, "val": 3, "test": 3}


@pytest.mark.slow
def test_real_phonons_through_the_dos_rules(workdir: Path) -> None:
    """The real phonon file from the mirror through prepare, select, train and Table 2.3: one epoch of a tiny
    GATGNN and Xtal2DoS, one seed."""
    if mirror_dir() is None:
        pytest.skip("no data mirror: set SEQSTRUCT_DATA_MIRROR to the folder holding dos/phdos_e3nn_1521.csv.xz")
    cfg = workdir / "real_tiny.yaml"
    cfg.write_text(
        "seeds: [0]\ndos:\n  tables: {table2_3: {dataset: phdos, methods: [gatgnn, xtal2dos]}}\n"
        "  timing: {methods: []}\n"
        "  methods:\n    gatgnn: {epochs: 1, hidden: 16, heads: 2, head: [16]}\n"
        "    xtal2dos: {epochs: 1, d_model: 16, enc_hidden: 4, enc_heads: 2, dec_layers: 1, dec_heads: 2, d_ff: 16}\n"
    )
    res = snakemake(workdir, "results/tables/table2_3.csv", "--cores", "2", "--configfile", str(cfg), timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    info = json.loads((workdir / "results/data/dos/phdos/info.json").read_text())
    assert info["n_materials"] == 1521 and info["sizes"] == {"train": 1217, "val": 152, "test": 152}
    assert info["atoms"] == {"min": 2, "max": 40} and info["excluded"] == {}
    meta = json.loads((workdir / "results/tables/table2_3.meta.json").read_text())
    assert meta["datasets"]["phdos_e3nn"]["data.csv"] == (
        "fe19bbabc4d49f13a3fb336ee6adff9d70d66e20375cabf56fbfa31cf4da1754"
    )
    table = pd.read_csv(workdir / "results/tables/table2_3.csv")
    assert table["r2_mean"].notna().all() and (table["mae_mean"] > 0).all()


def _register_phonons(workdir: Path, csv: Path, length: int) -> Path:
    """Register ``csv`` as dataset ``my_phonons`` and return a config that tables it as ``mine``."""
    registry = workdir / "config/datasets.yaml"
    registry.write_text(
        registry.read_text()
        + "  my_phonons:\n    title: N\n    license: L\n    citation: C\n    files:\n"
        + f"      - name: data.csv\n        url: https://example.org/data.csv\n        size: {csv.stat().st_size}\n"
        + f"        sha256: {hashlib.sha256(csv.read_bytes()).hexdigest()}\n        mirror: dos/my_phonons.csv\n"
    )
    extra = workdir / "mine.yaml"
    tiny = {"epochs": 1, "batch_size": 8, "hidden": 8, "heads": 2, "head": [8]}
    extra.write_text(
        yaml.safe_dump(
            {
                "seeds": [0],
                "dos": {
                    "datasets": {"mine": {"registry": "my_phonons", "format": "phonon_csv", "length": length}},
                    "tables": {"table2_3": {"dataset": "mine", "methods": ["gatgnn"]}},
                    "timing": {"methods": []},
                    "methods": {"gatgnn": tiny},
                },
            }
        )
    )
    return extra


def test_a_material_without_neighbours_stops_prepare_naming_it(workdir: Path) -> None:
    raw = workdir / "resources/raw/my_phonons/data.csv"
    raw.parent.mkdir(parents=True)
    write_synthetic(raw, SyntheticDos(n_materials=12, max_atoms=3, n_points=21, seed=5))
    frame = pd.read_csv(raw)
    s = eval(frame.loc[3, "structure"])
    s["cell"] = [[30.0, 0, 0], [0, 30.0, 0], [0, 0, 30.0]]  # atoms more than 8 Å from every other and themselves
    s["positions"] = [[0.0, 0, 0], [15.0, 15.0, 15.0], [0.0, 15.0, 0.0]][: len(s["numbers"])]
    frame.loc[3, "structure"] = repr(s)
    frame.to_csv(raw, index=False)
    extra = _register_phonons(workdir, raw, 21)
    res = snakemake(workdir, "results/data/dos/mine/info.json", "--cores", "1", "--configfile", str(extra))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    log = (workdir / "logs/prepare_dos/mine.log").read_text().strip().splitlines()
    assert log[-1].startswith("error: ") and str(frame.loc[3, "mp_id"]) in log[-1] and "cutoff" in log[-1], log[-3:]
    assert "Traceback" not in "\n".join(log) and "prepare_dos" in out
    assert not (workdir / "results/data/dos/mine/info.json").exists()
