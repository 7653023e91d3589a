"""ASL baseline (Ridnik et al., "Asymmetric Loss For Multi-Label Classification", ICCV 2021) on feature vectors.

The thesis runs ASL on the same inputs as the other models, so the backbone here is the MLP of the MLC
encoders (ReLU + dropout) with a linear head to one logit per label. The loss treats positives and negatives
asymmetrically (paper eq. 1-4), with ``p = σ(logit)`` and the shifted negative probability
``p_m = max(p - m, 0)``::

    L = - Σ_l [ y_l (1 - p_l)^γ+ log p_l  +  (1 - y_l) p_m,l^γ- log(1 - p_m,l) ]

summed over labels and averaged over the batch. Defaults are the paper's: γ+ = 0, γ- = 4, margin m = 0.05.
With γ+ = γ- = 0 and m = 0 it is the binary cross-entropy. ``log`` is clamped at ``eps`` as in the paper's code,
so that a saturated logit gives no infinity.

Shapes: x (B, F); y (B, L) 0/1; logits (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.layers import mlp


@dataclass(frozen=True)
class ASLConfig:
    """Backbone sizes and loss settings (loss defaults: the paper's)."""

    hidden: tuple[int, ...] = (256, 512, 256)
    dropout: float = 0.5
    gamma_pos: float = 0.0
    gamma_neg: float = 4.0
    margin: float = 0.05
    eps: float = 1e-8


def asymmetric_loss(
    logits: torch.Tensor, y: torch.Tensor, gamma_pos: float, gamma_neg: float, margin: float, eps: float = 1e-8
) -> torch.Tensor:
    """The asymmetric loss of the module docstring: (B, L) logits and 0/1 targets -> scalar (batch mean)."""
    y = y.float()
    p = torch.sigmoid(logits)
    p_m = (p - margin).clamp(min=0) if margin > 0 else p
    pos = y * (1 - p) ** gamma_pos * p.clamp(min=eps).log()
    neg = (1 - y) * p_m**gamma_neg * (1 - p_m).clamp(min=eps).log()
    return -(pos + neg).sum(1).mean()


class ASLNet(nn.Module):
    """MLP on the features with one logit per label, trained with :func:`asymmetric_loss`."""

    def __init__(self, n_features: int, n_labels: int, cfg: ASLConfig = ASLConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.body = mlp([n_features, *cfg.hidden], cfg.dropout)
        self.head = nn.Linear(cfg.hidden[-1], n_labels)

    def reset_parameters(self) -> None:
        """Re-initialise every layer."""
        reset(self.body)
        reset(self.head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Label logits (B, L)."""
        return self.head(self.body(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss of a batch (``loss``)."""
        c = self.cfg
        return {"loss": asymmetric_loss(self(x), y, c.gamma_pos, c.gamma_neg, c.margin, c.eps)}
