"""Device choice: CUDA when present, else CPU, overridable with ``SEQSTRUCT_DEVICE``."""

from __future__ import annotations

import os

import torch


def pick_device(preferred: str | None = None) -> torch.device:
    """Return ``preferred`` or ``$SEQSTRUCT_DEVICE`` if given, else ``cuda`` when available, else ``cpu``.

    Raises
    ------
    ValueError
        When CUDA is asked for explicitly but is not available.
    """
    name = preferred or os.environ.get("SEQSTRUCT_DEVICE") or ("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available; use 'cpu' or unset SEQSTRUCT_DEVICE")
    return device
