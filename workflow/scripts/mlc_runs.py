"""Snakemake adapter: every table run of one MLC data set -> ``results/models/mlc/<dataset>.runs.csv`` (one row
per run: its threshold, test metrics, best epoch and seconds). The target that makes one data set's runs alone,
so the tables, which only gather finished runs, can be made data set by data set."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.common.tables import write_csv
from seqstruct.mlc.report import read_runs, runs_summary

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_csv(runs_summary(read_runs(snakemake.input.metrics)), snakemake.output[0])
