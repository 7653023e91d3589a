"""LaMP (Lanchantin, Sekhon & Qi, "Neural Message Passing for Multi-Label Classification", ECML-PKDD 2019) on
feature vectors.

LaMP treats the labels as nodes of a fully connected graph and passes messages between them with attention. The
thesis runs it on the same feature vectors as the other MLC models, so the input side is adapted: the
features are encoded by an MLP and projected to ``T = feature_nodes`` feature nodes (the authors' encoder for
vector inputs is the case ``T = 1`` with no hidden layer: one linear token). Per layer, with label states
``U`` (B, L, d), initially the learnt label embeddings ``E`` (L, d), and feature nodes ``H`` (B, T, d)::

    U = LN(U + Attn(U, H, H))        label-to-feature message passing (every label attends over the features)
    U = LN(U + FFN(U))
    U = LN(U + Attn(U, U, U))        label-to-label message passing (fully connected label graph)
    U = LN(U + FFN(U))

the order and the post-norm residual blocks of the authors' ``DecoderLayer`` (multi-head scaled dot-product
attention, FFN width ``2 d``). Readout: one logit per label, ``a_l = w_l · U_l (+ b_l)``, with ``w_l = E_l``
tied to the label embedding and no bias (the authors' code: the projection shares the label-embedding weight and
the diagonal of ``U Eᵀ`` is taken) or, with ``tie_readout = False``, a separate weight and bias per label.
Loss: the binary cross-entropy of the logits, summed over labels and averaged over the batch.

Cost. Label-to-label attention is L x L per head: O(B L² d) time per layer. The attention weights are never
materialised: ``nn.MultiheadAttention`` is called with ``need_weights=False`` and without dropout on the
weights, so PyTorch uses its fused (flash / memory-efficient) scaled-dot-product kernels on CPU and GPU, and the
memory is O(B L d) per layer (dropout acts on the residual branches only). Asking for the weights, or dropping
them out, falls back to the explicit softmax with ``B · heads · L²`` floats per layer: 0.5 GB per head at
B = 128 and L = 983, delicious' labels. Measured with the defaults at that size (one CPU thread, training):
about 2.9 GB peak memory and 5-6 s per batch of 128 (10 min per delicious epoch), most of it the
label-to-label attention; the fused CPU kernel is markedly slower for head widths below 32, hence 2 heads of 32
by default. Label-to-feature attention is L x T, negligible for a few feature nodes.

Shapes: x (B, F); y (B, L) 0/1; feature nodes (B, T, d); label states (B, L, d); logits (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.nn.inits import reset

from seqstruct.mlc.layers import mlp


@dataclass(frozen=True)
class LaMPConfig:
    """Sizes (CPU-sized defaults, not the authors': their delicious command uses d_model 512, 4 heads, 3 layers,
    dropout 0.2; their ``config_args.py`` defaults dropout to 0.1 and d_inner_hid to 2 d_model)."""

    d_model: int = 64  # width of the feature and label nodes (authors: 512)
    heads: int = 2  # attention heads (authors' delicious run: 4 of width 128; CPU kernels are slow below ~32)
    layers: int = 2  # message-passing layers, each label-to-feature + label-to-label (authors' delicious: 3)
    ff_mult: int = 2  # FFN width = ff_mult * d_model (authors: d_inner_hid = 2 d_model)
    dropout: float = 0.1  # on the residual branches and in the feature encoder (authors' default 0.1)
    feature_nodes: int = 4  # T: tokens the feature vector is projected to (authors' vector encoder: 1)
    encoder: tuple[int, ...] = (256,)  # hidden layers of the feature MLP before the projection (authors: none)
    tie_readout: bool = True  # readout weight of label l = its embedding, no bias (authors' code)


class LaMPLayer(nn.Module):
    """One LaMP layer: label-to-feature attention, FFN, label-to-label attention, FFN (post-norm residuals)."""

    def __init__(self, d: int, heads: int, d_ff: int, dropout: float) -> None:
        super().__init__()
        # no dropout on the attention weights: it would force the (B, heads, L, L) weights into memory
        self.feat_attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.label_attn = nn.MultiheadAttention(d, heads, batch_first=True)
        self.ffn = nn.ModuleList(nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Linear(d_ff, d)) for _ in range(2))
        self.norms = nn.ModuleList(nn.LayerNorm(d) for _ in range(4))
        self.drop = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        """Re-initialise the attentions, FFNs and norms."""
        for attn in (self.feat_attn, self.label_attn):
            attn._reset_parameters()  # in-projection and biases (the in-projection is no child module)
            attn.out_proj.reset_parameters()  # which _reset_parameters leaves as it is
        for module in (*self.ffn, *self.norms):
            reset(module)

    def forward(self, u: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Label states (B, L, d) after one round of messages from the feature nodes ``h`` (B, T, d) and the labels."""
        n = self.norms
        u = n[0](u + self.drop(self.feat_attn(u, h, h, need_weights=False)[0]))
        u = n[1](u + self.drop(self.ffn[0](u)))
        u = n[2](u + self.drop(self.label_attn(u, u, u, need_weights=False)[0]))
        return n[3](u + self.drop(self.ffn[1](u)))


class LaMP(nn.Module):
    """LaMP for ``n_features`` inputs and ``n_labels`` labels (module docstring)."""

    def __init__(self, n_features: int, n_labels: int, cfg: LaMPConfig = LaMPConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        d, t = cfg.d_model, cfg.feature_nodes
        sizes = [n_features, *cfg.encoder]
        self.encoder = nn.Sequential(mlp(sizes, cfg.dropout), nn.Linear(sizes[-1], t * d))
        self.feat_norm = nn.LayerNorm(d)
        self.label_emb = nn.Embedding(n_labels, d)
        self.layers = nn.ModuleList(LaMPLayer(d, cfg.heads, cfg.ff_mult * d, cfg.dropout) for _ in range(cfg.layers))
        if cfg.tie_readout:
            self.register_parameter("readout_weight", None)
            self.register_parameter("readout_bias", None)
        else:
            self.readout_weight = nn.Parameter(torch.empty(n_labels, d))
            self.readout_bias = nn.Parameter(torch.empty(n_labels))
        self._reset_labels()

    def _reset_labels(self) -> None:
        # N(0, 1/d) embeddings and U(±d^-1/2) readout weights: the final states are layer-normed (norm ~ √d), so
        # the initial logits are O(1) instead of O(√d) with nn.Embedding's N(0, 1)
        d = self.cfg.d_model
        nn.init.normal_(self.label_emb.weight, std=d**-0.5)
        if self.readout_weight is not None:
            nn.init.uniform_(self.readout_weight, -(d**-0.5), d**-0.5)
            nn.init.zeros_(self.readout_bias)

    def reset_parameters(self) -> None:
        """Re-initialise the feature encoder, label embeddings, layers and readout."""
        for module in (self.encoder, self.feat_norm, *self.layers):
            reset(module)
        self._reset_labels()

    def feature_nodes(self, x: torch.Tensor) -> torch.Tensor:
        """The feature nodes (B, T, d) of features ``x`` (B, F)."""
        return self.feat_norm(self.encoder(x).view(x.shape[0], self.cfg.feature_nodes, self.cfg.d_model))

    def label_states(self, x: torch.Tensor) -> torch.Tensor:
        """The label nodes (B, L, d) after the message-passing layers."""
        h = self.feature_nodes(x)
        u = self.label_emb.weight.expand(x.shape[0], -1, -1)
        for layer in self.layers:
            u = layer(u, h)
        return u

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Label logits (B, L): one per-label linear readout of each label's final state."""
        u = self.label_states(x)
        if self.readout_weight is None:
            return (u * self.label_emb.weight).sum(-1)
        return (u * self.readout_weight).sum(-1) + self.readout_bias

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        """The training loss of a batch (``loss``): BCE summed over labels, averaged over the batch."""
        return {"loss": F.binary_cross_entropy_with_logits(self(x), y.float(), reduction="none").sum(1).mean()}
