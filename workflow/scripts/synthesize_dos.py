"""Snakemake adapter: the synthetic crystals of one DoS data set in the raw phonon CSV format
(seqstruct.dos.synthetic)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dos.synthetic import SyntheticDos, write_synthetic

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_synthetic(snakemake.output[0], SyntheticDos(**dict(snakemake.params.settings)))
