"""Snakemake adapter: per-run DAPC records -> a Lorenz thesis table (3.1-3.4), its meta.json and the markdown
report beside the thesis (seqstruct.dapc.report)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_table
from seqstruct.dapc.report import LORENZ_KEYS, LORENZ_METRICS, comparison_spec, table_records, write_report

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
dapc = snakemake.params.dapc
rows = dict(snakemake.params.rows)  # row name -> run name (dapc.methods)
runs = table_records([read_json(p) for p in snakemake.input.metrics], snakemake.params.names, snakemake.params.snrs)
infos = [read_json(p) for p in snakemake.input.data]
write_table(
    runs,
    snakemake.output.table,
    keys=list(LORENZ_KEYS),
    metrics=list(LORENZ_METRICS),
    directions={m: "higher" for m in LORENZ_METRICS},
    decimals=3,  # the thesis prints the Lorenz tables with 3 decimals
    meta=table_meta(
        scale=snakemake.params.scale,
        source="generated",
        generator=f"the thesis' noisy Lorenz recipe, noise {dapc['lorenz']['noise']} (docs/deviations.md)",
        raw=[],
        methods={run: dapc["methods"][run] for run in rows.values()},
        rows=rows,
        train=dapc["train"],
        lorenz={**dapc["lorenz"], "measured_snr": {i["name"]: i["measured_snr"] for i in infos}},
        bounds={i["name"]: i["bounds"] for i in infos},
        thesis=comparison_spec().to_json(),
    ),
)
write_report(snakemake.output.table, snakemake.input.thesis, snakemake.output.report, runs=runs)
