"""Validated reader of Mulan multi-label data sets: an ARFF file plus the label XML.

A Mulan data set is ``<ds>-train.arff``, ``<ds>-test.arff`` and ``<ds>.xml``; the XML lists the L label names,
and the labels are the **last L attributes** of the ARFF files. The XML's order need not be the file's (yeast's
XML lists ``Class1, Class2, Class3, Class6, Class4, ...`` while its ARFF has ``Class1 ... Class14``; enron's
differ too), so the names are matched as a set and the label columns keep the **ARFF order**, which
``MultiLabelData.label_names`` records. The reader handles what the Mulan files use and nothing more exotic:

- plain text, or ``.xz`` / ``.gz`` compressed (chosen by the file suffix); UTF-8, falling back to latin-1;
- ``%`` comment lines, ``@relation`` (the name is ignored, quoted or not), ``@attribute`` of type
  ``numeric`` / ``real`` / ``integer`` or nominal ``{a,b,c}``; names and values may be quoted with ``'`` or
  ``"``, and a backslash makes the next character literal (``'Swainson\\'s Thrush'``, ``TAG_dise\\~no``);
- dense rows (``v1,v2,...``) and sparse rows (``{idx val,idx val}``, 0-based indices over all attributes
  in increasing order, an omitted value is 0, i.e. the first category of a nominal attribute).

Encoding rules:

- a nominal **feature** becomes the index of its value in the declared category list, as a float (birds'
  ``location {2,10,1,...}``: value ``2`` -> 0.0, ``10`` -> 1.0); a **label** must be nominal ``{0,1}`` or
  numeric, with values 0 or 1;
- features are float32; they are a ``scipy.sparse.csr_matrix`` when the file has at least one sparse row
  (delicious, bibtex, enron), otherwise a dense ``numpy.ndarray`` (yeast, birds);
- missing values ``?`` are refused (multi-label features must be complete; none of the staged Mulan files
  has one), as are non-finite numbers.

Every problem raises :class:`ArffError`, one line naming the file, the problem and the fix.
"""

from __future__ import annotations

import gzip
import lzma
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from seqstruct.common.errors import InputError

_NUMERIC_TYPES = {"numeric", "real", "integer"}
_UNSUPPORTED_TYPES = {"string", "date", "relational"}
_QUOTES = "'\""
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_FETCH_FIX = "check the path or fetch the Mulan data (data rule / SEQSTRUCT_DATA_MIRROR)"


class ArffError(InputError, ValueError):
    """A Mulan ARFF or label XML file is missing, unreadable or inconsistent (one line: file, problem, fix)."""


@dataclass(frozen=True)
class Attribute:
    """One ``@attribute`` declaration.

    Attributes
    ----------
    name : str
        The attribute name, unquoted and unescaped.
    kind : {"numeric", "nominal"}
        ``numeric`` for numeric / real / integer, ``nominal`` for ``{a,b,c}``.
    categories : tuple of str
        The declared categories of a nominal attribute, in order (empty for numeric).
    """

    name: str
    kind: str
    categories: tuple[str, ...] = ()

    def describe(self) -> str:
        """The declared type as written in ARFF: ``numeric`` or ``{a,b,c}``."""
        return "numeric" if self.kind == "numeric" else "{" + ",".join(self.categories) + "}"


@dataclass(frozen=True, eq=False)
class MultiLabelData:
    """Features and 0/1 labels of one Mulan ARFF file.

    Attributes
    ----------
    features : scipy.sparse.csr_matrix or numpy.ndarray
        ``(N, F)`` float32: CSR when the file has any sparse row, otherwise a dense array.
    labels : numpy.ndarray
        ``(N, L)`` uint8 with values 0 and 1, columns in the order of ``label_names``.
    feature_names : tuple of str
        The F feature attribute names, in file order.
    label_names : tuple of str
        The L label names in ARFF order (the last L attributes; the same set as the XML's labels, maybe in
        another order).
    source : str
        The path the data was read from.
    """

    features: sp.csr_matrix | np.ndarray
    labels: np.ndarray
    feature_names: tuple[str, ...]
    label_names: tuple[str, ...]
    source: str

    @property
    def n_samples(self) -> int:
        """Number of rows N."""
        return int(self.labels.shape[0])

    @property
    def n_features(self) -> int:
        """Number of feature columns F."""
        return len(self.feature_names)

    @property
    def n_labels(self) -> int:
        """Number of labels L."""
        return len(self.label_names)

    @property
    def cardinality(self) -> float:
        """Label cardinality: the mean number of positive labels per row."""
        return float(self.labels.sum(dtype=np.int64)) / max(self.n_samples, 1)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _unescape(text: str) -> str:
    """Drop every escaping backslash: ``\\x`` -> ``x``."""
    return _ESCAPE.sub(r"\1", text) if "\\" in text else text


def _unquote(token: str) -> str:
    """A name or value token without its surrounding quotes and escapes."""
    if len(token) >= 2 and token[0] in _QUOTES and token[-1] == token[0]:
        token = token[1:-1]
    return _unescape(token)


def _split_quoted(text: str) -> list[str]:
    """Split ``text`` at the commas outside quotes; tokens are stripped, quotes kept (ValueError if unclosed)."""
    tokens, start, quote, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 1
        elif quote:
            if ch == quote:
                quote = ""
        elif ch in _QUOTES:
            quote = ch
        elif ch == ",":
            tokens.append(text[start:i].strip())
            start = i + 1
        i += 1
    if quote:
        raise ValueError(f"unclosed {quote} quote")
    tokens.append(text[start:].strip())
    return tokens


def _split_name(text: str) -> tuple[str, str]:
    """The leading (possibly quoted) name of ``text`` and the rest (ValueError if a quote is not closed)."""
    text = text.strip()
    if text and text[0] in _QUOTES:
        i = 1
        while i < len(text) and text[i] != text[0]:
            i += 2 if text[i] == "\\" else 1
        if i >= len(text):
            raise ValueError(f"unclosed {text[0]} quote in the name")
        return _unescape(text[1:i]), text[i + 1 :].strip()
    match = re.match(r"(?:\\.|[^\s{])+", text)
    if match is None:
        raise ValueError("no name")
    return _unescape(match.group(0)), text[match.end() :].strip()


def read_label_names(xml_path: str | Path) -> list[str]:
    """The label names of a Mulan label XML, in file order, backslash escapes removed.

    Parameters
    ----------
    xml_path : str or Path
        ``<ds>.xml``: ``<labels xmlns=...><label name="..."/>...</labels>`` (nested labels of a hierarchy are
        included in document order; any namespace is accepted).

    Returns
    -------
    list of str
        The L label names, e.g. ``Swainson's Thrush`` for ``Swainson\\'s Thrush``.

    Raises
    ------
    ArffError
        The file is missing or not XML, has no ``<label>`` entry, a label without a name, or a duplicate name.
    """
    path = Path(xml_path)
    if not path.is_file():
        raise ArffError(f"{path}: label XML not found; {_FETCH_FIX}")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ArffError(f"{path}: not valid XML ({_one_line(exc)}); re-fetch the data set's <ds>.xml") from exc
    names: list[str] = []
    seen: set[str] = set()
    for elem in root.iter():
        if not isinstance(elem.tag, str) or elem.tag.rsplit("}", 1)[-1] != "label":
            continue
        raw = elem.get("name")
        if not raw:
            raise ArffError(f'{path}: <label> number {len(names) + 1} has no name attribute; give it name="..."')
        name = _unescape(raw)
        if name in seen:
            raise ArffError(f"{path}: label {name!r} is listed twice; each label must appear once")
        seen.add(name)
        names.append(name)
    if not names:
        raise ArffError(f"{path}: no <label name=...> entries; this is not a Mulan label XML, use <ds>.xml")
    return names


def _read_text(path: Path) -> str:
    """The decoded text of a plain, ``.xz`` or ``.gz`` file."""
    if not path.is_file():
        raise ArffError(f"{path}: ARFF file not found; {_FETCH_FIX}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".xz":
            with lzma.open(path) as fh:
                raw = fh.read()
        elif suffix == ".gz":
            with gzip.open(path) as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (lzma.LZMAError, EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise ArffError(
            f"{path}: truncated or corrupt {suffix} file ({_one_line(exc) or type(exc).__name__}); "
            "delete it and re-fetch"
        ) from exc
    except OSError as exc:
        raise ArffError(f"{path}: cannot be read ({_one_line(exc)}); check its permissions") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return text.removeprefix("\ufeff")


def _parse_attribute(path: Path, lineno: int, rest: str) -> Attribute:
    where = f"{path}: line {lineno}"
    try:
        name, decl = _split_name(rest)
    except ValueError as exc:
        raise ArffError(f"{where}: bad @attribute name ({exc}); write '@attribute <name> <type>'") from exc
    if decl.startswith("{"):
        if not decl.endswith("}"):
            raise ArffError(f"{where}: nominal attribute {name!r} is not closed with '}}'; write {{a,b,c}}")
        try:
            categories = tuple(_unquote(tok) for tok in _split_quoted(decl[1:-1]))
        except ValueError as exc:
            raise ArffError(f"{where}: nominal attribute {name!r}: {exc}; close the quote") from exc
        if not decl[1:-1].strip() or "" in categories or len(set(categories)) != len(categories):
            raise ArffError(f"{where}: nominal attribute {name!r} needs distinct, non-empty categories {{a,b,c}}")
        return Attribute(name, "nominal", categories)
    kind = decl.split()[0].lower() if decl else ""
    if kind in _NUMERIC_TYPES:
        return Attribute(name, "numeric")
    what = f"type {kind!r} is not supported" if kind in _UNSUPPORTED_TYPES else f"unknown type {decl!r}"
    raise ArffError(f"{where}: attribute {name!r}: {what}; Mulan features must be numeric/real/integer or {{a,b,c}}")


def _parse_header(path: Path, lines: list[str]) -> tuple[list[Attribute], int]:
    """The attributes and the index of the first line after ``@data``."""
    attributes: list[Attribute] = []
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith("%"):
            continue
        keyword, *more = text.split(None, 1)
        keyword, rest = keyword.lower(), more[0] if more else ""
        if keyword == "@relation":
            continue
        if keyword == "@attribute":
            attributes.append(_parse_attribute(path, i + 1, rest))
        elif keyword == "@data":
            if not attributes:
                raise ArffError(f"{path}: @data before any @attribute; declare the attributes first")
            return attributes, i + 1
        else:
            raise ArffError(
                f"{path}: line {i + 1}: unexpected header line {text[:40]!r}; expected @relation, @attribute or "
                "@data (is this an ARFF file?)"
            )
    raise ArffError(f"{path}: no @data line; the file is not ARFF or is truncated, re-fetch it")


def _check_labels(path: Path, attributes: list[Attribute], label_names: Sequence[str]) -> tuple[str, ...]:
    """Check that the last L attributes are the XML's labels (any order); their names in file order."""
    n, n_labels = len(attributes), len(label_names)
    counts = f"ARFF has {n} attributes, XML names {n_labels} labels"
    if n_labels == 0:
        raise ArffError(f"{path}: no label names given; pass the names from read_label_names(<ds>.xml)")
    if len(set(label_names)) != n_labels:
        raise ArffError(f"{path}: the label names given repeat a name; pass the names from read_label_names(<ds>.xml)")
    if n <= n_labels:
        raise ArffError(f"{path}: {counts}, which leaves no feature; use the XML of the same Mulan data set")
    position: dict[str, int] = {}
    for k, attr in enumerate(attributes):
        if attr.name in position:
            raise ArffError(f"{path}: attribute {attr.name!r} is declared twice; attribute names must be unique")
        position[attr.name] = k
    wanted = set(label_names)
    tail = attributes[n - n_labels :]
    for k, attr in enumerate(tail, start=n - n_labels + 1):
        if attr.name not in wanted:
            missing = next(name for name in label_names if position.get(name, -1) < n - n_labels)
            where = f"attribute {position[missing] + 1}" if missing in position else "not an attribute"
            raise ArffError(
                f"{path}: the last {n_labels} attributes must be the XML's labels, but attribute {k} {attr.name!r} "
                f"is not an XML label and the XML's label {missing!r} is {where} ({counts}); "
                "use the XML of the same Mulan data set"
            )
        if attr.kind == "nominal" and attr.categories != ("0", "1"):
            raise ArffError(
                f"{path}: label attribute {attr.name!r} is declared {attr.describe()}; Mulan labels must be "
                "declared {0,1} or numeric"
            )
    return tuple(attr.name for attr in tail)


class _DataParser:
    """Turns the ``@data`` lines into COO triplets of features and labels."""

    def __init__(self, path: Path, attributes: list[Attribute], n_labels: int) -> None:
        self.path = path
        self.attributes = attributes
        self.n_attr = len(attributes)
        self.n_feat = self.n_attr - n_labels
        self.codes = [{c: float(k) for k, c in enumerate(a.categories)} if a.categories else None for a in attributes]
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.vals: list[float] = []
        self.label_rows: list[int] = []
        self.label_cols: list[int] = []
        self.line_of_row: list[int] = []
        self.any_sparse = False

    def fail(self, row: int, what: str, fix: str) -> ArffError:
        line = self.line_of_row[row]
        return ArffError(f"{self.path}: line {line} (data row {row + 1}): {what}; {fix}")

    def value(self, row: int, col: int, token: str) -> None:
        """Store the value ``token`` of attribute ``col`` in ``row`` (zeros are not stored)."""
        attr = self.attributes[col]
        if token and (token[0] in _QUOTES or "\\" in token):
            token = _unquote(token)
        if token == "?" or token == "":
            raise self.fail(
                row, f"missing value for attribute {attr.name!r}", "multi-label features must be complete, fill it"
            )
        codes = self.codes[col]
        if col >= self.n_feat:
            # a numeric label may be written 1.0; a nominal one only as 0 or 1
            number = float(token) if token in ("0", "1") else self._number(row, attr, token) if codes is None else -1
            if number == 1.0:
                self.label_rows.append(row)
                self.label_cols.append(col - self.n_feat)
            elif number != 0.0:
                raise self.fail(row, f"label {attr.name!r} has value {token!r}", "labels must be 0 or 1")
            return
        if codes is None:
            number = self._number(row, attr, token)
        else:
            code = codes.get(token)
            if code is None:
                raise self.fail(
                    row,
                    f"value {token!r} of nominal attribute {attr.name!r} is not one of {attr.describe()}",
                    "fix the value or declare it in the @attribute line",
                )
            number = code
        if number != 0.0:
            self.rows.append(row)
            self.cols.append(col)
            self.vals.append(number)

    def _number(self, row: int, attr: Attribute, token: str) -> float:
        try:
            return float(token)
        except ValueError:
            raise self.fail(
                row, f"value {token!r} of numeric attribute {attr.name!r} is not a number", "fix or re-fetch the file"
            ) from None

    def dense(self, row: int, text: str) -> None:
        tokens = _split_quoted(text) if ("'" in text or '"' in text) else [t.strip() for t in text.split(",")]
        if len(tokens) != self.n_attr:
            raise self.fail(
                row,
                f"{len(tokens)} values but {self.n_attr} attributes are declared",
                "each dense row needs one value per attribute (truncated file? re-fetch it)",
            )
        for col, token in enumerate(tokens):
            self.value(row, col, token)

    def sparse(self, row: int, text: str) -> None:
        self.any_sparse = True
        if not text.endswith("}"):
            raise self.fail(row, "sparse row is not closed with '}'", "write {idx val,...} (truncated file? re-fetch)")
        body = text[1:-1].strip()
        if not body:
            return
        items = _split_quoted(body) if ("'" in body or '"' in body) else body.split(",")
        last = -1
        for item in items:
            parts = item.split(None, 1)
            try:
                col = int(parts[0])
            except (ValueError, IndexError):
                col = None
            if col is None or len(parts) != 2:
                raise self.fail(row, f"bad sparse entry {item.strip()!r}", "write 'index value' pairs: {3 1.5,7 1}")
            if not last < col < self.n_attr:
                what = f"index {col} is out of range 0..{self.n_attr - 1}" if col >= self.n_attr or col < 0 else ""
                raise self.fail(
                    row,
                    what or f"index {col} follows index {last}",
                    "sparse indices are 0-based over all attributes, each once, in increasing order",
                )
            last = col
            self.value(row, col, parts[1].strip())

    def parse(self, lines: list[str], first: int) -> None:
        for i in range(first, len(lines)):
            text = lines[i].strip()
            if not text or text[0] == "%":
                continue
            row = len(self.line_of_row)
            self.line_of_row.append(i + 1)
            try:
                if text[0] == "{":
                    self.sparse(row, text)
                else:
                    self.dense(row, text)
            except ValueError as exc:
                if isinstance(exc, ArffError):
                    raise
                raise self.fail(row, str(exc), "close the quote") from exc

    def result(self) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
        n = len(self.line_of_row)
        vals = np.asarray(self.vals, dtype=np.float32)
        bad = np.flatnonzero(~np.isfinite(vals))
        if bad.size:
            k = int(bad[0])
            name = self.attributes[self.cols[k]].name
            raise self.fail(
                self.rows[k], f"attribute {name!r} is not finite in float32 ({self.vals[k]!r})", "fix the value"
            )
        rows = np.asarray(self.rows, dtype=np.int64)
        cols = np.asarray(self.cols, dtype=np.int64)
        if self.any_sparse:
            features: sp.csr_matrix | np.ndarray = sp.csr_matrix((vals, (rows, cols)), shape=(n, self.n_feat))
        else:
            features = np.zeros((n, self.n_feat), dtype=np.float32)
            features[rows, cols] = vals
        labels = np.zeros((n, self.n_attr - self.n_feat), dtype=np.uint8)
        labels[np.asarray(self.label_rows, dtype=np.int64), np.asarray(self.label_cols, dtype=np.int64)] = 1
        return features, labels


def _parse(path: Path, label_names: Sequence[str]) -> tuple[MultiLabelData, list[Attribute]]:
    lines = _read_text(path).splitlines()
    attributes, first = _parse_header(path, lines)
    names = _check_labels(path, attributes, label_names)
    parser = _DataParser(path, attributes, len(names))
    parser.parse(lines, first)
    if not parser.line_of_row:
        raise ArffError(f"{path}: no data rows after @data; the file is empty or truncated, re-fetch it")
    features, labels = parser.result()
    data = MultiLabelData(
        features=features,
        labels=labels,
        feature_names=tuple(a.name for a in attributes[: parser.n_feat]),
        label_names=names,
        source=str(path),
    )
    return data, attributes


def read_arff(path: str | Path, label_names: Sequence[str]) -> MultiLabelData:
    """Read one Mulan ARFF file into float32 features and a 0/1 label matrix.

    Parameters
    ----------
    path : str or Path
        ``<ds>-train.arff``, ``<ds>-test.arff`` (plain, ``.xz`` or ``.gz``).
    label_names : sequence of str
        The label names from :func:`read_label_names`; the file's last L attribute names must be these names,
        in any order (the label columns follow the file's order).

    Returns
    -------
    MultiLabelData
        Features (CSR if the file has a sparse row, else dense) and ``(N, L)`` uint8 labels.

    Raises
    ------
    ArffError
        Missing, truncated or corrupt file; a header that is not ARFF; labels that do not match the XML; a
        row of the wrong length; a missing ``?``, non-numeric, non-finite or unknown nominal value; a label
        that is not 0/1; a bad sparse index.
    """
    return _parse(Path(path), list(label_names))[0]


def read_mulan(
    train_path: str | Path, test_path: str | Path, xml_path: str | Path
) -> tuple[MultiLabelData, MultiLabelData]:
    """Read a Mulan data set's train and test ARFF files with the labels of its XML.

    Parameters
    ----------
    train_path, test_path : str or Path
        ``<ds>-train.arff[.xz]`` and ``<ds>-test.arff[.xz]``.
    xml_path : str or Path
        ``<ds>.xml``.

    Returns
    -------
    tuple of MultiLabelData
        ``(train, test)`` with the same feature and label columns (labels in ARFF order).

    Raises
    ------
    ArffError
        Anything :func:`read_label_names` or :func:`read_arff` refuses, or train and test files that declare
        different attributes (names, types or nominal categories).
    """
    label_names = read_label_names(xml_path)
    train, train_attrs = _parse(Path(train_path), label_names)
    test, test_attrs = _parse(Path(test_path), label_names)
    fix = "use the train and test files of the same Mulan data set"
    if len(train_attrs) != len(test_attrs):
        raise ArffError(
            f"{test_path}: declares {len(test_attrs)} attributes but {train_path} declares {len(train_attrs)}; {fix}"
        )
    for k, (a, b) in enumerate(zip(train_attrs, test_attrs)):
        if a != b:
            raise ArffError(
                f"{test_path}: attribute {k + 1} is {b.name!r} {b.describe()} but in {train_path} it is "
                f"{a.name!r} {a.describe()}; {fix}"
            )
    return train, test
