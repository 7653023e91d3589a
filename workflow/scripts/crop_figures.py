"""Snakemake adapter: a crop table's RMSE beside the thesis and the validation curves of its runs."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.crop.report import write_figures

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_figures(
    snakemake.input.table,
    snakemake.input.thesis,
    runs=[read_json(p) for p in snakemake.input.metrics],
    out_rmse=snakemake.output.rmse,
    out_curves=snakemake.output.curves,
)
