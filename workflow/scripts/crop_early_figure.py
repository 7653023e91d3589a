"""Snakemake adapter: test RMSE against the masking week for the 5-year models of Table 2.2."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.crop.report import write_masking_figure

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_masking_figure(
    [read_json(p) for p in snakemake.input.metrics], snakemake.output[0], early_week=int(snakemake.params.early_week)
)
