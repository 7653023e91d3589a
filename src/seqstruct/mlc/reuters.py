"""Reader of Reuters-21578 (Distribution 1.0 SGML) and the thesis' ModApte multi-label set.

The corpus is 22 files ``reut2-000.sgm`` ... ``reut2-021.sgm`` (latin-1), read either from the staged
``reuters21578.tar.xz`` (members read in memory with :mod:`tarfile`, nothing extracted to disk) or from a folder.
Each ``<REUTERS ...>`` element becomes a :class:`ReutersDoc`; its text is ``TITLE`` + ``BODY`` of ``<TEXT>`` (a
``TYPE="BRIEF"`` / ``"UNPROC"`` text without ``BODY`` keeps whatever text it has), with SGML entities (``&lt;``,
``&amp;``, ``&#3;``) decoded and control characters removed.

:func:`modapte` applies the standard ModApte split (``LEWISSPLIT`` TRAIN / TEST with ``TOPICS="YES"``: 9603 /
3299), keeps the categories with at least one train and one test document (90) and the documents with at least
one of them (7770 + 3019 = 10789, label cardinality 1.235). :func:`tfidf_features` featurizes the texts with a
TF-IDF vocabulary fitted on the training texts only. :func:`prepare_reuters` writes the thesis' data set: the
10789 documents (ModApte train, then test, in corpus order) split 80/10/10 from the seed like every other data set
(:func:`seqstruct.mlc.prepare.split_indices`; the ModApte train/test split is not the thesis'), with the TF-IDF
vocabulary and IDF fitted on the texts of the train-split rows only.

Every bad-input problem raises :class:`ReutersError`, one line naming the file, the problem and the fix.
"""

from __future__ import annotations

import html
import logging
import lzma
import os
import re
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from seqstruct.common.errors import InputError
from seqstruct.mlc.prepare import FRACTIONS, PreparedMlc, split_indices, write_prepared

log = logging.getLogger(__name__)

_FETCH_FIX = "check the path or fetch the Reuters-21578 data (data rule / SEQSTRUCT_DATA_MIRROR)"
_SGM_NAME = re.compile(r"reut2-\d{3}\.sgm")
_DOC = re.compile(r"<REUTERS\b([^>]*)>(.*?)</REUTERS>", re.DOTALL)
_ATTR = re.compile(r'([A-Z]+)="([^"]*)"')
_TOPICS = re.compile(r"<TOPICS>(.*?)</TOPICS>", re.DOTALL)
_D = re.compile(r"<D>(.*?)</D>", re.DOTALL)
_TEXT = re.compile(r"<TEXT\b[^>]*>(.*?)</TEXT>", re.DOTALL)
_TITLE = re.compile(r"<TITLE>(.*?)</TITLE>", re.DOTALL)
_BODY = re.compile(r"<BODY>(.*?)</BODY>", re.DOTALL)
_META = re.compile(r"<(AUTHOR|DATELINE)>.*?</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPLITS = {"TRAIN": "train", "TEST": "test"}


class ReutersError(InputError, ValueError):
    """A Reuters-21578 archive, folder or SGML file is missing, unreadable or malformed (one line: file, fix)."""


@dataclass(frozen=True)
class ReutersDoc:
    """One ``<REUTERS>`` document.

    Attributes
    ----------
    newid : int
        The ``NEWID`` attribute (1 ... 21578).
    split : str
        ``LEWISSPLIT`` lower-cased: ``"train"``, ``"test"`` or another value such as ``"not-used"``.
    topics_yes : bool
        Whether ``TOPICS="YES"``.
    topics : tuple of str
        The ``<TOPICS><D>...</D></TOPICS>`` categories, in file order.
    text : str
        Title and body, entities decoded, control characters removed, stripped.
    """

    newid: int
    split: str
    topics_yes: bool
    topics: tuple[str, ...]
    text: str


@dataclass(frozen=True, eq=False)
class ModApte:
    """The ModApte multi-label set restricted to categories with train and test documents.

    Attributes
    ----------
    train_docs, test_docs : list of ReutersDoc
        The kept documents (at least one kept category), in corpus order.
    categories : tuple of str
        The kept categories, sorted; the label columns follow this order.
    labels_train, labels_test : numpy.ndarray
        ``uint8`` indicator matrices, ``(len(train_docs), len(categories))`` and ``(len(test_docs), ...)``.
    n_train_split, n_test_split : int
        ModApte document counts before the category filter (9603 / 3299 on the full corpus).
    """

    train_docs: list[ReutersDoc]
    test_docs: list[ReutersDoc]
    categories: tuple[str, ...]
    labels_train: np.ndarray
    labels_test: np.ndarray
    n_train_split: int
    n_test_split: int

    @property
    def cardinality(self) -> float:
        """Mean number of labels per document over train and test together."""
        n = self.labels_train.shape[0] + self.labels_test.shape[0]
        return float(self.labels_train.sum(dtype=np.int64) + self.labels_test.sum(dtype=np.int64)) / max(n, 1)


def _clean(text: str) -> str:
    """Decode SGML entities and drop control characters (``&#3;`` terminators included)."""
    return _CONTROL.sub("", html.unescape(text))


def _doc_text(inner: str) -> str:
    """Title + body of a document's ``<TEXT>``, or whatever text it has when there is no ``BODY``."""
    match = _TEXT.search(inner)
    if match is None:
        return ""
    content = match.group(1)
    title = _TITLE.search(content)
    body = _BODY.search(content)
    if body is not None:
        parts = [title.group(1) if title else "", body.group(1)]
    else:
        rest = _TITLE.sub("", _META.sub("", content))
        parts = [title.group(1) if title else "", _TAG.sub(" ", rest)]
    return "\n".join(_clean(p).strip() for p in parts if p.strip()).strip()


def parse_sgml(text: str, source: str = "<string>") -> list[ReutersDoc]:
    """Parse the ``<REUTERS>`` documents of one SGML file's text.

    Parameters
    ----------
    text : str
        The decoded (latin-1) file content.
    source : str
        The file name used in error messages.

    Returns
    -------
    list of ReutersDoc
        The documents in file order.
    """
    docs = []
    for match in _DOC.finditer(text):
        attrs = dict(_ATTR.findall(match.group(1)))
        inner = match.group(2)
        newid = attrs.get("NEWID", "")
        if not newid.isdigit():
            raise ReutersError(
                f"{source}: a <REUTERS> document has no valid NEWID attribute (got {newid!r}); "
                "use the unmodified Reuters-21578 Distribution 1.0 files"
            )
        topics = _TOPICS.search(inner)
        cats = tuple(_clean(d).strip() for d in _D.findall(topics.group(1))) if topics else ()
        split = attrs.get("LEWISSPLIT", "")
        docs.append(
            ReutersDoc(
                newid=int(newid),
                split=_SPLITS.get(split, split.lower()),
                topics_yes=attrs.get("TOPICS") == "YES",
                topics=cats,
                text=_doc_text(inner),
            )
        )
    return docs


def _read_archive(path: Path) -> list[tuple[str, bytes]]:
    """The ``reut2-*.sgm`` members of a tar archive as (name, bytes), sorted by name."""
    try:
        with tarfile.open(path, "r:*") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and _SGM_NAME.fullmatch(Path(m.name).name)]
            out = []
            for member in sorted(members, key=lambda m: Path(m.name).name):
                handle = tar.extractfile(member)
                assert handle is not None  # a regular file member always has a handle
                out.append((member.name, handle.read()))
    except (tarfile.TarError, lzma.LZMAError, EOFError) as exc:
        problem = " ".join(str(exc).split()) or type(exc).__name__
        raise ReutersError(f"{path}: corrupt or truncated archive ({problem}); {_FETCH_FIX}") from None
    return out


def read_reuters_sgml(paths_or_archive: str | Path | Sequence[str | Path]) -> list[ReutersDoc]:
    """Read the Reuters-21578 documents from an archive, a folder or a list of ``.sgm`` files.

    Parameters
    ----------
    paths_or_archive : path or sequence of paths
        A tar archive (``reuters21578.tar.xz``; its ``reut2-*.sgm`` members are read in memory), a folder
        holding ``reut2-*.sgm``, or explicit ``.sgm`` file paths.

    Returns
    -------
    list of ReutersDoc
        All documents, files in name order, documents in file order.
    """
    if isinstance(paths_or_archive, (str, Path)):
        path = Path(paths_or_archive)
        if not path.exists():
            raise ReutersError(f"{path}: Reuters-21578 archive or folder not found; {_FETCH_FIX}")
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if _SGM_NAME.fullmatch(p.name))
            blobs = [(str(p), p.read_bytes()) for p in files]
        else:
            blobs = _read_archive(path)
        where = path
    else:
        paths = [Path(p) for p in paths_or_archive]
        for p in paths:
            if not p.is_file():
                raise ReutersError(f"{p}: Reuters-21578 SGML file not found; {_FETCH_FIX}")
        blobs = [(str(p), p.read_bytes()) for p in paths]
        where = Path(", ".join(str(p) for p in paths) or "<no paths>")
    if not blobs:
        raise ReutersError(f"{where}: no reut2-*.sgm files found; {_FETCH_FIX}")
    docs: list[ReutersDoc] = []
    for name, data in blobs:
        docs.extend(parse_sgml(data.decode("latin-1"), source=name))
    return docs


def modapte(docs: Sequence[ReutersDoc]) -> ModApte:
    """The ModApte split, restricted to categories with at least one train and one test document.

    Parameters
    ----------
    docs : sequence of ReutersDoc
        The corpus, as from :func:`read_reuters_sgml`.

    Returns
    -------
    ModApte
        Kept documents, sorted categories and ``uint8`` label matrices.
    """
    train = [d for d in docs if d.topics_yes and d.split == "train"]
    test = [d for d in docs if d.topics_yes and d.split == "test"]
    kept = {c for d in train for c in d.topics} & {c for d in test for c in d.topics}
    categories = tuple(sorted(kept))
    column = {c: j for j, c in enumerate(categories)}

    def labels(split: list[ReutersDoc]) -> tuple[list[ReutersDoc], np.ndarray]:
        chosen = [d for d in split if any(c in column for c in d.topics)]
        y = np.zeros((len(chosen), len(categories)), dtype=np.uint8)
        for i, d in enumerate(chosen):
            for c in d.topics:
                if c in column:
                    y[i, column[c]] = 1
        return chosen, y

    train_docs, y_train = labels(train)
    test_docs, y_test = labels(test)
    return ModApte(train_docs, test_docs, categories, y_train, y_test, len(train), len(test))


def tfidf_features(
    train_texts: Sequence[str], test_texts: Sequence[str], max_features: int = 5000, min_df: int = 3
) -> tuple[sp.csr_matrix, sp.csr_matrix, tuple[str, ...]]:
    """TF-IDF features with the vocabulary and IDF fitted on the training texts only.

    Parameters
    ----------
    train_texts, test_texts : sequence of str
        Document texts; only ``train_texts`` choose the vocabulary and the IDF weights.
    max_features : int
        Vocabulary size limit (most frequent terms in train).
    min_df : int
        Minimum number of training documents a term must occur in.

    Returns
    -------
    (scipy.sparse.csr_matrix, scipy.sparse.csr_matrix, tuple of str)
        ``float32`` train and test matrices (sublinear TF, L2-normalized rows) and the vocabulary in column order.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        max_features=max_features,
        min_df=min_df,
        sublinear_tf=True,
        lowercase=True,
        stop_words="english",
        dtype=np.float32,
    )
    x_train = sp.csr_matrix(vectorizer.fit_transform(list(train_texts)), dtype=np.float32)
    x_test = sp.csr_matrix(vectorizer.transform(list(test_texts)), dtype=np.float32)
    return x_train, x_test, tuple(str(t) for t in vectorizer.get_feature_names_out())


def prepare_reuters(
    archive: str | os.PathLike[str],
    dataset: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    max_features: int = 5000,
    min_df: int = 3,
    fractions: Sequence[float] = FRACTIONS,
) -> PreparedMlc:
    """Prepare the thesis' Reuters-21578 set: ModApte, 90 categories, a seeded split, train-fitted TF-IDF.

    Rows are the ModApte train documents, then the test documents, each in corpus order (``info.json`` records
    their ``NEWID`` in row order and the ModApte counts under ``modapte``). The split is
    ``split_indices(N, seed, dataset, fractions)`` over all N rows; only the texts of its train rows choose the
    vocabulary and the IDF weights (:func:`tfidf_features`), then every row is transformed.

    Parameters
    ----------
    archive : path
        ``reuters21578.tar.xz``, or a folder holding the ``reut2-*.sgm`` files.
    dataset : str
        The dataset id (recorded and mixed into the split seed).
    out_dir : path
        Output folder, ``results/data/mlc/<dataset>``.
    seed : int
        The split seed.
    max_features, min_df : int
        TF-IDF vocabulary size limit and minimum train-row document frequency.
    fractions : sequence of 3 floats
        Train/val/test shares.

    Returns
    -------
    PreparedMlc
        features (N, max_features or fewer) float32 CSR, labels (N, L) uint8; on the full corpus N = 10789 and
        L = 90.

    Raises
    ------
    ReutersError
        A missing, corrupt or truncated archive, malformed SGML, no ModApte document, or a vocabulary that comes
        out empty (one line; nothing is written).
    """
    start = time.perf_counter()
    docs = read_reuters_sgml(Path(archive))
    m = modapte(docs)
    kept = m.train_docs + m.test_docs
    if not m.categories or len(kept) < 3:
        raise ReutersError(
            f"{archive}: only {len(kept)} ModApte documents with a category that has train and test documents; "
            f"{_FETCH_FIX}"
        )
    labels = np.concatenate([m.labels_train, m.labels_test])
    texts = [d.text for d in kept]
    try:
        split = split_indices(len(kept), seed, dataset, fractions)
        _, features, vocab = tfidf_features(
            [texts[i] for i in split["train"]], texts, max_features=max_features, min_df=min_df
        )
    except ValueError as exc:  # too few rows for the split, or no term left in the vocabulary
        problem = " ".join(str(exc).split())
        raise ReutersError(f"{archive}: cannot featurize the ModApte documents ({problem}); check min_df") from None
    counts = {
        "n_documents": len(docs),
        "n_train_split": m.n_train_split,
        "n_test_split": m.n_test_split,
        "n_categories": len(m.categories),
        "n_train": len(m.train_docs),
        "n_test": len(m.test_docs),
        "cardinality": m.cardinality,
    }
    extra = {
        "modapte": counts,
        "row_order": "ModApte train documents (modapte.n_train rows), then test documents, each in corpus order",
        "newids": [d.newid for d in kept],
        "featurizer": {
            "kind": "tfidf",
            "fitted_on": "train split rows",
            "max_features": max_features,
            "min_df": min_df,
            "sublinear_tf": True,
            "stop_words": "english",
        },
    }
    prepared = write_prepared(
        out_dir, dataset, features, labels, m.categories, vocab, [str(archive)], seed, fractions, split, extra
    )
    log.info(
        "%s: ModApte %d/%d documents, %d categories keep %d + %d = %d; %d TF-IDF terms; split %s; %.1f s",
        dataset,
        m.n_train_split,
        m.n_test_split,
        len(m.categories),
        len(m.train_docs),
        len(m.test_docs),
        len(kept),
        len(vocab),
        ", ".join(f"{k} {v}" for k, v in prepared.info["sizes"].items()),
        time.perf_counter() - start,
    )
    return prepared
