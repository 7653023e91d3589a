"""Snakemake adapter: the synthetic raster set, in the real formats on real counties (seqstruct.crop.rasters)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.synthetic import write_synthetic_rasters

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
s = snakemake.params.settings
first, last = s["years"]
write_synthetic_rasters(
    Path(snakemake.output[0]).parent,
    snakemake.input.shp,
    states=s["states"],
    years=range(first, last + 1),
    prism_vars=s["prism_vars"],
    nldas_vars=s["nldas_vars"],
    seed=s["seed"],
    land_cell_m=s["land_cell_m"],
)
