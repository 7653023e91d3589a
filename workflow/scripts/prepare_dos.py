"""Snakemake adapter: raw files of one DoS data set -> its prepared folder of crystal graphs, spectra and split
(seqstruct.dos.prepare)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dos.graphs import GraphSettings
from seqstruct.dos.prepare import prepare_csv

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
split = snakemake.params.split
prepare_csv(
    snakemake.input.csv,
    Path(snakemake.output[0]).parent,
    dataset=snakemake.wildcards.dataset,
    settings=GraphSettings(**dict(snakemake.params.graph)),
    raw_format=snakemake.params.format,
    expected_len=int(snakemake.params.length),
    split=split,
    seed=int(snakemake.params.seed),
    split_files={k: snakemake.input[k] for k in ("train", "val", "test")} if split == "tutorial" else None,
    exclude_bad=bool(snakemake.params.exclude_bad),
)
