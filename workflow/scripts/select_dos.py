"""Snakemake adapter: choose one DoS method's settings on the validation split (seqstruct.dos.search.select)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dos.search import select

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
select(
    data_dir=Path(snakemake.input.data[0]).parent,
    method=snakemake.wildcards.method,
    dataset=snakemake.wildcards.dataset,
    base=dict(snakemake.params.base),
    grid={k: list(v) for k, v in dict(snakemake.params.grid).items()},
    seed=int(snakemake.params.seed),
    out=snakemake.output[0],
    metric=snakemake.params.metric,
    threads=snakemake.threads,
)
