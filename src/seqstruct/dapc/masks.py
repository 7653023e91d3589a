"""SpecAugment-style masks for masked reconstruction (thesis §3.1.2, methods.md §4.3).

A mask ``M`` (B, L, D) is 1 where the input is kept and 0 where it is hidden: per sequence, ``freq_masks`` bands
of feature dimensions of width drawn from ``0 .. freq_width - 1`` and ``time_masks`` spans of frames of width
drawn from ``0 .. time_width - 1`` (the released code's ``randrange``), all zero-filled.
"""

from __future__ import annotations

import torch


def spec_masks(
    shape: tuple[int, int, int],
    freq_masks: int,
    freq_width: int,
    time_masks: int,
    time_width: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(B, L, D) float mask, 1 = kept, 0 = masked; drawn on the CPU from ``generator``."""
    b, length, dim = shape
    keep = torch.ones(shape)

    def spans(n: int, width: int, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        w = torch.randint(0, max(1, min(width, size)), (b, n), generator=generator)
        start = (torch.rand(b, n, generator=generator) * (size - w + 1)).long()
        return start, w

    for axis, n, width, size in ((2, freq_masks, freq_width, dim), (1, time_masks, time_width, length)):
        if n <= 0 or width <= 1:
            continue
        start, w = spans(n, width, size)
        pos = torch.arange(size)
        hit = ((pos[None, None, :] >= start[..., None]) & (pos[None, None, :] < (start + w)[..., None])).any(1)
        keep = keep * (~hit).float().unsqueeze(3 - axis)  # hit (B, size): along D -> (B, 1, D); along L -> (B, L, 1)
    return keep
