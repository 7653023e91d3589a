"""Logging set-up for workflow scripts: everything (log records, warnings, tqdm bars) into the rule's log."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from types import TracebackType

from seqstruct.common.errors import InputError, print_error


def setup_logging(log_path: str | Path | None = None, level: int = logging.INFO) -> None:
    """Send logging records to ``log_path`` (and stderr when None); redirect stderr into the log file.

    Snakemake keeps ``log:`` files of failed jobs, so the reason of a failure ends up there too: a bad-input
    error (``seqstruct.common.errors.InputError``) as one ``error: ...`` line, any other exception with its
    traceback.
    """
    handlers: list[logging.Handler] = []
    if log_path is not None:
        path = Path(log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
        sys.stderr = stream
        handlers.append(logging.StreamHandler(stream))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers, force=True
    )
    logging.captureWarnings(True)
    sys.excepthook = _excepthook


def _excepthook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Print bad-input errors as one ``error:`` line; anything else (a bug) with its traceback."""
    if isinstance(exc, InputError):
        print_error(exc)
    else:
        sys.__excepthook__(kind, exc, tb)
