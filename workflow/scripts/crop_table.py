"""Snakemake adapter: per-run metrics -> thesis table CSV + meta.json + markdown report beside the thesis."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_table
from seqstruct.crop.report import METRICS, TABLE_SPLIT, comparison_spec, write_report

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
crop = snakemake.params.crop
table = snakemake.wildcards.table
split = TABLE_SPLIT[table]
selections = [read_json(p) for p in snakemake.input.selections]
spec = comparison_spec(table, crop["crops"], crop["test_years"])
write_table(
    snakemake.input.metrics,
    snakemake.output.table,
    keys=["crop", "test_year", "method"],
    metrics=list(METRICS),
    split=split,
    decimals=4,  # the thesis prints the crop tables with 4 decimals
    meta=table_meta(
        scale=snakemake.params.scale,
        source=crop["source"],
        raw=snakemake.input.raw,
        methods={m: crop["methods"].get(m, {}) for m in crop["tables"][table]},
        grids={m: crop["grids"].get(m, {}) for m in crop["tables"][table]},
        selections=selections,
        selection_label=("method", "test_year"),
        test_years=crop["test_years"],
        thesis=spec.to_json(),
        registry=snakemake.params.registry if crop["source"] == "real" else None,
        crop_data=snakemake.params.crop_data,
        **({"early_week": crop["early_week"], "early_mask": crop["early_mask"]} if split == "test_early" else {}),
    ),
)
write_report(
    snakemake.output.table,
    snakemake.input.thesis,
    snakemake.output.report,
    runs=[read_json(p) for p in snakemake.input.metrics],
    prepared_nc=list(snakemake.input.data),
    selections=selections,
)
