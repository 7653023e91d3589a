"""Seeded random train/validation/test splits of N rows, shared by every domain that draws its own split."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqstruct.common.seeding import generator

SPLITS = ("train", "val", "test")
FRACTIONS = (0.8, 0.1, 0.1)


def random_split(
    n: int, seed: int, purpose: str, dataset: str, fractions: Sequence[float] = FRACTIONS
) -> dict[str, np.ndarray]:
    """A seeded random split of ``n`` rows into train/val/test with the given fractions.

    Parameters
    ----------
    n : int
        Number of rows.
    seed : int
        The split seed (config ``<domain>.split_seed``).
    purpose, dataset : str
        Mixed into the seed (``generator(seed, purpose, dataset)``), so that each domain and data set gets its own
        permutation (e.g. ``"mlc-split"``, ``"yeast"``).
    fractions : sequence of 3 floats
        Train, validation and test shares, summing to 1; val and test get ``round(share * n)`` rows, train the
        rest.

    Returns
    -------
    dict of str to ndarray
        ``train``, ``val``, ``test`` -> sorted int64 indices, disjoint, covering ``0..n-1``.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {list(fractions)}")
    n_val, n_test = round(fractions[1] * n), round(fractions[2] * n)
    if n_val + n_test >= n:
        raise ValueError(f"{n} rows are too few for the split {list(fractions)}")
    perm = generator(seed, purpose, dataset).permutation(n)
    parts = {"val": perm[:n_val], "test": perm[n_val : n_val + n_test], "train": perm[n_val + n_test :]}
    return {k: np.sort(parts[k]).astype(np.int64) for k in SPLITS}
