"""Snakemake adapter: the thesis scoreboard (results/reports/index.md) from config/thesis/ and results/tables/."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.common.scoreboard import write_scoreboard

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_scoreboard(snakemake.input.index, snakemake.input.tables, snakemake.output[0])
