import math

import pytest
import torch
from numpy.testing import assert_allclose

from seqstruct.crop.models import CNNRNN, GNNRNN, CropModelConfig, SoilCNN, WeeklyCNN, YearEncoder, log_cosh_loss

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
