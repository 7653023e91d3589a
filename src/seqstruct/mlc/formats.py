"""The raw formats of the multi-label data sets and which registered file plays which part in each.

A data set of the ``mlc.datasets`` config names its registry id and its ``format``; the files of a format are
found among the registry entry's file names by pattern (``ROLES``), so a new Mulan data set needs only its
registry entry and one config line. ``roles`` is what the workflow calls (at parse time) to find a data set's
inputs; ``prepare`` (in ``seqstruct.mlc.prepare``) reads them.

============  ====================================================  ==========================================
format        parts (role: file pattern)                            read by
============  ====================================================  ==========================================
mulan         train ``*-train.arff``, test ``*-test.arff``,          ``seqstruct.mlc.prepare.prepare_mulan``
              xml ``*.xml`` (label names)
reuters       archive ``*.tar.xz`` / ``*.tar.gz`` (the SGML files)   ``seqstruct.mlc.reuters.prepare_reuters``
sider         csv ``*.csv`` (``smiles`` + one 0/1 column per label)  ``seqstruct.mlc.sider.prepare_sider``
csv_pairs     xt ``Xt_*.csv``, yt ``Yt_*.csv``, xv ``Xv_*.csv``,     ``seqstruct.mlc.standin.prepare_csv_pairs``
              yv ``Yv_*.csv`` (headerless features / labels)
============  ====================================================  ==========================================
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping, Sequence
from typing import Any

from seqstruct.common.errors import InputError
from seqstruct.mlc.prepare import PreparedMlc, prepare_mulan

#: format -> role -> the file-name patterns that fill the role (exactly one file must match)
ROLES: dict[str, dict[str, tuple[str, ...]]] = {
    "mulan": {"train": ("*-train.arff",), "test": ("*-test.arff",), "xml": ("*.xml",)},
    "reuters": {"archive": ("*.tar.xz", "*.tar.gz")},
    "sider": {"csv": ("*.csv",)},
    "csv_pairs": {"xt": ("Xt_*.csv",), "yt": ("Yt_*.csv",), "xv": ("Xv_*.csv",), "yv": ("Yv_*.csv",)},
}


class FormatError(InputError, ValueError):
    """A data set's files do not fill the parts of its format (one line: the data set, the files, the fix)."""


def roles(fmt: str, names: Sequence[str], where: str) -> dict[str, str]:
    """The file of each part of format ``fmt`` among ``names``.

    Parameters
    ----------
    fmt : str
        A key of ``ROLES``.
    names : sequence of str
        The data set's file names (a registry entry's, or the synthetic stand-in's).
    where : str
        What the names belong to, for the error message (e.g. ``dataset 'yeast' (mulan_yeast)``).

    Returns
    -------
    dict
        Role -> file name, in ``ROLES`` order.

    Raises
    ------
    FormatError
        An unknown format, or a role matched by no file or by several.
    """
    if fmt not in ROLES:
        raise FormatError(f"{where}: unknown format {fmt!r}; known: {sorted(ROLES)}")
    found = {}
    for role, patterns in ROLES[fmt].items():
        hits = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
        if len(hits) != 1:
            raise FormatError(
                f"{where}: format {fmt} needs exactly one {role} file ({' or '.join(patterns)}), found "
                f"{hits or 'none'} among {list(names)}; fix the registry entry's files or the format"
            )
        found[role] = hits[0]
    return found


def prepare(
    fmt: str,
    files: Mapping[str, str | os.PathLike[str]],
    dataset: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    options: Mapping[str, Any] | None = None,
) -> PreparedMlc:
    """Prepare data set ``dataset`` of format ``fmt`` from its raw ``files`` (role -> path, see ``roles``) into
    ``out_dir`` with the split seed ``seed``; ``options`` go to the format's reader (module docstring)."""
    kw = dict(options or {})
    if fmt == "mulan":
        return prepare_mulan(files["train"], files["test"], files["xml"], dataset, out_dir, seed, **kw)
    if fmt == "reuters":
        from seqstruct.mlc.reuters import prepare_reuters

        return prepare_reuters(files["archive"], dataset, out_dir, seed, **kw)
    if fmt == "sider":
        from seqstruct.mlc.sider import prepare_sider

        return prepare_sider(files["csv"], dataset, out_dir, seed, **kw)
    if fmt == "csv_pairs":
        from seqstruct.mlc.standin import prepare_csv_pairs

        return prepare_csv_pairs(files["xt"], files["yt"], files["xv"], files["yv"], dataset, out_dir, seed, **kw)
    raise FormatError(f"{dataset}: unknown format {fmt!r}; known: {sorted(ROLES)}")
