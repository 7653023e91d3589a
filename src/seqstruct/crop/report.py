"""Markdown report that puts a crop table from this run beside the thesis' published numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.plots import plot_metric_vs_thesis, plot_validation_curves
from seqstruct.common.tables import aggregate

METRICS = ("rmse", "r2", "corr")
#: our test year -> the thesis test year it stands in for (the Khaki data ends in 2018, so 2017 stands in for 2019)
THESIS_YEAR = {2018: 2018, 2017: 2019}


def _cell(mean: float, std: float, n: int) -> str:
    return f"{mean:.4f} ± {std:.4f}" if n > 1 else f"{mean:.4f}"


def _thesis_cell(value: float, std: float) -> str:
    if pd.isna(value):
        return "–"
    return f"{value:.4f} ± {std:.4f}" if pd.notna(std) else f"{value:.4f}"


def bias_bu_per_acre(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Mean test error in bu/acre per (crop, test_year, method): ``bias_mean`` and population ``bias_std`` over
    seeds (``seqstruct.common.tables.aggregate``).

    Each run's ``test.bias`` is in standardised units; multiplied by its ``y_std`` it is in bu/acre."""
    in_bu = [{**r, "test": {"bias": r["test"]["bias"] * r["y_std"]}} for r in runs]
    return aggregate(in_bu, ["crop", "test_year", "method"], ["bias"]).drop(columns="n_seeds")


def yearly_mean_yield(nc_path: str | Path) -> pd.Series:
    """Mean reported yield (bu/acre) per year of a prepared crop NetCDF, over the counties with a yield."""
    with xr.open_dataset(nc_path, engine="h5netcdf") as ds:
        return ds["yield"].mean("county", skipna=True).to_series().dropna()


def _context(year: int, yearly: pd.Series) -> str:
    """One sentence comparing the test year's mean yield with the training years' (before the validation year)."""
    train = yearly[yearly.index < year - 1]
    if year not in yearly.index or train.empty:
        return ""
    top = int(train.idxmax())
    return (f"Mean reported yield: {yearly[year]:.1f} bu/acre in {year}, {yearly[year - 1]:.1f} in {year - 1} "
            f"(validation); training years {int(train.index.min())}-{int(train.index.max())}: mean "
            f"{train.mean():.1f}, highest {train.max():.1f} ({top}).")


def render(table: pd.DataFrame, thesis: pd.DataFrame, meta: dict, title: str,
           bias: pd.DataFrame | None = None, yearly: pd.Series | None = None) -> str:
    """Markdown text: one section per (crop, test year) of ``table`` beside the matching thesis sub-table.

    With ``bias`` (from ``bias_bu_per_acre``) a column gives each method's mean test error in bu/acre; with
    ``yearly`` (from ``yearly_mean_yield``) each section says how the test year's yields compare with the
    training years'."""
    out = [f"# {title}: this run beside the thesis", "",
           f"Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git `{(meta.get('git') or {}).get('commit')}`, "
           f"training time summed over runs {meta.get('wall_time_seconds', 0) / 60:.1f} min. RMSE is divided by the "
           "training-years yield std (reference code; the thesis text says all-years std). Mean ± population std "
           "over seeds; deterministic methods run once (no ±)."
           + (" Mean error = mean(predicted - reported) over the test counties, averaged over seeds: negative "
              "means the method predicts too low." if bias is not None else ""), ""]
    for (crop, year), rows in table.groupby(["crop", "test_year"], sort=False):
        ty = THESIS_YEAR.get(int(year), int(year))
        th = thesis[(thesis["crop"] == crop) & (thesis["test_year"] == ty)].set_index("method")
        note = "" if ty == year else f" (the thesis' {ty} column; our data ends in 2018, so {year} stands in)"
        b = (bias[(bias["crop"] == crop) & (bias["test_year"] == year)].set_index("method")
             if bias is not None else None)
        out += [f"## {crop} {year}, thesis {crop} {ty}{note}", ""]
        if yearly is not None and (sentence := _context(int(year), yearly)):
            out += [sentence, ""]
        out += ["| method | RMSE | R² | Corr | seeds |" + (" mean error (bu/acre) |" if b is not None else "")
                + " thesis RMSE | thesis R² | thesis Corr |",
                "|---|---|---|---|---|" + ("---|" if b is not None else "") + "---|---|---|"]
        for _, r in rows.iterrows():
            cells = [r["method"], *(_cell(r[f"{m}_mean"], r[f"{m}_std"], int(r["n_seeds"])) for m in METRICS),
                     str(int(r["n_seeds"]))]
            if b is not None:
                cells.append(f"{b.loc[r['method'], 'bias_mean']:+.2f}" if r["method"] in b.index else "–")
            t = th.loc[r["method"]] if r["method"] in th.index else None
            cells += [_thesis_cell(t[m], t[f"{m}_std"]) if t is not None else "–" for m in METRICS]
            out.append("| " + " | ".join(cells) + " |")
        best_ours = rows.loc[rows["rmse_mean"].idxmin(), "method"]
        shared = th.loc[th.index.isin(rows["method"])]
        best_thesis = shared["rmse"].idxmin() if len(shared) else "–"
        out += ["", f"Lowest RMSE here: **{best_ours}**; in the thesis among these methods: **{best_thesis}**.", ""]
    missing = thesis[~thesis["crop"].isin(table["crop"].unique())]
    for (crop, year), _ in missing.groupby(["crop", "test_year"], sort=False):
        out.append(f"- thesis {crop} {year}: not reproduced (needs the nationwide data, which is not public).")
    return "\n".join(out) + "\n"


def write_report(table_csv: str | Path, thesis_csv: str | Path, out_md: str | Path,
                 runs: Sequence[dict[str, Any]] | None = None, prepared_nc: str | Path | None = None) -> None:
    """Read the table and its ``.meta.json`` and the thesis CSV; write the markdown report atomically.

    ``runs`` (the per-run metrics records) adds the mean-error column, ``prepared_nc`` the yearly context."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    text = render(pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta,
                  title=table_csv.stem.replace("table", "Table ").replace("_", "."),
                  bias=bias_bu_per_acre(runs) if runs else None,
                  yearly=yearly_mean_yield(prepared_nc) if prepared_nc else None)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)


def write_figures(table_csv: str | Path, thesis_csv: str | Path, runs: Sequence[dict[str, Any]],
                  out_rmse: str | Path, out_curves: str | Path) -> None:
    """The table's RMSE per method beside the thesis (one panel per test year) and the validation curves of
    the deep models (normalised validation RMSE per epoch, the selected epoch marked)."""
    table = pd.read_csv(table_csv)
    thesis = pd.read_csv(thesis_csv)
    thesis = thesis[thesis["crop"].isin(table["crop"].unique())]
    plot_metric_vs_thesis(table, thesis, "rmse", "test_year", out_rmse, thesis_panel=THESIS_YEAR,
                          label="test RMSE / training-years yield std")
    plot_validation_curves(runs, "test_year", out_curves, label="validation RMSE (normalised)")
