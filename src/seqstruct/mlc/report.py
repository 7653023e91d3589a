"""MLC's side of the thesis comparison: which metrics each table holds, the comparison spec, the markdown report
of Tables 2.8-2.10 (and the extras table) and Table 2.11 (the comparison itself is ``seqstruct.common.report``).

Every data set is a panel: the methods are ranked on it here and in the thesis, as the thesis' tables do.
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
from seqstruct.common.tables import aggregate
from seqstruct.mlc.train import DETERMINISTIC
from seqstruct.mlc.train import METHODS as METHOD_NAMES

#: table -> its metrics in column order (Tables 2.8-2.10 split the five metrics as the thesis prints them)
TABLE_METRICS: dict[str, tuple[str, ...]] = {
    "table2_8": ("ex_f1", "mi_f1"),
    "table2_9": ("ma_f1", "ha"),
    "table2_10": ("p_at_1",),
    "mlc_extras": ("ex_f1", "mi_f1", "ma_f1", "ha", "p_at_1"),
    "table2_12": ("ex_f1", "mi_f1", "ma_f1"),
    "table2_13": ("ha", "ex_f1", "mi_f1", "ma_f1"),
    "table2_14": ("mi_f1",),
}
#: the headline where it is not the first metric (config/thesis/index.yaml)
HEADLINE = {"table2_13": "ex_f1"}
#: key columns where they are not (dataset, method): Table 2.13 compares runs on different shares of the data
TABLE_KEYS = {"table2_13": ("dataset", "method", "data_pct")}
#: a thesis row name -> ours where the thesis prints another name for the same method (Table 2.10: "MLARAM" for
#: the HARAM row of Tables 2.8/2.9)
THESIS_NAMES = {"table2_10": {"MLARAM": "HARAM"}}
LABELS = {"ex_f1": "ex-F1", "mi_f1": "mi-F1", "ma_f1": "ma-F1", "ha": "HA", "p_at_1": "P@1"}
#: Table 2.11's columns (seqstruct.mlc.prepare.dataset_statistics)
STATISTICS = (
    "n_samples",
    "n_labels",
    "mean_labels_per_sample",
    "median_labels_per_sample",
    "max_labels_per_sample",
    "mean_samples_per_label",
)
WHERE = "on the validation split (80/10/10); the test split was never scored during the search."


def comparison_spec(table_name: str, stand_ins: Mapping[str, str] | None = None) -> ComparisonSpec:
    """How MLC table ``table_name`` is compared with the thesis: one panel per data set (a stand-in's panel beside
    the thesis data set it stands in for), the headline metric ranks the methods, 3 decimals as the thesis."""
    metrics = TABLE_METRICS[table_name]
    return ComparisonSpec(
        panel_keys=("dataset",),
        metrics={m: direction(m) for m in metrics},
        headline=HEADLINE.get(table_name, metrics[0]),
        labels={m: LABELS[m] for m in metrics},
        panel_map={(d,): (theirs,) for d, theirs in (stand_ins or {}).items()},
        method_map=THESIS_NAMES.get(table_name, {}),
        decimals=3,
    )


def statistics_spec() -> ComparisonSpec:
    """Table 2.11 beside the thesis: one panel of all data sets (the compared "methods"), ranked by size."""
    return ComparisonSpec(
        panel_keys=(),
        method_key="dataset",
        metrics={"n_samples": "higher", **{k: "none" for k in STATISTICS[1:]}},
        headline="n_samples",
        decimals=2,
    )


def at_half(runs: Sequence[Mapping[str, Any]], metric: str) -> pd.DataFrame:
    """Mean and std over seeds of ``metric`` at the fixed threshold 0.5, per (dataset, method)."""
    return aggregate(runs, ["dataset", "method"], [metric], split="test_at_half").drop(columns="n_seeds")


def _intro(meta: Mapping[str, Any], runs: Sequence[Mapping[str, Any]]) -> str:
    thresholds = sorted({round(float(r["threshold"]), 2) for r in runs})
    chosen_by = ", ".join(meta.get("threshold_metric") or ["mi_f1"])
    single = sorted({str(r["method"]) for r in runs if r.get("slug") in DETERMINISTIC})
    return (
        f"Scale `{meta.get('scale')}`, seeds {meta.get('seeds')}, git `{(meta.get('git') or {}).get('commit')}`, "
        f"training time summed over runs {meta.get('wall_time_seconds', 0) / 60:.1f} min. Every data set is split "
        f"80/10/10 with seed {meta.get('split_seed')} (the thesis' own index files are not public). One decision "
        f"threshold per run, chosen on validation to maximise {chosen_by} (chosen values: "
        f"{', '.join(map(str, thresholds)) or '–'}); the column 'at 0.5' gives the headline metric at the fixed "
        "threshold 0.5. Mean ± population std over seeds"
        + (f"; {', '.join(single)} are deterministic and run once" if single else "")
        + ". Metrics as defined in `seqstruct.common.metrics.multilabel` (empty samples and labels: "
        "docs/deviations.md, chapter 2.3). SLEEC and RBCC are not implemented here."
        + "".join(
            f" The thesis prints this table's {ours} row as {theirs}."
            for theirs, ours in ((meta.get("thesis") or {}).get("method_map") or {}).items()
        )
    )


def render(
    table: pd.DataFrame,
    thesis: pd.DataFrame,
    meta: Mapping[str, Any],
    title: str,
    runs: Sequence[Mapping[str, Any]],
    selections: Sequence[Mapping[str, Any]] = (),
    unavailable: Mapping[str, str] | None = None,
    stand_ins: Mapping[str, str] | None = None,
    note: str = "",
) -> str:
    """Markdown: one section per data set beside the thesis' numbers, the settings chosen on validation, and a
    line for each thesis data set not reproduced (``unavailable``: name -> why); ``note`` ends the intro."""
    spec = ComparisonSpec.from_json(meta["thesis"])
    half = at_half(runs, spec.headline).set_index(["dataset", "method"])[f"{spec.headline}_mean"]
    extra = {
        f"{spec.label(spec.headline)} at 0.5": lambda panel, m: (
            spec.number(half[(panel[0], m)]) if (panel[0], m) in half else "–"
        )
    }
    unavailable, stand_ins = dict(unavailable or {}), dict(stand_ins or {})

    def panel_note(panel: tuple[Any, ...], theirs: tuple[Any, ...]) -> str:
        if panel[0] in stand_ins:
            return f" (a stand-in for the thesis' {stand_ins[panel[0]]}, not the same data)"
        return ""

    def unreproduced(p: tuple[Any, ...]) -> str:
        if p[0] in unavailable:
            return f"- thesis {p[0]}: not available ({unavailable[p[0]]})."
        return f"- thesis {p[0]}: not run here (not in mlc.table_datasets)."

    sections = (
        [selection_section(selections, "dataset", "data set", meta.get("grid_metric", ""), WHERE, METHOD_NAMES, 3)]
        if selections
        else []
    )
    return render_comparison(
        table,
        thesis,
        spec,
        title,
        _intro(meta, runs) + (f" {note}" if note else ""),
        panel_note=panel_note,
        extra_columns=extra,
        sections=sections,
        unreproduced=unreproduced,
    )


def write_report(
    table_csv: str | Path,
    thesis_csv: str | Path | None,
    out_md: str | Path,
    runs: Sequence[Mapping[str, Any]],
    selections: Sequence[Mapping[str, Any]] = (),
    unavailable: Mapping[str, str] | None = None,
    stand_ins: Mapping[str, str] | None = None,
    note: str = "",
) -> None:
    """Read the table and its ``.meta.json`` (the comparison spec under ``thesis``) and the thesis CSV (None: a
    table the thesis does not have); write the report atomically."""
    table_csv = Path(table_csv)
    meta = read_json(table_csv.with_suffix(".meta.json"))
    spec = ComparisonSpec.from_json(meta["thesis"])
    thesis = pd.read_csv(thesis_csv) if thesis_csv else pd.DataFrame(columns=["dataset", "method", *spec.metrics])
    name = table_csv.stem
    title = name.replace("table", "Table ").replace("_", ".") if name.startswith("table") else name
    text = render(pd.read_csv(table_csv), thesis, meta, title, runs, selections, unavailable, stand_ins, note)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)


def ablation_note(
    table: str, rows: Mapping[str, str], variants: Mapping[str, Mapping[str, Any]], datasets: Sequence[str]
) -> str:
    """The report's sentence on where an ablation table ran (``datasets``) and what each row changes: row name ->
    run, and each variant run's method and ``params``."""
    changes = "; ".join(
        f"{name}: {variants[run].get('params', {}) if run in variants else 'as chosen'}" for name, run in rows.items()
    )
    return (
        f"The thesis ran {table.replace('table', 'Table ').replace('_', '.')} on eBird, which is not public; here it "
        f"runs on {', '.join(datasets)} (the eBird stand-in is set beside the thesis' eBird numbers, "
        "but it is other data). Every row trains with the settings its method chose on validation plus the row's "
        f"change: {changes}."
    )


def statistics_table(infos: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Table 2.11 from the prepared data sets' ``info.json`` records: one row per data set."""
    return pd.DataFrame([{"dataset": i["dataset"], **{k: i["statistics"][k] for k in STATISTICS}} for i in infos])


def render_statistics(
    ours: pd.DataFrame, thesis: pd.DataFrame, meta: Mapping[str, Any], unavailable: Mapping[str, str]
) -> str:
    """Markdown: each data set's statistics beside the thesis' (Table 2.11), and the unavailable ones."""
    theirs = thesis.set_index("dataset")
    out = [
        "# Table 2.11: this run beside the thesis",
        "",
        f"Dataset statistics computed from the prepared data (results/data/mlc/<dataset>/info.json), git "
        f"`{(meta.get('git') or {}).get('commit')}`; a row 'thesis' under each data set gives the published values.",
        "",
        "| data set | " + " | ".join(STATISTICS) + " |",
        "|---|" + "---|" * len(STATISTICS),
    ]
    for _, r in ours.iterrows():
        out.append(f"| {r['dataset']} | " + " | ".join(_stat(r[f"{k}_mean"]) for k in STATISTICS) + " |")
        if r["dataset"] in theirs.index:
            t = theirs.loc[r["dataset"]]
            out.append("| thesis | " + " | ".join(_stat(t[k]) for k in STATISTICS) + " |")
    out.append("")
    out += [f"- thesis {d}: not available ({why})." for d, why in unavailable.items()]
    return "\n".join(out).rstrip("\n") + "\n"


def _stat(value: Any) -> str:
    v = float(value)
    return str(int(v)) if v.is_integer() else f"{v:.2f}"


def unavailable_reasons(unavailable: Mapping[str, str], registry: Mapping[str, Any]) -> dict[str, str]:
    """Thesis data set name -> why it is not available (the registry entry's ``access`` reason)."""
    out = {}
    for name, reg_id in unavailable.items():
        spec = registry.get(reg_id)
        out[name] = spec.access.reason if spec is not None and spec.access.reason else f"registry id {reg_id}"
    return out


def read_runs(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """The metrics.json records of ``paths``."""
    return [read_json(p) for p in paths]


#: the columns of ``runs_summary`` taken from each run's test metrics
RUN_METRICS = ("ex_f1", "mi_f1", "ma_f1", "ha", "p_at_1")


def runs_summary(runs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per run (the ``<dataset>.runs.csv`` of one data set's runs, in the order given): ``dataset``,
    ``method``, ``seed``, the validation-chosen ``threshold``, its test metrics (``RUN_METRICS``), ``best_epoch``
    (empty for a deterministic method) and ``seconds``."""
    return pd.DataFrame(
        [
            {
                "dataset": r["dataset"],
                "method": r["method"],
                "seed": r["seed"],
                "threshold": r["threshold"],
                **{m: r["test"][m] for m in RUN_METRICS},
                "best_epoch": r.get("best_epoch"),
                "seconds": r["seconds"],
            }
            for r in runs
        ],
        columns=["dataset", "method", "seed", "threshold", *RUN_METRICS, "best_epoch", "seconds"],
    )
