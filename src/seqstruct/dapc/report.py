"""DAPC tables from the run records, and their reports beside the thesis (Tables 3.1-3.6).

A Lorenz table (3.1-3.4) has the keys ``snr, method`` and the columns ``r2`` (the linear map fitted on the first
half of the test frames, scored on the second) and ``r2_in_sample`` (the thesis' protocol: fitted and scored on
the same first frames). :func:`table_records` renames each run to its row name in the table (``dapc.tables``)
and adds the table's keys from the run's data set.

A forecasting table (3.5, 3.6) has the keys ``dataset, lag, method`` (3.6: ``lag, method``, one series) and the
column ``r2``: one record per run and lag (:func:`forecast_records`); Table 3.5 adds ``pi_gain_r2`` and
``pi_gain_pct``, the improvement PI brings in R² and in percent (:func:`pi_gains`).
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
    "table3_5": "forecasting: what PI adds to full and masked reconstruction",
    "table3_6": "forecasting on the temperatures: CPC's temporal lag k",
}
FORECAST_METRICS = ("r2",)
KEY_NAMES = {"snr": "SNR {}", "lag": "lag {}"}  # how the numeric panel keys read in headings and the scoreboard
GAIN = "pi_gain_pct"
GAIN_R2 = "pi_gain_r2"


def table_records(runs: Sequence[Mapping[str, Any]], names: Sequence[str], snrs: Sequence[float]) -> list[dict]:
    """Each run under its table row name with its data set's SNR (``runs``, ``names`` and ``snrs`` align)."""
    if not len(runs) == len(names) == len(snrs):
        raise ValueError(f"{len(runs)} runs, {len(names)} names and {len(snrs)} SNRs do not align")
    return [{**r, "run": r["method"], "method": n, "snr": float(s)} for r, n, s in zip(runs, names, snrs)]


def forecast_records(
    runs: Sequence[Mapping[str, Any]], names: Sequence[str], series: Sequence[str]
) -> list[dict[str, Any]]:
    """One record per run and forecasting lag: ``dataset`` (the series), ``lag``, ``method`` (the row name),
    ``seed`` and ``test.r2`` (from the run's ``r2_lag<k>``); ``runs``, ``names`` and ``series`` align."""
    if not len(runs) == len(names) == len(series):
        raise ValueError(f"{len(runs)} runs, {len(names)} names and {len(series)} series do not align")
    out = []
    for r, n, s in zip(runs, names, series):
        lags = sorted(int(k.removeprefix("r2_lag")) for k in r["test"] if k.startswith("r2_lag"))
        if not lags:
            raise ValueError(f"run {r['method']} on {s} (seed {r['seed']}) has no forecasting R² (r2_lag<k>)")
        for lag in lags:
            rec = {k: v for k, v in r.items() if k not in ("test", "val", "history")}
            out.append(
                {
                    **rec,
                    "run": r["method"],
                    "method": n,
                    "dataset": s,
                    "lag": lag,
                    "test": {"r2": r["test"][f"r2_lag{lag}"]},
                    "seconds": r.get("seconds", 0.0) / len(lags),
                }
            )
    order = {s: i for i, s in enumerate(dict.fromkeys(series))}
    return sorted(out, key=lambda r: (order[r["dataset"]], r["lag"]))  # stable: rows keep their table order


def pi_gains(table: pd.DataFrame, gains: Mapping[str, str], keys: Sequence[str] = ("dataset", "lag")) -> pd.DataFrame:
    """``pi_gain_r2`` and ``pi_gain_pct`` of every row of ``table``: for a row named in ``gains`` (with PI ->
    without), R² with − R² without of the seed means in the same ``keys``, and that difference in percent of
    |R² without| (the thesis' "improvement"; large when R² without is near 0); NaN for the other rows."""
    means = table.set_index([*keys, "method"])["r2_mean"]
    diff, pct = [], []
    for _, row in table.iterrows():
        without = gains.get(row["method"])
        base = means[(*(row[k] for k in keys), without)] if without is not None else float("nan")
        diff.append(row["r2_mean"] - base)
        pct.append(100.0 * diff[-1] / abs(base) if base else float("nan"))
    return pd.DataFrame({GAIN_R2: diff, GAIN: pct}, index=table.index)


def forecast_spec(thesis_names: Mapping[str, str], lags: Sequence[int], per_series: bool) -> ComparisonSpec:
    """Forecasting tables beside the thesis: one panel per series and lag (``per_series``) or per lag; our
    series compared with the thesis set it stands for (``thesis_names``: series -> thesis name)."""
    panel_map = {(s, lag): (t, lag) for s, t in thesis_names.items() for lag in lags} if per_series else {}
    return ComparisonSpec(
        panel_keys=("dataset", "lag") if per_series else ("lag",),
        metrics={"r2": "higher"},
        headline="r2",
        labels={"r2": "forecast R² (test)"},
        panel_map=panel_map,
        decimals=3,
        key_names=KEY_NAMES,
    )


def comparison_spec() -> ComparisonSpec:
    """How a Lorenz table is compared with the thesis: one panel per SNR, held-out R² ranks the methods."""
    return ComparisonSpec(
        panel_keys=("snr",),
        metrics={"r2": "higher", "r2_in_sample": "higher"},
        headline="r2",
        labels=LABELS,
        decimals=3,
        key_names=KEY_NAMES,
    )


def _forecast_intro(table: str, meta: Mapping[str, Any]) -> str:
    series = meta.get("series", {})
    about = "; ".join(f"`{name}`: {spec.get('label', name)}" for name, spec in series.items())
    gain = (
        f" PI gain (`{GAIN_R2}`, `{GAIN}`): R² with PI − R² without, of the seed means, and that in percent of "
        f"|R² without| ({meta.get('gains')}); the percentage is large wherever R² without PI is near 0."
        if meta.get("gains")
        else ""
    )
    return (
        f"{ABOUT.get(table, table)}. Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git "
        f"`{(meta.get('git') or {}).get('commit')}`, training time summed over runs "
        f"{meta.get('wall_time_seconds', 0) / 60:.1f} min. Series (stand-ins for the thesis' sets): {about}. "
        "A unidirectional encoder trained without labels on the first part of each series (epoch by validation "
        "loss), frozen; a least-squares map from its features at t to the target at t + lag fitted on the train "
        "part, pooled R² on the test part. Mean ± population std over seeds." + gain
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
        "on 500 frames, which the second column repeats. The thesis prints one R² per method, which the "
        "comparison columns place under R² (held-out); by the released code it is that in-sample fit (on "
        "validation frames, with the epoch chosen by the true state), so it compares most directly with the "
        "in-sample column. Mean ± population std over seeds."
    )


def render(
    table: pd.DataFrame, thesis: pd.DataFrame, meta: Mapping[str, Any], name: str, runs: Sequence[Mapping[str, Any]]
) -> str:
    """Markdown: each SNR beside the thesis' numbers."""
    spec = ComparisonSpec.from_json(meta["thesis"])
    title = name.replace("table", "Table ").replace("_", ".")
    intro = _forecast_intro(name, meta) if "series" in meta else _intro(name, meta, runs)
    extra = {}
    if GAIN in table:
        keys = list(spec.panel_keys)
        gains = {(*(row[k] for k in keys), row["method"]): (row[GAIN_R2], row[GAIN]) for _, row in table.iterrows()}

        def gain(panel: tuple, method: str) -> str:
            diff, pct = gains.get((*panel, method), (float("nan"), float("nan")))
            return "" if pd.isna(diff) else f"{diff:+.3f} ({pct:+.1f}%)"

        extra["PI gain"] = gain
    return render_comparison(table, thesis, spec, title, intro, extra_columns=extra)


def write_report(
    table_csv: str | Path, thesis_csv: str | Path, out_md: str | Path, runs: Sequence[Mapping[str, Any]]
) -> None:
    """Read the table, its ``.meta.json`` and the thesis CSV; write the report atomically."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    text = render(pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta, table_csv.stem, runs)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
