"""MPVAE (Bai, Kong & Gomes, IJCAI 2020): a VAE with a multivariate probit decoder, C-GMVAE's main baseline.

Architecture (methods.md §3.5, the authors' TF1 code):

- label encoder ``[x, y] -> (μ_y, log σ²_y)`` and feature encoder ``x -> (μ_x, log σ²_x)`` (MLPs, ReLU, dropout);
- one ε shared by both reparameterised samples ``z_y = μ_y + ε σ_y`` and ``z_x = μ_x + ε σ_x``;
- a shared decoder ``[x, z] -> h`` with separate mean heads for the two branches, ``m_y`` and ``m_x`` (B, L);
- a multivariate probit with covariance ``Σ = R Rᵀ + I`` and a learnt ``R`` (L x r): ``n_samples`` draws of the
  correlated part, ``E = Φ(m + noise Rᵀ) (1 - 1e-6) + 5e-7`` with noise ~ N(0, I_r); Φ itself integrates the
  independent ``I`` part, so ``E_sl`` is label l's probability given draw s.

Loss (per batch; the authors' weights as defaults)::

    L = nll_coeff (NLL_y + NLL_x) + rank_coeff (rank_y + rank_x) + kl_coeff KL(q_x ‖ q_y)
    NLL  = - log mean_s Π_l Bernoulli(y_l; E_sl)              (log-mean-exp over the draws)
    rank = mean over samples of mean over (pos, neg) pairs of exp(-5 (p_pos - p_neg)),  p = mean_s E_s

A sample without a positive (or without a negative) label has no ranking pairs and contributes 0 (the authors
replace the NaN/inf by 0). Prediction: ``mean_s E_x``, the feature branch.

Shapes: x (B, F); y (B, L) 0/1; probabilities (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.layers import mlp
from seqstruct.mlc.probit import probit_draws, probit_nll


@dataclass(frozen=True)
class MPVAEConfig:
    """Sizes and loss weights (defaults: the authors' mirflickr script)."""

    latent: int = 50
    encoder: tuple[int, ...] = (256, 512, 256)
    label_encoder: tuple[int, ...] = (512, 256)
    decoder: tuple[int, ...] = (256, 512)
    probit_rank: int = 38
    n_samples: int = 100
    dropout: float = 0.5
    nll_coeff: float = 0.1
    rank_coeff: float = 200.0
    kl_coeff: float = 1.1


def gaussian_kl(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor) -> torch.Tensor:
    """Analytic KL(N(μ_q, σ²_q) ‖ N(μ_p, σ²_p)) of diagonal Gaussians, summed over the last dimension."""
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1).sum(-1)


def ranking_loss(y: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """Mean over samples of the mean of ``exp(-5 (p_pos - p_neg))`` over (positive, negative) label pairs.

    The pair sum factorises, ``Σ_{i pos, j neg} exp(-5 p_i) exp(5 p_j) = (Σ_{i pos} exp(-5 p_i)) (Σ_{j neg}
    exp(5 p_j))``, so it costs O(B L) instead of the (B, L, L) pair tensor (0.5 GB a batch on delicious); with
    p in [0, 1] no factor exceeds e^5. A sample without positive or without negative labels has no pairs and
    counts 0.
    """
    pos = (y > 0).to(p.dtype)
    neg = 1 - pos
    total = (pos * torch.exp(-5 * p)).sum(1) * (neg * torch.exp(5 * p)).sum(1)
    n_pairs = pos.sum(1) * neg.sum(1)
    return (total / n_pairs.clamp(min=1)).mean()


class MPVAE(nn.Module):
    """MPVAE for ``n_features`` inputs and ``n_labels`` labels (module docstring)."""

    def __init__(self, n_features: int, n_labels: int, cfg: MPVAEConfig = MPVAEConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.feat_enc = nn.Sequential(
            mlp([n_features, *cfg.encoder], cfg.dropout), nn.Linear(cfg.encoder[-1], 2 * cfg.latent)
        )
        self.label_enc = nn.Sequential(
            mlp([n_features + n_labels, *cfg.label_encoder], cfg.dropout),
            nn.Linear(cfg.label_encoder[-1], 2 * cfg.latent),
        )
        self.decoder = mlp([n_features + cfg.latent, *cfg.decoder], 0.0)
        self.head_y = nn.Linear(cfg.decoder[-1], n_labels)
        self.head_x = nn.Linear(cfg.decoder[-1], n_labels)
        self.r = nn.Parameter(torch.empty(n_labels, cfg.probit_rank))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise every layer; ``R`` Glorot-uniform, as the authors'."""
        for module in (self.feat_enc, self.label_enc, self.decoder, self.head_y, self.head_x):
            reset(module)
        nn.init.xavier_uniform_(self.r)

    def _probit(self, mean: torch.Tensor, n_samples: int) -> torch.Tensor:
        """Probabilities E (S, B, L) of ``n_samples`` draws of the probit around ``mean`` (B, L)."""
        return probit_draws(mean, self.r, n_samples)

    def _means(self, x: torch.Tensor, z: torch.Tensor, head: nn.Linear) -> torch.Tensor:
        return head(self.decoder(torch.cat([x, z], dim=-1)))

    def forward(self, x: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """Label probabilities (B, L) of the feature branch: ``mean_s E_x`` (``μ_x`` in eval mode)."""
        mu, logvar = self.feat_enc(x).chunk(2, dim=-1)
        z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
        return self._probit(self._means(x, z, self.head_x), n_samples or self.cfg.n_samples).mean(0)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss and its named terms for a batch: ``loss``, ``nll``, ``rank``, ``kl``."""
        y = y.float()
        cfg = self.cfg
        mu_x, logvar_x = self.feat_enc(x).chunk(2, dim=-1)
        mu_y, logvar_y = self.label_enc(torch.cat([x, y], dim=-1)).chunk(2, dim=-1)
        eps = torch.randn_like(mu_x)  # shared by both branches
        nll = rank = torch.zeros((), device=x.device)
        for mu, logvar, head in ((mu_y, logvar_y, self.head_y), (mu_x, logvar_x, self.head_x)):
            e = self._probit(self._means(x, mu + eps * (0.5 * logvar).exp(), head), cfg.n_samples)  # (S, B, L)
            nll = nll + probit_nll(y, e)
            rank = rank + ranking_loss(y, e.mean(0))
        kl = gaussian_kl(mu_x, logvar_x, mu_y, logvar_y).mean()
        total = cfg.nll_coeff * nll + cfg.rank_coeff * rank + cfg.kl_coeff * kl
        return {"loss": total, "nll": nll, "rank": rank, "kl": kl}
