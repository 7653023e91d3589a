"""Snakemake adapter: county x cell weights of one grid, cropland-weighted by NLCD (seqstruct.crop.rasters.ingest)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.ingest import build_weights, counties_of, product_grid

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
p = snakemake.params
counties = counties_of(snakemake.input.shp, p.states)
grid = product_grid(snakemake.wildcards.grid, counties if p.window else None)
build_weights(counties, grid, Path(p.root) / p.nlcd, Path(snakemake.output[0]))
