"""Snakemake adapter: the feature-group sensitivity table, heat map and report of every crop run."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.crop.sensitivity_report import write_sensitivity

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_sensitivity(
    [read_json(p) for p in snakemake.input.metrics],
    snakemake.params.methods,
    snakemake.output.table,
    snakemake.output.figure,
    snakemake.output.report,
)
