"""The base class of every bad-input error of seqstruct (bad data file, registry, config).

Such errors carry one actionable line (which file, what is wrong, how to fix it). Workflow scripts print them
as ``error: <message>`` without a traceback (``seqstruct.common.logs.setup_logging``); any other exception is
a bug and keeps its traceback.
"""

import sys


class InputError(Exception):
    """Bad input from the user or a data source; the message is one line: file, problem, fix."""


def one_line(exc: BaseException) -> str:
    """``exc`` as ``Type: message`` on one line (whitespace collapsed), for the list of places a lookup tried."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def print_error(exc: BaseException) -> None:
    """Print ``exc`` as the one ``error: <message>`` line every seqstruct command ends with on bad input."""
    print(f"error: {exc}", file=sys.stderr)
