import numpy as np
import torch
import torch.nn.functional as F

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.mlc.conftest import fit_on_synthetic, fit_separable
from seqstruct.mlc.lamp import LaMP, LaMPConfig

TINY = LaMPConfig(d_model=8, heads=2, layers=2, feature_nodes=3, encoder=(16,), dropout=0.1)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(4, 7, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 0, 0], [0, 1, 0, 0, 1]])  # empty and full rows
    return x, y


def test_shapes() -> None:
    model = LaMP(7, 5, TINY).eval()
    x, _ = _batch()
    assert model.feature_nodes(x).shape == (4, 3, 8)
    assert model.label_states(x).shape == (4, 5, 8)
    assert model(x).shape == (4, 5) and torch.equal(model(x), model(x))  # eval: deterministic


def test_loss_is_the_summed_bce_and_finite_and_gradients_reach_every_parameter() -> None:
    for tie in (True, False):
        torch.manual_seed(0)
        model = LaMP(7, 5, LaMPConfig(**{**TINY.__dict__, "tie_readout": tie, "dropout": 0.0}))
        x, y = _batch()
        loss = model.loss(x, y)["loss"]
        expected = F.binary_cross_entropy_with_logits(model(x), y.float(), reduction="sum") / 4
        assert torch.isfinite(loss) and torch.allclose(loss, expected)
        loss.backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, (tie, name)


def test_permuting_the_label_embeddings_permutes_the_logits() -> None:
    """The labels are a set: no label order enters the message passing."""
    torch.manual_seed(0)
    model = LaMP(7, 5, TINY).eval()
    x, _ = _batch()
    perm = torch.tensor([3, 0, 4, 1, 2])
    before = model(x)
    with torch.no_grad():
        model.label_emb.weight.copy_(model.label_emb.weight[perm])
    torch.testing.assert_close(model(x), before[:, perm], atol=1e-5, rtol=1e-5)


def test_a_thousand_labels_run_without_the_label_by_label_weights() -> None:
    model = LaMP(7, 1000, LaMPConfig(d_model=16, heads=2, layers=1, encoder=()))
    x = torch.randn(2, 7)
    y = (torch.rand(2, 1000) < 0.02).float()
    model.loss(x, y)["loss"].backward()
    assert model(x).shape == (2, 1000)


def test_reset_parameters_redraws_every_parameter_deterministically() -> None:
    torch.manual_seed(0)
    model = LaMP(7, 5, LaMPConfig(**{**TINY.__dict__, "tie_readout": False}))
    with torch.no_grad():  # move every parameter, so that the ones reset to a constant (biases, norms) show too
        for p in model.parameters():
            p.add_(1.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    model.reset_parameters()
    first = {k: v.clone() for k, v in model.state_dict().items()}
    assert [k for k in before if torch.equal(before[k], first[k])] == []
    torch.manual_seed(1)
    model.reset_parameters()
    assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())


def test_fits_a_separable_task() -> None:
    cfg = LaMPConfig(d_model=8, heads=2, layers=1, encoder=(32,))
    fitted, every_label = fit_separable(lambda f, n: LaMP(f, n, cfg), steps=200)
    assert fitted > 0.9 and fitted > every_label + 0.2


def test_learns_the_synthetic_labels_with_the_shared_trainer() -> None:
    cfg = LaMPConfig(d_model=16, heads=2, layers=1, encoder=(32,))
    fit, y_val = fit_on_synthetic(lambda f, n: LaMP(f, n, cfg), lambda m, x: torch.sigmoid(m(x)), epochs=15)
    every_label = multilabel_metrics(y_val, np.ones(y_val.shape))["mi_f1"]  # about 0.43
    assert fit.best_score > max(0.7, every_label + 0.2)
