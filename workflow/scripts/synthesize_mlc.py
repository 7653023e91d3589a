"""Snakemake adapter: write the deterministic synthetic multi-label data set of one name in the Mulan format."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.mlc.synthetic import SyntheticMlc, write_synthetic_mulan

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
write_synthetic_mulan(
    Path(snakemake.output[0]).parent, snakemake.wildcards.dataset, SyntheticMlc(**dict(snakemake.params.settings))
)
