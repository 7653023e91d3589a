"""Xtal2DoS (thesis §2.2): a UniMP graph-attention encoder of the crystal and a transformer decoder of the spectrum.

**Encoder** (:class:`CrystalEncoder`, shared with the RNN decoders of :mod:`seqstruct.dos.decoders`). Atom, edge
and composition features are embedded to ``d``::

    h_i⁰ = LeakyReLU(W_x x_i)      e_ij = LeakyReLU_0.2(W_g g_ij)      c_comp = LeakyReLU_0.2(W_c comp)

then ``enc_layers`` UniMP convolutions (PyG ``TransformerConv``, edge_dim ``d``; thesis eq. 2.7-2.10)::

    q_i = W_q h_i,  k_j = W_k h_j,  v_j = W_v h_j,  ê_ij = W_e e_ij
    α_ij = softmax_{j ∈ N(i)} (q_iᵀ (k_j + ê_ij) / √d_head)                           per head
    ĥ_i  = Σ_j α_ij (v_j + ê_ij)

The released code (``gated_residual=False``) adds the plain root weight ``x'_i = W_r h_i + ĥ_i`` and follows every
convolution by BatchNorm → LeakyReLU → Dropout(graph_dropout). With ``gated_residual=True`` the layer is thesis
eq. 2.11 instead: ``r_i = W_r h_i``, ``β_i = σ(a [ĥ_i; r_i; ĥ_i - r_i])``, ``h'_i = σ(LN((1 - β_i) ĥ_i + β_i r_i))``
(then dropout), with LN, activation and dropout skipped after the last layer. Layer sizes as released: the first
``enc_layers - 1`` convolutions have ``enc_heads`` heads of ``enc_hidden`` channels concatenated (4 x 16 = 64), the
last maps to ``d`` with its heads averaged. PyG gives every layer its own ``W_e`` (the thesis writes one shared
``W_e``); the released code is PyG's. The released class also built a fourth convolution it never called; here
every parameter is used. Readout: the crystal context ``c = [mean_i h_i ; c_comp]`` (2d, thesis eq. 2.12 plus the
composition embedding of the code).

**Decoder** (:class:`Xtal2DoS`). One query per output position ``p = 0 … L-1``::

    z_p⁰ = LeakyReLU(W_z [√d P_p ; c])                         P: learned nn.Embedding(L, d)

then ``dec_layers`` pre-norm transformer layers (Annotated-Transformer style, thesis eq. 2.13-2.14)::

    z ← z + Drop(SelfAttn(LN(z)))                              masked causally iff ``causal``
    z ← z + Drop(SrcAttn(LN(z), atoms, atoms))                 keys: the crystal's atom states, padding masked
    z ← z + Drop(W_2 Drop(ReLU(W_1 LN(z))))

and ``logits_p = w_o · LN(z_p) + b_o``; the predicted spectrum is ``softmax(logits)`` over positions. Attention
probabilities are dropped with ``attn_dropout`` (hard-coded 0.1 in the released code), the residual and FFN paths
with ``dec_dropout``. ``nn.LayerNorm`` is used (the released custom norm divides by the unbiased std + eps: a
negligible difference).

``causal=False`` is the released code: ``tgt_mask=None``, no previous outputs fed back, i.e. a bidirectional,
non-autoregressive set of position queries — what produced the published numbers. ``causal=True`` is the thesis
text's causal self-attention mask (query p attends to queries 0 … p only); the queries stay the (position,
context) embeddings, so decoding is still a single parallel pass (no feeding back of previous outputs).

Shapes: x (N, F); edge_index (2, E); edge_attr (E, G); comp (B, C); batch (N,); atom states (N, d);
context (B, 2d); dense atoms (B, n_max, d) with mask (B, n_max); queries (B, L, d); logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import TransformerConv, global_mean_pool
from torch_geometric.utils import to_dense_batch

from seqstruct.dos.batch import GraphDims


@dataclass(frozen=True)
class CrystalEncoderConfig:
    """Sizes of the UniMP crystal encoder (defaults: the released Xtal2DoS ``GAT`` class, methods.md §2.2)."""

    d_model: int = 512  # d: node / edge / composition embedding and final atom-state width (released 512)
    enc_hidden: int = 16  # channels per head of the inner convolutions (released 16)
    enc_heads: int = 4  # heads of every convolution (released 4; concatenated inside, averaged in the last)
    enc_layers: int = 3  # convolutions used (released: conv1, conv2, conv4; conv3 built but unused)
    graph_dropout: float = 0.2  # dropout after each convolution's activation (released 0.2)
    gated_residual: bool = False  # False: released (beta off, root weight, BN); True: thesis eq. 2.11 (gate + LN)


@dataclass(frozen=True)
class Xtal2DoSConfig(CrystalEncoderConfig):
    """Encoder sizes (:class:`CrystalEncoderConfig`) plus the transformer decoder (defaults: the released code)."""

    dec_layers: int = 6  # N pre-norm decoder layers (released 6)
    dec_heads: int = 8  # h attention heads (released 8)
    d_ff: int = 2048  # FFN inner width (released 2048)
    dec_dropout: float = 0.0  # residual / FFN dropout (released dec_dropout 0.0)
    attn_dropout: float = 0.1  # attention-probability dropout (hard-coded 0.1 in the released code)
    causal: bool = False  # False: released bidirectional position queries; True: thesis causal self-attention mask


def reset_modules(root: nn.Module) -> None:
    """Re-initialise every torch / PyG layer below ``root`` (like PyG's ``inits.reset``, but also
    ``nn.MultiheadAttention``, whose initialiser is the private ``_reset_parameters``)."""
    for child in root.children():
        if isinstance(child, nn.MultiheadAttention):
            child.out_proj.reset_parameters()
            child._reset_parameters()  # xavier in_proj, zero biases (also the out_proj bias)
        elif hasattr(child, "reset_parameters") and not type(child).__module__.startswith("seqstruct"):
            child.reset_parameters()
        else:
            reset_modules(child)


class CrystalEncoder(nn.Module):
    """Embeddings, UniMP convolutions and readout of a crystal-graph batch (module docstring).

    ``forward(batch)`` returns the atom states ``h`` (N, d) and the crystal context ``c`` (B, 2d).
    """

    def __init__(self, dims: GraphDims, cfg: CrystalEncoderConfig = CrystalEncoderConfig()) -> None:
        super().__init__()
        if cfg.enc_layers < 1:
            raise ValueError(f"enc_layers must be >= 1, got {cfg.enc_layers}")
        self.cfg = cfg
        d = cfg.d_model
        self.node_embed = nn.Sequential(nn.Linear(dims.atom, d), nn.LeakyReLU())
        self.edge_embed = nn.Sequential(nn.Linear(dims.edge, d), nn.LeakyReLU(0.2))
        self.comp_embed = nn.Sequential(nn.Linear(dims.comp, d), nn.LeakyReLU(0.2))
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        width = d
        for layer in range(cfg.enc_layers):
            last = layer == cfg.enc_layers - 1
            out, concat = (d, False) if last else (cfg.enc_hidden, True)
            self.convs.append(
                TransformerConv(width, out, heads=cfg.enc_heads, concat=concat, beta=cfg.gated_residual, edge_dim=d)
            )
            width = out * cfg.enc_heads if concat else out
            if not cfg.gated_residual:
                self.norms.append(nn.BatchNorm1d(width))
            elif not last:
                self.norms.append(nn.LayerNorm(width))
        self.act = nn.LeakyReLU()
        self.dropout = nn.Dropout(cfg.graph_dropout)

    @property
    def context_dim(self) -> int:
        """Width of the crystal context ``c``: 2d."""
        return 2 * self.cfg.d_model

    def reset_parameters(self) -> None:
        """Re-initialise the embeddings, convolutions and norms (BatchNorm running statistics included)."""
        reset_modules(self)

    def forward(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Atom states and crystal context of a batch.

        Shapes
        ------
            batch.x (N, F), batch.edge_index (2, E), batch.edge_attr (E, G), batch.comp (B, C), batch.batch (N,)
            -> h (N, d), c (B, 2d)
        """
        h = self.node_embed(batch.x)
        e = self.edge_embed(batch.edge_attr)
        for layer, conv in enumerate(self.convs):
            h = conv(h, batch.edge_index, e)
            if layer < len(self.norms):  # released: BN after every conv; gated: LN after all but the last
                h = self.dropout(self.act(self.norms[layer](h)))
        n_graphs = batch.comp.shape[0]
        pooled = global_mean_pool(h, batch.batch, size=n_graphs)
        return h, torch.cat([pooled, self.comp_embed(batch.comp)], dim=-1)


class DecoderLayer(nn.Module):
    """One pre-norm transformer decoder layer: self-attention, source attention over the atoms, ReLU FFN.

    Shapes: z (B, L, d); atoms (B, n_max, d); atom_pad (B, n_max) True at padding; tgt_mask (L, L) or None.
    """

    def __init__(self, d: int, heads: int, d_ff: int, dropout: float, attn_dropout: float) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads, dropout=attn_dropout, batch_first=True)
        self.src_attn = nn.MultiheadAttention(d, heads, dropout=attn_dropout, batch_first=True)
        self.ff = nn.Sequential(nn.Linear(d, d_ff), nn.ReLU(), nn.Dropout(dropout), nn.Linear(d_ff, d))
        self.norms = nn.ModuleList([nn.LayerNorm(d) for _ in range(3)])
        self.dropout = nn.Dropout(dropout)

    def forward(
        self, z: torch.Tensor, atoms: torch.Tensor, atom_pad: torch.Tensor, tgt_mask: torch.Tensor | None
    ) -> torch.Tensor:
        """``z + SelfAttn``, ``+ SrcAttn``, ``+ FFN``, each on the layer-normed input (module docstring)."""
        u = self.norms[0](z)
        z = z + self.dropout(self.self_attn(u, u, u, attn_mask=tgt_mask, need_weights=False)[0])
        u = self.norms[1](z)
        z = z + self.dropout(self.src_attn(u, atoms, atoms, key_padding_mask=atom_pad, need_weights=False)[0])
        return z + self.dropout(self.ff(self.norms[2](z)))


class Xtal2DoS(nn.Module):
    """UniMP encoder + transformer decoder over position queries: a batch -> logits (B, L) (module docstring)."""

    def __init__(self, dims: GraphDims, cfg: Xtal2DoSConfig = Xtal2DoSConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.length = dims.out
        d = cfg.d_model
        self.encoder = CrystalEncoder(dims, cfg)
        self.position = nn.Embedding(dims.out, d)
        self.query = nn.Sequential(nn.Linear(d + self.encoder.context_dim, d), nn.LeakyReLU())
        self.layers = nn.ModuleList(
            DecoderLayer(d, cfg.dec_heads, cfg.d_ff, cfg.dec_dropout, cfg.attn_dropout) for _ in range(cfg.dec_layers)
        )
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, 1)
        mask = torch.triu(torch.ones(dims.out, dims.out, dtype=torch.bool), 1) if cfg.causal else None
        self.register_buffer("tgt_mask", mask, persistent=False)

    def reset_parameters(self) -> None:
        """Re-initialise the encoder, position embedding, query projection, decoder layers and output layer."""
        reset_modules(self)

    def queries(self, context: torch.Tensor) -> torch.Tensor:
        """Decoder inputs ``z_p⁰ = LeakyReLU(W_z [√d P_p ; c])``.

        Shapes: context (B, 2d) -> (B, L, d)
        """
        b, d = context.shape[0], self.cfg.d_model
        pos = self.position.weight * math.sqrt(d)
        z = torch.cat([pos.expand(b, -1, -1), context[:, None, :].expand(-1, self.length, -1)], dim=-1)
        return self.query(z)

    def decode(self, z: torch.Tensor, atoms: torch.Tensor, atom_mask: torch.Tensor) -> torch.Tensor:
        """The decoder stack, final LayerNorm and per-position output layer.

        Shapes: z (B, L, d); atoms (B, n_max, d); atom_mask (B, n_max) True at real atoms -> logits (B, L)
        """
        for layer in self.layers:
            z = layer(z, atoms, ~atom_mask, self.tgt_mask)
        return self.out(self.norm(z)).squeeze(-1)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Spectrum logits of a batch; ``softmax(logits, -1)`` is the predicted spectrum.

        Shapes: batch of B crystals with N atoms -> logits (B, L)
        """
        h, context = self.encoder(batch)
        atoms, atom_mask = to_dense_batch(h, batch.batch, batch_size=context.shape[0])
        return self.decode(self.queries(context), atoms, atom_mask)
