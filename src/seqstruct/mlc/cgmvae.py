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

Ablations (thesis Tables 2.12 and 2.14; the defaults are the full model):

- ``prior="single"``, the "uni-Gaussian" row of Table 2.12: the prior of a sample is one Gaussian from the label
  branch instead of the mixture. The mean of its positive labels' embeddings ``ē = mean_{i: y_i=1} e_i`` goes
  through the same label encoder to ``(μ_y, log σ²_y)``; ``KL = KL(N(μ_x, σ²_x) ‖ N(μ_y, σ²_y))`` is analytic
  (``mpvae.gaussian_kl``) and the label branch decodes ``z_y = μ_y``. Samples without a positive label: KL left
  out, ``z_y = 0``, as in the mixture.
- "GM only" is ``c_coeff=0`` (the contrastive term is still reported, not trained) and "contrastive only" is
  ``kl_coeff=0``: no option needed.
- ``correlation`` (Table 2.14) replaces the contrastive module, whose term is then 0:

  * ``"covariance"``: the label logits ``m`` of every head are the means of MPVAE's multivariate probit with a
    learnt ``Σ = R Rᵀ + I`` (``R``: L x ``probit_rank``, Glorot-uniform), ``E_s = Φ(m + ε_s Rᵀ)`` for
    ``n_samples`` draws (``seqstruct.mlc.probit``); each NLL is ``- log mean_s Π_l Bernoulli(y_l; E_sl)``.
    ``forward`` returns ``logit(mean_s E_s)`` (clamped to probabilities in [1e-6, 1 - 1e-6]), so ``sigmoid``
    of it is the probit prediction;
  * ``"gnn"``: the label embeddings ``H_0 = W_lookupᵀ`` (L, E) go through ``gnn_layers`` graph convolutions
    ``H_k = Â H_{k-1} Θ_k + b_k`` (ReLU between layers) over the label co-occurrence graph
    ``Â = D^-1/2 (A + I) D^-1/2`` (``seqstruct.mlc.label_graph``), and ``H`` replaces ``W_lookupᵀ`` as the
    classifier weights: ``logits = w Hᵀ``. The label encoder still reads the raw embeddings. The graph comes
    from the training labels: call ``set_label_graph(y_train)`` after construction (``loss`` and ``forward``
    refuse to run without it); the graph is a buffer, so it is saved and restored with the state dict;
  * ``"none"``: no label-correlation module: the loss of ``c_coeff=0``, but the contrastive term is not even
    computed (``con`` reported as 0).

Shapes: x (B, F); y (B, L) 0/1; logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.label_graph import LabelGCN, cooccurrence_adjacency
from seqstruct.mlc.layers import mlp
from seqstruct.mlc.mpvae import gaussian_kl
from seqstruct.mlc.probit import probit_draws, probit_nll

PRIORS = ("mixture", "single")
CORRELATIONS = ("contrastive", "covariance", "gnn", "none")
PROBIT_EPS = 1e-6  # covariance: forward's logits are those of probabilities clamped to [eps, 1 - eps]


@dataclass(frozen=True)
class CGMVAEConfig:
    """Sizes, loss weights and ablation switches (defaults: the authors' code, the full model)."""

    latent: int = 64
    embed: int = 2048
    encoder: tuple[int, ...] = (256, 512, 256)
    label_encoder: tuple[int, ...] = (512, 256)
    decoder: int = 512
    dropout: float = 0.5
    tau: float = 1.0
    nll_coeff: float = 0.5
    kl_coeff: float = 6.0  # 0: "contrastive only" (Table 2.12)
    c_coeff: float = 1.0  # 0: "GM only" (Table 2.12)
    prior: str = "mixture"  # "mixture" of the positive labels' Gaussians | "single": one Gaussian ("uni-Gaussian")
    correlation: str = "contrastive"  # label correlations: "contrastive" | "covariance" | "gnn" | "none"
    probit_rank: int = 16  # covariance: columns of R in Σ = R Rᵀ + I
    n_samples: int = 20  # covariance: probit draws per head (training) and per prediction
    gnn_layers: int = 2  # gnn: graph convolutions over the label co-occurrence graph

    def __post_init__(self) -> None:
        if self.prior not in PRIORS:
            raise ValueError(f"CGMVAEConfig.prior must be one of {PRIORS}, got {self.prior!r}")
        if self.correlation not in CORRELATIONS:
            raise ValueError(f"CGMVAEConfig.correlation must be one of {CORRELATIONS}, got {self.correlation!r}")
        for name in ("probit_rank", "n_samples", "gnn_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"CGMVAEConfig.{name} must be >= 1, got {getattr(self, name)}")


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
        self.n_labels = n_labels
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
        if cfg.correlation == "covariance":
            self.r = nn.Parameter(torch.empty(n_labels, cfg.probit_rank))
            nn.init.xavier_uniform_(self.r)
        if cfg.correlation == "gnn":
            self.gnn = LabelGCN(cfg.embed, cfg.gnn_layers)
            self.register_buffer("label_adj", torch.zeros(n_labels, n_labels))  # all zero: no graph set yet
            self._graph_checked = False

    def reset_parameters(self) -> None:
        """Re-initialise every layer (encoders, label lookup, decoder; ``R`` or the GNN of the ablations)."""
        for module in (self.encoder, self.enc_out, self.lookup, self.label_encoder, self.label_out, self.decoder):
            reset(module)
        if self.cfg.correlation == "covariance":
            nn.init.xavier_uniform_(self.r)
        if self.cfg.correlation == "gnn":
            self.gnn.reset_parameters()

    def set_label_graph(self, y_train: torch.Tensor) -> None:
        """Build the label graph of ``correlation="gnn"`` from the training labels ``y_train`` (N, L) 0/1:
        ``Â = D^-1/2 (A + I) D^-1/2``, ``A_ij = 1`` when labels i != j co-occur in a training sample. A no-op
        for the other correlations, so a training run may call it for every C-GMVAE.
        """
        y_train = torch.as_tensor(y_train)
        if y_train.ndim != 2 or y_train.shape[1] != self.n_labels:
            raise ValueError(f"y_train must be (N, {self.n_labels}), got shape {tuple(y_train.shape)}")
        if self.cfg.correlation == "gnn":
            self.label_adj.copy_(cooccurrence_adjacency(y_train))
            self._graph_checked = True

    def _adjacency(self) -> torch.Tensor:
        if not self._graph_checked:  # checked once: after set_label_graph, or a loaded state with a graph
            if not bool(self.label_adj.any()):
                raise RuntimeError(
                    'CGMVAE(correlation="gnn") has no label graph: call model.set_label_graph(y_train) with the '
                    "training labels (N, L) after construction"
                )
            self._graph_checked = True
        return self.label_adj

    def label_embeddings(self) -> torch.Tensor:
        """The label embeddings (L, E) the classifier uses (and the contrastive keys): the columns of the lookup
        weight, refined by the GNN when ``correlation="gnn"``. Their inner products are thesis Figure 2.19."""
        h = self.lookup.weight.T
        return self.gnn(h, self._adjacency()) if self.cfg.correlation == "gnn" else h

    def _label_inputs(self) -> torch.Tensor:
        """The label encoder's inputs ``e_i = dropout(relu(W_lookup[:, i] + b))`` (L, E)."""
        return self.drop(F.relu(self.lookup.weight.T + self.lookup.bias))

    def label_gaussians(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ_l, log σ²_l), each (L, D): the mixture components, one per label."""
        return self.label_out(self.label_encoder(self._label_inputs())).chunk(2, dim=-1)

    def decode(
        self, x: torch.Tensor, z: torch.Tensor, keys: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits (B, L), unit-norm embedding w (B, E)) of latent ``z`` (B, D) for features ``x``; ``keys``: the
        classifier weights (L, E), ``label_embeddings()`` unless given."""
        w = F.normalize(self.decoder(torch.cat([x, z], dim=-1)), dim=-1)
        return w @ (self.label_embeddings() if keys is None else keys).T, w

    def forward(self, x: torch.Tensor, n_samples: int | None = None) -> torch.Tensor:
        """Label logits (B, L) from the feature branch (``μ_x`` in eval mode, a sample in train mode); for
        ``correlation="covariance"`` the logits of the probit prediction ``mean_s E_s`` over ``n_samples`` draws
        (default ``cfg.n_samples``)."""
        mu_x, logvar_x = self.enc_out(self.encoder(x)).chunk(2, dim=-1)
        z = mu_x + torch.randn_like(mu_x) * (0.5 * logvar_x).exp() if self.training else mu_x
        logits = self.decode(x, z)[0]
        if self.cfg.correlation != "covariance":
            return logits
        p = probit_draws(logits, self.r, n_samples or self.cfg.n_samples).mean(0)
        return torch.logit(p, eps=PROBIT_EPS)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss and its named terms for a batch (train mode): ``loss``, ``nll``, ``kl``, ``con``
        (``con`` is 0 unless ``correlation="contrastive"``)."""
        y = y.float()
        cfg = self.cfg
        mu_x, logvar_x = self.enc_out(self.encoder(x)).chunk(2, dim=-1)
        std = (0.5 * logvar_x).exp()
        keys = self.label_embeddings()  # (L, E)
        n_pos = y.sum(1, keepdim=True)
        has = n_pos[:, 0] > 0
        if cfg.prior == "mixture":
            mu_l, logvar_l = self.label_gaussians()
            z_y = (y @ mu_l) / n_pos.clamp(min=1)  # mean of the positive labels' means; 0 without any
        else:
            e_mean = (y @ self._label_inputs()) / n_pos.clamp(min=1)  # (B, E): mean positive label embedding
            mu_y, logvar_y = self.label_out(self.label_encoder(e_mean)).chunk(2, dim=-1)
            z_y = torch.where(has[:, None], mu_y, torch.zeros_like(mu_y))
        heads = [
            self.decode(x, z, keys)
            for z in (z_y, mu_x + torch.randn_like(std) * std, mu_x + torch.randn_like(std) * std)
        ]
        if cfg.correlation == "covariance":
            nll = sum(probit_nll(y, probit_draws(lg, self.r, cfg.n_samples)) for lg, _ in heads)
        else:
            nll = sum(F.binary_cross_entropy_with_logits(lg, y, reduction="none").sum(1).mean() for lg, _ in heads)
        if cfg.prior == "mixture":
            kl = mixture_kl(mu_x + torch.randn_like(std) * std, mu_x, logvar_x, mu_l, logvar_l, y)
        else:
            kl = gaussian_kl(mu_x, logvar_x, mu_y, logvar_y)
        kl = kl[has].mean() if has.any() else kl.sum() * 0
        if cfg.correlation == "contrastive":
            anchors = torch.cat([heads[0][1], heads[1][1]])  # (2B, E): label-branch and feature-branch embeddings
            log_p = F.log_softmax(anchors @ keys.T / cfg.tau, dim=-1)  # (2B, L)
            yy = torch.cat([y, y])
            per_anchor = -(log_p * yy).sum(1) / yy.sum(1).clamp(min=1)
            con = per_anchor[yy.sum(1) > 0].mean() if has.any() else per_anchor.sum() * 0
        else:
            con = torch.zeros((), device=x.device)
        total = cfg.nll_coeff * nll + cfg.kl_coeff * kl + cfg.c_coeff * con
        return {"loss": total, "nll": nll, "kl": kl, "con": con}
