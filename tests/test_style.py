"""Code style of the whole project: ruff (lint and format), snakefmt, and one docstring style (numpydoc)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

BIN = Path(sys.executable).parent
PYTHON = ["src", "tests", "workflow/scripts"]
SNAKE = ["Snakefile", "workflow"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("check", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff_is_clean(check: list[str]) -> None:
    res = _run(str(BIN / "ruff"), *check, *PYTHON)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def test_snakefmt_is_clean() -> None:
    res = _run(str(BIN / "snakefmt"), "--check", *SNAKE)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]


def test_docstrings_are_numpydoc_not_google() -> None:
    """No Google-style section headers (``Args:``, ``Returns:`` ...) left in the library or the tests."""
    google = re.compile(r"^\s+(Args|Arguments|Returns|Raises|Yields|Attributes|Shapes):\s*$", re.M)
    offenders = [
        f"{p.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}"
        for base in PYTHON
        for p in sorted((ROOT / base).rglob("*.py"))
        for text in [p.read_text()]
        for m in google.finditer(text)
    ]
    assert offenders == []


def test_common_and_data_import_no_domain() -> None:
    """DESIGN.md: common/ and data/ (and the workflow's common.smk) import no domain."""
    domain = re.compile(r"seqstruct\.(crop|dos|mlc|dapc|cdsvae|asr)\b")
    places = [
        *(ROOT / "src/seqstruct/common").rglob("*.py"),
        *(ROOT / "src/seqstruct/data").rglob("*.py"),
        ROOT / "workflow/rules/common.smk",
        ROOT / "workflow/rules/data.smk",
        ROOT / "workflow/rules/thesis.smk",
    ]
    hits = [
        f"{p.relative_to(ROOT)}:{i}"
        for p in places
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if domain.search(line)
    ]
    assert hits == []
