"""Snakemake adapter: Figure 3.6, the forecasting R² gain of each method over the baseline at each latent
dimension d, per lag (seqstruct.dapc.figures.gain_figure)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.dapc.figures import gain_figure
from seqstruct.dapc.report import forecast_records

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
params = snakemake.params
runs = [{**read_json(p), "d": d} for p, d in zip(snakemake.input.metrics, params.dims)]
records = forecast_records(runs, params.names, [params.series] * len(runs))
title = f"R² gain over {params.baseline} by latent dimension d (thesis Figure 3.6): {params.label}"
gain_figure(records, snakemake.output.figure, params.baseline, panel="lag", group="d", title=title)
