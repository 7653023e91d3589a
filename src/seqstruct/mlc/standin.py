"""Reader of headerless feature / label CSV pairs, the format of the eBird stand-in (``csv_pairs``).

The thesis' eBird set is not public (../shared/data/mlc/PROVENANCE.md, section 4). Its stand-in, the Norberg et
al. 2019 birds data from gomes-lab/DMVP-DRNets, comes as headerless comma-separated files: ``Xt`` (train
features), ``Yt`` (train 0/1 labels), ``Xv`` / ``Yv`` (test). :func:`prepare_csv_pairs` pools train and test
(train rows first) and draws the seeded 80/10/10 split like :func:`seqstruct.mlc.prepare.prepare_mulan`, and
labels the result in ``info.json`` as a stand-in (``stand_in_for``, ``note``) so that no table can pass it off
as the thesis data set. The spatial coordinate files (``St`` / ``Sv``) are not read.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqstruct.mlc.prepare import FRACTIONS, MlcDataError, PreparedMlc, write_prepared

log = logging.getLogger(__name__)

_FIX = "use the headerless comma-separated X/Y files as released (one row per site), or fetch them again"


def read_csv_matrix(path: str | os.PathLike[str]) -> np.ndarray:
    """A headerless, comma-separated numeric CSV as a float64 matrix.

    Parameters
    ----------
    path : path
        The file.

    Returns
    -------
    numpy.ndarray
        (rows, columns) float64, every value finite.

    Raises
    ------
    MlcDataError
        A missing or empty file, a field that is not a number, rows of different lengths, or a NaN / infinite
        value (one line naming the file, and the row and column where known).
    """
    source = Path(path)
    if not source.is_file():
        raise MlcDataError(f"{source}: file not found; check the path or fetch the data set (data rule / registry)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": refused below
            x = np.loadtxt(source, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        problem = " ".join(str(exc).split())
        raise MlcDataError(f"{source}: not a numeric headerless CSV ({problem}); {_FIX}") from None
    if x.size == 0:
        raise MlcDataError(f"{source}: the file holds no rows; {_FIX}")
    bad = np.argwhere(~np.isfinite(x))
    if len(bad):
        row, col = bad[0]
        raise MlcDataError(f"{source}, row {row + 1}, column {col + 1}: value {x[row, col]} is not finite; {_FIX}")
    return x


def _labels(path: str | os.PathLike[str]) -> np.ndarray:
    """The 0/1 matrix of a label CSV (:func:`read_csv_matrix`); another value raises naming its row and column."""
    y = read_csv_matrix(path)
    bad = np.argwhere((y != 0) & (y != 1))
    if len(bad):
        row, col = bad[0]
        raise MlcDataError(f"{path}, row {row + 1}, column {col + 1}: label value {y[row, col]} is not 0 or 1; {_FIX}")
    return y.astype(np.uint8)


def _pair(x_path: str | os.PathLike[str], y_path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of one part, checked to have as many rows."""
    x, y = read_csv_matrix(x_path), _labels(y_path)
    if x.shape[0] != y.shape[0]:
        raise MlcDataError(
            f"{x_path} has {x.shape[0]} rows but {y_path} has {y.shape[0]}; the features and labels of a part must "
            "have one row per sample, in the same order"
        )
    return x, y


def prepare_csv_pairs(
    xt: str | os.PathLike[str],
    yt: str | os.PathLike[str],
    xv: str | os.PathLike[str],
    yv: str | os.PathLike[str],
    dataset: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    stand_in_for: str | None = "eBird",
    fractions: Sequence[float] = FRACTIONS,
) -> PreparedMlc:
    """Prepare a data set given as train and test pairs of headerless feature / label CSV files.

    Parameters
    ----------
    xt, yt : path
        Train features (rows, F) and 0/1 labels (rows, L).
    xv, yv : path
        Test features and labels, with the same F and L.
    dataset : str
        The dataset id (recorded and mixed into the split seed).
    out_dir : path
        Output folder, ``results/data/mlc/<dataset>``.
    seed : int
        The split seed.
    stand_in_for : str or None
        The thesis data set this one stands in for, recorded in ``info.json`` as ``stand_in_for`` with a
        ``note``; the default is the eBird stand-in's. ``None`` for a set that is what it says.
    fractions : sequence of 3 floats
        Train/val/test shares.

    Returns
    -------
    PreparedMlc
        features (N, F) dense float32, labels (N, L) uint8; train rows first, then test rows. The eBird stand-in:
        N = 1200, F = 5, L = 141.

    Raises
    ------
    MlcDataError
        A bad file (:func:`read_csv_matrix`), X and Y of a part with different row counts (naming both files), or
        train and test with different feature or label counts; nothing is written.
    """
    x_train, y_train = _pair(xt, yt)
    x_test, y_test = _pair(xv, yv)
    for what, a, b, pa, pb in (("features", x_train, x_test, xt, xv), ("labels", y_train, y_test, yt, yv)):
        if a.shape[1] != b.shape[1]:
            raise MlcDataError(f"{pa} has {a.shape[1]} {what} columns but {pb} has {b.shape[1]}; {_FIX}")
    features = np.concatenate([x_train, x_test]).astype(np.float32)
    labels = np.concatenate([y_train, y_test])
    extra: dict[str, Any] = {"source_rows": {"train": int(x_train.shape[0]), "test": int(x_test.shape[0])}}
    if stand_in_for is not None:
        extra["stand_in_for"] = stand_in_for
        extra["note"] = (
            f"a stand-in, not {stand_in_for}: the same kind of data used for pipeline and structure checks only; its "
            f"results are not {stand_in_for} results (../shared/data/mlc/PROVENANCE.md)"
        )
    feature_names = [f"x{j}" for j in range(features.shape[1])]
    label_names = [f"y{j}" for j in range(labels.shape[1])]
    sources = [str(p) for p in (xt, yt, xv, yv)]
    prepared = write_prepared(
        out_dir, dataset, features, labels, label_names, feature_names, sources, seed, fractions, extra=extra
    )
    log.info(
        "%s%s: %d + %d rows, %d features, %d labels; split %s",
        dataset,
        f" (stand-in for {stand_in_for})" if stand_in_for else "",
        x_train.shape[0],
        x_test.shape[0],
        features.shape[1],
        labels.shape[1],
        ", ".join(f"{k} {v}" for k, v in prepared.info["sizes"].items()),
    )
    return prepared
