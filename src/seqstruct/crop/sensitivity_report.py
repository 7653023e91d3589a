"""The crop sensitivity table, figure and report: what each method relies on (``seqstruct.crop.sensitivity``,
recorded by every training run under ``sensitivity`` in its metrics.json).

``results/tables/crop_sensitivity.csv`` has one row per (test year, method, group): the mean over training
seeds of the test RMSE, of the RMSE increase when the group is scrambled (each run averages its permutation
seeds), the increase's spread across training seeds, and the counts. The report says in words which groups
each model relies on and which it ignores.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from seqstruct.common.io import atomic_path
from seqstruct.common.plots import plot_importance
from seqstruct.common.sensitivity import reliance, summarise
from seqstruct.crop.sensitivity import GROUPS

#: an increase below this (RMSE in training-std units, about 0.1 bu/acre) counts as "ignored"
FLOOR = 0.01
KEYS = ("crop", "test_year", "method")

_MEANING = {
    "weather_current": "the test year's weekly weather",
    "planting_current": "the test year's weekly planting progress",
    "weather_history": "the earlier years' weather (5y models)",
    "soil": "the soil profile",
    "extras": "the county's other scalar extras",
    "prev_year_yield": "the previous-year mean yield",
    "neighbours": "which counties are its neighbours (graph models)",
    "own": "its own inputs, with its neighbours' kept (graph models)",
}


def sensitivity_rows(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """One row per run and group from metrics.json records (``crop``, ``test_year``, ``method``, ``seed`` and
    the ``sensitivity`` rows). Raises ValueError naming a run that has none."""
    rows = []
    for r in runs:
        if "sensitivity" not in r:
            raise ValueError(
                f"{r.get('method')} {r.get('test_year')} seed {r.get('seed')}: metrics.json has no 'sensitivity' "
                "(trained with crop.sensitivity_permutations: 0 or an older version); rerun its train_crop job"
            )
        rows += [{**{k: r[k] for k in (*KEYS, "seed")}, **g} for g in r["sensitivity"]]
    return pd.DataFrame(rows)


def sensitivity_table(runs: Sequence[dict[str, Any]], methods: Sequence[str]) -> pd.DataFrame:
    """The table: test years newest first, methods in the order of ``methods`` (thesis names), groups in
    ``GROUPS`` order."""
    table = summarise(sensitivity_rows(runs), KEYS)
    table["_m"] = table["method"].map({m: i for i, m in enumerate(methods)})
    table["_g"] = table["group"].map({g: i for i, g in enumerate(GROUPS)})
    table = table.sort_values(["crop", "test_year", "_m", "_g"], ascending=[True, False, True, True])
    return table.drop(columns=["_m", "_g"]).reset_index(drop=True)


def render(table: pd.DataFrame) -> str:
    """The markdown report: what each method relies on, then the numbers."""
    lines = [
        "# What the crop models rely on",
        "",
        "Permutation importance on the test year: the increase of the test RMSE (training-std units) when one "
        "group of inputs is scrambled, the rest left as it is; the mean over training seeds of each run's mean "
        f"over {int(table['n_permutations'].max())} permutations. Groups:",
        "",
        *[f"- `{g}`: {m}" for g, m in _MEANING.items()],
        "",
        f"A model *relies* on a group when scrambling it costs more than {FLOOR} and twice its spread across "
        f"seeds; it *ignores* a group that costs less than {FLOOR} either way.",
        "",
    ]
    for (crop, year), part in table.groupby(["crop", "test_year"], sort=False):
        lines += [f"## {crop}, test year {year}", ""]
        for method, rows in part.groupby("method", sort=False):
            used, ignored = reliance(rows, FLOOR)
            inc = dict(zip(rows.group, rows.increase_mean))
            said = ", ".join(f"{g} (+{inc[g]:.3f})" for g in used) or "no single group"
            lines.append(
                f"- **{method}** (RMSE {rows.baseline_mean.iloc[0]:.3f}) relies on {said}"
                + (f"; ignores {', '.join(ignored)}" if ignored else "")
                + "."
            )
        lines.append("")
        wide = part.pivot(index="method", columns="group", values="increase_mean")
        wide = wide.reindex(index=list(dict.fromkeys(part.method)), columns=[g for g in GROUPS if g in wide])
        lines += [_markdown(wide), ""]
    return "\n".join(lines)


def _markdown(wide: pd.DataFrame) -> str:
    head = "| method | " + " | ".join(wide.columns) + " |"
    rule = "|---|" + "---:|" * len(wide.columns)
    body = [
        f"| {m} | " + " | ".join("" if pd.isna(v) else f"{v:+.3f}" for v in row) + " |"
        for m, row in zip(wide.index, wide.to_numpy())
    ]
    return "\n".join([head, rule, *body])


def write_sensitivity(
    runs: Sequence[dict[str, Any]],
    methods: Sequence[str],
    table_out: str | Path,
    figure_out: str | Path,
    report_out: str | Path,
) -> pd.DataFrame:
    """Write the CSV table, the heat map (one panel per crop and test year) and the markdown report; return the
    table."""
    table = sensitivity_table(runs, methods)
    with atomic_path(table_out) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f")
    panels = table.assign(**{"test year": table["crop"] + " " + table["test_year"].astype(str)})  # one per crop too
    plot_importance(
        panels, figure_out, row="method", panel="test year", label="test RMSE increase (training std)", order=GROUPS
    )
    with atomic_path(report_out) as tmp:
        Path(tmp).write_text(render(table) + "\n")
    return table
