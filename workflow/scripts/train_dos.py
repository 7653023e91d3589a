"""Snakemake adapter: train one DoS method on one data set with one seed (seqstruct.dos.train.run) with the
settings chosen on validation (selection.json)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.dos.train import run

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
run(
    method=snakemake.wildcards.method,
    data_dir=Path(snakemake.input.data[0]).parent,
    seed=int(snakemake.wildcards.seed),
    params=read_json(snakemake.input.selection)["params"],
    out_dir=Path(snakemake.output.metrics).parent,
    ckpt_dir=snakemake.params.ckpt,
    threads=snakemake.threads,
)
