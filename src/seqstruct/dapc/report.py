"""DAPC tables from the run records, and their reports beside the thesis (Tables 3.1-3.6).

A Lorenz table (3.1-3.4) has the keys ``snr, method`` and the columns ``r2`` (the linear map fitted on the first
half of the test frames, scored on the second) and ``r2_in_sample`` (the thesis' protocol: fitted and scored on
the same first frames). :func:`table_records` renames each run to its row name in the table (``dapc.tables``)
and adds the table's keys from the run's data set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.report import ComparisonSpec
from seqstruct.common.report import render as render_comparison

LORENZ_KEYS = ("snr", "method")
LORENZ_METRICS = ("r2", "r2_in_sample")
LABELS = {"r2": "R² (held-out)", "r2_in_sample": "R² in-sample (thesis protocol)"}
#: what each table is about (its report's first words)
ABOUT = {
    "table3_1": "noisy Lorenz: the recovered 3-D state of every method",
    "table3_2": "noisy Lorenz: the ablation of deterministic DAPC",
    "table3_3": "noisy Lorenz: full reconstruction with and without PI",
    "table3_4": "noisy Lorenz: CPC's temporal lag k",
}


def table_records(runs: Sequence[Mapping[str, Any]], names: Sequence[str], snrs: Sequence[float]) -> list[dict]:
    """Each run under its table row name with its data set's SNR (``runs``, ``names`` and ``snrs`` align)."""
    if not len(runs) == len(names) == len(snrs):
        raise ValueError(f"{len(runs)} runs, {len(names)} names and {len(snrs)} SNRs do not align")
    return [{**r, "run": r["method"], "method": n, "snr": float(s)} for r, n, s in zip(runs, names, snrs)]


def comparison_spec() -> ComparisonSpec:
    """How a Lorenz table is compared with the thesis: one panel per SNR, held-out R² ranks the methods."""
    return ComparisonSpec(
        panel_keys=("snr",),
        metrics={"r2": "higher", "r2_in_sample": "higher"},
        headline="r2",
        labels=LABELS,
        decimals=3,
    )


def _intro(table: str, meta: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> str:
    lorenz = meta.get("lorenz", {})
    epochs = sorted({int(r["best_epoch"]) for r in runs if "best_epoch" in r})
    selects = sorted({r.get("select", "val_loss") for r in runs})
    how = {
        "val_loss": "the lowest validation loss (no true state)",
        "ground_truth": "the best match to the true state on validation (the released code's protocol)",
    }
    return (
        f"{ABOUT.get(table, table)}. Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git "
        f"`{(meta.get('git') or {}).get('commit')}`, training time summed over runs "
        f"{meta.get('wall_time_seconds', 0) / 60:.1f} min. Data: the Lorenz attractor ({lorenz.get('frames')} "
        f"frames) lifted to 30-D by a random MLP, noise `{lorenz.get('noise')}` (docs/deviations.md), data seed "
        f"{lorenz.get('seed')}; frames split in time into train / validation / test {lorenz.get('split')}. "
        f"Epoch chosen by {'; '.join(how.get(s, s) for s in selects)} (chosen epochs "
        f"{epochs[0] if epochs else '–'}-{epochs[-1] if epochs else '–'}). R² pooled over the three "
        "coordinates of a least-squares linear map from the latents; the thesis fitted and scored it in-sample "
        "on 500 frames, which the second column repeats. Mean ± population std over seeds."
    )


def render(
    table: pd.DataFrame, thesis: pd.DataFrame, meta: Mapping[str, Any], name: str, runs: Sequence[Mapping[str, Any]]
) -> str:
    """Markdown: each SNR beside the thesis' numbers."""
    spec = ComparisonSpec.from_json(meta["thesis"])
    title = name.replace("table", "Table ").replace("_", ".")
    return render_comparison(table, thesis, spec, title, _intro(name, meta, runs))


def write_report(
    table_csv: str | Path, thesis_csv: str | Path, out_md: str | Path, runs: Sequence[Mapping[str, Any]]
) -> None:
    """Read the table, its ``.meta.json`` and the thesis CSV; write the report atomically."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    text = render(pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta, table_csv.stem, runs)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
