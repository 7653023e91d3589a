"""The DoS training losses on sum-normalised spectra (the released code's ``normalized_sum`` targets).

``KL(p ‖ softmax(logits))`` with ``p = y / (Σ y + 1e-10)`` (methods.md §2.3; every model's loss, Mat2Spec's for
both of its branches), or the 1-D Wasserstein distance between the two cumulative sums (``loss: wd``; the
released code imports one but never uses it).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSSES = ("kl", "wd")
EPS = 1e-10


def target_shape(y: torch.Tensor) -> torch.Tensor:
    """``p = y / (Σ_l y + 1e-10)``: (B, L) -> (B, L), the released code's ``normalized_sum``."""
    return y / (y.sum(dim=1, keepdim=True) + EPS)


def spectrum_loss(logits: torch.Tensor, p: torch.Tensor, kind: str = "kl") -> torch.Tensor:
    """Batch mean of ``KL(p ‖ softmax(logits))`` (``kind="kl"``) or of ``Σ_l |cumsum(q - p)_l|`` (``"wd"``).

    Shapes: logits, p (B, L) -> scalar.
    """
    logq = F.log_softmax(logits, dim=-1)
    if kind == "kl":
        return (p * (torch.log(p + EPS) - logq)).sum(dim=-1).mean()
    return torch.cumsum(logq.exp() - p, dim=-1).abs().sum(dim=-1).mean()
