"""Snakemake adapter: download one PRISM variable-year or NLDAS-2 product-year (seqstruct.crop.rasters.fetch)."""

from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.crop.rasters.fetch import fetch_nldas_year, fetch_prism_year

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
wc = snakemake.wildcards
if snakemake.rule == "fetch_prism":
    fetch_prism_year(wc.var, int(wc.year), snakemake.output[0])
else:
    fetch_nldas_year(wc.product, int(wc.year), snakemake.output[0])
