"""The deep crop-yield models of thesis Table 2.1 (methods.md §1.6): single-year baselines, 5-year baselines,
CNN-RNN (Khaki et al. 2020), the single-year GNN and the GNN-RNN (thesis Eq. 2.4).

Every model takes the same inputs, a stack of ``T`` years per county (``T = 1`` for the single-year models),
and returns a standardised yield per county and year:

    weekly (B, T, C_w, W), soil (B, T, C_s, D), extra (B, T, E)[, edges] -> (B, T)

Graph models (``model.graph`` is True) also take ``edges``: one (2, n_edges) edge index over the B nodes used by
every GNN layer (full-graph prediction), or a list with one per layer (sampled mini-batches,
``seqstruct.crop.sampler``). Sizes are read from ``shapes`` (the data), never hard-coded.

Named dimensions in the ``Shapes`` sections: B counties (the batch, or the nodes of a graph), T years, C_w weekly
variables, W weeks, C_s soil variables, D depths, E scalar extras.

Every model has ``reset_parameters()`` (PyG style). Construction does not call it (only the conv encoders reset
themselves, as they always did), so a model built under a given seed draws the random numbers the committed
results were made with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv
from torch_geometric.nn.inits import reset

from seqstruct.crop.encoders import CropModelConfig, YearEncoder, rnn_cell

__all__ = ["CropModelConfig", "build_model", "log_cosh_loss", "CNNRNN", "GNNRNN", "GNN1y", "YearModel", "FlatRNN"]

Edges = Tensor | Sequence[Tensor]


class Regressor(nn.Module):
    r"""Head ``Linear(h, 32) -> ReLU -> Linear(32, 1)``: :math:`g(h) = w_2^\top \mathrm{ReLU}(W_1 h + b_1) + b_2`.

    Shapes
    ------
    input : (..., hidden)
    output : (...)
    """

    def __init__(self, hidden: int, head_hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, head_hidden), nn.ReLU(), nn.Linear(head_hidden, 1))

    def reset_parameters(self) -> None:
        """Re-initialise both Linear layers."""
        reset(self.net)

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h).squeeze(-1)


class YearModel(nn.Module):
    r"""Single-year baseline (``cnn 1y``, ``lstm 1y``, ``gru 1y``): encoder -> Linear(h) -> ReLU -> Linear(1),
    applied to every year of the input independently: :math:`\hat y_{c,t} = g(f(x_{c,t}))`.

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture; ``cfg.weekly_encoder`` chooses the weekly CNN, LSTM or GRU.

    Shapes
    ------
    weekly : (B, T, C_w, W)
    soil : (B, T, C_s, D)
    extra : (B, T, E)
    output : (B, T)
        Standardised yield of every county and year (``T = 1`` in the pipeline).
    """

    graph = False

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        self.head = nn.Sequential(nn.Linear(self.encoder.out_dim, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 1))

    def reset_parameters(self) -> None:
        """Re-initialise the encoder and the head."""
        self.encoder.reset_parameters()
        reset(self.head)

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edges: Edges | None = None) -> Tensor:
        return self.head(self.encoder.encode_years(weekly, soil, extra)).squeeze(-1)


class FlatRNN(nn.Module):
    r"""5-year LSTM/GRU baseline (``lstm 5y``, ``gru 5y``): each year's features flattened -> Linear(64) -> ReLU
    -> Linear(99) -> ReLU -> LSTM/GRU(64) over the years -> regressor on every step:
    :math:`\hat y_{c,t} = g(\mathrm{RNN}(m(x_{c,t-4}), \dots, m(x_{c,t})))` with :math:`m` the MLP.

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture.
    cell : str
        ``"lstm"`` or ``"gru"``.

    Shapes
    ------
    weekly : (B, T, C_w, W)
    soil : (B, T, C_s, D)
    extra : (B, T, E)
    output : (B, T)
        Standardised yield of every county and year (``T = 5`` in the pipeline; step ``t`` sees years <= t).
    """

    graph = False

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig, cell: str) -> None:
        super().__init__()
        n_in = sum(math.prod(s) for s in shapes.values())
        h1, h2 = cfg.flat_hidden
        self.mlp = nn.Sequential(nn.Linear(n_in, h1), nn.ReLU(), nn.Linear(h1, h2), nn.ReLU())
        self.rnn = rnn_cell(cell)(h2, cfg.hidden, batch_first=True)
        self.head = Regressor(cfg.hidden, cfg.head_hidden)

    def reset_parameters(self) -> None:
        """Re-initialise the MLP, the RNN and the head."""
        reset(self.mlp)
        self.rnn.reset_parameters()
        self.head.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edges: Edges | None = None) -> Tensor:
        x = torch.cat([weekly.flatten(2), soil.flatten(2), extra], dim=-1)  # (B, T, F)
        h, _ = self.rnn(self.mlp(x))
        return self.head(h)


class CNNRNN(nn.Module):
    r"""CNN-RNN (Khaki et al. 2020): per-year CNN embeddings, an LSTM over the years and a regressor on every
    step (thesis Eq. 2.2):

    .. math::
        \hat y_{c,t} = g(\mathrm{LSTM}(f(x_{c,t-4}), \dots, f(x_{c,t})))

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture.

    Shapes
    ------
    weekly : (B, T, C_w, W)
    soil : (B, T, C_s, D)
    extra : (B, T, E)
    output : (B, T)
        Standardised yield of every county and year (``T = 5`` in the pipeline; step ``t`` sees years <= t).
    """

    graph = False

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        self.rnn = nn.LSTM(self.encoder.out_dim, cfg.hidden, batch_first=True)
        self.head = Regressor(cfg.hidden, cfg.head_hidden)

    def reset_parameters(self) -> None:
        """Re-initialise the encoder, the LSTM and the head."""
        self.encoder.reset_parameters()
        self.rnn.reset_parameters()
        self.head.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edges: Edges | None = None) -> Tensor:
        h, _ = self.rnn(self.encoder.encode_years(weekly, soil, extra))
        return self.head(h)


class _SAGEStack(nn.Module):
    r"""GraphSAGE layers over the county graph, the years of the input acting as a batch dimension:

    .. math::
        h^{(l)}_c = W_1 h^{(l-1)}_c + W_2\, \mathrm{AGG}_{u \in N(c)} m(h^{(l-1)}_u)

    with AGG = max and :math:`m` = Linear + ReLU (GraphSAGE-pool, the thesis runs) or AGG = mean and :math:`m`
    the identity. ReLU + dropout follow every layer except, when ``last_plain``, the last one. The root term
    :math:`W_1 h_c` plays the role of the reference graph's self loops.

    Shapes
    ------
    input : (N, T, dims[0])
    edges : (2, n_edges) or a sequence of one (2, n_edges_l) per layer
        Edge index over the N nodes.
    output : (N, T, dims[-1])
    """

    def __init__(self, dims: Sequence[int], cfg: CropModelConfig, last_plain: bool) -> None:
        super().__init__()
        if cfg.aggr not in ("max", "mean"):
            raise ValueError(f"unknown GraphSAGE aggregator {cfg.aggr!r}; expected 'max' (pool) or 'mean'")
        project = cfg.aggr == "max"
        self.convs = nn.ModuleList(SAGEConv(a, b, aggr=cfg.aggr, project=project) for a, b in zip(dims, dims[1:]))
        self.dropout = nn.Dropout(cfg.dropout)
        self.last_plain = last_plain

    def reset_parameters(self) -> None:
        """Re-initialise every SAGEConv layer."""
        for conv in self.convs:
            conv.reset_parameters()

    def forward(self, h: Tensor, edges: Edges) -> Tensor:
        per_layer = [edges] * len(self.convs) if isinstance(edges, Tensor) else list(edges)
        if len(per_layer) != len(self.convs):
            raise ValueError(f"{len(per_layer)} edge sets for {len(self.convs)} GNN layers")
        h = h.transpose(0, 1)  # (T, N, d): PyG propagates along the node dim -2
        for i, (conv, e) in enumerate(zip(self.convs, per_layer)):
            h = conv(h, e)
            if not (self.last_plain and i == len(self.convs) - 1):
                h = self.dropout(torch.relu(h))
        return h.transpose(0, 1)


class GNNRNN(nn.Module):
    r"""GNN-RNN (thesis Eq. 2.4): per-year CNN embeddings refined by GraphSAGE over the county graph, then an
    LSTM over the years. The same graph is used for every year:

    .. math::
        \hat y_{c,t} = g(\mathrm{LSTM}(h^{(L)}_{c,t-4}, \dots, h^{(L)}_{c,t})), \quad h^{(0)}_{c,t} = f(x_{c,t})

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture.

    Shapes
    ------
    weekly : (B, T, C_w, W)
    soil : (B, T, C_s, D)
    extra : (B, T, E)
    edges : (2, n_edges) or a sequence of ``cfg.gnn_layers`` such edge indices
        Edge index over the B counties: one for every layer, or one per layer (sampled mini-batches).
    output : (B, T)
        Standardised yield of every county and year (``T = 5`` in the pipeline).
    """

    graph = True

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        self.gnn = _SAGEStack([self.encoder.out_dim] + [cfg.hidden] * cfg.gnn_layers, cfg, last_plain=False)
        self.rnn = nn.LSTM(cfg.hidden, cfg.hidden, batch_first=True)
        self.head = Regressor(cfg.hidden, cfg.head_hidden)

    def reset_parameters(self) -> None:
        """Re-initialise the encoder, the GraphSAGE layers, the LSTM and the head."""
        self.encoder.reset_parameters()
        self.gnn.reset_parameters()
        self.rnn.reset_parameters()
        self.head.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edges: Edges | None = None) -> Tensor:
        if edges is None:
            raise ValueError("GNNRNN needs the county graph (edges)")
        out, _ = self.rnn(self.gnn(self.encoder.encode_years(weekly, soil, extra), edges))
        return self.head(out)


class GNN1y(nn.Module):
    r"""Single-year GNN (``gnn 1y``): per-year CNN embedding -> GraphSAGE layers, the last one of width 1 giving
    the yield (no ReLU/dropout after it; methods.md §1.6): :math:`\hat y_{c,t} = h^{(L)}_{c,t}`,
    :math:`h^{(0)}_{c,t} = f(x_{c,t})`.

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture.

    Shapes
    ------
    weekly : (B, T, C_w, W)
    soil : (B, T, C_s, D)
    extra : (B, T, E)
    edges : (2, n_edges) or a sequence of ``cfg.gnn_layers`` such edge indices
        Edge index over the B counties: one for every layer, or one per layer (sampled mini-batches).
    output : (B, T)
        Standardised yield of every county and year (``T = 1`` in the pipeline).
    """

    graph = True

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        self.gnn = _SAGEStack([self.encoder.out_dim] + [cfg.hidden] * (cfg.gnn_layers - 1) + [1], cfg, last_plain=True)

    def reset_parameters(self) -> None:
        """Re-initialise the encoder and the GraphSAGE layers."""
        self.encoder.reset_parameters()
        self.gnn.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edges: Edges | None = None) -> Tensor:
        if edges is None:
            raise ValueError("GNN1y needs the county graph (edges)")
        return self.gnn(self.encoder.encode_years(weekly, soil, extra), edges).squeeze(-1)


#: architecture of each deep method slug
ARCHITECTURES = ("cnn_1y", "lstm_1y", "gru_1y", "gnn_1y", "lstm_5y", "gru_5y", "cnn_rnn_5y", "gnn_rnn_5y")


def build_model(method: str, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> nn.Module:
    """The model of a deep method slug (see ``ARCHITECTURES``) for inputs of ``shapes``."""
    if method in ("lstm_1y", "gru_1y"):
        if cfg.weekly_encoder != "cnn":
            raise ValueError(f"{method} sets its own weekly encoder; remove weekly_encoder from its settings")
        return YearModel(shapes, replace(cfg, weekly_encoder=method[:-3]))
    builders = {"cnn_1y": YearModel, "gnn_1y": GNN1y, "cnn_rnn_5y": CNNRNN, "gnn_rnn_5y": GNNRNN}
    if method in builders:
        return builders[method](shapes, cfg)
    if method in ("lstm_5y", "gru_5y"):
        return FlatRNN(shapes, cfg, cell=method[:-3])
    raise ValueError(f"unknown deep crop method {method!r}; known: {list(ARCHITECTURES)}")


def log_cosh_loss(pred: Tensor, target: Tensor) -> Tensor:
    r"""Mean :math:`\log\cosh(\hat y - y)` over non-NaN targets (stable form :math:`x + \mathrm{softplus}(-2x) -
    \log 2`).

    Shapes
    ------
    pred, target : any matching shapes
    output : ()
        Scalar loss.

    Raises
    ------
    ValueError
        If every target is NaN.
    """
    keep = ~torch.isnan(target)
    if not keep.any():
        raise ValueError("log_cosh_loss: every target is NaN")
    x = pred[keep] - target[keep]
    return torch.mean(x + nn.functional.softplus(-2.0 * x) - torch.log(torch.tensor(2.0, device=x.device)))
