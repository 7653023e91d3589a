"""Snakemake adapter: read one real forecasting series (temperatures or spikes + position) and write it as a
prepared series (seqstruct.dapc.prepare.prepare_series)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.logs import setup_logging
from seqstruct.dapc.prepare import prepare_series

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
spec = snakemake.params.spec
prepare_series(
    Path(snakemake.output[0]).parent,
    name=snakemake.wildcards.series,
    kind=spec["kind"],
    files={role: snakemake.input[role] for role in snakemake.params.roles},
    options=spec.get("options", {}),
    train=spec["split"]["train"],
    val=spec["split"]["val"],
)
