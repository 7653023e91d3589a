"""Snakemake adapter: gSSURGO map units + tables -> county soil by depth and extras (seqstruct.crop.rasters)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.gssurgo import read_soil_properties
from seqstruct.crop.rasters.ingest import aggregate_soil, counties_of, write_nc

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
p = snakemake.params
root = Path(p.root)
counties = counties_of(snakemake.input.shp, p.states)
props = read_soil_properties(root / p.files["soil_tables"])
write_nc(aggregate_soil(counties, root / p.files["mukey"], props, root / p.files["nlcd"]), snakemake.output[0])
