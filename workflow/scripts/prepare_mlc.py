"""Snakemake adapter: raw files of one multi-label data set -> its prepared folder and split index files
(seqstruct.mlc.formats.prepare)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.mlc.formats import prepare

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
prepare(
    snakemake.params.format,
    {role: snakemake.input[role] for role in snakemake.params.roles},
    dataset=snakemake.wildcards.dataset,
    out_dir=Path(snakemake.output[0]).parent,
    seed=int(snakemake.params.seed),
    options=dict(snakemake.params.options),
)
