"""Shared pieces of the DoS model tests: tiny random crystal-graph batches in the format of ``batch.py``, the
training loss, and the checks every model passes (``reset_parameters()``, fitting a tiny batch)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.losses import spectrum_loss, target_shape

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


def kl_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(p || softmax(logits)) with p = y / Σy (the Xtal2DoS training loss at temp 1)."""
    return spectrum_loss(logits, target_shape(y))


def check_reset_parameters(make: Callable[[], nn.Module], every: bool = False) -> None:
    """``reset_parameters()`` is deterministic under a seed and redraws every weight matrix (with ``every``: every
    floating-point tensor of more than one value); a fresh model has the same state keys."""
    torch.manual_seed(0)
    model = make()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    states = []
    for _ in range(2):
        torch.manual_seed(1)
        model.reset_parameters()
        states.append({k: v.clone() for k, v in model.state_dict().items()})
    for k, v in states[0].items():
        torch.testing.assert_close(v, states[1][k], rtol=0, atol=0, msg=k)
    redrawn = [
        k for k, v in before.items() if v.is_floating_point() and v.numel() > 1 and not torch.equal(v, states[0][k])
    ]
    names = {n for n, _ in model.named_parameters()}
    must = [
        k
        for k, v in before.items()
        if k in names and v.numel() > 1 and (every or (k.endswith("weight") and v.dim() > 1))
    ]
    assert must and set(must) <= set(redrawn), set(must) - set(redrawn)
    torch.manual_seed(1)
    assert make().state_dict().keys() == model.state_dict().keys()


def check_overfits(
    model: nn.Module,
    batch: Batch,
    steps: int = 40,
    lr: float = 3e-3,
    loss: Callable[[nn.Module, Batch], torch.Tensor] | None = None,
) -> None:
    """A few dozen Adam steps on one tiny batch halve the loss (default: :func:`kl_loss` of the logits)."""
    torch.manual_seed(0)
    loss = loss or (lambda m, b: kl_loss(m(b), b.y))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        value = loss(model, batch)
        value.backward()
        opt.step()
        losses.append(value.item())
    assert losses[-1] < 0.5 * losses[0], losses
