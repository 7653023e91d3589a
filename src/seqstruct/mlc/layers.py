"""Building blocks shared by the MLC models."""

from __future__ import annotations

from torch import nn


def mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    """Linear layers of ``sizes`` (in, hidden..., out), each followed by ReLU and dropout (the MLC encoders).

    Shapes: (B, sizes[0]) -> (B, sizes[-1]).
    """
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)
