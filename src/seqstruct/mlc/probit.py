"""The multivariate probit of MPVAE (Bai, Kong & Gomes, IJCAI 2020), as functions of the learnt factor ``R``.

Covariance ``Σ = R Rᵀ + I`` with ``R`` (L x r). A draw s of the correlated part gives the label probabilities

    E_s = Φ(m + ε_s Rᵀ) (1 - 1e-6) + 5e-7,   ε_s ~ N(0, I_r)

around the means ``m`` (Φ itself integrates the independent ``I`` part), and the likelihood of a label vector is
the mean over draws, ``p(y | m) ≈ mean_s Π_l Bernoulli(y_l; E_sl)``; a prediction is ``mean_s E_s``.

Shapes: m (B, L); R (L, r); draws E (S, B, L); y (B, L) 0/1.
"""

from __future__ import annotations

import math

import torch


def probit_draws(mean: torch.Tensor, r: torch.Tensor, n_samples: int) -> torch.Tensor:
    """Probabilities E (S, B, L) of ``n_samples`` draws of the probit with factor ``r`` (L, r) around ``mean``."""
    noise = torch.randn(n_samples, mean.shape[0], r.shape[1], device=mean.device, dtype=mean.dtype) @ r.T
    return torch.special.ndtr(mean + noise) * (1 - 1e-6) + 5e-7


def probit_nll(y: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """``- mean_b log mean_s Π_l Bernoulli(y_bl; E_sbl)``: the batch-mean NLL, a log-mean-exp over the draws."""
    log_lik = (y * e.log() + (1 - y) * (1 - e).log()).sum(-1)  # (S, B)
    return -(torch.logsumexp(log_lik, dim=0) - math.log(e.shape[0])).mean()
