"""The record of one training run: its artifacts and ``metrics.json``, written so that a killed run leaves nothing.

Every domain's training entry ends with ``write_run``: the artifacts (model, predictions, ...) are written
atomically first and ``metrics.json`` last, so its presence means the run is complete (Snakemake and the table
rules rely on that). ``metrics.json`` holds what the domain measured plus the run's provenance (commit, host,
SLURM job, sha256 of the files it read; ``seqstruct.common.provenance.run_provenance``).

``run_fingerprint`` is what a resumable run's checkpoint is tied to: the sha256 of the prepared data it reads
plus its settings, so that a checkpoint is never resumed on other data or with other settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from seqstruct.common.io import atomic_path, sha256_file, write_json
from seqstruct.common.provenance import run_provenance

METRICS_FILE = "metrics.json"


def write_run(
    out_dir: str | os.PathLike[str],
    record: Mapping[str, Any],
    artifacts: Mapping[str, Callable[[Path], None]] = {},
    started_utc: str | None = None,
    inputs: Sequence[str | os.PathLike[str]] = (),
) -> dict[str, Any]:
    """Write a run's artifacts, then its ``metrics.json`` (``record`` + ``provenance``), into ``out_dir``.

    Parameters
    ----------
    out_dir : path
        The run folder, ``results/models/<domain>/<method>/<dataset-or-split>/seed<k>``.
    record : mapping
        What the run measured and how it was set up (JSON-serialisable; numpy scalars are fine).
    artifacts : mapping
        File name -> writer; ``writer(tmp_path)`` writes the file to a temporary path that is renamed into
        ``out_dir/<name>`` only when the writer returns.
    started_utc : str, optional
        When the run started (``seqstruct.common.provenance.utc_now()``).
    inputs : sequence of paths
        Files the run read; their sha256 goes into the provenance.

    Returns
    -------
    dict
        The record as written, with ``provenance``.
    """
    out = Path(out_dir)
    for name, writer in artifacts.items():
        if name == METRICS_FILE:
            raise ValueError(f"{METRICS_FILE} is written by write_run itself, not as an artifact")
        with atomic_path(out / name) as tmp:
            writer(tmp)
    full = {**record, "provenance": run_provenance(started_utc, inputs=inputs)}
    write_json(out / METRICS_FILE, full)  # last: its presence means the run is complete
    return full


def run_fingerprint(inputs: Sequence[str | os.PathLike[str]], /, **settings: Any) -> dict[str, Any]:
    """Identify a run by the sha256 of the files it reads and its settings (the checkpoint key of the trainer).

    Parameters
    ----------
    inputs : sequence of paths
        The prepared data files the run trains on.
    **settings
        What else makes the run what it is (method, seed, split, hyperparameters); JSON-like values.

    Returns
    -------
    dict
        ``{"inputs": {path: sha256}, **settings}``; pass it as ``Trainer(fingerprint=...)``, which starts fresh
        (and logs which part changed) when a checkpoint's fingerprint differs.
    """
    if "inputs" in settings:
        raise ValueError("'inputs' is the fingerprint's data key; name the setting otherwise")
    return {"inputs": {os.fspath(p): sha256_file(p) for p in inputs}, **settings}
