"""Markdown report that puts a crop table from this run beside the thesis' published numbers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.plots import plot_metric_vs_thesis, plot_validation_curves, plt, save_figure
from seqstruct.common.tables import aggregate
from seqstruct.crop.train import METHODS as METHOD_NAMES

METRICS = ("rmse", "r2", "corr")
#: our test year -> the thesis test year it stands in for (the Khaki data ends in 2018, so 2017 stands in for 2019)
THESIS_YEAR = {2018: 2018, 2017: 2019}
#: the metrics record of each table in a run's metrics.json: Table 2.2 is the test year masked after early_week
TABLE_SPLIT = {"table2_1": "test", "table2_2": "test_early"}
#: tables whose thesis numbers exist for one crop and year only: our sections are compared with that sub-table
THESIS_ONLY = {"table2_2": ("corn", 2018)}


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


def ordering(ours: pd.Series, theirs: pd.Series) -> pd.DataFrame:
    """How the RMSE ordering of the methods in both series (method -> RMSE) agrees with the thesis.

    Returns one row per shared method (index): ``rank`` here and ``thesis_rank`` (1 = lowest RMSE) and
    ``pairs_agree``, the number of other shared methods it is ordered against as in the thesis, out of
    ``pairs``."""
    shared = [m for m in ours.index if m in theirs.index]
    a, b = ours[shared], theirs[shared]
    agree = {m: sum(np.sign(a[m] - a[o]) == np.sign(b[m] - b[o]) for o in shared if o != m) for m in shared}
    return pd.DataFrame({"rank": a.rank(method="min").astype(int), "thesis_rank": b.rank(method="min").astype(int),
                         "pairs_agree": pd.Series(agree), "pairs": len(shared) - 1}, index=shared)


def kendall_tau(order: pd.DataFrame) -> float:
    """Kendall's tau between the two RMSE orderings of ``ordering``: (agreeing - disagreeing) / all pairs."""
    n = len(order)
    if n < 2:
        return float("nan")
    agree = order["pairs_agree"].sum() / 2
    total = n * (n - 1) / 2
    return float((2 * agree - total) / total)


def render(table: pd.DataFrame, thesis: pd.DataFrame, meta: dict, title: str,
           bias: pd.DataFrame | None = None, yearly: pd.Series | None = None,
           thesis_only: tuple[str, int] | None = None, selections: Sequence[dict[str, Any]] = ()) -> str:
    """Markdown text: one section per (crop, test year) of ``table`` beside the matching thesis sub-table.

    With ``bias`` (from ``bias_bu_per_acre``) a column gives each method's mean test error in bu/acre; with
    ``yearly`` (from ``yearly_mean_yield``) each section says how the test year's yields compare with the
    training years'. Each method's RMSE rank is compared with the thesis (``ordering``). ``thesis_only``
    (crop, year): the thesis has only this sub-table, so every section is compared with it. ``selections`` (the
    selection.json records) add a section with the settings chosen on the validation year."""
    out = [f"# {title}: this run beside the thesis", "",
           f"Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git `{(meta.get('git') or {}).get('commit')}`, "
           f"training time summed over runs {meta.get('wall_time_seconds', 0) / 60:.1f} min. RMSE is divided by the "
           "training-years yield std (reference code; the thesis text says all-years std). Mean ± population std "
           "over seeds; deterministic methods (the scikit-learn baselines) run once, so their std is 0."
           + (" Mean error = mean(predicted - reported) over the test counties, averaged over seeds: negative "
              "means the method predicts too low." if bias is not None else ""), ""]
    for (crop, year), rows in table.groupby(["crop", "test_year"], sort=False):
        t_crop, ty = thesis_only or (crop, THESIS_YEAR.get(int(year), int(year)))
        th = thesis[(thesis["crop"] == t_crop) & (thesis["test_year"] == ty)].set_index("method")
        note = ("" if (t_crop, ty) == (crop, year) else
                f" (the thesis reports {t_crop} {ty} only)" if thesis_only else
                f" (the thesis' {ty} column; our data ends in 2018, so {year} stands in)")
        b = (bias[(bias["crop"] == crop) & (bias["test_year"] == year)].set_index("method")
             if bias is not None else None)
        out += [f"## {crop} {year}, thesis {t_crop} {ty}{note}", ""]
        if yearly is not None and (sentence := _context(int(year), yearly)):
            out += [sentence, ""]
        out += ["| method | RMSE | R² | Corr | seeds |" + (" mean error (bu/acre) |" if b is not None else "")
                + " thesis RMSE | thesis R² | thesis Corr | RMSE rank here / thesis | ordering agrees |",
                "|---|---|---|---|---|" + ("---|" if b is not None else "") + "---|---|---|---|---|"]
        order = ordering(rows.set_index("method")["rmse_mean"], th["rmse"])
        for _, r in rows.iterrows():
            n = int(r["n_seeds"])
            cells = [r["method"], *(_cell(r[f"{m}_mean"], r[f"{m}_std"], n) for m in METRICS),
                     str(n) if n > 1 else "1 (deterministic: std 0)"]
            if b is not None:
                cells.append(f"{b.loc[r['method'], 'bias_mean']:+.2f}" if r["method"] in b.index else "–")
            t = th.loc[r["method"]] if r["method"] in th.index else None
            cells += [_thesis_cell(t[m], t[f"{m}_std"]) if t is not None else "–" for m in METRICS]
            cells += _order_cells(order, r["method"])
            out.append("| " + " | ".join(cells) + " |")
        best_ours = rows.loc[rows["rmse_mean"].idxmin(), "method"]
        shared = th.loc[th.index.isin(rows["method"])]
        best_thesis = shared["rmse"].idxmin() if len(shared) else "–"
        out += ["", f"Lowest RMSE here: **{best_ours}**; in the thesis among these methods: **{best_thesis}**."]
        if len(order) > 1:
            agree = int(order["pairs_agree"].sum() / 2)
            out[-1] += (f" RMSE ordering: {agree} of {len(order) * (len(order) - 1) // 2} method pairs ordered as "
                        f"in the thesis (Kendall's tau {kendall_tau(order):+.2f}).")
        out.append("")
    if selections:
        out += _selection_section(selections)
    done = set(table["crop"].unique()) if thesis_only is None else set()
    missing = thesis[~thesis["crop"].isin(done)]
    for (crop, year), _ in missing.groupby(["crop", "test_year"], sort=False):
        out.append(f"- thesis {crop} {year}: needs nationwide data (not reproduced: the Khaki data holds "
                   f"{', '.join(sorted(table['crop'].unique()))} only).")
    return "\n".join(out) + "\n"


def _order_cells(order: pd.DataFrame, method: str) -> list[str]:
    """The rank cell and the agreement cell of one method: "yes" when it holds the same place in the RMSE ordering
    here as in the thesis, with how many of its pairwise orderings agree (dashes when the thesis lacks it)."""
    if method not in order.index or len(order) < 2:
        return ["–", "–"]
    o = order.loc[method]
    verdict = "yes" if o["rank"] == o["thesis_rank"] else "no"  # same place in the RMSE ordering
    return [f"{o['rank']} / {o['thesis_rank']}", f"{verdict} ({o['pairs_agree']}/{o['pairs']} pairs as in the thesis)"]


def _selection_section(selections: Sequence[dict[str, Any]]) -> list[str]:
    """Markdown section: per method and test year, the settings chosen on the validation year."""
    out = ["## Settings chosen on the validation year", "",
           "Grid searched with seed " + ", ".join(sorted({str(s["seed"]) for s in selections}))
           + " on the validation year (test year - 1); the test year was never scored during the search.", "",
           "| method | test year | grid points | chosen | validation RMSE |", "|---|---|---|---|---|"]
    for s in selections:
        best = f"{s['points'][0]['val_rmse']:.4f}" if s["points"] else "– (one point: nothing to choose)"
        chosen = ", ".join(f"{k}={v}" for k, v in s["chosen"].items()) or "base settings (no grid)"
        out.append(f"| {METHOD_NAMES.get(s['method'], s['method'])} | {s['test_year']} | "
                   f"{max(1, len(s['points']))} | {chosen} | {best} |")
    return out + [""]


def write_report(table_csv: str | Path, thesis_csv: str | Path, out_md: str | Path,
                 runs: Sequence[dict[str, Any]] | None = None, prepared_nc: str | Path | None = None,
                 selections: Sequence[dict[str, Any]] = ()) -> None:
    """Read the table and its ``.meta.json`` and the thesis CSV; write the markdown report atomically.

    ``runs`` (the per-run metrics records) adds the mean-error column (Table 2.1 only: it is the unmasked
    error), ``prepared_nc`` the yearly context, ``selections`` the chosen settings."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    name = table_csv.stem
    text = render(pd.read_csv(table_csv), pd.read_csv(thesis_csv), meta,
                  title=name.replace("table", "Table ").replace("_", "."),
                  bias=bias_bu_per_acre(runs) if runs and TABLE_SPLIT.get(name, "test") == "test" else None,
                  yearly=yearly_mean_yield(prepared_nc) if prepared_nc else None,
                  thesis_only=THESIS_ONLY.get(name), selections=selections)
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


def write_masking_figure(runs: Sequence[dict[str, Any]], out: str | Path, early_week: int) -> None:
    """Test RMSE against the masking week (weekly features of the test year after week w replaced by the
    county's training-years means; w = 52 masks nothing): one panel per test year, one line per method with
    the mean over seeds and a band of ± one std; the thesis' June 1 cut-off (``early_week``) marked."""
    groups: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for r in runs:
        groups.setdefault(int(r["test_year"]), {}).setdefault(r["method"], []).append(r)
    if not groups:
        raise ValueError("write_masking_figure: no runs given")
    fig, axes = plt.subplots(1, len(groups), figsize=(5.2 * len(groups), 3.8), squeeze=False, sharey=True)
    for ax, (year, methods) in zip(axes[0], sorted(groups.items(), reverse=True)):
        for method, rs in methods.items():
            weeks = rs[0]["early"]["weeks"]
            if any(r["early"]["weeks"] != weeks for r in rs):
                raise ValueError(f"{method} {year}: runs were masked at different weeks")
            rmse = np.array([r["early"]["rmse"] for r in rs])
            mean, std = rmse.mean(0), rmse.std(0)
            (line,) = ax.plot(weeks, mean, label=f"{method} ({len(rs)} seeds)")
            ax.fill_between(weeks, mean - std, mean + std, color=line.get_color(), alpha=0.2)
        ax.axvline(early_week, color="grey", ls="--", lw=1)
        ax.text(early_week, 0.98, f" week {early_week}", transform=ax.get_xaxis_transform(), va="top",
                fontsize="small", color="grey")
        ax.set_title(f"test year {year}")
        ax.set_xlabel("weekly features known up to week")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test RMSE / training-years yield std")
    axes[0][-1].legend(fontsize="small")
    fig.tight_layout()
    save_figure(fig, out)
