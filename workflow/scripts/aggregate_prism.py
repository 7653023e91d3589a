"""Snakemake adapter: one PRISM variable-year -> county x week means (seqstruct.crop.rasters.ingest)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.aggregate import CountyWeights
from seqstruct.crop.rasters.ingest import aggregate_prism_year, raster_path, write_nc

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
weights = CountyWeights.load(snakemake.input.weights)
folder = raster_path(snakemake.input.files, snakemake.params.folder)
write_nc(aggregate_prism_year(folder, wc.var, int(wc.year), weights), snakemake.output[0])
