"""Snakemake adapter: one year's PRISM and NLDAS parts -> weekly (county, weekly_var, week)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.ingest import merge_year, write_nc

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
ds = merge_year(list(snakemake.input), snakemake.params.variables, int(snakemake.wildcards.year))
write_nc(ds, snakemake.output[0])
