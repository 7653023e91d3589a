import math
from dataclasses import replace

import pytest
import torch
from numpy.testing import assert_allclose

from seqstruct.crop.encoders import SoilCNN, WeeklyCNN, WeeklyRNN, YearEncoder
from seqstruct.crop.models import ARCHITECTURES, CNNRNN, GNNRNN, CropModelConfig, build_model, log_cosh_loss

SHAPES = {"weekly": (6, 52), "soil": (10, 10), "extra": (19,)}
SMALL = CropModelConfig(weekly_channels=(8, 8, 8, 8), soil_channels=(4, 4, 4), hidden=8, head_hidden=4)


def test_weekly_cnn_thesis_shape() -> None:
    cnn = WeeklyCNN(23, 52, (64, 128, 256, 512), 80)
    assert cnn.convs(torch.randn(2, 23, 52)).shape == (2, 512, 1)  # methods.md: (B, 23, 52) -> (B, 512)
    assert cnn(torch.randn(2, 23, 52)).shape == (2, 80)


@pytest.mark.parametrize("depths", [6, 10])
def test_soil_cnn_reduces_depth_to_one(depths: int) -> None:
    cnn = SoilCNN(10, depths, (16, 32, 64), 40)
    assert cnn.convs(torch.randn(3, 10, depths)).shape == (3, 64, 1)
    assert cnn(torch.randn(3, 10, depths)).shape == (3, 40)


def test_year_encoder_output_dim_derived_from_data() -> None:
    enc = YearEncoder(SHAPES, CropModelConfig())
    assert enc.out_dim == 80 + 40 + 19
    z = enc.encode_years(torch.randn(4, 5, 6, 52), torch.randn(4, 5, 10, 10), torch.randn(4, 5, 19))
    assert z.shape == (4, 5, enc.out_dim)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_weekly_rnn_encoder_shape(cell: str) -> None:
    enc = WeeklyRNN(6, cell, hidden=5, out=7)
    assert enc(torch.randn(3, 6, 52)).shape == (3, 7)
    assert isinstance(enc.rnn, torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)


@pytest.mark.parametrize("method", ARCHITECTURES)
def test_every_architecture_maps_years_to_one_yield_each(method: str) -> None:
    """(B, T, ...) inputs -> (B, T); T = 1 for the single-year methods, 5 for the 5-year ones."""
    model = build_model(method, SHAPES, SMALL)
    t = 5 if method.endswith("_5y") else 1
    b = 4
    x = (torch.randn(b, t, 6, 52), torch.randn(b, t, 10, 10), torch.randn(b, t, 19))
    edges = torch.tensor([[0, 1, 2, 3], [1, 0, 3, 2]])
    out = model(*x, edges) if model.graph else model(*x)
    assert out.shape == (b, t)
    assert model.graph == (method in ("gnn_1y", "gnn_rnn_5y"))
    out.sum().backward()  # every parameter takes part
    assert all(p.grad is not None for p in model.parameters())


def test_models_read_sizes_from_the_data() -> None:
    """Another column layout (23 weekly vars, 20 soil vars x 6 depths, 7 extras) runs unchanged."""
    shapes = {"weekly": (23, 52), "soil": (20, 6), "extra": (7,)}
    for method in ARCHITECTURES:
        model = build_model(method, shapes, SMALL)
        t = 5 if method.endswith("_5y") else 1
        x = (torch.randn(3, t, 23, 52), torch.randn(3, t, 20, 6), torch.randn(3, t, 7))
        edges = torch.tensor([[0, 1], [1, 0]])
        assert (model(*x, edges) if model.graph else model(*x)).shape == (3, t)


def test_build_model_rejects_unknown_method_and_aggregator() -> None:
    with pytest.raises(ValueError, match="unknown deep crop method 'mlp_1y'"):
        build_model("mlp_1y", SHAPES, SMALL)
    with pytest.raises(ValueError, match="unknown GraphSAGE aggregator 'lstm'"):
        build_model("gnn_1y", SHAPES, CropModelConfig(aggr="lstm"))


def test_gnn_layers_take_one_edge_set_each() -> None:
    """With per-layer edge sets, a message sent only on the first layer's edges reaches a node two hops away
    only through the second layer's edges."""
    torch.manual_seed(0)
    model = build_model("gnn_1y", SHAPES, replace(SMALL, aggr="mean")).eval()  # mean: no ReLU-saturated max
    x = [torch.randn(3, 1, 6, 52), torch.randn(3, 1, 10, 10), torch.randn(3, 1, 19)]
    first, second = torch.tensor([[2], [1]]), torch.tensor([[1], [0]])  # 2 -> 1 on layer 1, 1 -> 0 on layer 2
    out, alone = model(*x, [first, second]), model(*x, [second, second])
    x[2][2] += 3.0  # node 2's extras enter its embedding linearly
    assert not torch.allclose(out[0], model(*x, [first, second])[0])  # node 0 hears node 2 through node 1
    assert torch.allclose(alone[0], model(*x, [second, second])[0])  # without 2 -> 1 it does not
    with pytest.raises(ValueError, match="3 edge sets for 2 GNN layers"):
        model(*x, [first, second, second])


def test_cnn_rnn_shapes() -> None:
    out = CNNRNN(SHAPES, SMALL)(torch.randn(3, 5, 6, 52), torch.randn(3, 5, 10, 10), torch.randn(3, 5, 19))
    assert out.shape == (3, 5)


def test_gnn_rnn_shapes_and_graph_locality() -> None:
    torch.manual_seed(0)
    model = GNNRNN(SHAPES, SMALL).eval()
    n = 6
    edges = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])  # components {0,1,2}, {3,4}, {5}
    x = (torch.randn(n, 5, 6, 52), torch.randn(n, 5, 10, 10), torch.randn(n, 5, 19))
    out = model(*x, edges)
    assert out.shape == (n, 5)
    # changing node 0's features changes its component but not the others
    x2 = (x[0].clone(), x[1], x[2])
    x2[0][0] += 1.0
    out2 = model(*x2, edges)
    assert not torch.allclose(out[:3], out2[:3])
    assert torch.allclose(out[3:], out2[3:])


def test_log_cosh_masks_nan_and_matches_definition() -> None:
    pred = torch.tensor([0.0, 1.0, 2.0])
    target = torch.tensor([0.5, float("nan"), -1.0])
    expected = (math.log(math.cosh(-0.5)) + math.log(math.cosh(3.0))) / 2
    assert_allclose(float(log_cosh_loss(pred, target)), expected, rtol=1e-6)
    big = log_cosh_loss(torch.tensor([100.0]), torch.tensor([0.0]))
    assert torch.isfinite(big) and abs(float(big) - (100 - math.log(2))) < 1e-4


@pytest.mark.parametrize("widths", [(64, 128, 256, 512), (32, 64, 128, 256)])
def test_kaiming_init_keeps_the_weekly_embedding_at_the_scale_of_the_extras(widths: tuple[int, ...]) -> None:
    """The crop-audit defect: under torch's default initialisation the weekly CNN's output varies across
    unit-variance inputs about 100 times less than the (standardised) extras it is concatenated with, and a
    GNN-RNN never learns to use the weather; the Kaiming initialisation keeps it within a factor of 10."""
    x = torch.randn(512, 6, 52, generator=torch.Generator().manual_seed(0))
    spread = {}
    for init in ("kaiming", "torch"):
        torch.manual_seed(0)
        cnn = WeeklyCNN(6, 52, widths, 80, init=init)
        with torch.no_grad():
            spread[init] = float(cnn(x).std(0).mean())
    assert spread["kaiming"] > 0.1, spread
    assert spread["torch"] < 0.02, spread
