"""Snakemake adapter: NASS Quick Stats county yields -> a tidy fips, year, crop, yield CSV."""

from typing import TYPE_CHECKING

from seqstruct.common.io import atomic_path
from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.ingest import raster_path
from seqstruct.crop.rasters.nass import read_quickstats_yields

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
table = read_quickstats_yields(raster_path(snakemake.input[0], snakemake.params.path))
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
