"""Snakemake adapter: per-run DoS metrics -> a thesis table (2.3-2.6) in both spaces, its meta.json and the
markdown report beside the thesis (seqstruct.dos.report)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import table_meta, write_table
from seqstruct.dos.report import KEYS, METRICS, comparison_spec, table_records, write_report
from seqstruct.dos.train import METHODS

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
dos = snakemake.params.dos
spec = dos["tables"][snakemake.wildcards.table]
runs = [read_json(p) for p in snakemake.input.metrics]
selections = [read_json(p) for p in snakemake.input.selections]
info = read_json(f"results/data/dos/{spec['dataset']}/info.json")
entry = dos["datasets"][spec["dataset"]]
registered = dos["source"] == "real" and entry["format"] != "mp_edos"  # API data has no registry checksum
write_table(
    table_records(runs),
    snakemake.output.table,
    keys=list(KEYS),
    metrics=list(METRICS),
    meta=table_meta(
        scale=snakemake.params.scale,
        source=dos["source"],
        raw=snakemake.input.raw,
        methods={m: dos["methods"].get(m, {}) for m in spec["methods"]},
        grids={m: dos["grids"].get(m, {}) for m in spec["methods"]},
        selections=selections,
        selection_label=("method", "dataset"),
        dataset=spec["dataset"],
        registry_id=entry.get("registry"),
        split=info["split"],
        split_seed=info["split_seed"],
        sizes=info["sizes"],
        excluded=info["excluded"],
        graph=info["graph"],
        grid_metric=dos["grid_metric"],
        thesis=comparison_spec().to_json(),
        registry=snakemake.params.registry if registered else None,
    ),
)
write_report(
    snakemake.output.table,
    snakemake.input.thesis,
    snakemake.output.report,
    runs=runs,
    info=info,
    selections=selections,
    method_names=METHODS,
)
