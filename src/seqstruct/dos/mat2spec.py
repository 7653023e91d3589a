"""Mat2Spec (Kong et al. 2022, gomes-lab/Mat2Spec): probabilistic embeddings + contrastive learning, a DoS baseline.

Architecture (methods.md §2.5, the released code). The crystal feature ``f`` (B, d) comes from the GATGNN-style
encoder (:class:`seqstruct.dos.gatgnn.GATGNNEncoder`). Two branches map it to a latent ``z`` (D = ``latent``):

- **feature branch** (used at test time): ``h = MLP_x(f)`` (``feat_encoder`` widths, ReLU + dropout), then K mixture
  components ``(μ_k, log σ²_k) = W_μ h, W_σ h`` (B, K, D) and mixture logits ``m_x = W_m h`` (B, K)::

      π_x = softmax(m_x),   z_x = Σ_k π_x,k (μ_k + ε_k σ_k)

- **label branch** (reads the true spectrum ``p``; training only): one Gaussian per spectrum position ``j``,
  ``(μ_j, log σ²_j) = MLP_e(e_j)`` from the identity row ``e_j`` (``label_encoder`` widths, ReLU + dropout), and
  position weights from the spectrum::

      π_y = softmax(MLP_π(p)),   MLP_π: L -> 128 -> L (ReLU),   z_y = π_y (μ + ε σ)     ε: one (L, D) draw per pass

A shared decoder and the output layer give both branches' logits and embeddings::

    emb = LeakyReLU(W_2 ReLU(W_1 [f ‖ z] + b_1) + b_2)      (B, E), E = emb = 512
    logits = emb W_o                                        W_o: (E, L), the weight of the released Linear(L -> E)
    proj = W_p emb + b_p                                    (B, 1024) contrastive projection

The latents are sampled (reparameterised) in training mode. Prediction (``forward``): in training mode one sampled
pass; in eval mode (dropout off) the average of ``eval_samples`` sampled passes of the head over the same crystal
feature, as the released test script does (it leaves ``args.train`` on and averages 3 passes). The average is taken
over the predicted spectra ``softmax(logits)`` and returned as ``log mean_s softmax(logits_s)``, whose softmax is
that average. ``eval_samples = 0``: one deterministic pass with the means (``z_x = Σ_k π_x,k μ_k``).

Loss (``training_loss``, ``normalized_sum`` with the KL branch loss), per batch with ``p`` the sum-normalised
spectrum (B, L)::

    loss  = nll_x + nll_y + 1.1 align + 0.1 con
    nll_. = mean_b Σ_l p_bl (log p_bl - log_softmax(logits_.)_bl)                 KL(p ‖ softmax), 0 log 0 = 0
    align = mean_b Σ_{k=1..K} Σ_{j=1..L} π_x,bk π_y,bj · ½ [KL(N_bk ‖ N_j) + KL(N_j ‖ N_bk)]
    con   = - mean_b log( exp(s_bb) / Σ_{c ≠ b} exp(s_bc) ),   s_bc = ⟨ρ(proj_y,b), ρ(proj_x,c)⟩ / τ

(``ρ``: L2 normalisation, τ = 1; the positive pair is the same crystal's label- and feature-branch projection, the
denominator sums the negatives only, the label branch anchors the rows — all as released; ``con = 0`` for a batch
of one crystal, which has no negative.) Between diagonal Gaussians the symmetric KL needs no logarithm::

    ½ [KL(1‖2) + KL(2‖1)] = ¼ Σ_d [σ1²/σ2² + σ2²/σ1² + (μ1 - μ2)² (1/σ1² + 1/σ2²) - 2]

and it is computed for all (k, j) pairs as matrix products of per-component and per-position terms (memory
O(B K L), never (B, K, L, D)).

**Fixed bug (alignment pairs).** The released ``compute_loss`` enumerates the pairs by tiling: the K feature
components are repeated L times (pair n has k = n mod K) and the L position Gaussians K times (j = n mod L), so
its K L terms are the pairs ``(n mod K, n mod L)``. By the Chinese remainder theorem this is the full outer
product only when gcd(K, L) = 1 (phDoS: K = 10, L = 51); otherwise (eDoS: L = 128, gcd 2) only the pairs with
``k ≡ j (mod gcd)`` appear, each gcd times. Here ``align`` sums over the full outer product, every pair once;
``tiled_pairs=True`` reproduces the released enumeration (for comparison runs; identical when gcd(K, L) = 1).

Other differences from the released code: the mixture weights of the label branch read the sum-normalised
target ``p`` passed to ``training_loss`` (the released code reads the stored ``data.y``); the ``+1e-8`` of the
released KL denominators is dropped (both branches use the shared ``seqstruct.dos.losses.spectrum_loss``);
parameters the released class builds but never uses (``fe0``, ``feat_mp_mu``, ``bias``, the bias of ``W``, the
composition-encoding layers of its GNN) are not created.

Shapes: f (B, d); μ_x, log σ²_x (B, K, D); π_x (B, K); μ, log σ² (L, D); π_y (B, L); emb (B, E); proj (B, 1024);
logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.gatgnn import GATGNNEncoder, GATGNNEncoderConfig
from seqstruct.dos.losses import spectrum_loss


@dataclass(frozen=True)
class Mat2SpecConfig(GATGNNEncoderConfig):
    """Encoder sizes (:class:`GATGNNEncoderConfig`) plus the head (defaults: the released code and scripts)."""

    components: int = 10  # K feature-branch mixture components (--Mat2Spec-K 10)
    latent: int = 128  # D latent width (--Mat2Spec-latent-dim 128)
    feat_encoder: tuple[int, ...] = (256, 512, 256)  # feature encoder widths after d (fx1, fx2, fx3)
    label_encoder: tuple[int, ...] = (512, 256)  # label encoder widths after L (fe1, fe2)
    mix_hidden: int = 128  # hidden width of the label mixture-weight MLP (fe_mix_coeff: L -> 128 -> L)
    decoder: int = 512  # first decoder width (fd_x1: d + D -> 512)
    emb: int = 512  # E decoder output / embedding width (--Mat2Spec-emb-size 512)
    proj: int = 1024  # contrastive projection width (emb_proj: Linear(E, 1024))
    dropout: float = 0.5  # encoders' dropout probability (--Mat2Spec-keep-prob 0.5, a drop probability)
    tau: float = 1.0  # contrastive temperature (compute_c_loss tau=1)
    align_coeff: float = 1.1  # weight of the alignment term (c2 = 1.1; 0: ablation_LE)
    con_coeff: float = 0.1  # weight of the contrastive term (c3 = 0.1; 0: ablation_CL)
    eval_samples: int = 3  # eval prediction: mean of 3 sampled passes (released test); 0: deterministic means
    tiled_pairs: bool = False  # True: the released tiled (k, j) enumeration of the alignment pairs (module doc)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("components", "latent", "mix_hidden", "decoder", "emb", "proj"):
            if getattr(self, name) < 1:
                raise ValueError(f"Mat2SpecConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.eval_samples < 0:
            raise ValueError(f"Mat2SpecConfig.eval_samples must be >= 0, got {self.eval_samples}")


def pairwise_symmetric_kl(
    mu1: torch.Tensor, logvar1: torch.Tensor, mu2: torch.Tensor, logvar2: torch.Tensor
) -> torch.Tensor:
    """``½ [KL(N1_k ‖ N2_j) + KL(N2_j ‖ N1_k)]`` of every (k, j) pair of diagonal Gaussians.

    Computed as ``¼ Σ_d [σ1²/σ2² + σ2²/σ1² + (μ1 - μ2)² (1/σ1² + 1/σ2²) - 2]`` with the square expanded, so every
    term is a product over d of a k-term and a j-term (matrix products; no (B, K, L, D) tensor).

    Shapes: mu1, logvar1 (B, K, D); mu2, logvar2 (L, D); result (B, K, L).
    """
    v1, iv1 = logvar1.exp(), (-logvar1).exp()
    v2, iv2 = logvar2.exp(), (-logvar2).exp()
    d = mu1.shape[-1]
    t = (
        v1 @ iv2.T  # σ1²/σ2²
        + iv1 @ v2.T  # σ2²/σ1²
        + (mu1**2 * iv1).sum(-1, keepdim=True)  # μ1²/σ1²
        - 2 * (mu1 * iv1) @ mu2.T
        + iv1 @ (mu2**2).T  # μ2²/σ1²
        + mu1**2 @ iv2.T  # μ1²/σ2²
        - 2 * mu1 @ (mu2 * iv2).T
        + (mu2**2 * iv2).sum(-1)  # μ2²/σ2²
    )
    return 0.25 * (t - 2 * d)


def tiled_pair_counts(k: int, n_pos: int) -> torch.Tensor:
    """How often the released tiling uses each pair (k, j): pairs ``(n mod K, n mod L)``, n < K L (module doc).

    Shapes: result (K, L), entries gcd(K, L) on the pairs with ``k ≡ j (mod gcd)`` and 0 elsewhere.
    """
    n = torch.arange(k * n_pos)
    counts = torch.zeros(k, n_pos)
    counts.index_put_((n % k, n % n_pos), torch.ones(k * n_pos), accumulate=True)
    return counts


def negatives_contrastive(anchors: torch.Tensor, others: torch.Tensor, tau: float = 1.0) -> torch.Tensor:
    """``- mean_b log( exp(s_bb) / Σ_{c ≠ b} exp(s_bc) )`` of L2-normalised rows (Mat2Spec ``compute_c_loss``).

    Shapes: anchors, others (B, P); result (); 0 when B = 1 (no negative).
    """
    b = anchors.shape[0]
    if b < 2:
        return anchors.sum() * 0.0
    s = F.normalize(anchors, dim=-1) @ F.normalize(others, dim=-1).T / tau  # (B, B)
    eye = torch.eye(b, dtype=torch.bool, device=s.device)
    return (torch.logsumexp(s.masked_fill(eye, -math.inf), dim=-1) - s.diagonal()).mean()


def _mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


class Mat2Spec(nn.Module):
    """Mat2Spec for graphs of ``dims`` (module docstring): ``forward`` -> logits (B, L), ``training_loss``."""

    def __init__(self, dims: GraphDims, cfg: Mat2SpecConfig = Mat2SpecConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.n_out = dims.out
        k, lat = cfg.components, cfg.latent
        self.encoder = GATGNNEncoder(dims, cfg)
        self.feat_enc = _mlp([cfg.hidden, *cfg.feat_encoder], cfg.dropout)
        self.feat_mu = nn.Linear(cfg.feat_encoder[-1], k * lat)
        self.feat_logvar = nn.Linear(cfg.feat_encoder[-1], k * lat)
        self.feat_mix = nn.Linear(cfg.feat_encoder[-1], k)
        self.label_enc = _mlp([dims.out, *cfg.label_encoder], cfg.dropout)
        self.label_mu = nn.Linear(cfg.label_encoder[-1], lat)
        self.label_logvar = nn.Linear(cfg.label_encoder[-1], lat)
        self.label_mix = nn.Sequential(
            nn.Linear(dims.out, cfg.mix_hidden), nn.ReLU(), nn.Linear(cfg.mix_hidden, dims.out)
        )
        self.dec1 = nn.Linear(cfg.hidden + lat, cfg.decoder)
        self.dec2 = nn.Linear(cfg.decoder, cfg.emb)
        self.w_out = nn.Parameter(torch.empty(cfg.emb, dims.out))  # the weight of the released Linear(L -> E)
        self.proj = nn.Linear(cfg.emb, cfg.proj)
        self.register_buffer("pair_counts", tiled_pair_counts(k, dims.out), persistent=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-initialise the encoder, both branches, the decoder, ``W_o`` (as a Linear(L -> E) weight) and ``W_p``."""
        self.encoder.reset_parameters()
        for seq in (self.feat_enc, self.label_enc, self.label_mix):
            for m in seq:
                if isinstance(m, nn.Linear):
                    m.reset_parameters()
        for m in (self.feat_mu, self.feat_logvar, self.feat_mix, self.label_mu, self.label_logvar):
            m.reset_parameters()
        for m in (self.dec1, self.dec2, self.proj):
            m.reset_parameters()
        nn.init.kaiming_uniform_(self.w_out, a=math.sqrt(5))  # nn.Linear's weight init: U(±1/√L)

    # -- the two branches ------------------------------------------------------------------------------------------
    def feature_gaussians(self, f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(μ_x, log σ²_x, m_x)``: (B, K, D), (B, K, D), mixture logits (B, K)."""
        h = self.feat_enc(f)
        shape = (f.shape[0], self.cfg.components, self.cfg.latent)
        return self.feat_mu(h).view(shape), self.feat_logvar(h).view(shape), self.feat_mix(h)

    def position_gaussians(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(μ, log σ²)`` of the spectrum positions, each (L, D), from the identity rows."""
        eye = torch.eye(self.n_out, device=self.w_out.device, dtype=self.w_out.dtype)
        h = self.label_enc(eye)
        return self.label_mu(h), self.label_logvar(h)

    def decode(self, f: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits (B, L), emb (B, E))`` of latent ``z`` (B, D) for crystal features ``f`` (B, d)."""
        emb = F.leaky_relu(self.dec2(F.relu(self.dec1(torch.cat([f, z], dim=-1)))))
        return emb @ self.w_out, emb

    @staticmethod
    def _sample(mu: torch.Tensor, logvar: torch.Tensor, sample: bool) -> torch.Tensor:
        return mu + torch.randn_like(mu) * (0.5 * logvar).exp() if sample else mu

    def feature_latent(
        self, mu: torch.Tensor, logvar: torch.Tensor, mix_logits: torch.Tensor, sample: bool
    ) -> torch.Tensor:
        """``z_x = Σ_k softmax(m_x)_k (μ_k + ε_k σ_k)`` (B, D); the means if not ``sample``."""
        return (F.softmax(mix_logits, dim=-1)[..., None] * self._sample(mu, logvar, sample)).sum(1)

    # -- prediction and loss ---------------------------------------------------------------------------------------
    def forward(self, batch: Batch) -> torch.Tensor:
        """Feature-branch logits (B, L): one sampled pass in training mode; in eval mode
        ``log mean_s softmax(logits_s)`` over ``eval_samples`` sampled passes, or the means if ``eval_samples=0``."""
        f = self.encoder(batch)
        mu, logvar, mix = self.feature_gaussians(f)
        if self.training:
            return self.decode(f, self.feature_latent(mu, logvar, mix, True))[0]
        if self.cfg.eval_samples == 0:
            return self.decode(f, self.feature_latent(mu, logvar, mix, False))[0]
        probs = [
            F.softmax(self.decode(f, self.feature_latent(mu, logvar, mix, True))[0], dim=-1)
            for _ in range(self.cfg.eval_samples)
        ]
        return torch.stack(probs).mean(0).clamp_min(torch.finfo(f.dtype).tiny).log()  # finite logits

    def alignment(
        self,
        mu_x: torch.Tensor,
        logvar_x: torch.Tensor,
        pi_x: torch.Tensor,
        mu_y: torch.Tensor,
        logvar_y: torch.Tensor,
        pi_y: torch.Tensor,
    ) -> torch.Tensor:
        """``mean_b Σ_{k,j} π_x,bk π_y,bj sKL(N_bk, N_j)`` over all K L pairs (or the released tiled pairs).

        Shapes: mu_x, logvar_x (B, K, D); pi_x (B, K); mu_y, logvar_y (L, D); pi_y (B, L); result ().
        """
        skl = pairwise_symmetric_kl(mu_x, logvar_x, mu_y, logvar_y)  # (B, K, L)
        weight = pi_x[:, :, None] * pi_y[:, None, :]
        if self.cfg.tiled_pairs:
            weight = weight * self.pair_counts.to(weight.dtype)
        return (weight * skl).sum((1, 2)).mean()

    def training_loss(self, batch: Batch, target: torch.Tensor) -> dict[str, torch.Tensor]:
        """The loss and its named terms: ``loss``, ``nll_x``, ``nll_y``, ``align``, ``con`` (module docstring).

        Parameters
        ----------
        batch : Batch
            The crystal graphs (``seqstruct.dos.batch``).
        target : Tensor (B, L)
            The sum-normalised spectra; the label branch reads them.
        """
        cfg = self.cfg
        target = target.to(self.w_out.dtype)
        f = self.encoder(batch)
        mu_x, logvar_x, mix_x = self.feature_gaussians(f)
        mu_y, logvar_y = self.position_gaussians()
        pi_x, pi_y = F.softmax(mix_x, dim=-1), F.softmax(self.label_mix(target), dim=-1)
        z_x = self.feature_latent(mu_x, logvar_x, mix_x, True)
        z_y = pi_y @ self._sample(mu_y, logvar_y, True)  # one (L, D) draw, shared by the batch (as released)
        logits_x, emb_x = self.decode(f, z_x)
        logits_y, emb_y = self.decode(f, z_y)
        nll_x, nll_y = spectrum_loss(logits_x, target), spectrum_loss(logits_y, target)
        align = self.alignment(mu_x, logvar_x, pi_x, mu_y, logvar_y, pi_y)
        con = negatives_contrastive(self.proj(emb_y), self.proj(emb_x), cfg.tau)
        total = nll_x + nll_y + cfg.align_coeff * align + cfg.con_coeff * con
        return {"loss": total, "nll_x": nll_x, "nll_y": nll_y, "align": align, "con": con}
