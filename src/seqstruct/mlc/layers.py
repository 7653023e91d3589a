"""Building blocks shared by the MLC models."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn


def mlp(sizes: list[int], dropout: float, activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear layers of ``sizes`` (in, hidden..., out), each followed by ``activation()`` (default ReLU, the MLC
    encoders) and dropout.

    Shapes: (B, sizes[0]) -> (B, sizes[-1]).
    """
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), activation(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)
