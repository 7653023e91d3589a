"""``reset_parameters()`` of the crop models and encoders (PyG style): it redraws every parameter, is
deterministic under a seed, keeps the output shapes, and construction still draws what it always drew."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from numpy.testing import assert_allclose
from torch import Tensor, nn

from seqstruct.crop.encoders import SoilCNN, WeeklyCNN, WeeklyRNN, YearEncoder
from seqstruct.crop.models import ARCHITECTURES, build_model
from seqstruct.crop.test_models import SHAPES, SMALL

#: (sum, sum of |.|) over the state_dict of ``build_model(method, SHAPES, SMALL)`` with ``init="torch"`` under
#: ``torch.manual_seed(0)``, recorded before ``reset_parameters()`` existed on the models: with the reference
#: code's initialisation, construction must keep drawing these numbers (the results before docs/crop-audit.md)
CONSTRUCTION_SUMS = {
    "gru_1y": (2.352578052508761, 1308.3424168503407),
    "lstm_1y": (17.124638241150933, 1599.1857571678656),
    "cnn_1y": (-9.04823292281435, 332.02284364243314),
    "gnn_1y": (-10.259182058960505, 1213.69181369967),
    "gru_5y": (-9.195421812500626, 1533.737331460076),
    "lstm_5y": (-7.974172752319191, 1687.7659427685635),
    "cnn_rnn_5y": (13.15071790006914, 1133.004184409925),
    "gnn_rnn_5y": (-19.13455448996865, 1344.0579829751532),
}
EDGES = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])


def _inputs(method: str, b: int = 4) -> tuple[Tensor, Tensor, Tensor]:
    t = 5 if method.endswith("_5y") else 1
    gen = torch.Generator().manual_seed(1)
    return (
        torch.randn(b, t, 6, 52, generator=gen),
        torch.randn(b, t, 10, 10, generator=gen),
        torch.randn(b, t, 19, generator=gen),
    )


def _forward(model: nn.Module, x: tuple[Tensor, ...]) -> Tensor:
    return model(*x, EDGES) if getattr(model, "graph", False) else model(*x)


def _params(model: nn.Module) -> dict[str, Tensor]:
    return {k: p.detach().clone() for k, p in model.named_parameters()}


#: every model and encoder (the GNNs also with the mean aggregator: SAGEConv without the pooling projection)
CASES = (*ARCHITECTURES, "gnn_1y-mean", "gnn_rnn_5y-mean", "weekly_cnn", "weekly_rnn", "soil_cnn", "year_encoder")


def _case(name: str) -> tuple[nn.Module, tuple[Tensor, ...]]:
    """The module called ``name`` in ``CASES`` (built under seed 0) and inputs for it."""
    torch.manual_seed(0)
    if name.removesuffix("-mean") in ARCHITECTURES:
        method = name.removesuffix("-mean")
        cfg = replace(SMALL, aggr="mean") if name.endswith("-mean") else SMALL
        return build_model(method, SHAPES, cfg), _inputs(method)
    w, s, e = (v[:, 0] for v in _inputs("cnn_1y"))
    if name == "weekly_cnn":
        return WeeklyCNN(6, 52, (4, 4, 4, 4), 5), (w,)
    if name == "weekly_rnn":
        return WeeklyRNN(6, "gru", 5, 7), (w,)
    if name == "soil_cnn":
        return SoilCNN(10, 10, (4, 4, 4), 5), (s,)
    return YearEncoder(SHAPES, SMALL), (w, s, e)


@pytest.mark.parametrize("name", CASES)
def test_reset_redraws_every_parameter_deterministically(name: str) -> None:
    model, x = _case(name)
    model.eval()
    before, out_before = _params(model), _forward(model, x)
    torch.manual_seed(12345)
    model.reset_parameters()
    first = _params(model)
    for k, p in first.items():
        if p.numel() > 1:
            assert not torch.equal(p, before[k]), f"{name}: {k} unchanged by reset_parameters()"
    out = _forward(model, x)
    assert out.shape == out_before.shape
    assert not torch.allclose(out, out_before)
    torch.manual_seed(12345)
    model.reset_parameters()
    for k, p in _params(model).items():
        assert torch.equal(p, first[k]), f"{name}: {k} differs between two resets under the same seed"
    assert torch.equal(_forward(model, x), out)


@pytest.mark.parametrize("name", CASES)
def test_every_crop_module_with_parameters_has_reset_parameters(name: str) -> None:
    for sub in _case(name)[0].modules():
        if type(sub).__module__.startswith("seqstruct.") and any(True for _ in sub.parameters()):
            assert callable(getattr(sub, "reset_parameters", None)), f"{type(sub).__name__} lacks reset_parameters()"


@pytest.mark.parametrize("method", ARCHITECTURES)
def test_construction_draws_unchanged(method: str) -> None:
    """Construction does not call the models' ``reset_parameters()``: with ``init="torch"`` it draws the
    initial weights of the results made before the Kaiming initialisation, pinned here."""
    torch.manual_seed(0)
    sd = build_model(method, SHAPES, replace(SMALL, init="torch")).state_dict()
    total = float(sum(v.double().sum() for v in sd.values()))
    absolute = float(sum(v.double().abs().sum() for v in sd.values()))
    assert_allclose((total, absolute), CONSTRUCTION_SUMS[method], rtol=1e-12)
