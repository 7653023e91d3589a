"""Snakemake adapter: the runs on 10/50/100% of the training data -> thesis Figure 2.20 (each method relative to
the reference method) and the numbers behind it (results/tables/mlc_fractions.csv)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import write_csv
from seqstruct.mlc.figures import fraction_table, plot_fractions
from seqstruct.mlc.report import read_runs
from seqstruct.mlc.train import METHODS

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
reference = METHODS[snakemake.params.reference]
table = fraction_table(read_runs(snakemake.input.metrics), reference)
write_csv(table, snakemake.output.table, decimals=4)
plot_fractions(table, reference, snakemake.output.figure)
