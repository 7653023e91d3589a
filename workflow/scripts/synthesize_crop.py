"""Snakemake adapter: write the deterministic synthetic crop data in the real raw formats."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.synthetic import write_synthetic_crop

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
s = snakemake.params.settings
write_synthetic_crop(
    Path(snakemake.output[0]).parent,
    n_rows=s["n_rows"],
    n_cols=s["n_cols"],
    years=(s["first_year"], s["last_year"]),
    seed=s["seed"],
    missing_frac=s["missing_frac"],
)
