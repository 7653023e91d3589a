"""The ``seqstruct`` command (also ``python -m seqstruct``).

Subcommands:

    seqstruct provenance results/tables/table2_1.csv   # what produced a table, from its meta.json

A bad argument or a missing or broken file ends with one ``error: ...`` line on stderr and exit status 2; a meta.json
that lacks required keys is printed, then ends with one ``error: ...`` line naming them and exit status 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from seqstruct.common.errors import InputError, print_error
from seqstruct.common.meta import format_meta, incomplete_error, load_meta


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = argparse.ArgumentParser(prog="seqstruct", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    prov = commands.add_parser(
        "provenance",
        help="print what produced a table (its meta.json), readably",
        description="Print a table's meta.json readably: code commit, scale, seeds, "
        "dataset checksums, package versions, settings and every run.",
    )
    prov.add_argument("table", help="the table CSV, its .meta.json, or its name (e.g. table2_1)")
    args = parser.parse_args(argv)
    try:
        meta = load_meta(args.table)
        print(format_meta(meta))
    except InputError as e:
        print_error(e)
        return 2
    incomplete = incomplete_error(args.table, meta)
    if incomplete is not None:
        print_error(incomplete)
        return 1
    return 0
