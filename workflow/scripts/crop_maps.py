"""Snakemake adapter: county maps and predicted-vs-true scatter of one method's test year (mean over seeds)."""

from typing import TYPE_CHECKING

import xarray as xr

from seqstruct.common.logs import setup_logging
from seqstruct.crop.maps import counties_of_states, mean_predictions, plot_county_maps, plot_scatter
from seqstruct.crop.train import METHODS

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
pred = mean_predictions(snakemake.input.predictions, split="test")
with xr.open_dataset(snakemake.input.data, engine="h5netcdf") as ds:
    counties = counties_of_states(snakemake.input.shp, ds["county"].values.tolist())  # grey: no data
title = f"{METHODS[wc.method]}, {wc.crop} {wc.year} (test year, mean of {int(pred['n_seeds'].max())} seeds)"
plot_county_maps(pred, counties, snakemake.input.shp, snakemake.output.map, title=title)
plot_scatter(pred, snakemake.output.scatter, title=title)
