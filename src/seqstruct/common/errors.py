"""The base class of every bad-input error of seqstruct (bad data file, registry, config).

Such errors carry one actionable line (which file, what is wrong, how to fix it). Workflow scripts print them
as ``error: <message>`` without a traceback (``seqstruct.common.logs.setup_logging``); any other exception is
a bug and keeps its traceback.
"""


class InputError(Exception):
    """Bad input from the user or a data source; the message is one line: file, problem, fix."""
