"""Per-year encoders of the crop models: a county-year's weekly block, soil profile and scalar extras -> one
vector (thesis §2.1, methods.md §1.6).

All sizes of the inputs are read from the data (number of weekly variables, weeks, soil variables, depths,
extras), never hard-coded (the reference code hard-codes 127 inputs to its first GNN layer).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn


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
    weekly_encoder: str = "cnn"  # "cnn", or "lstm"/"gru" over the weeks (the 1y RNN baselines)
    rnn_hidden: int = 64  # hidden size of a weekly LSTM/GRU encoder (thesis: 64)
    flat_hidden: tuple[int, int] = (64, 99)  # 5y LSTM/GRU baselines: per-year MLP widths before the RNN
    # initialisation of the conv encoders: "kaiming" (He et al. 2015, fan-in, for ReLU weights) keeps the
    # weekly embedding at the scale of the extras; "torch" (PyTorch's default, the reference code's) shrinks it
    # about 200-fold through the 4 conv stages, and a GNN-RNN then never learns to use the weather (docs/crop-audit.md)
    init: str = "kaiming"


class _ConvEncoder(nn.Module):
    """A Conv1d stack ``convs`` followed by ``fc`` + ReLU on the flattened output (subclasses build both).

    Subclasses set ``init`` and call :meth:`reset_parameters` at the end of their ``__init__``, so the
    construction-time initialisation is torch's default followed by one reset.
    """

    convs: nn.Sequential
    fc: nn.Linear
    init: str

    def reset_parameters(self) -> None:
        """Re-initialise every Conv1d and Linear layer: torch's default, then, when ``init`` is "kaiming", the
        weights redrawn He (Kaiming) uniform for ReLU (fan-in; the biases keep torch's small default)."""
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                m.reset_parameters()
                if self.init == "kaiming":
                    nn.init.kaiming_uniform_(m.weight, nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.fc(self.convs(x).flatten(1)))


class WeeklyCNN(_ConvEncoder):
    r"""1-D CNN over the weeks of a year: (conv, ReLU, avg-pool 2) x len(channels), then Linear + ReLU.

    Valid padding; the first kernel is 9 wide, the others 3 (52 weeks -> 44 -> 22 -> 20 -> 10 -> 8 -> 4 -> 2 -> 1).

    Parameters
    ----------
    in_channels : int
        Weekly variables ``C``.
    n_weeks : int
        Weeks ``W`` per variable.
    channels : tuple of int
        Conv1d widths, one conv + pool stage each.
    out : int
        Width of the output Linear.
    init : str
        "kaiming" or "torch" (``CropModelConfig.init``).

    Shapes
    ------
    input : (B, C, W)
        One year of weekly variables per sample.
    output : (B, out)
    """

    def __init__(
        self, in_channels: int, n_weeks: int, channels: tuple[int, ...], out: int, init: str = "kaiming"
    ) -> None:
        super().__init__()
        self.init = _check_init(init)
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


class WeeklyRNN(nn.Module):
    r"""LSTM or GRU over the weeks of a year (variables as features); the last hidden state -> Linear + ReLU:
    :math:`f(x) = \mathrm{ReLU}(\mathrm{Linear}(h_W))` with :math:`h_w = \mathrm{RNN}(x_{:,w}, h_{w-1})`.

    Parameters
    ----------
    in_channels : int
        Weekly variables ``C`` (the RNN's input size).
    cell : str
        ``"lstm"`` or ``"gru"``.
    hidden : int
        Hidden size of the RNN.
    out : int
        Width of the output Linear.

    Shapes
    ------
    input : (B, C, W)
        One year of weekly variables per sample.
    output : (B, out)
    """

    def __init__(self, in_channels: int, cell: str, hidden: int, out: int) -> None:
        super().__init__()
        self.rnn = rnn_cell(cell)(in_channels, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, out)

    def forward(self, x: Tensor) -> Tensor:
        h, _ = self.rnn(x.transpose(1, 2))  # (B, W, hidden)
        return torch.relu(self.fc(h[:, -1]))

    def reset_parameters(self) -> None:
        """Re-initialise the RNN and the output Linear."""
        self.rnn.reset_parameters()
        self.fc.reset_parameters()


def _check_init(init: str) -> str:
    if init not in ("kaiming", "torch"):
        raise ValueError(f"unknown encoder init {init!r}; expected 'kaiming' or 'torch'")
    return init


def rnn_cell(cell: str) -> type[nn.LSTM] | type[nn.GRU]:
    """``nn.LSTM`` for "lstm", ``nn.GRU`` for "gru"."""
    cells = {"lstm": nn.LSTM, "gru": nn.GRU}
    if cell not in cells:
        raise ValueError(f"unknown recurrent cell {cell!r}; expected one of {sorted(cells)}")
    return cells[cell]


class SoilCNN(_ConvEncoder):
    r"""1-D CNN over soil depths: kernels 3, 3, 2 with ReLU; an avg-pool 2 after the first conv when there are
    more than 6 depths (10 depths: 10 -> 8 -> 4 -> 2 -> 1; 6 depths: 6 -> 4 -> 2 -> 1), then Linear + ReLU.

    Parameters
    ----------
    in_channels : int
        Soil variables ``C``.
    n_depths : int
        Depths ``D`` per variable.
    channels : tuple of int
        Conv1d widths (kernels 3, ..., 3, 2, each capped at the remaining length).
    out : int
        Width of the output Linear.
    init : str
        "kaiming" or "torch" (``CropModelConfig.init``).

    Shapes
    ------
    input : (B, C, D)
        One soil profile per sample.
    output : (B, out)
    """

    def __init__(
        self, in_channels: int, n_depths: int, channels: tuple[int, ...], out: int, init: str = "kaiming"
    ) -> None:
        super().__init__()
        self.init = _check_init(init)
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
    r"""Per-year encoder :math:`f(x_{c,t}) = [\mathrm{CNN}_w(x^w);\ \mathrm{CNN}_s(x^s);\ x^e]` (the weekly
    CNN is a weekly LSTM/GRU when ``cfg.weekly_encoder`` says so).

    Parameters
    ----------
    shapes : dict
        Per-sample shapes of one year: ``weekly`` (C_w, W), ``soil`` (C_s, D), ``extra`` (E,).
    cfg : CropModelConfig
        Architecture.

    Attributes
    ----------
    out_dim : int
        Width of the encoding, ``weekly_out + soil_out + E``.

    Shapes
    ------
    weekly : (B, C_w, W)
    soil : (B, C_s, D)
    extra : (B, E)
    output : (B, out_dim)
        :meth:`encode_years` maps (B, T, ...) stacks to (B, T, out_dim).
    """

    def __init__(self, shapes: dict[str, tuple[int, ...]], cfg: CropModelConfig) -> None:
        super().__init__()
        c_w, n_w = shapes["weekly"]
        c_s, n_d = shapes["soil"]
        (n_e,) = shapes["extra"]
        self.weekly: WeeklyCNN | WeeklyRNN
        if cfg.weekly_encoder == "cnn":
            self.weekly = WeeklyCNN(c_w, n_w, cfg.weekly_channels, cfg.weekly_out, cfg.init)
        elif cfg.weekly_encoder in ("lstm", "gru"):
            self.weekly = WeeklyRNN(c_w, cfg.weekly_encoder, cfg.rnn_hidden, cfg.weekly_out)
        else:
            raise ValueError(f"unknown weekly_encoder {cfg.weekly_encoder!r}; expected 'cnn', 'lstm' or 'gru'")
        self.soil = SoilCNN(c_s, n_d, cfg.soil_channels, cfg.soil_out, cfg.init)
        self.out_dim = cfg.weekly_out + cfg.soil_out + n_e

    def reset_parameters(self) -> None:
        """Re-initialise the weekly and the soil encoder."""
        self.weekly.reset_parameters()
        self.soil.reset_parameters()

    def forward(self, weekly: Tensor, soil: Tensor, extra: Tensor) -> Tensor:
        return torch.cat([self.weekly(weekly), self.soil(soil), extra], dim=-1)

    def encode_years(self, weekly: Tensor, soil: Tensor, extra: Tensor) -> Tensor:
        """Encode a (B, T, ...) stack of years at once: returns (B, T, out_dim)."""
        b, t = weekly.shape[:2]
        z = self(weekly.flatten(0, 1), soil.flatten(0, 1), extra.flatten(0, 1))
        return z.view(b, t, -1)
