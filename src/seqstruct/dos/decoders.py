"""The thesis' recurrent decoder ablations (§2.2.2 "Sequential Decoding", figures 2.11-2.13) on the Xtal2DoS encoder.

Every model here reads the crystal with the same :class:`~seqstruct.dos.xtal2dos.CrystalEncoder` as
:class:`~seqstruct.dos.xtal2dos.Xtal2DoS` (atom states ``a_i`` (N, d), context ``c`` (B, 2d)) and unrolls a GRU
over ``T = ceil(L / k)`` steps, emitting ``k`` (``chunk``) values per step::

    s_0 = tanh(W_s c)                                            the context is the initial state (fig. 2.11)
    y_{-1} = u                                                   a learned <start> chunk (k values)
    s_t = GRU([y_{t-1} ; P_t], s_{t-1})                          P: learned step embedding (pos_dim, 0: none)
    o_t = s_t                                                    without attention
    o_t = tanh(W_o [Σ_i α_ti a_i ; s_t]),                        with attention (fig. 2.13; Luong "general",
        α_t = softmax_i(s_tᵀ W_a a_i / √H)                         scaled, over the crystal's own atoms only)
    y_t = W_y Drop(o_t)                                          (B, k)

and ``logits = [y_0 ; … ; y_{T-1}]`` cut to the first ``L`` values (the last chunk's surplus is dropped), so the
prediction is ``softmax(logits)`` as for every DoS model.

**Inputs of the recurrence (a decision; the thesis only says "the output at each step is also the input for the
next step").** The model interface ``forward(batch)`` has no target, so there is no teacher forcing: the decoder
runs free, feeding back its own previous output chunk (raw logits, not detached, so training back-propagates
through the whole unrolled sequence and training and inference decode identically: no exposure bias). The first
step reads a learned ``<start>`` chunk. Because logits are only defined up to a shift (the spectrum is their
softmax), the fed-back value carries shape information only; the step embedding ``P_t`` tells the cell where in
the spectrum it is, which the plain fed-back values cannot.

The classes differ only in their defaults: :class:`GRUDecoderNet` (k = 1, no attention; fig. 2.11),
:class:`ChunkGRUNet` (k = 8; fig. 2.12), :class:`GRUAttnNet` (k = 1 + attention) and :class:`ChunkGRUAttnNet`
(k = 8 + attention; fig. 2.13). ``DecoderConfig.chunk`` / ``.attention`` override them when set.

Shapes: atom states (N, d) -> dense (B, n_max, d) with mask (B, n_max); context (B, 2d); GRU state (B, H);
chunk (B, k); logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.utils import to_dense_batch

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.xtal2dos import CrystalEncoder, CrystalEncoderConfig, reset_modules


@dataclass(frozen=True)
class DecoderConfig(CrystalEncoderConfig):
    """Encoder sizes (:class:`CrystalEncoderConfig`, released defaults) plus the GRU decoder (no released code)."""

    hidden: int = 512  # H: GRU state width (thesis: not stated; = d_model)
    chunk: int = 0  # k values per step; 0: the class's default (1, or 8 for the chunk models)
    attention: bool | None = None  # attention over the atoms each step; None: the class's default
    pos_dim: int = 64  # width of the learned step embedding fed to the GRU; 0: none
    dec_dropout: float = 0.0  # dropout before the output layer


class GRUDecoderNet(nn.Module):
    """UniMP encoder + free-running GRU decoder: a batch -> logits (B, L) (module docstring).

    Default: one value per step, no attention (the thesis' "RNN", figure 2.11).
    """

    default_chunk = 1
    default_attention = False

    def __init__(self, dims: GraphDims, cfg: DecoderConfig = DecoderConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.length = dims.out
        self.chunk = cfg.chunk if cfg.chunk > 0 else self.default_chunk
        self.attention = self.default_attention if cfg.attention is None else cfg.attention
        self.steps = math.ceil(dims.out / self.chunk)
        d, hid = cfg.d_model, cfg.hidden
        self.encoder = CrystalEncoder(dims, cfg)
        self.init_state = nn.Linear(self.encoder.context_dim, hid)
        self.start = nn.Parameter(torch.zeros(self.chunk))
        self.step_embed = nn.Embedding(self.steps, cfg.pos_dim) if cfg.pos_dim > 0 else None
        self.cell = nn.GRUCell(self.chunk + cfg.pos_dim, hid)
        if self.attention:
            self.attn_key = nn.Linear(d, hid, bias=False)  # W_a
            self.attn_out = nn.Linear(d + hid, hid)  # W_o
        self.dropout = nn.Dropout(cfg.dec_dropout)
        self.out = nn.Linear(hid, self.chunk)

    def reset_parameters(self) -> None:
        """Re-initialise every layer; the ``<start>`` chunk back to zeros."""
        reset_modules(self)
        nn.init.zeros_(self.start)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Spectrum logits of a batch, decoded in ``ceil(L / chunk)`` recurrent steps.

        Shapes: batch of B crystals with N atoms -> logits (B, L)
        """
        h, context = self.encoder(batch)
        b = context.shape[0]
        state = torch.tanh(self.init_state(context))
        if self.attention:
            atoms, atom_mask = to_dense_batch(h, batch.batch, batch_size=b)  # (B, n_max, d), (B, n_max)
            keys = self.attn_key(atoms) / math.sqrt(self.cfg.hidden)
        prev = self.start.expand(b, -1)
        outputs = []
        for t in range(self.steps):
            inp = prev
            if self.step_embed is not None:
                inp = torch.cat([prev, self.step_embed.weight[t].expand(b, -1)], dim=-1)
            state = self.cell(inp, state)
            o = state
            if self.attention:
                scores = torch.einsum("bnh,bh->bn", keys, state).masked_fill(~atom_mask, -torch.inf)
                read = torch.einsum("bn,bnd->bd", scores.softmax(-1), atoms)
                o = torch.tanh(self.attn_out(torch.cat([read, state], dim=-1)))
            prev = self.out(self.dropout(o))
            outputs.append(prev)
        return torch.cat(outputs, dim=-1)[:, : self.length]


class ChunkGRUNet(GRUDecoderNet):
    """The thesis' "chunk RNN" (figure 2.12): ``chunk = 8`` values per step, no attention."""

    default_chunk = 8
    default_attention = False


class GRUAttnNet(GRUDecoderNet):
    """GRU decoder with attention over the crystal's atom states at every step, one value per step."""

    default_chunk = 1
    default_attention = True


class ChunkGRUAttnNet(GRUDecoderNet):
    """The thesis' "chunk RNN + attention" (figure 2.13): ``chunk = 8`` values per step and atom attention."""

    default_chunk = 8
    default_attention = True
