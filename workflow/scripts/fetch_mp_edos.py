"""Snakemake adapter: Materials Project electronic DoS of the ids in dos.edos.ids_file (MP_API_KEY), fetched
resumably into resources/raw/mp_edos/materials/, binned onto the 128-point grid and written as the raw eDoS CSV
(seqstruct.dos.mp)."""

from pathlib import Path
from typing import TYPE_CHECKING

from seqstruct.common.errors import InputError
from seqstruct.common.logs import setup_logging
from seqstruct.dos.mp import fetch_electronic_dos, load_fetched, read_ids, write_edos_csv

if TYPE_CHECKING:
    from snakemake.script import snakemake

setup_logging(snakemake.log[0])
if not snakemake.input.ids:
    raise InputError("config dos.edos.ids_file is not set: give a file of Materials Project ids, one per line")
ids = read_ids(snakemake.input.ids)
folder = Path(snakemake.output[0]).parent / "materials"
summary = fetch_electronic_dos(ids, folder, chunk_size=int(snakemake.params.chunk_size))
structures, spectra, kept = load_fetched(folder, ids, n_bins=int(snakemake.params.length), skip_missing=True)
write_edos_csv(snakemake.output[0], structures, spectra, kept, n_bins=int(snakemake.params.length))
