"""Markdown report that puts a crop table from this run beside the thesis' published numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from seqstruct.common.io import atomic_path, read_json

METRICS = ("rmse", "r2", "corr")
#: our test year -> the thesis test year it stands in for (the Khaki data ends in 2018, so 2017 stands in for 2019)
THESIS_YEAR = {2018: 2018, 2017: 2019}


def _cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.4f} ± {std:.4f}" if n > 1 else f"{mean:.4f}"


def _thesis_cell(value: float, std: float) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.4f} ± {std:.4f}" if pd.notna(std) else f"{value:.4f}"


def render(table: pd.DataFrame, thesis: pd.DataFrame, meta: dict, title: str) -> str:
    """Markdown text: one section per (crop, test year) of ``table`` beside the matching thesis sub-table."""
    out = [f"# {title}: this run beside the thesis", "",
           f"Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git `{(meta.get('git') or {}).get('commit')}`, "
           f"total training time {meta.get('wall_time_seconds', 0) / 60:.1f} min. RMSE is divided by the "
           "training-years yield std (reference code; the thesis text says all-years std). Mean ± population std "
           "over seeds; deterministic methods run once (no ±).", ""]
    for (crop, year), rows in table.groupby(["crop", "test_year"], sort=False):
        ty = THESIS_YEAR.get(int(year), int(year))
        th = thesis[(thesis["crop"] == crop) & (thesis["test_year"] == ty)].set_index("method")
        note = "" if ty == year else f" (the thesis' {ty} column; our data ends in 2018, so {year} stands in)"
        out += [f"## {crop} {year}, thesis {crop} {ty}{note}", "",
                "| method | RMSE | R² | Corr | seeds | thesis RMSE | thesis R² | thesis Corr |",
                "|---|---|---|---|---|---|---|---|"]
        for _, r in rows.iterrows():
            ours = [_cell(r[f"{m}_mean"], r[f"{m}_std"], int(r["n_seeds"])) for m in METRICS]
            t = th.loc[r["method"]] if r["method"] in th.index else None
            theirs = [_thesis_cell(t[m], t[f"{m}_std"]) if t is not None else "–" for m in METRICS]
            out.append(f"| {r['method']} | " + " | ".join(ours) + f" | {int(r['n_seeds'])} | " + " | ".join(theirs) + " |")
        best_ours = rows.loc[rows["rmse_mean"].idxmin(), "method"]
        shared = th.loc[th.index.isin(rows["method"])]
        best_thesis = shared["rmse"].idxmin() if len(shared) else "–"
        out += ["", f"Lowest RMSE here: **{best_ours}**; in the thesis among these methods: **{best_thesis}**.", ""]
    missing = thesis[~thesis["crop"].isin(table["crop"].unique())]
    for (crop, year), _ in missing.groupby(["crop", "test_year"], sort=False):
        out.append(f"- thesis {crop} {year}: not reproduced (needs the nationwide data, which is not public).")
    return "\n".join(out) + "\n"


def write_report(table_csv: str | Path, thesis_csv: str | Path, out_md: str | Path) -> None:
    """Read the table and its ``.meta.json`` and the thesis CSV; write the markdown report atomically."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    text = render(pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta, title=table_csv.stem.replace("table", "Table ").replace("_", "."))
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)
