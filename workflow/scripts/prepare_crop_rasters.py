"""Snakemake adapter: aggregated rasters + NASS yields -> the prepared county x year NetCDF of one crop."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.prepare import write_netcdf
from seqstruct.crop.rasters.ingest import build_raster_dataset

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
i = snakemake.input
ds = build_raster_dataset(
    i.weekly, i.soil, i.yields, i.adjacency, i.shp, crop=snakemake.wildcards.crop, source=snakemake.params.source
)
write_netcdf(ds, snakemake.output[0])
