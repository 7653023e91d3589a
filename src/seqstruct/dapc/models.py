"""The deep models of chapter 3.1: DAPC (deterministic and probabilistic) and CPC.

``DAPC`` (thesis eq. 3.1-3.5, methods.md §4.3). Encoder ``e`` (``GRUEncoder``), latents ``z = e(X)`` (B, L, d).
The loss of a batch ``X`` (B, L, D) is

    −w_PI·(I_T(z) + α·I_{T/2}(z)) + w_ortho·‖Σ_1(z) − I‖²_F + w_rec·R,

with ``R`` the masked reconstruction ``g(e(X⊙M))`` vs ``X`` on the masked entries (``recon="masked"``), the
full reconstruction ``g(e(X))`` vs ``X`` (``"full"``) or nothing (``"none"``); ``shift = s`` compares frame
``t`` of the reconstruction with input frame ``t + s`` (R_s). One config spans the thesis' variants: PI only
(``recon="none"``), MR (``pi_weight=0``), FR / FR+PI, uni-GRU (``bidirectional=False``).

Probabilistic DAPC (``probabilistic=True``): the encoder gives a Gaussian ``q(z_t|X)`` (mean, log-variance);
latents are samples. The prior over a window of ``2T`` frames is ``N(0, Σ_p)``, with ``Σ_p`` the covariance of
encoder samples of a learnt pseudo-input sequence (VampPrior-style, initialised from the first training batch);
PI is that prior's ``I_T`` and the rate is the mean over the data's windows of ``KL(q(z_window|X) ‖ N(0, Σ_p))``
weighted by ``rate_weight``. The released code's block-wise β-TC decomposition of the rate is not implemented
(``docs/deviations.md``).

``CPC``: context ``c_t = e(X)_t`` (B, L, d), targets ``u_t = W_x x_t`` (a linear future encoder), score
``c_tᵀ W_j u_{t+j}`` for lags ``j = 1 .. k``; InfoNCE against ``negatives`` frames drawn from the whole batch.

Every model has ``loss(x, generator) -> {"loss", ...}`` (the generator draws masks and negatives; validation
passes a fixed one) and ``encode(x) -> (B, L, d)`` (the mean for the probabilistic model).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seqstruct.dapc.encoders import GRUEncoder, MLPDecoder
from seqstruct.dapc.masks import spec_masks
from seqstruct.dapc.pi import orthogonality_penalty, pi_from_cov, stacked_windows, window_covariance

RECONS = ("masked", "full", "none")
NORMS = ("mean", "sum")


@dataclass(frozen=True)
class EncoderConfig:
    """The GRU encoder shared by DAPC and CPC (thesis Lorenz: bi-GRU 4 × 256, dropout 0.7, d = 3)."""

    d: int = 3  # latent dimensions per frame
    hidden: int = 256  # GRU units per direction
    layers: int = 4
    dropout: float = 0.7  # between GRU layers (and in the decoder)
    bidirectional: bool = True  # False: the uni-GRU ablation and the forecasting encoders

    def encoder(self, d_in: int, out: int | None = None) -> GRUEncoder:
        return GRUEncoder(d_in, out or self.d, self.hidden, self.layers, self.dropout, self.bidirectional)


@dataclass(frozen=True)
class DapcConfig(EncoderConfig):
    """DAPC's objective (defaults: the released Lorenz run script, methods.md §4.3)."""

    T: int = 4  # PI window: past and future of T frames each
    alpha: float = 0.0  # multi-scale PI weight of I_{T/2} (thesis eq. 3.5)
    pi_weight: float = 1.0  # 0: masked / full reconstruction only
    ortho_weight: float = 0.1  # λ_ortho
    recon: str = "masked"  # "masked", "full" or "none"
    recon_weight: float = 500.0  # code 500 with recon_norm "mean"; the thesis' β = 0.1 goes with "sum"
    recon_norm: str = "mean"  # "mean" over the compared entries (code) or "sum" per sequence (thesis)
    shift: int = 0  # s of the shifted reconstruction R_s
    decoder_hidden: int = 512
    decoder_layers: int = 3
    freq_masks: int = 2  # feature bands per sequence, width < freq_width
    freq_width: int = 5
    time_masks: int = 2  # frame spans per sequence, width < time_width
    time_width: int = 40
    cov_reg: float = 1e-4  # added to the diagonal of Σ_2T
    probabilistic: bool = False  # the VAE form with the pseudo-input prior
    rate_weight: float = 1.0  # probabilistic: weight of the KL rate
    pseudo_frames: int = 500  # probabilistic: length of the pseudo-input sequence

    def __post_init__(self) -> None:
        if self.recon not in RECONS:
            raise ValueError(f"recon must be one of {RECONS}, got {self.recon!r}")
        if self.recon_norm not in NORMS:
            raise ValueError(f"recon_norm must be one of {NORMS}, got {self.recon_norm!r}")
        if self.T < 1 or self.shift < 0:
            raise ValueError(f"T must be >= 1 and shift >= 0, got T={self.T}, shift={self.shift}")


@dataclass(frozen=True)
class CpcConfig(EncoderConfig):
    """CPC (methods.md §4.2: linear future encoder, 4 lags, 16 negatives)."""

    k: int = 4  # lags 1 .. k
    negatives: int = 16


class DAPC(nn.Module):
    """Deterministic or probabilistic DAPC on inputs (B, L, D)."""

    def __init__(self, d_in: int, cfg: DapcConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = cfg.encoder(d_in, 2 * cfg.d if cfg.probabilistic else cfg.d)
        self.decoder = (
            MLPDecoder(cfg.d, d_in, cfg.decoder_hidden, cfg.decoder_layers, cfg.dropout)
            if cfg.recon != "none"
            else None
        )
        self.pseudo = nn.Parameter(torch.zeros(1, cfg.pseudo_frames, d_in)) if cfg.probabilistic else None
        self.register_buffer("pseudo_set", torch.tensor(False))  # a buffer, so a resumed run keeps it

    def set_pseudo(self, x: torch.Tensor) -> None:
        """Initialise the pseudo-input sequence from the frames of a training batch ``x`` (B, L, D)."""
        if self.pseudo is not None:
            frames = x.reshape(-1, x.shape[-1])[: self.cfg.pseudo_frames]
            with torch.no_grad():
                self.pseudo[0, : len(frames)] = frames
                self.pseudo_set.fill_(True)

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        if self.decoder is not None:
            self.decoder.reset_parameters()
        if self.pseudo is not None:
            nn.init.zeros_(self.pseudo)
            self.pseudo_set.fill_(False)

    def _gauss(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.encoder(x)
        if not self.cfg.probabilistic:
            return out, torch.zeros_like(out)
        mu, logvar = out.chunk(2, dim=-1)
        return mu, logvar.clamp(-12, 8)

    def _latent(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(sample, mean, log-variance), each (B, L, d); the sample is the mean for the deterministic model."""
        mu, logvar = self._gauss(x)
        if not self.cfg.probabilistic:
            return mu, mu, logvar
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp(), mu, logvar

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, d) latents (the posterior mean when probabilistic)."""
        return self._gauss(x)[0]

    def _recon(self, x: torch.Tensor, z: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        c = self.cfg
        assert self.decoder is not None
        if c.recon == "masked":
            keep = spec_masks(tuple(x.shape), c.freq_masks, c.freq_width, c.time_masks, c.time_width, generator)
            keep = keep.to(x.device)
            z = self._latent(x * keep)[0]
            weight = 1 - keep
        else:
            weight = torch.ones_like(x)
        s, length = c.shift, x.shape[1]
        err = (self.decoder(z[:, : length - s]) - x[:, s:]) ** 2 * weight[:, s:]
        if c.recon_norm == "sum":
            return err.sum() / x.shape[0]
        return err.sum() / weight[:, s:].sum().clamp_min(1.0)

    def _pi(self, z: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        cov = window_covariance(z, 2 * c.T, reg=c.cov_reg)
        return self._pi_of(cov)

    def _pi_of(self, cov: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        pi = pi_from_cov(cov, c.d, c.T)
        if c.alpha and c.T >= 2:
            pi = pi + c.alpha * pi_from_cov(cov, c.d, c.T // 2)
        return pi

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """Named loss terms of a batch ``x`` (B, L, D); ``"loss"`` is the total."""
        c = self.cfg
        z, mu, logvar = self._latent(x)
        terms: dict[str, torch.Tensor] = {}
        if c.probabilistic:
            if not bool(self.pseudo_set):
                self.set_pseudo(x)
            zp = self._latent(self.pseudo)[0]
            prior = window_covariance(zp, 2 * c.T, reg=c.cov_reg)
            terms["pi"] = self._pi_of(prior)
            terms["rate"] = window_kl(mu, logvar, prior, 2 * c.T)
        elif c.pi_weight:
            terms["pi"] = self._pi(z)
        terms["ortho"] = orthogonality_penalty(mu)
        if c.recon != "none":
            terms["recon"] = self._recon(x, z, generator)
        total = c.ortho_weight * terms["ortho"]
        if "pi" in terms:
            total = total - c.pi_weight * terms["pi"]
        if "rate" in terms:
            total = total + c.rate_weight * terms["rate"]
        if "recon" in terms:
            total = total + c.recon_weight * terms["recon"]
        return {"loss": total, **terms}


def window_kl(mu: torch.Tensor, logvar: torch.Tensor, prior: torch.Tensor, window: int) -> torch.Tensor:
    """Mean over all windows of ``window`` frames of KL(N(μ_w, diag σ²_w) ‖ N(0, prior)); μ, logvar (B, L, d),
    prior (window·d, window·d). Scalar (nats)."""
    m = stacked_windows(mu, window)
    v = stacked_windows(logvar, window).exp()
    chol = torch.linalg.cholesky(prior)
    inv = torch.cholesky_inverse(chol)
    maha = (m @ inv * m).sum(1)
    trace = v @ torch.diagonal(inv)
    logdet = 2 * torch.log(torch.diagonal(chol)).sum()
    k = prior.shape[0]
    return 0.5 * (trace + maha - k + logdet - v.log().sum(1)).mean()


class CPC(nn.Module):
    """Contrastive predictive coding with a GRU context encoder and a linear future encoder."""

    def __init__(self, d_in: int, cfg: CpcConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = cfg.encoder(d_in)
        self.future = nn.Linear(d_in, cfg.d)
        self.predict = nn.ModuleList(nn.Linear(cfg.d, cfg.d, bias=False) for _ in range(cfg.k))

    def reset_parameters(self) -> None:
        self.encoder.reset_parameters()
        self.future.reset_parameters()
        for p in self.predict:
            p.reset_parameters()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, L, d) contexts."""
        return self.encoder(x)

    def loss(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        """InfoNCE averaged over the lags 1 .. k; ``"nce"`` per lag is logged too (as the mean)."""
        b, length, _ = x.shape
        if self.cfg.k >= length:
            raise ValueError(f"CPC lag k={self.cfg.k} needs sequences longer than {length} frames")
        c = self.encoder(x)
        u = self.future(x)
        flat = u.reshape(b * length, -1)
        total = x.new_zeros(())
        for j, w in enumerate(self.predict, start=1):
            pred = w(c[:, : length - j])  # (B, L - j, d)
            pos = (pred * u[:, j:]).sum(-1, keepdim=True)
            idx = torch.randint(0, b * length, (b, length - j, self.cfg.negatives), generator=generator)
            neg = torch.einsum("bld,blnd->bln", pred, flat[idx.to(x.device)])
            logits = torch.cat([pos, neg], -1).reshape(-1, 1 + self.cfg.negatives)
            total = total + F.cross_entropy(logits, logits.new_zeros(len(logits), dtype=torch.long))
        nce = total / self.cfg.k
        return {"loss": nce, "nce": nce}
