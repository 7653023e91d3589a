"""Snakemake adapter: Figure 2.16 / 2.17, predicted vs true spectra of the best, median and worst test
materials of each configured model (seqstruct.dos.figures)."""

from typing import TYPE_CHECKING

from seqstruct.common.io import read_json
from seqstruct.common.logs import setup_logging
from seqstruct.dos.figures import plot_spectra

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
info = read_json(snakemake.input.info)
names = dict(snakemake.params.names)
runs = {names[m]: p for m, p in zip(snakemake.params.methods, snakemake.input.predictions)}
x_label = "frequency (cm$^{-1}$)" if snakemake.wildcards.figure == "figure2_16" else "energy (eV)"
plot_spectra(runs, info["grid"], snakemake.output[0], x_label)
