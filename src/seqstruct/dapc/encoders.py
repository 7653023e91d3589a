"""The sequence encoder and the frame decoder of the deep DAPC-family models (methods.md §4.2).

``GRUEncoder``: a (bi- or uni-directional) multi-layer GRU with dropout between layers, then a linear map to
``out`` dimensions per frame: (B, L, D) -> (B, L, out). ``MLPDecoder``: per frame, ``layers`` hidden ELU layers
with dropout, then a linear map back to the input: (B, L, d) -> (B, L, D).
"""

from __future__ import annotations

import torch
from torch import nn


class GRUEncoder(nn.Module):
    """(B, L, D) -> (B, L, out); a unidirectional encoder sees only the past (no leak from the future)."""

    def __init__(self, d_in: int, out: int, hidden: int, layers: int, dropout: float, bidirectional: bool) -> None:
        super().__init__()
        self.rnn = nn.GRU(
            d_in, hidden, layers, batch_first=True, dropout=dropout if layers > 1 else 0.0, bidirectional=bidirectional
        )
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0])

    def reset_parameters(self) -> None:
        self.rnn.reset_parameters()
        self.head.reset_parameters()


class MLPDecoder(nn.Module):
    """(B, L, d) -> (B, L, D): ``layers`` × (Linear, ELU, Dropout), then Linear."""

    def __init__(self, d: int, d_out: int, hidden: int, layers: int, dropout: float) -> None:
        super().__init__()
        mods: list[nn.Module] = []
        width = d
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.ELU(), nn.Dropout(dropout)]
            width = hidden
        self.net = nn.Sequential(*mods, nn.Linear(width, d_out))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    def reset_parameters(self) -> None:
        for m in self.net:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
