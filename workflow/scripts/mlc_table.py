"""Snakemake adapter: per-run MLC metrics -> a thesis table (2.8, 2.9, 2.10) or the extras table, its meta.json
and the markdown report beside the thesis (seqstruct.mlc.report)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_table
from seqstruct.data.registry import load_registry
from seqstruct.mlc.report import (
    TABLE_KEYS,
    TABLE_METRICS,
    ablation_note,
    comparison_spec,
    read_runs,
    unavailable_reasons,
    write_report,
)

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
mlc = snakemake.params.mlc
table = snakemake.wildcards.table
rows = dict(snakemake.params.rows)  # row name -> method or variant
variants = dict(snakemake.params.variants)  # the variants among them: method and settings
selections = [read_json(p) for p in snakemake.input.selections]
methods = list(dict.fromkeys(s["method"] for s in selections))
# each run under its row name (an ablation variant is trained as its method), with its share of the training data
# from its settings (MlcParams.train_fraction, default 1: records written before data_pct existed have none)
runs = [
    {**r, "method": name, "data_pct": 100 * float(r["params"].get("train_fraction", 1.0))}
    for r, name in zip(read_runs(snakemake.input.metrics), snakemake.params.names)
]
real = mlc["source"] == "real"
stand_ins = {d: e["stand_in_for"] for d, e in mlc["datasets"].items() if e.get("stand_in_for")}
write_table(
    runs,
    snakemake.output.table,
    keys=list(TABLE_KEYS.get(table, ("dataset", "method"))),
    metrics=list(TABLE_METRICS[table]),
    decimals=3,  # the thesis prints the MLC tables with 3 decimals
    meta=table_meta(
        scale=snakemake.params.scale,
        source=mlc["source"],
        raw=snakemake.input.raw,
        methods={m: mlc["methods"].get(m, {}) for m in methods},
        grids={m: mlc["grids"].get(m, {}) for m in methods},
        rows=rows,
        variants=variants,
        overrides=mlc["overrides"],
        dataset_grids=mlc["dataset_grids"],
        selections=selections,
        selection_label=("method", "dataset"),
        split_seed=mlc["split_seed"],
        grid_metric=mlc["grid_metric"],
        threshold_metric=sorted({r["config"]["run"]["threshold_metric"] for r in runs}),
        stand_ins=stand_ins,
        thesis=comparison_spec(table, stand_ins).to_json(),
        registry=snakemake.params.registry if real else None,
    ),
)
write_report(
    snakemake.output.table,
    snakemake.input.thesis or None,
    snakemake.output.report,
    runs=runs,
    selections=selections,
    unavailable=unavailable_reasons(mlc["unavailable"], load_registry(snakemake.params.registry)),
    stand_ins=stand_ins,
    note=ablation_note(table, rows, variants, mlc["ablation_datasets"]) if table in mlc["ablations"] else "",
)
