"""C2AE (Yeh, Wu, Ko & Wang, "Learning Deep Latent Spaces for Multi-Label Classification", AAAI 2017).

The Canonical-Correlated AutoEncoder, one of the thesis' MLC baselines (thesis §2.3: "an ℓ2 distance between the
feature and label codes, together with a relaxed orthogonality regularization"). Three networks:

- feature encoder ``F_x: x -> z_x`` and label encoder ``F_e: y -> z_e``, both ending in the authors' zero-mean
  sigmoid ``σ(·) - 1/2`` (K-dimensional latent, ``K = round(latent_ratio L)`` unless ``latent`` is set);
- label decoder ``F_d: z -> a`` (B, L) logits; the authors' decoder ends in a sigmoid, so ``σ(a)`` is their output.

Training (paper eq. 1-3, in the authors' relaxed form, ``CORR_error.m`` / ``BR_error.m``), per batch of B rows
with latent matrices ``Z_x = F_x(X)``, ``Z_e = F_e(Y)`` (B x K) and decoder scores ``p = σ(F_d(Z_e))``::

    L     = match + λ ortho + α rank
    match = (1/B) ‖Z_x - Z_e‖²_F                                     the latent matching ‖F_x(X) - F_e(Y)‖²
    ortho = (1/B) (‖Z_xᵀ Z_x - I_K‖²_F + ‖Z_eᵀ Z_e - I_K‖²_F)       the CCA constraint Z_xᵀZ_x = Z_eᵀZ_e = I,
                                                                     as the paper's Lagrangian penalty
    rank  = (1/B) Σ_b 1/(|y_b¹| |y_b⁰|) Σ_{p ∈ y_b¹, q ∈ y_b⁰} exp(-s (p_bp - p_bq))

This is the authors' objective ``Σ_b ‖z_x - z_e‖² + λ (‖·‖² + ‖·‖²) + (1/alpha_code) Σ_b rank_b`` divided by the
batch size (their ``alpha = 2`` divides the decoder's gradient, so ``α = 1/2`` here). The covariances are the
*unnormalised* batch Gram matrices ``ZᵀZ``, as in their code (so the constraint, and the latent scale it
implies, depends on the batch size; with K > B it cannot hold exactly and is only a penalty). The paper writes
the ranking term as ``exp(F_d^q - F_d^p)`` on the decoder outputs; the authors' decoder ends in a sigmoid and
their code multiplies the difference by a fixed ``s = 5`` (``rank_scale``; ``rank_scale = 1`` is the paper's
plain difference of those outputs). A row without a positive or without a negative label has no pair and
contributes 0 to ``rank`` (still counted in the mean, as in the code): no NaN. As in the paper, ``rank`` trains
``F_e`` and ``F_d`` only; ``F_x`` learns from ``match`` and ``ortho`` alone.

Prediction: ``F_d(F_x(x))``, returned as logits (the model's ``forward``); ``σ`` of them is the authors' output.

The ranking term is computed in O(B L) through the factorisation
``Σ_{p,q} exp(-s p_p) exp(s p_q) = (Σ_p exp(-s p_p)) (Σ_q exp(s p_q))`` (no (B, L, L) tensor), so a thousand
labels cost no more than the decoder itself.

Shapes: x (B, F); y (B, L) 0/1; latent codes (B, K); logits (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import torch
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.layers import mlp


@dataclass(frozen=True)
class C2AEConfig:
    """Sizes and loss weights (defaults: the authors' code, github.com/chihkuanyeh/C2AE, mirflickr demo).

    Weight decay (their ``l2penalty = 1e-3``), learning rate and epochs are the trainer's settings, not these.
    """

    latent: int = 0  # K; 0: round(latent_ratio * n_labels)
    latent_ratio: float = 0.8  # demo.m: reduction_rate = 0.8, K = round(0.8 L)
    encoder: tuple[int, ...] = (512, 512)  # F_x hidden layers (demo.m: NN1 = [512 512 K])
    label_encoder: tuple[int, ...] = (512,)  # F_e hidden layers (demo.m: NN2 = [512 K])
    decoder: tuple[int, ...] = (512,)  # F_d hidden layers (DCCAtrain_SGD.m: F_e's sizes reversed, K -> 512 -> L)
    leaky_slope: float = 0.1  # hidden activation: leaky ReLU with slope 0.1 (demo.m hiddentype, forwardpass.m)
    dropout: float = 0.0  # the authors train without dropout (DCCA_grad.m: dropprob 0)
    alpha: float = 0.5  # weight of the ranking term: demo.m alpha = 2.0 divides the decoder gradient (DCCA_grad.m)
    lam: float = 0.5  # λ of the orthogonality penalty (CORR_error.m: lambda = 0.5)
    rank_scale: float = 5.0  # s in exp(-s (p_pos - p_neg)) (BR_error.m: "5 is a fixed parameter"); paper eq.: 1


def latent_size(n_labels: int, cfg: C2AEConfig) -> int:
    """K: ``cfg.latent`` if set, else ``round(cfg.latent_ratio * n_labels)`` (at least 1)."""
    return cfg.latent if cfg.latent > 0 else max(1, round(cfg.latent_ratio * n_labels))


def _masked_sum_exp(u: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(c, S)`` with ``Σ_{l: mask} exp(u_l) = exp(c) S`` per row, stable and NaN-free (S = 0 on an empty row)."""
    c = u.masked_fill(~mask, -torch.inf).amax(1).detach()
    c = torch.where(torch.isfinite(c), c, torch.zeros_like(c))
    return c, torch.exp((u - c[:, None]).masked_fill(~mask, -torch.inf)).sum(1)


def pairwise_ranking_loss(scores: torch.Tensor, y: torch.Tensor, scale: float = 5.0) -> torch.Tensor:
    """C2AE's label-correlation aware loss of every row: the mean over (positive p, negative q) label pairs of
    ``exp(-scale (scores_p - scores_q))``; 0 for a row without a positive or without a negative label.

    Parameters
    ----------
    scores : Tensor (B, L)
        Decoder outputs (the authors': sigmoid probabilities).
    y : Tensor (B, L)
        0/1 labels.
    scale : float
        The factor of the score difference (5 in the authors' code, 1 in the paper's equation).

    Returns
    -------
    Tensor (B,)
        The per-row loss, computed in O(B L) as ``(Σ_p exp(-s a_p)) (Σ_q exp(s a_q)) / (|pos| |neg|)``.
    """
    pos = y > 0
    neg = ~pos
    c_pos, s_pos = _masked_sum_exp(-scale * scores, pos)
    c_neg, s_neg = _masked_sum_exp(scale * scores, neg)
    n_pairs = (pos.sum(1) * neg.sum(1)).clamp(min=1)
    return torch.exp(c_pos + c_neg) * s_pos * s_neg / n_pairs


def orthogonality_penalty(z: torch.Tensor) -> torch.Tensor:
    """``‖Zᵀ Z - I‖²_F`` of a (B, K) batch of latent codes: the relaxed constraint ``Zᵀ Z = I``."""
    gram = z.T @ z
    return (gram - torch.eye(gram.shape[0], device=z.device, dtype=z.dtype)).pow(2).sum()


class C2AE(nn.Module):
    """C2AE for ``n_features`` inputs and ``n_labels`` labels (module docstring)."""

    def __init__(self, n_features: int, n_labels: int, cfg: C2AEConfig = C2AEConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        k = latent_size(n_labels, cfg)
        act = partial(nn.LeakyReLU, cfg.leaky_slope)

        def net(sizes: list[int], out: int) -> nn.Sequential:
            return nn.Sequential(mlp(sizes, cfg.dropout, act), nn.Linear(sizes[-1], out))

        self.feat_enc = net([n_features, *cfg.encoder], k)  # F_x
        self.label_enc = net([n_labels, *cfg.label_encoder], k)  # F_e
        self.decoder = net([k, *cfg.decoder], n_labels)  # F_d

    def reset_parameters(self) -> None:
        """Re-initialise every layer of ``F_x``, ``F_e`` and ``F_d``."""
        for module in (self.feat_enc, self.label_enc, self.decoder):
            reset(module)

    def encode_features(self, x: torch.Tensor) -> torch.Tensor:
        """``z_x = F_x(x)`` (B, K), in (-1/2, 1/2)."""
        return torch.sigmoid(self.feat_enc(x)) - 0.5

    def encode_labels(self, y: torch.Tensor) -> torch.Tensor:
        """``z_e = F_e(y)`` (B, K), in (-1/2, 1/2)."""
        return torch.sigmoid(self.label_enc(y.float())) - 0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Label logits (B, L): ``F_d(F_x(x))``."""
        return self.decoder(self.encode_features(x))

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss and its named terms for a batch: ``loss``, ``match``, ``ortho``, ``rank``."""
        cfg = self.cfg
        z_x, z_e = self.encode_features(x), self.encode_labels(y)
        b = x.shape[0]
        match = (z_x - z_e).pow(2).sum() / b
        ortho = (orthogonality_penalty(z_x) + orthogonality_penalty(z_e)) / b
        rank = pairwise_ranking_loss(torch.sigmoid(self.decoder(z_e)), y, cfg.rank_scale).mean()
        total = match + cfg.lam * ortho + cfg.alpha * rank
        return {"loss": total, "match": match, "ortho": ortho, "rank": rank}
