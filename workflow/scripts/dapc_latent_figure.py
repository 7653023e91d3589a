"""Snakemake adapter: Figure 3.2 lower panel, the recovered trajectories of each method at one SNR
(seqstruct.dapc.figures)."""

from typing import TYPE_CHECKING

import numpy as np

from seqstruct.common.logs import setup_logging
from seqstruct.dapc.figures import latent_figure

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
latents = {}
for row, path in zip(snakemake.params.rows, snakemake.input.latents):
    with np.load(path) as z:
        latents[row] = {"latents": z["latents"], "target": z["target"]}
latent_figure(latents, snakemake.params.snr, snakemake.output.figure)
