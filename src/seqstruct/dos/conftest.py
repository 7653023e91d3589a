"""Shared pieces of the DoS model tests: tiny random crystal-graph batches in the format of ``batch.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from torch_geometric.data import Batch, Data

from seqstruct.dos.batch import GraphDims

CUTOFF = 8.0  # Å, the graph radius (methods.md §2.1)
#: the staged DoS files (``$SEQSTRUCT_DATA_MIRROR/dos``, else ``../shared/data/dos`` beside the checkout)
DOS_MIRROR = (
    Path(os.environ.get("SEQSTRUCT_DATA_MIRROR") or Path(__file__).resolve().parents[3].parent / "shared" / "data")
    / "dos"
)


def make_batch(
    n_atoms: tuple[int, ...] = (2, 3, 5),
    F: int = 7,
    G: int = 5,
    C: int = 103,
    L: int = 11,
    seed: int = 0,
    k: int = 4,
) -> Batch:
    """A batch of ``len(n_atoms)`` random periodic crystals with every field of ``seqstruct.dos.batch``.

    Each crystal has a random cubic cell (3-5 Å) and atoms inside it; every centre i gets 1..k neighbours j
    (possibly itself) with a random lattice translation T, ``edge_vec = pos_j + T - pos_i`` (never zero, below
    the 8 Å cutoff), so edge vectors and positions rotate and translate consistently and repeated (j, i) pairs
    with different vectors occur. ``edge_attr`` is the Gaussian expansion of ``|edge_vec|`` on G centres over
    0..8 Å, ``comp`` the element fractions of ``z`` (sum 1), ``y`` a positive spectrum (1, L).
    """
    g = torch.Generator().manual_seed(seed)
    centres = torch.linspace(0.0, CUTOFF, G)
    graphs = []
    for n in n_atoms:
        a = 3.0 + 2.0 * torch.rand((), generator=g)
        pos = torch.rand(n, 3, generator=g) * a
        z = torch.randint(1, C + 1, (n,), generator=g)
        src, dst, vec = [], [], []
        for i in range(n):
            n_nbr = int(torch.randint(1, k + 1, (), generator=g))
            while n_nbr > 0:
                j = int(torch.randint(0, n, (), generator=g))
                t = torch.randint(-1, 2, (3,), generator=g).float() * a
                v = pos[j] + t - pos[i]
                if 0.5 < float(v.norm()) < CUTOFF:
                    src.append(j)
                    dst.append(i)
                    vec.append(v)
                    n_nbr -= 1
        edge_vec = torch.stack(vec)
        dist = edge_vec.norm(dim=-1, keepdim=True)
        comp = torch.bincount(z - 1, minlength=C).float()[None] / n
        graphs.append(
            Data(
                x=torch.randn(n, F, generator=g),
                z=z,
                pos=pos,
                edge_index=torch.tensor([src, dst]),
                edge_vec=edge_vec,
                edge_attr=torch.exp(-((dist - centres) ** 2) / 0.2**2),
                comp=comp,
                y=torch.rand(1, L, generator=g) + 0.05,
            )
        )
    return Batch.from_data_list(graphs)


def dims_of(batch: Batch) -> GraphDims:
    """The :class:`GraphDims` of a batch from :func:`make_batch`."""
    return GraphDims(
        atom=batch.x.shape[1], edge=batch.edge_attr.shape[1], comp=batch.comp.shape[1], out=batch.y.shape[1]
    )


def target_of(batch: Batch) -> torch.Tensor:
    """The sum-normalised spectrum (B, L) the models are trained on."""
    return batch.y / batch.y.sum(-1, keepdim=True)


@pytest.fixture
def tiny_batch() -> Batch:
    """``make_batch()`` with its defaults: 3 crystals of 2, 3 and 5 atoms, F=7, G=5, C=103, L=11."""
    return make_batch()
