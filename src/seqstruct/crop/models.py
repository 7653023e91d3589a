"""Crop-yield models: the per-year CNN encoder, CNN-RNN (Khaki et al. 2020) and GNN-RNN (thesis Eq. 2.4).

All sizes of the inputs are read from the data (number of weekly variables, weeks, soil variables, depths,
extras), never hard-coded (the reference code hard-codes 127 inputs to its first GNN layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch_geometric.nn import SAGEConv


@dataclass(frozen=True)
class CropModelConfig:
    """Architecture of the crop models (defaults: the thesis GNN-RNN run, methods.md §1.6)."""

    weekly_channels: tuple[int, ...] = (64, 128, 256, 512)  # Conv1d widths over weeks; first kernel 9, then 3
    weekly_out: int = 80  # Linear after the weekly CNN
    soil_channels: tuple[int, ...] = (16, 32, 64)  # Conv1d widths over depths; kernels 3, 3, 2
    soil_out: int = 40  # Linear after the soil CNN
    hidden: int = 64  # GNN width and LSTM hidden size (thesis: 64)
    gnn_layers: int = 2  # GraphSAGE layers (thesis: 2)
    aggr: str = "max"  # SAGE aggregator; "max" with projection = GraphSAGE-pool (thesis runs)
    dropout: float = 0.1  # dropout after every GNN layer (the thesis' "edge dropout 0.1" is node dropout in code)
    head_hidden: int = 32  # regressor 64 -> 32 -> 1


class _ConvEncoder(nn.Module):
    """A Conv1d stack ``convs`` followed by ``fc`` + ReLU on the flattened output (subclasses build both)."""

    convs: nn.Sequential
    fc: nn.Linear

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                m.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.fc(self.convs(x).flatten(1)))


class WeeklyCNN(_ConvEncoder):
    r"""1-D CNN over the weeks of a year: (conv, ReLU, avg-pool 2) x len(channels), then Linear + ReLU.

    Valid padding; the first kernel is 9 wide, the others 3 (52 weeks -> 44 -> 22 -> 20 -> 10 -> 8 -> 4 -> 2 -> 1).

    Shapes:
        input (B, C, W) -> output (B, out)
    """

    def __init__(self, in_channels: int, n_weeks: int, channels: tuple[int, ...], out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, length = in_channels, n_weeks
        for i, width in enumerate(channels):
            k = 9 if i == 0 else 3
            if length - k + 1 < 2:
                raise ValueError(f"WeeklyCNN: {n_weeks} weeks are too few for {len(channels)} conv+pool stages")
            layers += [nn.Conv1d(c, width, k), nn.ReLU(), nn.AvgPool1d(2)]
            c, length = width, (length - k + 1) // 2
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(c * length, out)
        self.reset_parameters()


class SoilCNN(_ConvEncoder):
    r"""1-D CNN over soil depths: kernels 3, 3, 2 with ReLU; an avg-pool 2 after the first conv when there are
    more than 6 depths (10 depths: 10 -> 8 -> 4 -> 2 -> 1; 6 depths: 6 -> 4 -> 2 -> 1), then Linear + ReLU.

    Shapes:
        input (B, C, D) -> output (B, out)
    """

    def __init__(self, in_channels: int, n_depths: int, channels: tuple[int, ...], out: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c, length = in_channels, n_depths
        for i, width in enumerate(channels):
            k = min(3 if i < len(channels) - 1 else 2, length)
            layers += [nn.Conv1d(c, width, k), nn.ReLU()]
            c, length = width, length - k + 1
            if i == 0 and n_depths > 6 and length >= 4:
                layers.append(nn.AvgPool1d(2))
                length //= 2
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(c * length, out)
        self.reset_parameters()


class YearEncoder(nn.Module):
    r"""Per-year encoder :math:`f(x_{c,t}) = [\mathrm{CNN}_w(x^w);\ \mathrm{CNN}_s(x^s);\ x^e]`.

    Shapes:
        weekly (B, C_w, W), soil (B, C_s, D), extra (B, E) -> (B, weekly_out + soil_out + E)
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        c_w, n_w = shapes["weekly"]
        c_s, n_d = shapes["soil"]
        (n_e,) = shapes["extra"]
        self.weekly = WeeklyCNN(c_w, n_w, cfg.weekly_channels, cfg.weekly_out)
        self.soil = SoilCNN(c_s, n_d, cfg.soil_channels, cfg.soil_out)
        self.out_dim = cfg.weekly_out + cfg.soil_out + n_e

    def reset_parameters(self) -> None:
        self.weekly.reset_parameters()
        self.soil.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor) -> Tensor:
        return torch.cat([self.weekly(weekly), self.soil(soil), extra], dim=-1)

    def encode_years(self, weekly: Tensor, soil: Tensor, extra: Tensor) -> Tensor:
        """Encode a (B, T, ...) stack of years at once: returns (B, T, out_dim)."""
        b, t = weekly.shape[:2]
        z = self(weekly.flatten(0, 1), soil.flatten(0, 1), extra.flatten(0, 1))
        return z.view(b, t, -1)


class Regressor(nn.Module):
    """Head ``Linear(h, 32) -> ReLU -> Linear(32, 1)``. Shapes: (..., h) -> (...)."""

    def __init__(self, hidden: int, head_hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(hidden, head_hidden), nn.ReLU(), nn.Linear(head_hidden, 1))

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h).squeeze(-1)


class CNNRNN(nn.Module):
    r"""CNN-RNN: :math:`\hat y_{c,t} = g(\mathrm{LSTM}(f(x_{c,t-4}), \dots, f(x_{c,t})))` (thesis Eq. 2.2).

    Shapes:
        weekly (B, T, C_w, W), soil (B, T, C_s, D), extra (B, T, E) -> (B, T) standardised yield per step
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        self.rnn = nn.LSTM(self.encoder.out_dim, cfg.hidden, batch_first=True)
        self.head = Regressor(cfg.hidden, cfg.head_hidden)

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor) -> Tensor:
        h, _ = self.rnn(self.encoder.encode_years(weekly, soil, extra))
        return self.head(h)


class GNNRNN(nn.Module):
    r"""GNN-RNN (thesis Eq. 2.4): per-year CNN embeddings refined by GraphSAGE over the county graph, then an
    LSTM over the years:

    .. math::
        h^{(0)}_{c,t} = f(x_{c,t}),\quad
        h^{(l)}_{c,t} = \mathrm{drop}(\mathrm{ReLU}(W_1 h^{(l-1)}_{c,t}
            + W_2 \max_{u \in N(c)} \mathrm{ReLU}(P h^{(l-1)}_{u,t}))),\quad
        \hat y_{c,t} = g(\mathrm{LSTM}(h^{(L)}_{c,t-4}, \dots, h^{(L)}_{c,t}))

    The same graph is used for every year; the root term :math:`W_1 h_c` plays the role of the self loop.

    Shapes:
        weekly (N, T, C_w, W), soil (N, T, C_s, D), extra (N, T, E), edge_index (2, n_edges) over the N nodes
        -> (N, T) standardised yield per node and step
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        self.encoder = YearEncoder(shapes, cfg)
        dims = [self.encoder.out_dim] + [cfg.hidden] * cfg.gnn_layers
        project = cfg.aggr == "max"  # GraphSAGE-pool: Linear + ReLU on messages before the max
        self.convs = nn.ModuleList(SAGEConv(a, b, aggr=cfg.aggr, project=project) for a, b in zip(dims, dims[1:]))
        self.dropout = nn.Dropout(cfg.dropout)
        self.rnn = nn.LSTM(cfg.hidden, cfg.hidden, batch_first=True)
        self.head = Regressor(cfg.hidden, cfg.head_hidden)

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor, edge_index: Tensor) -> Tensor:
        h = self.encoder.encode_years(weekly, soil, extra).transpose(0, 1)  # (T, N, d): years as a batch dim
        for conv in self.convs:
            h = self.dropout(torch.relu(conv(h, edge_index)))
        out, _ = self.rnn(h.transpose(0, 1))  # (N, T, hidden)
        return self.head(out)


def log_cosh_loss(pred: Tensor, target: Tensor) -> Tensor:
    r"""Mean :math:`\log\cosh(\hat y - y)` over non-NaN targets (stable form :math:`x + \mathrm{softplus}(-2x) -
    \log 2`). Shapes: any matching shapes -> scalar."""
    keep = ~torch.isnan(target)
    if not keep.any():
        raise ValueError("log_cosh_loss: every target is NaN")
    x = pred[keep] - target[keep]
    return torch.mean(x + nn.functional.softplus(-2.0 * x) - torch.log(torch.tensor(2.0, device=x.device)))
