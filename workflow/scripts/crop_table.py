"""Snakemake adapter: per-run metrics -> thesis table CSV + meta.json + markdown report beside the thesis."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.provenance import raw_checksums
from seqstruct.common.tables import write_table
from seqstruct.crop.report import TABLE_SPLIT, write_report

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
crop = snakemake.params.crop
table = snakemake.wildcards.table
selections = [read_json(p) for p in snakemake.input.selections]
write_table(
    snakemake.input.metrics,
    snakemake.output.table,
    keys=["crop", "test_year", "method"],
    metrics=["rmse", "r2", "corr"],
    split=TABLE_SPLIT[table],
    meta={
        "scale": snakemake.params.scale,
        "source": crop["source"],
        "datasets": raw_checksums(snakemake.input.raw),
        "test_years": crop["test_years"],
        "split": TABLE_SPLIT[table],
        **({"early_week": crop["early_week"]} if TABLE_SPLIT[table] == "test_early" else {}),
        "methods": {m: crop["methods"].get(m, {}) for m in crop["tables"][table]},
        "grids": {m: crop["grids"].get(m, {}) for m in crop["tables"][table]},
        "selected": {f"{s['method']} {s['test_year']}": s["chosen"] for s in selections},
    },
)
write_report(
    snakemake.output.table,
    snakemake.input.thesis,
    snakemake.output.report,
    runs=[read_json(p) for p in snakemake.input.metrics],
    prepared_nc=snakemake.input.data,
    selections=selections,
)
