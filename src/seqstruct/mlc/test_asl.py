import numpy as np
import torch
import torch.nn.functional as F

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.mlc.asl import ASLConfig, ASLNet, asymmetric_loss
from seqstruct.mlc.conftest import fit_on_synthetic


def test_without_focusing_and_margin_it_is_the_binary_cross_entropy() -> None:
    torch.manual_seed(0)
    logits, y = torch.randn(4, 3), torch.tensor([[1, 0, 0], [0, 0, 0], [1, 1, 1], [0, 1, 0]])
    bce = F.binary_cross_entropy_with_logits(logits, y.float(), reduction="none").sum(1).mean()
    assert torch.allclose(asymmetric_loss(logits, y, 0.0, 0.0, 0.0), bce, atol=1e-6)


def test_hand_values_of_the_focusing_and_the_margin() -> None:
    p = torch.tensor([[0.8, 0.3, 0.04]])
    logits, y = torch.logit(p), torch.tensor([[1, 0, 0]])
    # positive (γ+ = 1): -(1 - 0.8) log 0.8; negative 0.3 -> p_m 0.25: -(0.25^2) log 0.75; 0.04 < m: nothing
    expected = -(0.2 * np.log(0.8)) - 0.25**2 * np.log(0.75)
    assert abs(asymmetric_loss(logits, y, 1.0, 2.0, 0.05).item() - expected) < 1e-6


def test_shapes_and_finite_loss_on_saturated_logits() -> None:
    model = ASLNet(5, 3, ASLConfig(hidden=(8,), dropout=0.0))
    x = torch.randn(6, 5)
    assert model(x).shape == (6, 3)
    huge = torch.tensor([[80.0, -80.0], [-80.0, 80.0]])
    assert torch.isfinite(asymmetric_loss(huge, torch.tensor([[0, 1], [1, 0]]), 0.0, 4.0, 0.05))


def test_learns_the_synthetic_labels_with_the_shared_trainer() -> None:
    cfg = ASLConfig(hidden=(32, 32), dropout=0.1)
    fit, y_val = fit_on_synthetic(lambda f, n: ASLNet(f, n, cfg), lambda m, x: torch.sigmoid(m(x)))
    every_label = multilabel_metrics(y_val, np.ones(y_val.shape))["mi_f1"]
    assert fit.best_score > every_label + 0.1
