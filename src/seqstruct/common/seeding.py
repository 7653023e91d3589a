"""One place that seeds every random number generator, and stable derived seeds.

``derive_seed`` uses hashlib (never the builtin ``hash``, which is salted per process) so that a sub-seed for,
say, the data shuffler of seed 1 is the same on every machine and every run.
"""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed ``random``, numpy, torch (CPU and CUDA) and ask torch for deterministic kernels.

    Parameters
    ----------
    seed
        The run's seed (the ``{seed}`` wildcard).
    deterministic
        Also set ``torch.use_deterministic_algorithms(True, warn_only=True)`` and cuDNN flags,
        so that the same seed on the same machine gives the same numbers.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def derive_seed(seed: int, *names: str | int) -> int:
    """A 63-bit seed derived from ``seed`` and a tuple of names, stable across processes and machines.

    >>> derive_seed(0, "shuffle") == derive_seed(0, "shuffle")
    True
    """
    key = "/".join([str(seed), *map(str, names)]).encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") & (2**63 - 1)


def generator(seed: int, *names: str | int) -> np.random.Generator:
    """A numpy Generator seeded with ``derive_seed(seed, *names)``."""
    return np.random.default_rng(derive_seed(seed, *names))
