"""Snakemake adapter: county x cell weights of one grid, cropland-weighted by NLCD (seqstruct.crop.rasters.ingest)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.ingest import build_weights, counties_of, product_grid, raster_path

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
p = snakemake.params
counties = counties_of(snakemake.input.shp, p.states)
grid = product_grid(snakemake.wildcards.grid, counties if p.window else None)
build_weights(counties, grid, raster_path(snakemake.input.nlcd, p.nlcd), snakemake.output[0])
