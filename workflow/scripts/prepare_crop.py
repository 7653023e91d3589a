"""Snakemake adapter: raw crop files -> prepared county x year NetCDF (seqstruct.crop.prepare)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.prepare import build_crop_dataset, write_netcdf

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
ds = build_crop_dataset(
    npz=snakemake.input.npz,
    loc_csv=snakemake.input.loc,
    abbrev_txt=snakemake.input.abbrev,
    adjacency_txt=snakemake.input.adjacency,
    shp=snakemake.input.shp,
    crop=snakemake.wildcards.crop,
    max_dropped_share=snakemake.params.max_dropped_share,
)
write_netcdf(ds, snakemake.output[0])
