"""Verify a local raw file against the registry before a rule reads it, and record it in a stamp.

The workflow's ``verify_raw`` rule runs this for every raw file a rule reads. The stamp
(``resources/verified/<dataset id>/<name>.json``) records the registry's sha256 and is stale when the file
changes (newer mtime) or the registry entry changes (a rule parameter), so a modified file stops the run with
one line (the file, both checksums, the fix) before anything is prepared or trained.

Command line::

    python -m seqstruct.data.verify <dataset id> <file name or member path> --stamp PATH [--raw-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seqstruct.common.errors import print_error
from seqstruct.common.io import write_json
from seqstruct.common.provenance import utc_now
from seqstruct.data.fetch import resolve_file
from seqstruct.data.registry import DEFAULT_RAW_DIR, DEFAULT_REGISTRY, DataError, DatasetSpec, get_dataset


def verify_local(spec: DatasetSpec, name: str, raw_dir: str | os.PathLike[str] = DEFAULT_RAW_DIR) -> dict[str, Any]:
    """Check that ``<raw_dir>/<spec.id>/<name>`` exists and has its registered sha256; never fetches.

    Parameters
    ----------
    spec : DatasetSpec
        The dataset.
    name : str
        A file name or archive member path of the dataset.
    raw_dir : str or os.PathLike
        Root of the local copies.

    Returns
    -------
    dict
        The stamp: ``dataset``, ``name``, ``path``, ``sha256`` (the registry's, equal to the file's) and
        ``verified_utc``.

    Raises
    ------
    DataError
        ``name`` is not registered; the file is missing; its sha256 differs from the registry (the one line of
        :func:`~seqstruct.data.fetch.resolve_file`: the file, both checksums, the fix).
    """
    path = Path(raw_dir) / spec.id / name
    expected = spec.sha256_of(name)
    if not path.is_file():
        raise DataError(
            f"{path}: raw file of dataset {spec.id!r} is missing; fetch it with "
            f"'python -m seqstruct.data.fetch {spec.id} --file {name}' (or let the workflow's fetch_raw rule run)"
        )
    resolve_file(spec, name, raw_dir, download=False)  # the local copy is present: this only checks its sha256
    return {"dataset": spec.id, "name": name, "path": str(path), "sha256": expected, "verified_utc": utc_now()}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m seqstruct.data.verify", description="Verify a local raw file against the registry."
    )
    parser.add_argument("dataset_id", help="dataset id from the registry")
    parser.add_argument("name", help="file name or archive member path")
    parser.add_argument("--stamp", required=True, help="where to write the stamp (JSON)")
    parser.add_argument("--raw-dir", default=DEFAULT_RAW_DIR, help="local data root (default: %(default)s)")
    parser.add_argument("--registry", default=DEFAULT_REGISTRY, help="registry file (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        stamp = verify_local(get_dataset(args.dataset_id, args.registry), args.name, args.raw_dir)
    except DataError as exc:
        print_error(exc)
        return 1
    write_json(args.stamp, stamp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
