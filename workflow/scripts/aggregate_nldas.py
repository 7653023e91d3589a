"""Snakemake adapter: one NLDAS-2 product-year -> county x week means of its features (seqstruct.crop.rasters)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.aggregate import CountyWeights
from seqstruct.crop.rasters.ingest import aggregate_nldas_year, raster_path, write_nc

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
weights = CountyWeights.load(snakemake.input.weights)
folder = raster_path(snakemake.input.files, snakemake.params.folder)
ds = aggregate_nldas_year(folder, wc.product, snakemake.params.names, int(wc.year), weights)
write_nc(ds, snakemake.output[0])
