"""Snakemake adapter: the prepared data sets' statistics -> thesis Table 2.11, its meta.json and the report."""

from typing import TYPE_CHECKING

import pandas as pd

from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_table
from seqstruct.data.registry import load_registry
from seqstruct.mlc.report import STATISTICS, render_statistics, statistics_spec, unavailable_reasons

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
mlc = snakemake.params.mlc
infos = [read_json(p) for p in snakemake.input.info]
records = [{"dataset": i["dataset"], "seed": i["split_seed"], "statistics": i["statistics"]} for i in infos]
table = write_table(
    records,
    snakemake.output.table,
    keys=["dataset"],
    metrics=list(STATISTICS),
    split="statistics",
    directions=dict(statistics_spec().metrics),
    decimals=2,
    meta=table_meta(
        scale=snakemake.params.scale,
        source=mlc["source"],
        raw=snakemake.input.raw,
        split_seed=mlc["split_seed"],
        thesis=statistics_spec().to_json(),
        registry=snakemake.params.registry if mlc["source"] == "real" else None,
    ),
)
text = render_statistics(
    table,
    pd.read_csv(snakemake.input.thesis),
    read_json(snakemake.output.meta),
    unavailable_reasons(mlc["unavailable"], load_registry(snakemake.params.registry)),
)
with atomic_path(snakemake.output.report) as tmp:
    tmp.write_text(text)
