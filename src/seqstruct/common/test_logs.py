import subprocess
import sys
from pathlib import Path

SCRIPT = """
import sys
from seqstruct.common.logs import setup_logging
from seqstruct.common.errors import InputError
class DomainDataError(InputError): pass
setup_logging({log!r})
raise {exc}
"""


def _run(tmp_path: Path, exc: str) -> tuple[int, str]:
    log = tmp_path / "job.log"
    res = subprocess.run([sys.executable, "-c", SCRIPT.format(log=str(log), exc=exc)], capture_output=True, text=True)
    return res.returncode, log.read_text()


def test_input_error_is_one_line(tmp_path: Path) -> None:
    rc, text = _run(tmp_path, "DomainDataError('x.npz: truncated; delete it and rerun')")
    assert rc == 1
    assert text.strip() == "error: x.npz: truncated; delete it and rerun"


def test_bug_keeps_its_traceback(tmp_path: Path) -> None:
    rc, text = _run(tmp_path, "KeyError('oops')")
    assert rc == 1 and "Traceback" in text and "KeyError: 'oops'" in text


def test_one_line_collapses_whitespace_and_names_the_type() -> None:
    from seqstruct.common.errors import one_line

    assert one_line(OSError("disk\n  full")) == "OSError: disk full"
    assert one_line(ValueError()) == "ValueError: ValueError"
