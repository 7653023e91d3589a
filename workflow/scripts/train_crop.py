"""Snakemake adapter: train one crop method for one test year and seed (seqstruct.crop.train.run) with the
settings chosen on the validation year (selection.json)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.crop.train import run

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
run(
    method=snakemake.wildcards.method,
    data_path=snakemake.input.data,
    test_year=int(snakemake.wildcards.year),
    seed=int(snakemake.wildcards.seed),
    params=read_json(snakemake.input.selection)["params"],
    out_dir=Path(snakemake.output.metrics).parent,
    ckpt_dir=snakemake.params.ckpt,
    threads=snakemake.threads,
    crop=snakemake.wildcards.crop,
    early_week=int(snakemake.params.early_week),
    early_mask=tuple(snakemake.params.early_mask),
    permutations=int(snakemake.params.permutations),
)
