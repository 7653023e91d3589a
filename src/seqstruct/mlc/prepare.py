"""The prepared multi-label data set: one folder per data set, a seeded 80/10/10 split as index files.

Layout of ``results/data/mlc/<dataset>/`` (read back by :func:`load_prepared`)::

    features.npz     (N, F) float32: a scipy CSR matrix (``scipy.sparse.save_npz``) for sparse data,
                     else a dense array under key ``x``
    labels.npy       (N, L) uint8 0/1
    train_idx.npy    sorted int64 row indices of the split (the three are disjoint and cover 0..N-1)
    val_idx.npy
    test_idx.npy
    info.json        dataset id, label and feature names, source files, split seed and fractions, counts

Rows are in source order (for Mulan: the train file's rows, then the test file's). The thesis uses the authors'
own random 80/10/10 index files, which are not public (../shared/data/mlc/PROVENANCE.md), so the split is drawn
here from the seed: ``seqstruct.common.seeding.generator(seed, "mlc-split", dataset)``. Samples without a
positive label are kept (the models guard every term that divides by the label count).

One command prepares any raw format (:func:`seqstruct.mlc.formats.prepare`; one file argument per role)::

    python -m seqstruct.mlc.prepare --train yeast-train.arff.xz --test yeast-test.arff.xz --xml yeast.xml \\
        --dataset yeast --out results/data/mlc/yeast                    # --format mulan, the default
    python -m seqstruct.mlc.prepare --format reuters --archive reuters21578.tar.xz --dataset reuters --out DIR \\
        [--max-features 5000 --min-df 3]
    python -m seqstruct.mlc.prepare --format sider --csv sider.csv --dataset sider --out DIR [--radius 2 --n-bits 2048]
    python -m seqstruct.mlc.prepare --format csv_pairs --xt Xt_1_birds.csv --yt Yt_1_birds.csv --xv Xv_1_birds.csv \\
        --yv Yv_1_birds.csv --dataset ebird_standin --out DIR [--stand-in-for eBird]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from seqstruct.common.errors import InputError, print_error
from seqstruct.common.io import atomic_path, write_json
from seqstruct.common.splits import FRACTIONS, SPLITS, random_split
from seqstruct.mlc.arff import read_mulan

log = logging.getLogger(__name__)

#: the files of a prepared folder (module docstring); a run's fingerprint and provenance cover them all
PREPARED_FILES = ("features.npz", "labels.npy", *(f"{k}_idx.npy" for k in SPLITS), "info.json")
#: raw format -> the keyword options of its reader that the CLI offers (config ``mlc.datasets.<name>.options``)
FORMAT_OPTIONS: dict[str, tuple[str, ...]] = {
    "mulan": (),
    "reuters": ("max_features", "min_df"),
    "sider": ("radius", "n_bits"),
    "csv_pairs": ("stand_in_for",),
}


class MlcDataError(InputError, ValueError):
    """A prepared multi-label data set is missing or inconsistent (one line: the file, the problem, the fix)."""


@dataclass(frozen=True, eq=False)
class PreparedMlc:
    """A prepared data set and its split.

    Attributes
    ----------
    features : scipy.sparse.csr_matrix or numpy.ndarray
        (N, F) float32.
    labels : numpy.ndarray
        (N, L) uint8 0/1.
    split : dict of str to numpy.ndarray
        ``train``, ``val``, ``test`` -> sorted int64 row indices.
    info : dict
        The ``info.json`` record.
    """

    features: sp.csr_matrix | np.ndarray
    labels: np.ndarray
    split: dict[str, np.ndarray]
    info: dict[str, Any]

    def part(self, name: str) -> tuple[sp.csr_matrix | np.ndarray, np.ndarray]:
        """Features and labels of split ``name`` (``train``, ``val`` or ``test``)."""
        idx = self.split[name]
        return self.features[idx], self.labels[idx]


def split_indices(n: int, seed: int, dataset: str, fractions: Sequence[float] = FRACTIONS) -> dict[str, np.ndarray]:
    """The MLC split of ``n`` rows: ``seqstruct.common.splits.random_split(n, seed, "mlc-split", dataset)``."""
    return random_split(n, seed, "mlc-split", dataset, fractions)


def dataset_statistics(labels: np.ndarray) -> dict[str, float]:
    """The columns of thesis Table 2.11 for one data set.

    Parameters
    ----------
    labels : ndarray, shape (N, L)
        0/1 labels of every sample.

    Returns
    -------
    dict
        The columns of ``config/thesis/table2_11.csv``: ``n_samples``, ``n_labels``, ``mean_labels_per_sample``,
        ``median_labels_per_sample``, ``max_labels_per_sample`` and ``mean_samples_per_label``.
    """
    y = np.asarray(labels).astype(bool)
    per_sample = y.sum(1)
    return {
        "n_samples": int(y.shape[0]),
        "n_labels": int(y.shape[1]),
        "mean_labels_per_sample": float(per_sample.mean()),
        "median_labels_per_sample": float(np.median(per_sample)),
        "max_labels_per_sample": int(per_sample.max()),
        "mean_samples_per_label": float(y.sum(0).mean()),
    }


def write_prepared(
    out_dir: str | os.PathLike[str],
    dataset: str,
    features: sp.csr_matrix | np.ndarray,
    labels: np.ndarray,
    label_names: Sequence[str],
    feature_names: Sequence[str],
    sources: Sequence[str],
    seed: int,
    fractions: Sequence[float] = FRACTIONS,
    split: Mapping[str, np.ndarray] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> PreparedMlc:
    """Split and write one prepared data set (layout in the module docstring); ``info.json`` is written last.

    Parameters
    ----------
    out_dir : path
        ``results/data/mlc/<dataset>``.
    dataset : str
        The dataset id.
    features : CSR matrix or ndarray, shape (N, F)
        Real features.
    labels : ndarray, shape (N, L)
        0/1 labels.
    label_names, feature_names : sequence of str
        L label and F feature names.
    sources : sequence of str
        The raw files read (recorded in ``info.json``).
    seed : int
        The split seed.
    fractions : sequence of 3 floats
        Train/val/test shares.
    split : mapping of str to ndarray, optional
        The split already drawn with ``split_indices(N, seed, dataset, fractions)``, for a caller that fits its
        featurizer on the train rows before writing (Reuters' TF-IDF). It must be that very split (it is checked),
        so ``split_seed`` in ``info.json`` always reproduces the index files. By default it is drawn here.
    extra : mapping, optional
        More ``info.json`` entries (e.g. a reader's counts); a key that ``write_prepared`` sets itself is refused.

    Returns
    -------
    PreparedMlc
        What was written.

    Raises
    ------
    MlcDataError
        Labels that are not a 0/1 matrix, or parts whose shapes disagree.
    ValueError
        A ``split`` that is not the seeded one, or an ``extra`` key that clashes with a standard one (bugs of the
        caller, not bad input).
    """
    y = np.asarray(labels)
    if y.ndim != 2 or not np.isin(y, (0, 1)).all():
        raise MlcDataError(f"{dataset}: labels must be a 0/1 (samples, labels) matrix")
    if features.shape[0] != y.shape[0] or len(label_names) != y.shape[1] or len(feature_names) != features.shape[1]:
        raise MlcDataError(
            f"{dataset}: {features.shape[0]} feature rows, {y.shape[0]} label rows, {len(label_names)} label names "
            f"for {y.shape[1]} labels, {len(feature_names)} feature names for {features.shape[1]} features"
        )
    drawn = split_indices(y.shape[0], seed, dataset, fractions)
    if split is not None and (
        set(split) != set(SPLITS) or not all(np.array_equal(np.asarray(split[k]), drawn[k]) for k in SPLITS)
    ):
        raise ValueError(f"{dataset}: the given split is not split_indices({y.shape[0]}, {seed}, {dataset!r})")
    info = {
        "dataset": dataset,
        "label_names": list(label_names),
        "feature_names": list(feature_names),
        "sparse": bool(sp.issparse(features)),
        "sources": list(sources),
        "split_seed": seed,
        "fractions": list(fractions),
        "sizes": {k: len(v) for k, v in drawn.items()},
        "statistics": dataset_statistics(y),
    }
    clash = sorted(set(extra or {}) & set(info))
    if clash:
        raise ValueError(f"{dataset}: extra info.json keys {clash} clash with the standard ones")
    info.update(extra or {})
    out = Path(out_dir)
    x = features.astype(np.float32)
    with atomic_path(out / "features.npz") as tmp:
        if sp.issparse(x):
            sp.save_npz(tmp, sp.csr_matrix(x), compressed=True)
        else:
            np.savez_compressed(tmp, x=np.asarray(x))
    with atomic_path(out / "labels.npy") as tmp:
        np.save(tmp, y.astype(np.uint8))
    for name, idx in drawn.items():
        with atomic_path(out / f"{name}_idx.npy") as tmp:
            np.save(tmp, idx)
    write_json(out / "info.json", info)  # last: its presence means the folder is complete
    return PreparedMlc(features=x, labels=y.astype(np.uint8), split=drawn, info=info)


def prepared_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The paths of ``PREPARED_FILES`` in ``folder``."""
    return [Path(folder) / name for name in PREPARED_FILES]


def load_prepared(folder: str | os.PathLike[str]) -> PreparedMlc:
    """Read a prepared data set written by :func:`write_prepared`, checking that its parts agree.

    Raises
    ------
    MlcDataError
        A missing file, or parts that disagree (row counts, overlapping or incomplete split).
    """
    root = Path(folder)
    info_path = root / "info.json"
    if not info_path.is_file():
        raise MlcDataError(f"{info_path} not found: prepare the data set first (rule prepare_mlc)")
    info = json.loads(info_path.read_text())
    with np.load(root / "features.npz", allow_pickle=False) as npz:
        features = np.asarray(npz["x"]) if "x" in npz.files else None
    if features is None:
        features = sp.load_npz(root / "features.npz").tocsr()
    labels = np.load(root / "labels.npy", allow_pickle=False)
    split = {k: np.load(root / f"{k}_idx.npy", allow_pickle=False) for k in SPLITS}
    n = labels.shape[0]
    joined = np.sort(np.concatenate(list(split.values())))
    if features.shape[0] != n or not np.array_equal(joined, np.arange(n)):
        raise MlcDataError(
            f"{root}: features ({features.shape[0]} rows), labels ({n} rows) and the split index files "
            f"({len(joined)} indices) disagree; delete the folder and prepare it again"
        )
    return PreparedMlc(features=features, labels=labels, split=split, info=info)


def prepare_mulan(
    train: str | os.PathLike[str],
    test: str | os.PathLike[str],
    xml: str | os.PathLike[str],
    dataset: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    standardize: bool = False,
) -> PreparedMlc:
    """Prepare a Mulan data set: its train and test ARFF files joined (train rows first) and split anew.

    The Mulan train/test split is not the thesis' (the thesis draws 80/10/10), so both files are pooled and
    :func:`split_indices` draws the split from ``seed``. With ``standardize`` (dense features only; e.g. birds,
    whose audio features span many orders of magnitude and make the deep models' losses overflow) every feature
    is centred and scaled by its mean and std over the *training split* rows (a constant feature: std 1); the
    statistics are recorded in ``info.json`` under ``standardized``.

    Raises
    ------
    seqstruct.mlc.arff.ArffError
        A bad ARFF or XML file (one line naming it).
    """
    tr, te = read_mulan(train, test, xml)
    if sp.issparse(tr.features) or sp.issparse(te.features):
        features: sp.csr_matrix | np.ndarray = sp.vstack(
            [sp.csr_matrix(tr.features), sp.csr_matrix(te.features)]
        ).tocsr()
    else:
        features = np.concatenate([tr.features, te.features])
    labels = np.concatenate([tr.labels, te.labels])
    split, extra = None, None
    if standardize:
        if sp.issparse(features):
            raise MlcDataError(f"{train}: standardize applies to dense features; {dataset} is sparse")
        split = split_indices(len(labels), seed, dataset)
        mean = features[split["train"]].mean(0)
        std = features[split["train"]].std(0)
        std = np.where(std > 0, std, 1.0)
        features = (features - mean) / std
        extra = {"standardized": {"over": "training split", "mean": mean.tolist(), "std": std.tolist()}}
    prepared = write_prepared(
        out_dir,
        dataset,
        features,
        labels,
        tr.label_names,
        tr.feature_names,
        [str(train), str(test), str(xml)],
        seed,
        split=split,
        extra=extra,
    )
    stats = prepared.info["statistics"]
    log.info(
        "%s: %d samples (%s), %d features, %d labels, %.3f labels per sample",
        dataset,
        stats["n_samples"],
        ", ".join(f"{k} {v}" for k, v in prepared.info["sizes"].items()),
        features.shape[1],
        stats["n_labels"],
        stats["mean_labels_per_sample"],
    )
    return prepared


#: the CLI's file arguments: role (``seqstruct.mlc.formats.ROLES``) -> help
_PART_HELP = {
    "train": "mulan: <ds>-train.arff (plain, .xz or .gz)",
    "test": "mulan: <ds>-test.arff",
    "xml": "mulan: <ds>.xml (the label names)",
    "archive": "reuters: reuters21578.tar.xz (or a folder of reut2-*.sgm)",
    "csv": "sider: the CSV (smiles + one 0/1 column per label)",
    "xt": "csv_pairs: headerless train features, e.g. Xt_1_birds.csv",
    "yt": "csv_pairs: headerless train 0/1 labels",
    "xv": "csv_pairs: headerless test features",
    "yv": "csv_pairs: headerless test 0/1 labels",
}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: prepare a data set of any raw format (module docstring) into a folder; returns the exit status."""
    from seqstruct.mlc.formats import ROLES, prepare  # formats imports this module

    p = argparse.ArgumentParser(prog="python -m seqstruct.mlc.prepare", description=__doc__.splitlines()[0])
    p.add_argument("--format", choices=list(ROLES), default="mulan", help="raw format (default: %(default)s)")
    for part, text in _PART_HELP.items():
        p.add_argument(f"--{part}", help=text)
    p.add_argument("--dataset", required=True, help="name recorded in info.json and mixed into the split seed")
    p.add_argument("--out", required=True, help="output folder, e.g. results/data/mlc/yeast")
    p.add_argument("--seed", type=int, default=0, help="split seed (default: %(default)s)")
    p.add_argument("--max-features", type=int, help="reuters: TF-IDF vocabulary size (default 5000)")
    p.add_argument("--min-df", type=int, help="reuters: minimum train-row document frequency of a term (default 3)")
    p.add_argument("--radius", type=int, help="sider: Morgan fingerprint radius (default 2)")
    p.add_argument("--n-bits", type=int, help="sider: Morgan fingerprint length (default 2048)")
    p.add_argument(
        "--stand-in-for", help="csv_pairs: the thesis data set this one stands in for (default eBird; '' for none)"
    )
    args = p.parse_args(argv)
    given = {
        k for k in (*_PART_HELP, *(o for opts in FORMAT_OPTIONS.values() for o in opts)) if vars(args)[k] is not None
    }
    missing = [f"--{k}" for k in ROLES[args.format] if k not in given]
    foreign = sorted(f"--{k.replace('_', '-')}" for k in given - {*ROLES[args.format], *FORMAT_OPTIONS[args.format]})
    if missing:
        p.error(f"--format {args.format} needs {' '.join(missing)}")
    if foreign:
        p.error(f"--format {args.format} does not take {' '.join(foreign)}")
    options = {k: vars(args)[k] for k in FORMAT_OPTIONS[args.format] if k in given}
    if options.get("stand_in_for") == "":
        options["stand_in_for"] = None
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        prepare(
            args.format,
            {k: vars(args)[k] for k in ROLES[args.format]},
            args.dataset,
            args.out,
            args.seed,
            options,
        )
    except InputError as exc:
        print_error(exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
