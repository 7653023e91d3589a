"""Snakemake adapter: generate the noisy Lorenz benchmark at one SNR as a prepared series
(seqstruct.dapc.prepare.prepare_lorenz)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dapc.prepare import prepare_lorenz

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
lorenz = snakemake.params.lorenz
prepare_lorenz(
    Path(snakemake.output[0]).parent,
    snr=snakemake.params.snr,
    seed=lorenz["seed"],
    noise=lorenz["noise"],
    frames=lorenz["frames"],
    train=lorenz["split"]["train"],
    val=lorenz["split"]["val"],
    lift_dropout=lorenz["lift_dropout"],
    draws=lorenz["draws"],
)
