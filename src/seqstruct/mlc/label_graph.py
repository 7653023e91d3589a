"""A label graph from label co-occurrence and a dense graph convolution over it (C-GMVAE's GNN ablation).

The graph (Kipf & Welling's normalisation): ``A_ij = 1`` when labels ``i != j`` are both positive in at least one
training sample, and the propagation matrix is ``Â = D^-1/2 (A + I) D^-1/2`` with ``D`` the degrees of ``A + I``.
A dense (L, L) matrix: 4 MB at L = 1000.

Shapes: labels (N, L) 0/1; Â (L, L); node features H (L, E).
"""

from __future__ import annotations

import torch
from torch import nn


def cooccurrence_adjacency(y: torch.Tensor) -> torch.Tensor:
    """``Â = D^-1/2 (A + I) D^-1/2`` (L, L) of the co-occurrence graph of the 0/1 labels ``y`` (N, L)."""
    if y.ndim != 2:
        raise ValueError(f"labels must be (N, L), got shape {tuple(y.shape)}")
    pos = (y > 0).float()
    a = (pos.T @ pos > 0).float()  # co-occurrence counts > 0; the diagonal is set to 1 below: A (zero diagonal) + I
    a.fill_diagonal_(1.0)
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


class LabelGCN(nn.Module):
    """``n_layers`` graph convolutions ``H_k = Â H_{k-1} Θ_k + b_k`` of width ``dim``, ReLU between them (none after
    the last, so the output may be signed like the input).

    Shapes: H (L, dim), Â (L, L) -> (L, dim).
    """

    def __init__(self, dim: int, n_layers: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(dim, dim) for _ in range(n_layers))

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, h: torch.Tensor, adj: torch.Tensor) -> torch.Tensor:
        """Refined node features (L, dim) of ``h`` (L, dim) over the normalised adjacency ``adj`` (L, L)."""
        for k, layer in enumerate(self.layers):
            h = layer(adj @ h)  # (Â H) Θ + b
            if k < len(self.layers) - 1:
                h = torch.relu(h)
        return h
