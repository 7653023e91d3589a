"""Snakemake adapter: Figure 3.5, the forecasting R² gain of each method over the baseline per series and lag
(seqstruct.dapc.figures.gain_figure)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.dapc.figures import gain_figure
from seqstruct.dapc.report import forecast_records

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
runs = forecast_records(
    [read_json(p) for p in snakemake.input.metrics], snakemake.params.names, snakemake.params.series
)
gain_figure(runs, snakemake.output.figure, snakemake.params.baseline, labels=snakemake.params.labels)
