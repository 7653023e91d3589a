"""DoS tables from the run records, and their reports beside the thesis (Tables 2.3-2.6).

A thesis DoS table stacks two sub-tables, the sum-normalised space (top) and the original space (bottom), with
the columns R², MAE, MSE and WD. :func:`table_records` turns each run record (``seqstruct.dos.train``) into one
record per space with those four metrics (the original space's ``r2_ori``, ``mae_ori``, ``mse_ori``; WD is the
same in both, as the thesis prints it), so that ``seqstruct.common.tables.write_table`` writes the table with the
key columns ``space, method`` of ``config/thesis/<table>.csv``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.metrics import direction
from seqstruct.common.report import ComparisonSpec, selection_section
from seqstruct.common.report import render as render_comparison

KEYS = ("space", "method")
METRICS = ("r2", "mae", "mse", "wd")
LABELS = {"r2": "R²", "mae": "MAE", "mse": "MSE", "wd": "WD"}
#: space -> our metric of each table column
SPACES = {
    "normalized": {"r2": "r2", "mae": "mae", "mse": "mse", "wd": "wd"},
    "original": {"r2": "r2_ori", "mae": "mae_ori", "mse": "mse_ori", "wd": "wd"},
}
#: what each table is about (its report's first words)
ABOUT = {
    "table2_3": "phonon DoS, every model",
    "table2_4": "electronic DoS, every model",
    "table2_5": "phonon DoS, the decoder ablation",
    "table2_6": "electronic DoS, the decoder ablation",
}


def table_records(runs: Sequence[Mapping[str, Any]], split: str = "test") -> list[dict[str, Any]]:
    """One record per (run, space): the run's record with ``space`` and its ``split`` entry cut to the table's
    four metrics of that space. Only the first space's record keeps the run's ``seconds``, so that the table's
    summed training time counts every run once."""
    return [
        {**r, "space": space, split: {col: r[split][ours] for col, ours in names.items()}}
        | ({} if i == 0 else {"seconds": 0.0})
        for r in runs
        for i, (space, names) in enumerate(SPACES.items())
    ]


def comparison_spec() -> ComparisonSpec:
    """How a DoS table is compared with the thesis: one panel per space, R² ranks the methods."""
    return ComparisonSpec(
        panel_keys=("space",),
        metrics={m: direction(m) for m in METRICS},
        headline="r2",
        labels=LABELS,
    )


def _intro(table: str, meta: Mapping[str, Any], runs: Sequence[Mapping[str, Any]], info: Mapping[str, Any]) -> str:
    epochs = sorted({int(r["best_epoch"]) for r in runs if "best_epoch" in r})
    split = info.get("split")
    split_words = (
        f"split 80/10/10 at random with seed {info.get('split_seed')}"
        if split == "random"
        else "split by the phonon tutorial's index files"
    )
    return (
        f"{ABOUT.get(table, table)}. Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git "
        f"`{(meta.get('git') or {}).get('commit')}`, training time summed over runs "
        f"{meta.get('wall_time_seconds', 0) / 60:.1f} min. Data: {info.get('n_materials')} materials "
        f"({info.get('dataset')}), {split_words} ({info.get('sizes')}). Every model predicts the spectrum's shape "
        "(a softmax over the grid); the original-space metrics scale it by the *true* spectrum's sum (the "
        "reference code's oracle scale, docs/deviations.md). R² is variance-weighted over grid points, WD the "
        "1-D Wasserstein distance on the grid times 0.0625, as the reference code. The epoch is chosen on "
        f"validation {meta.get('grid_metric')} (chosen epochs: {epochs[0] if epochs else '–'}-"
        f"{epochs[-1] if epochs else '–'}); the thesis' code chose it on test. Mean ± population std over seeds."
    )


def render(
    table: pd.DataFrame,
    thesis: pd.DataFrame,
    meta: Mapping[str, Any],
    name: str,
    runs: Sequence[Mapping[str, Any]],
    info: Mapping[str, Any],
    selections: Sequence[Mapping[str, Any]] = (),
    method_names: Mapping[str, str] | None = None,
) -> str:
    """Markdown: the two spaces beside the thesis' numbers, and the settings chosen on validation."""
    spec = ComparisonSpec.from_json(meta["thesis"])
    sections = (
        [
            selection_section(
                selections,
                "dataset",
                "data set",
                meta.get("grid_metric", ""),
                "on the validation split only",
                dict(method_names or {}),
                None,
            )
        ]
        if any(s.get("points") for s in selections)
        else []
    )
    title = name.replace("table", "Table ").replace("_", ".")
    return render_comparison(table, thesis, spec, title, _intro(name, meta, runs, info), sections=sections)


def write_report(
    table_csv: str | Path,
    thesis_csv: str | Path,
    out_md: str | Path,
    runs: Sequence[Mapping[str, Any]],
    info: Mapping[str, Any],
    selections: Sequence[Mapping[str, Any]] = (),
    method_names: Mapping[str, str] | None = None,
) -> None:
    """Read the table, its ``.meta.json`` and the thesis CSV; write the report atomically."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    text = render(
        pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta, table_csv.stem, runs, info, selections, method_names
    )
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
