"""Crop's side of the thesis comparison: the comparison spec, the bu/acre error column, the yearly context and
the figures (the comparison itself is ``seqstruct.common.report``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.metrics import direction
from seqstruct.common.plots import plot_metric_vs_thesis, plot_validation_curves, plt, save_figure
from seqstruct.common.report import ComparisonSpec, selection_section
from seqstruct.common.report import render as render_comparison
from seqstruct.common.tables import aggregate
from seqstruct.crop.train import METHODS as METHOD_NAMES

METRICS = ("rmse", "r2", "corr")
LABELS = {"rmse": "RMSE", "r2": "R²", "corr": "Corr"}
#: where the settings were chosen (the selection section of the report)
WHERE = "on the validation year (test year - 1); the test year was never scored during the search."
#: our test year -> the thesis test year it stands in for (the Khaki data ends in 2018, so 2017 stands in for 2019)
THESIS_YEAR = {2018: 2018, 2017: 2019}
#: the metrics record of each table in a run's metrics.json: Table 2.2 is the test year masked after early_week
TABLE_SPLIT = {"table2_1": "test", "table2_2": "test_early"}
#: tables whose thesis numbers exist for one crop and year only: our sections are compared with that sub-table
THESIS_ONLY = {"table2_2": ("corn", 2018)}


def bias_bu_per_acre(runs: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Mean test error in bu/acre per (crop, test_year, method): ``bias_mean`` and population ``bias_std`` over
    seeds (``seqstruct.common.tables.aggregate``).

    Each run's ``test.bias`` is in standardised units; multiplied by its ``y_std`` it is in bu/acre."""
    in_bu = [{**r, "test": {"bias": r["test"]["bias"] * r["y_std"]}} for r in runs]
    return aggregate(in_bu, ["crop", "test_year", "method"], ["bias"]).drop(columns="n_seeds")


def yearly_mean_yield(nc_paths: str | Path | Sequence[str | Path]) -> dict[str, pd.Series]:
    """Mean reported yield (bu/acre) per year of each prepared crop NetCDF (by its ``crop`` attribute), over the
    counties with a yield."""
    out = {}
    for path in [nc_paths] if isinstance(nc_paths, str | Path) else nc_paths:
        with xr.open_dataset(path, engine="h5netcdf") as ds:
            out[str(ds.attrs.get("crop", ""))] = ds["yield"].mean("county", skipna=True).to_series().dropna()
    return out


def _context(crop: str, year: int, by_crop: Mapping[str, pd.Series]) -> str:
    """One sentence comparing the test year's mean yield with the training years' (before the validation year)."""
    if crop not in by_crop:
        return ""
    yearly = by_crop[crop]
    train = yearly[yearly.index < year - 1]
    if year not in yearly.index or train.empty:
        return ""
    top = int(train.idxmax())
    return (
        f"Mean reported yield: {yearly[year]:.1f} bu/acre in {year}, {yearly[year - 1]:.1f} in {year - 1} "
        f"(validation); training years {int(train.index.min())}-{int(train.index.max())}: mean "
        f"{train.mean():.1f}, highest {train.max():.1f} ({top})."
    )


def comparison_spec(table_name: str, crops: Sequence[str], years: Sequence[int]) -> ComparisonSpec:
    """How crop table ``table_name`` of ``crops`` x test ``years`` is compared with the thesis: RMSE ranks the
    methods; our 2017 stands in for the thesis' 2019; Table 2.2 exists in the thesis for corn 2018 only."""
    return ComparisonSpec(
        panel_keys=("crop", "test_year"),
        metrics={m: direction(m) for m in METRICS},
        headline="rmse",
        labels=LABELS,
        decimals=4,
        thesis_only=THESIS_ONLY.get(table_name),
        panel_map={(c, y): (c, THESIS_YEAR[y]) for c in crops for y in years if THESIS_YEAR.get(y, y) != y},
    )


def render(
    table: pd.DataFrame,
    thesis: pd.DataFrame,
    meta: dict,
    title: str,
    spec: ComparisonSpec,
    bias: pd.DataFrame | None = None,
    yearly: Mapping[str, pd.Series] | None = None,
    selections: Sequence[dict[str, Any]] = (),
) -> str:
    """Markdown text: one section per (crop, test year) of ``table`` beside the matching thesis sub-table
    (``seqstruct.common.report.render``).

    With ``bias`` (from ``bias_bu_per_acre``) a column gives each method's mean test error in bu/acre; with
    ``yearly`` (from ``yearly_mean_yield``) each section says how the test year's yields compare with the
    training years'. ``selections`` (the selection.json records) add a section with the settings chosen on the
    validation year."""
    intro = (
        f"Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git `{(meta.get('git') or {}).get('commit')}`, "
        f"training time summed over runs {meta.get('wall_time_seconds', 0) / 60:.1f} min. RMSE is divided by the "
        "training-years yield std (reference code; the thesis text says all-years std). Mean ± population std "
        "over seeds; deterministic methods (the scikit-learn baselines) run once, so their std is 0."
        + (
            " Mean error = mean(predicted - reported) over the test counties, averaged over seeds: negative "
            "means the method predicts too low."
            if bias is not None
            else ""
        )
    )
    extra = {}
    if bias is not None:
        by_panel = bias.set_index(["crop", "test_year", "method"])["bias_mean"]
        extra["mean error (bu/acre)"] = lambda panel, m: (
            f"{by_panel[(*panel, m)]:+.2f}" if (*panel, m) in by_panel else "–"
        )

    def note(panel: tuple[Any, ...], theirs: tuple[Any, ...]) -> str:
        if theirs == panel:
            return ""
        if spec.thesis_only:
            return f" (the thesis reports {theirs[0]} {theirs[1]} only)"
        return f" (the thesis' {theirs[1]} column; our data ends in 2018, so {panel[1]} stands in)"

    crops = ", ".join(sorted(table["crop"].unique()))
    years = ", ".join(map(str, table["test_year"].unique()))

    def unreproduced(p: tuple[Any, ...]) -> str:
        if p[0] in set(table["crop"]):
            return f"- thesis {p[0]} {p[1]}: not run here (test years {years})."
        return f"- thesis {p[0]} {p[1]}: needs nationwide data (not reproduced: the Khaki data holds {crops} only)."

    sections = (
        [
            selection_section(
                selections,
                "test_year",
                "test year",
                "RMSE",
                WHERE,
                METHOD_NAMES,
                heading="Settings chosen on the validation year",
            )
        ]
        if selections
        else []
    )
    return render_comparison(
        table,
        thesis,
        spec,
        title,
        intro,
        panel_note=note,
        panel_intro=(lambda panel: _context(str(panel[0]), int(panel[1]), yearly)) if yearly is not None else None,
        extra_columns=extra,
        sections=sections,
        unreproduced=unreproduced,
    )


def write_report(
    table_csv: str | Path,
    thesis_csv: str | Path,
    out_md: str | Path,
    runs: Sequence[dict[str, Any]] | None = None,
    prepared_nc: str | Path | Sequence[str | Path] | None = None,
    selections: Sequence[dict[str, Any]] = (),
) -> None:
    """Read the table, its ``.meta.json`` (with the comparison spec under ``thesis``) and the thesis CSV; write
    the markdown report atomically.

    ``runs`` (the per-run metrics records) adds the mean-error column (Table 2.1 only: it is the unmasked
    error), ``prepared_nc`` the yearly context, ``selections`` the chosen settings."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    name = table_csv.stem
    text = render(
        pd.read_csv(table_csv),
        pd.read_csv(thesis_csv),
        meta,
        title=name.replace("table", "Table ").replace("_", "."),
        spec=ComparisonSpec.from_json(meta["thesis"]),
        bias=bias_bu_per_acre(runs) if runs and TABLE_SPLIT.get(name, "test") == "test" else None,
        yearly=yearly_mean_yield(prepared_nc) if prepared_nc else None,
        selections=selections,
    )
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)


def write_figures(
    table_csv: str | Path,
    thesis_csv: str | Path,
    runs: Sequence[dict[str, Any]],
    out_rmse: str | Path,
    out_curves: str | Path,
) -> None:
    """The table's RMSE per method beside the thesis (one panel per crop and test year) and the validation curves of
    the deep models (normalised validation RMSE per epoch, the selected epoch marked)."""
    table = pd.read_csv(table_csv)
    thesis = pd.read_csv(thesis_csv)
    thesis = thesis[thesis["crop"].isin(table["crop"].unique())]

    def panel(crop: Any, year: Any) -> str:  # one panel per crop and test year
        return f"{crop} {int(year)}"

    table["test"] = [panel(c, y) for c, y in zip(table["crop"], table["test_year"])]
    thesis["test"] = [panel(c, y) for c, y in zip(thesis["crop"], thesis["test_year"])]
    stands_for = {
        panel(c, y): panel(c, THESIS_YEAR.get(int(y), int(y))) for c, y in zip(table["crop"], table["test_year"])
    }
    plot_metric_vs_thesis(
        table, thesis, "rmse", "test", out_rmse, thesis_panel=stands_for, label="test RMSE / training-years yield std"
    )
    runs = [{**r, "test": panel(r["crop"], r["test_year"])} for r in runs]
    plot_validation_curves(runs, "test", out_curves, label="validation RMSE (normalised)")


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
        ax.text(
            early_week,
            0.98,
            f" week {early_week}",
            transform=ax.get_xaxis_transform(),
            va="top",
            fontsize="small",
            color="grey",
        )
        ax.set_title(f"test year {year}")
        ax.set_xlabel("weekly features known up to week")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test RMSE / training-years yield std")
    axes[0][-1].legend(fontsize="small")
    fig.tight_layout()
    save_figure(fig, out)
