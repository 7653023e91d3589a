"""A deterministic synthetic multi-label data set in the Mulan format (ARFF train/test + label XML).

It is the MLC offline demo and the smoke workflow's data: ``<name>-train.arff``, ``<name>-test.arff`` and
``<name>.xml``, read by :mod:`seqstruct.mlc.arff` exactly like the real Mulan sets.

The labels have the structure the thesis' models exploit: each sample has a latent vector ``z`` (dimension
``n_latent``); its features are a noisy linear image of ``z`` and label ``l`` is on when ``z · w_l`` exceeds a
per-label threshold, with label vectors ``w_l`` drawn in groups, so that labels of a group co-occur. A sample may
have no positive label (the models must guard every term that divides by the label count).

With ``sparse=True`` the features are binarised (like the word features of delicious or bibtex) and written as
sparse ARFF rows ``{index value, ...}``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqstruct.common.io import atomic_path
from seqstruct.common.seeding import generator


@dataclass(frozen=True)
class SyntheticMlc:
    """Settings of the synthetic data set (config ``mlc.synthetic``).

    Attributes
    ----------
    n_train, n_test : int
        Rows of the train and test files.
    n_features : int
        Feature columns.
    n_labels : int
        Labels, in ``n_groups`` co-occurring groups.
    n_groups : int
        Label groups.
    n_latent : int
        Dimension of the latent vector behind features and labels.
    noise : float
        Standard deviation of the feature noise.
    sparse : bool
        Binary features written as sparse ARFF rows.
    seed : int
        Everything is drawn from ``generator(seed, "mlc-synthetic")``.
    """

    n_train: int = 300
    n_test: int = 100
    n_features: int = 20
    n_labels: int = 8
    n_groups: int = 3
    n_latent: int = 4
    noise: float = 0.3
    sparse: bool = False
    seed: int = 0


def draw(settings: SyntheticMlc) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, F) float64 and labels (N, L) uint8 of ``n_train + n_test`` rows."""
    s = settings
    rng = generator(s.seed, "mlc-synthetic")
    n = s.n_train + s.n_test
    z = rng.normal(size=(n, s.n_latent))
    centres = rng.normal(size=(s.n_groups, s.n_latent))
    group = np.arange(s.n_labels) % s.n_groups
    w = centres[group] + 0.3 * rng.normal(size=(s.n_labels, s.n_latent))  # (L, latent)
    logits = z @ w.T  # (N, L)
    share = rng.uniform(0.15, 0.4, size=s.n_labels)  # each label is on for 15-40% of the samples
    cut = np.array([np.quantile(logits[:, i], 1 - share[i]) for i in range(s.n_labels)])
    labels = (logits > cut).astype(np.uint8)
    features = z @ rng.normal(size=(s.n_latent, s.n_features)) + s.noise * rng.normal(size=(n, s.n_features))
    if s.sparse:
        features = (features > 1.0).astype(np.float64)
    return features, labels


def write_synthetic_mulan(out_dir: str | os.PathLike[str], name: str, settings: SyntheticMlc) -> dict[str, Path]:
    """Write ``<name>-train.arff``, ``<name>-test.arff`` and ``<name>.xml`` into ``out_dir``.

    Returns
    -------
    dict of str to Path
        ``train``, ``test``, ``xml`` -> the written files.
    """
    features, labels = draw(settings)
    out = Path(out_dir)
    feature_names = [f"f{j}" for j in range(settings.n_features)]
    label_names = [f"label_{i}" for i in range(settings.n_labels)]
    header = [f"@relation '{name}'"]
    header += [f"@attribute {f} {'{0,1}' if settings.sparse else 'numeric'}" for f in feature_names]
    header += [f"@attribute {lab} {{0,1}}" for lab in label_names]
    header.append("@data")
    rows = np.concatenate([features, labels], axis=1)
    cut = settings.n_train
    paths = {"train": out / f"{name}-train.arff", "test": out / f"{name}-test.arff", "xml": out / f"{name}.xml"}
    for part, block in (("train", rows[:cut]), ("test", rows[cut:])):
        body = [_sparse_row(r) if settings.sparse else ",".join(_number(v) for v in r) for r in block]
        with atomic_path(paths[part]) as tmp:
            tmp.write_text("\n".join(header + body) + "\n")
    xml = "\n".join(
        ['<?xml version="1.0" encoding="utf-8"?>', '<labels xmlns="http://mulan.sourceforge.net/labels">']
        + [f'  <label name="{lab}"></label>' for lab in label_names]
        + ["</labels>"]
    )
    with atomic_path(paths["xml"]) as tmp:
        tmp.write_text(xml + "\n")
    return paths


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


def _sparse_row(row: np.ndarray) -> str:
    return "{" + ",".join(f"{j} {_number(v)}" for j, v in enumerate(row) if v != 0) + "}"
