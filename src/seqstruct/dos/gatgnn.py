"""GATGNN-style crystal encoder (Louis et al. 2020, as modified in Mat2Spec) and the GATGNN DoS baseline.

**Encoder** (:class:`GATGNNEncoder`, methods.md §2.5; shared with :mod:`seqstruct.dos.mat2spec`). Atoms and edges
are embedded to ``d = hidden``::

    h_i⁰ = W_n x_i                      (no activation)
    e_ij = LeakyReLU_0.2(W_g g_ij)

then ``layers`` augmented graph-attention layers (:class:`GATCrystalLayer`), each with ``H = heads`` heads of
``d`` channels. For every edge ``j -> i`` (``i = edge_index[1]`` the centre, ``j = edge_index[0]`` the neighbour)
and head ``h``::

    u_i = softplus([h_i ‖ e_ij] W)_h,    u_j = softplus([h_j ‖ e_ij] W)_h        W: (2d, H d), both endpoints
    s_ij = softplus(a_h · [u_i ‖ u_j])                                           a: (H, 2d)
    α_ij = softmax_{j' -> i} softplus(BN_H(s_ij))                                over the centre's incoming edges
    h'_i = BN_d( mean_h Σ_{j -> i} α_ij u_j + b ),   h_i ← softplus(h'_i)

(``BN_H``: BatchNorm over the H head scores of all edges; ``BN_d`` over the atoms.) Messages are aggregated at
the centre, as in Mat2Spec's ``flow="target_to_source"`` on its centre-first edge list. ``[h ‖ e] W`` is computed
as ``h W_h + e W_e`` (the same product, without materialising the per-edge concatenation). Optional dropout of
``α`` (``att_dropout``, released 0).

Composition attention and readout, with ``c_b`` the composition fractions (C = 103) of crystal ``b``::

    β_i = softmax_{i' ∈ b} ( w_2 · softplus(W_1 [h_i ‖ c_b] + b_1) + b_2 )        over the atoms of each crystal
    f_b = mean_{i ∈ b} β_i h_i                                                    (B, d) crystal feature

(``β`` sums to 1 over a crystal and is then *mean*-pooled, as released: the feature scales as 1/n_atoms.)

**GATGNN baseline** (:class:`GATGNN`): the thesis' "GATGNN only uses an MLP": ``logits = MLP(f_b)`` (B, L), hidden
layers ``head`` with ReLU (GATGNN's two ``reg_h -> reg_h`` regression layers), then ``Linear(·, L)``; the predicted
spectrum is ``softmax(logits)``. It has no loss of its own (the trainer's KL(p ‖ softmax)).

Shapes: x (N, F); edge_index (2, E); edge_attr (E, G); comp (B, C); batch (N,); atom states (N, d);
head scores / attention (E, H); crystal feature (B, d); logits (B, L).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_mean_pool
from torch_geometric.nn.inits import glorot, zeros
from torch_geometric.utils import scatter, softmax

from seqstruct.dos.batch import GraphDims


@dataclass(frozen=True)
class GATGNNEncoderConfig:
    """Sizes of the GATGNN-style encoder (defaults: Mat2Spec's ``GNN`` class and its scripts, methods.md §2.5)."""

    hidden: int = 128  # d = n_h: atom / edge embedding and atom-state width (Mat2Spec --num_neurons 128)
    layers: int = 3  # attention layers (Mat2Spec --num_layers 3)
    heads: int = 4  # heads per layer, averaged (Mat2Spec --num_heads 4, concat=False)
    comp_hidden: int = 32  # composition-attention hidden width (COMPOSITION_Attention: Linear(n_h + 103, 32))
    edge_slope: float = 0.2  # LeakyReLU slope of the edge embedding (GNN.neg_slope 0.2)
    att_dropout: float = 0.0  # dropout of the attention coefficients (GAT_Crystal dropout=0.0)

    def __post_init__(self) -> None:
        for name in ("hidden", "layers", "heads", "comp_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"{type(self).__name__}.{name} must be >= 1, got {getattr(self, name)}")


@dataclass(frozen=True)
class GATGNNConfig(GATGNNEncoderConfig):
    """Encoder sizes (:class:`GATGNNEncoderConfig`) plus the MLP head of the GATGNN baseline."""

    head: tuple[int, ...] = (128, 128)  # hidden widths of the MLP head, ReLU (GATGNN: linear1, linear2 of n_h)
    dropout: float = 0.0  # dropout after each hidden layer of the head (GATGNN: none)


class GATCrystalLayer(nn.Module):
    """One augmented graph-attention layer (module docstring): ``(N, d) -> (N, d)`` before the outer BN/softplus.

    Shapes: x (N, d); edge_index (2, E); edge (E, d); attention (E, H); output (N, d).
    """

    def __init__(self, dim: int, heads: int, att_dropout: float = 0.0) -> None:
        super().__init__()
        self.dim, self.heads = dim, heads
        self.w_node = nn.Parameter(torch.empty(dim, heads * dim))  # the atom rows of W (2d, H d)
        self.w_edge = nn.Parameter(torch.empty(dim, heads * dim))  # the edge rows of W
        self.att = nn.Parameter(torch.empty(heads, 2 * dim))
        self.bias = nn.Parameter(torch.empty(dim))
        self.bn_scores = nn.BatchNorm1d(heads)
        self.drop = nn.Dropout(att_dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Glorot ``W`` (drawn as one (2d, H d) matrix) and ``a``, zero bias, fresh score BatchNorm."""
        w = torch.empty(2 * self.dim, self.heads * self.dim, device=self.w_node.device, dtype=self.w_node.dtype)
        glorot(w)
        with torch.no_grad():
            self.w_node.copy_(w[: self.dim])
            self.w_edge.copy_(w[self.dim :])
        glorot(self.att)
        zeros(self.bias)
        self.bn_scores.reset_parameters()

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge: torch.Tensor, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``mean_h Σ_j α_ij u_j + b`` (N, d), and ``α`` (E, H) if ``return_attention``."""
        src, dst = edge_index[0], edge_index[1]  # j (neighbour), i (centre)
        n, h, d = x.shape[0], self.heads, self.dim
        xw = x @ self.w_node  # (N, H d)
        ew = edge @ self.w_edge  # (E, H d)
        u_i = F.softplus(xw[dst] + ew).view(-1, h, d)
        u_j = F.softplus(xw[src] + ew).view(-1, h, d)
        a = self.att.view(1, h, 2 * d)
        score = F.softplus((u_i * a[..., :d]).sum(-1) + (u_j * a[..., d:]).sum(-1))  # (E, H)
        alpha = softmax(F.softplus(self.bn_scores(score)), dst, num_nodes=n)  # sums to 1 over each centre
        out = scatter(u_j * self.drop(alpha)[..., None], dst, dim=0, dim_size=n, reduce="sum")  # (N, H, d)
        out = out.mean(1) + self.bias
        return (out, alpha) if return_attention else out


class GATGNNEncoder(nn.Module):
    """Embeddings, ``layers`` attention layers, composition attention and mean readout (module docstring).

    Shapes: batch with x (N, F), edge_attr (E, G), comp (B, C) -> crystal feature (B, hidden).
    """

    def __init__(self, dims: GraphDims, cfg: GATGNNEncoderConfig = GATGNNEncoderConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden
        self.embed_node = nn.Linear(dims.atom, d)
        self.embed_edge = nn.Linear(dims.edge, d)
        self.convs = nn.ModuleList(GATCrystalLayer(d, cfg.heads, cfg.att_dropout) for _ in range(cfg.layers))
        self.norms = nn.ModuleList(nn.BatchNorm1d(d) for _ in range(cfg.layers))
        self.comp_hidden = nn.Linear(d + dims.comp, cfg.comp_hidden)
        self.comp_score = nn.Linear(cfg.comp_hidden, 1)

    def reset_parameters(self) -> None:
        """Re-initialise every layer (embeddings, attention layers and their BatchNorms, composition attention)."""
        for m in (self.embed_node, self.embed_edge, *self.convs, *self.norms, self.comp_hidden, self.comp_score):
            m.reset_parameters()

    def atom_states(
        self, batch: Batch, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Atom states after the attention layers (N, d), and every layer's ``α`` (E, H) if ``return_attention``."""
        x = self.embed_node(batch.x)
        edge = F.leaky_relu(self.embed_edge(batch.edge_attr), self.cfg.edge_slope)
        alphas = []
        for conv, norm in zip(self.convs, self.norms):
            x, alpha = conv(x, batch.edge_index, edge, return_attention=True)
            x = F.softplus(norm(x))
            alphas.append(alpha)
        return (x, alphas) if return_attention else x

    def composition_weights(self, x: torch.Tensor, batch: Batch) -> torch.Tensor:
        """``β`` (N, 1): softmax over the atoms of each crystal of the composition-attention scores."""
        comp = batch.comp.to(x.dtype)[batch.batch]  # (N, C): each atom's crystal composition
        score = self.comp_score(F.softplus(self.comp_hidden(torch.cat([x, comp], dim=-1))))
        return softmax(score, batch.batch, num_nodes=batch.num_graphs)

    def forward(self, batch: Batch) -> torch.Tensor:
        """The crystal feature ``f_b = mean_{i ∈ b} β_i h_i`` (B, d)."""
        x = self.atom_states(batch)
        x = x * self.composition_weights(x, batch)
        return global_mean_pool(x, batch.batch, size=batch.num_graphs)


class GATGNN(nn.Module):
    """GATGNN DoS baseline: :class:`GATGNNEncoder` + MLP head -> logits (B, L) (module docstring)."""

    def __init__(self, dims: GraphDims, cfg: GATGNNConfig = GATGNNConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.encoder = GATGNNEncoder(dims, cfg)
        layers: list[nn.Module] = []
        width = cfg.hidden
        for h in cfg.head:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(cfg.dropout)]
            width = h
        self.head = nn.Sequential(*layers, nn.Linear(width, dims.out))

    def reset_parameters(self) -> None:
        """Re-initialise the encoder and every layer of the head."""
        self.encoder.reset_parameters()
        for m in self.head:
            if isinstance(m, nn.Linear):
                m.reset_parameters()

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits (B, L); the predicted spectrum shape is ``softmax(logits, -1)``."""
        return self.head(self.encoder(batch))
