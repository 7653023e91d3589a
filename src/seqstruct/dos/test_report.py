"""DoS tables: one row per (space, method) from the run records, the figure's picks, the timing table."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from seqstruct.common.tables import table_meta, write_table
from seqstruct.dos.figures import pick_materials, plot_spectra
from seqstruct.dos.report import KEYS, METRICS, comparison_spec, render, table_records


def _run(method: str, seed: int, r2: float) -> dict:
    test = {"r2": r2, "mae": 0.01, "mse": 1e-4, "wd": 0.07, "r2_ori": r2 - 0.05, "mae_ori": 0.08, "mse_ori": 0.02}
    return {"method": method, "seed": seed, "test": {**test, "kl": 0.1}, "best_epoch": 5, "seconds": 1.0}


def test_table_has_both_spaces_with_the_thesis_columns(tmp_path: Path) -> None:
    runs = [_run("Xtal2DoS", s, 0.7 + 0.01 * s) for s in (0, 1)] + [_run("Mat2Spec", 0, 0.6)]
    rows = table_records(runs)
    assert [(r["space"], r["method"]) for r in rows[:2]] == [("normalized", "Xtal2DoS"), ("original", "Xtal2DoS")]
    assert rows[1]["test"] == {"r2": 0.7 - 0.05, "mae": 0.08, "mse": 0.02, "wd": 0.07}  # the _ori metrics, WD shared
    assert sum(r["seconds"] for r in rows) == 3.0  # each run's time counted once
    meta = table_meta(scale="small", source="synthetic", raw=[], thesis=comparison_spec().to_json())
    table = write_table(rows, tmp_path / "table2_3.csv", keys=list(KEYS), metrics=list(METRICS), meta=meta)
    thesis = pd.read_csv(Path(__file__).resolve().parents[3] / "config/thesis/table2_3.csv")
    assert list(table.columns[:2]) == list(thesis.columns[:2]) and set(table["space"]) == set(thesis["space"])
    x = table.set_index(["space", "method"])
    assert np.isclose(x.loc[("normalized", "Xtal2DoS"), "r2_mean"], 0.705)
    assert (
        np.isclose(x.loc[("original", "Mat2Spec"), "r2_mean"], 0.55) and x.loc[("original", "Mat2Spec"), "n_seeds"] == 1
    )
    import json

    meta = json.loads((tmp_path / "table2_3.meta.json").read_text())
    info = {"dataset": "phdos", "n_materials": 30, "split": "random", "split_seed": 0, "sizes": {"test": 3}}
    text = render(pd.read_csv(tmp_path / "table2_3.csv"), thesis, meta, "table2_3", runs, info)
    assert "## normalized, thesis normalized" in text and "## original, thesis original" in text
    assert "oracle scale" in text and "| Xtal2DoS |" in text


def test_figure_picks_best_median_worst(tmp_path: Path) -> None:
    true = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    pred = np.array([[0.5, 0.5], [0.99, 0.01], [0.8, 0.2]])
    assert pick_materials(true, pred) == {"best": 1, "median": 2, "worst": 0}
    np.savez(tmp_path / "p.npz", pred=pred, true=true, ids=np.array(["a", "b", "c"]))
    plot_spectra({"Xtal2DoS": tmp_path / "p.npz"}, [0.0, 1.0], tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
