"""Snakemake adapter: gSSURGO map units + tables -> county soil by depth and extras (seqstruct.crop.rasters)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.gssurgo import read_soil_properties
from seqstruct.crop.rasters.ingest import aggregate_soil, counties_of, raster_path, write_nc

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
i, files = snakemake.input, snakemake.params.files
counties = counties_of(i.shp, snakemake.params.states)
props = read_soil_properties(raster_path(i.tables, files["soil_tables"]))
soil = aggregate_soil(counties, raster_path(i.mukey, files["mukey"]), props, raster_path(i.nlcd, files["nlcd"]))
write_nc(soil, snakemake.output[0])
