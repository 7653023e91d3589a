"""Snakemake adapter: one DAPC-chapter run (a model with its settings) on one prepared series with one seed
(seqstruct.dapc.train.run)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dapc.train import run

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
run(
    method=snakemake.wildcards.method,
    model=snakemake.params.model,
    data_dir=Path(snakemake.input.data[0]).parent,
    seed=int(snakemake.wildcards.seed),
    params=dict(snakemake.params.settings),
    out_dir=Path(snakemake.output.metrics).parent,
    ckpt_dir=snakemake.params.ckpt,
    threads=snakemake.threads,
)
