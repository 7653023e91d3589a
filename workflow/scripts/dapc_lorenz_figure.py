"""Snakemake adapter: Figure 3.2 upper panel, the noisy Lorenz data per SNR (seqstruct.dapc.figures)."""

from typing import TYPE_CHECKING

import numpy as np

from seqstruct.common.logs import setup_logging
from seqstruct.dapc.figures import lorenz_figure

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
series = []
for path in snakemake.input.data:
    with np.load(path) as z:
        series.append({k: z[k] for k in ("x", "clean", "target")})
lorenz_figure(series, snakemake.params.snrs, snakemake.output.figure)
