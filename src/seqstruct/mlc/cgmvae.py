"""C-GMVAE (thesis §2.3): a Gaussian-mixture VAE whose components are label embeddings, plus a contrastive loss.

Architecture (methods.md §3.2, the authors' code):

- feature encoder ``x -> h -> (μ_x, log σ²_x)``, an MLP with ReLU and dropout;
- label embeddings ``e_i = dropout(relu(W_lookup[:, i] + b))`` for every label i (E-dimensional), and a label
  encoder ``e_i -> (μ_i, log σ²_i)``: one Gaussian per label, the mixture components of the prior;
- label branch ``z_y = mean_{i: y_i = 1} μ_i``; feature branch ``z ~ N(μ_x, σ²_x)`` (``μ_x`` in eval mode);
- a shared decoder ``[x, z] -> w`` (L2-normalised, E-dimensional) and logits ``w · W_lookup``: the label
  embeddings are both the classifier weights and the contrastive keys.

Loss (methods.md §3.3; thesis eq. 2.21-2.25)::

    L = nll_coeff (NLL_y + NLL_x + NLL_x') + kl_coeff KL + c_coeff L_con
    KL    ≈ log N(z0; μ_x, σ²_x) - log( (1/|y|) Σ_{i: y_i=1} N(z0; μ_i, σ²_i) ),   z0 ~ q(z | x)
    L_con = - mean over anchors w and positive labels i of log softmax_j (w · W_lookup[:, j] / τ)

The authors' code weights the KL by 6 (the thesis text by 1): ``kl_coeff`` exposes both. A sample without a
positive label has no mixture and no positive key: its KL and contrastive terms are left out (the terms divide
by |y|), and its label branch is the zero vector; nothing becomes NaN.

Shapes: x (B, F); y (B, L) 0/1; logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.layers import mlp


@dataclass(frozen=True)
class CGMVAEConfig:
    """Sizes and loss weights (defaults: the authors' code)."""

    latent: int = 64
    embed: int = 2048
    encoder: tuple[int, ...] = (256, 512, 256)
    label_encoder: tuple[int, ...] = (512, 256)
    decoder: int = 512
    dropout: float = 0.5
    tau: float = 1.0
    nll_coeff: float = 0.5
    kl_coeff: float = 6.0
    c_coeff: float = 1.0


def log_normal(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(z; μ, diag σ²)`` summed over the last dimension, without the ``-D/2 log 2π`` constant."""
    return -0.5 * (logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)


def mixture_kl(
    z0: torch.Tensor,
    mu_x: torch.Tensor,
    logvar_x: torch.Tensor,
    mu_l: torch.Tensor,
    logvar_l: torch.Tensor,
    y: torch.Tensor,
) -> torch.Tensor:
    """Single-sample estimate of KL(q(z|x) ‖ mixture of the positive labels' Gaussians), per sample.

    Parameters
    ----------
    z0 : Tensor (B, D)
        A sample of q(z | x).
    mu_x, logvar_x : Tensor (B, D)
        q(z | x).
    mu_l, logvar_l : Tensor (L, D)
        The label Gaussians.
    y : Tensor (B, L)
        0/1 labels; the mixture of sample b has equal weights on its positive labels.

    Returns
    -------
    Tensor (B,)
        The estimate; 0 for a sample without a positive label (no mixture to compare with).
    """
    pos = y > 0
    log_q = log_normal(z0, mu_x, logvar_x)  # (B,)
    log_comp = log_normal(z0[:, None, :], mu_l[None], logvar_l[None])  # (B, L)
    n_pos = pos.sum(1)
    log_mix = torch.logsumexp(log_comp.masked_fill(~pos, -math.inf), dim=1) - n_pos.clamp(min=1).log()
    return torch.where(n_pos > 0, log_q - log_mix, torch.zeros_like(log_q))


class CGMVAE(nn.Module):
    """C-GMVAE for ``n_features`` inputs and ``n_labels`` labels (module docstring)."""

    def __init__(self, n_features: int, n_labels: int, cfg: CGMVAEConfig = CGMVAEConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = mlp([n_features, *cfg.encoder], cfg.dropout)
        self.enc_out = nn.Linear(cfg.encoder[-1], 2 * cfg.latent)
        self.lookup = nn.Linear(n_labels, cfg.embed)  # column i of the weight + bias: label i's embedding
        self.label_encoder = mlp([cfg.embed, *cfg.label_encoder], cfg.dropout)
        self.label_out = nn.Linear(cfg.label_encoder[-1], 2 * cfg.latent)
        self.decoder = nn.Sequential(
            nn.Linear(n_features + cfg.latent, cfg.decoder),
            nn.ReLU(),
            nn.Linear(cfg.decoder, cfg.embed),
            nn.LeakyReLU(),
        )
        self.drop = nn.Dropout(cfg.dropout)

    def reset_parameters(self) -> None:
        """Re-initialise every layer (encoders, label lookup, decoder)."""
        for module in (self.encoder, self.enc_out, self.lookup, self.label_encoder, self.label_out, self.decoder):
            reset(module)

    def label_gaussians(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ_l, log σ²_l), each (L, D): the mixture components, one per label."""
        e = self.drop(F.relu(self.lookup.weight.T + self.lookup.bias))  # (L, E)
        return self.label_out(self.label_encoder(e)).chunk(2, dim=-1)

    def decode(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, L), unit-norm embedding w (B, E)) of latent ``z`` (B, D) for features ``x``."""
        w = F.normalize(self.decoder(torch.cat([x, z], dim=-1)), dim=-1)
        return w @ self.lookup.weight, w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Label logits (B, L) from the feature branch (``μ_x`` in eval mode, a sample in train mode)."""
        mu_x, logvar_x = self.enc_out(self.encoder(x)).chunk(2, dim=-1)
        z = mu_x + torch.randn_like(mu_x) * (0.5 * logvar_x).exp() if self.training else mu_x
        return self.decode(x, z)[0]

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss and its named terms for a batch (train mode): ``loss``, ``nll``, ``kl``, ``con``."""
        y = y.float()
        cfg = self.cfg
        mu_x, logvar_x = self.enc_out(self.encoder(x)).chunk(2, dim=-1)
        std = (0.5 * logvar_x).exp()
        mu_l, logvar_l = self.label_gaussians()
        n_pos = y.sum(1, keepdim=True)
        z_y = (y @ mu_l) / n_pos.clamp(min=1)  # mean of the positive labels' means; 0 without any
        heads = [
            self.decode(x, z) for z in (z_y, mu_x + torch.randn_like(std) * std, mu_x + torch.randn_like(std) * std)
        ]
        nll = sum(F.binary_cross_entropy_with_logits(lg, y, reduction="none").sum(1).mean() for lg, _ in heads)
        kl = mixture_kl(mu_x + torch.randn_like(std) * std, mu_x, logvar_x, mu_l, logvar_l, y)
        has = n_pos[:, 0] > 0
        kl = kl[has].mean() if has.any() else kl.sum() * 0
        anchors = torch.cat([heads[0][1], heads[1][1]])  # (2B, E): label-branch and feature-branch embeddings
        log_p = F.log_softmax(anchors @ self.lookup.weight / cfg.tau, dim=-1)  # (2B, L)
        yy = torch.cat([y, y])
        per_anchor = -(log_p * yy).sum(1) / yy.sum(1).clamp(min=1)
        con = per_anchor[yy.sum(1) > 0].mean() if has.any() else per_anchor.sum() * 0
        total = cfg.nll_coeff * nll + cfg.kl_coeff * kl + cfg.c_coeff * con
        return {"loss": total, "nll": nll, "kl": kl, "con": con}
