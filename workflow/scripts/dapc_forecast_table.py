"""Snakemake adapter: per-run DAPC records on the real series -> a forecasting thesis table (3.5, 3.6), its
meta.json and the markdown report beside the thesis (seqstruct.dapc.report)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_csv, write_table
from seqstruct.dapc.report import FORECAST_METRICS, forecast_records, forecast_spec, pi_gains, write_report

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
dapc, spec = snakemake.params.dapc, snakemake.params.spec
runs = forecast_records(
    [read_json(p) for p in snakemake.input.metrics], snakemake.params.names, snakemake.params.series
)
infos = {i["name"]: i for i in (read_json(p) for p in snakemake.input.data)}
per_series = len(spec["series"]) > 1  # Table 3.6 is one series: keyed by lag only
keys = ["dataset", "lag", "method"] if per_series else ["lag", "method"]
series = {s: dapc["series"][s] for s in spec["series"]}
table = write_table(
    runs,
    snakemake.output.table,
    keys=keys,
    metrics=list(FORECAST_METRICS),
    directions={m: "higher" for m in FORECAST_METRICS},
    decimals=3,
    meta=table_meta(
        scale=snakemake.params.scale,
        source="real",
        raw=snakemake.params.raw,
        methods={run: dapc["methods"][run] for run in spec["rows"].values()},
        rows=spec["rows"],
        gains=spec.get("gains", {}),
        train=dapc["train"],
        series=series,
        bounds={name: info["bounds"] for name, info in infos.items()},
        thesis=forecast_spec(
            {s: v.get("thesis", s) for s, v in series.items()}, sorted({r["lag"] for r in runs}), per_series
        ).to_json(),
    ),
)
if spec.get("gains"):
    table = table.join(pi_gains(table, spec["gains"], keys[:-1]))
    write_csv(table, snakemake.output.table, decimals=3)
write_report(snakemake.output.table, snakemake.input.thesis, snakemake.output.report, runs=runs)
