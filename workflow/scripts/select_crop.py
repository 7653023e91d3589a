"""Snakemake adapter: choose one crop method's settings on the validation year (seqstruct.crop.search.select)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.search import select

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
select(
    data=snakemake.input.data,
    method=snakemake.wildcards.method,
    test_year=int(snakemake.wildcards.year),
    base=dict(snakemake.params.base),
    grid={k: list(v) for k, v in dict(snakemake.params.grid).items()},
    seed=int(snakemake.params.seed),
    out=snakemake.output[0],
    threads=snakemake.threads,
)
