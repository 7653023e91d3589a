import numpy as np
import torch

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.mlc.conftest import fit_on_synthetic
from seqstruct.mlc.mpvae import MPVAE, MPVAEConfig, gaussian_kl, ranking_loss

TINY = MPVAEConfig(
    latent=4, encoder=(8, 8), label_encoder=(8,), decoder=(8, 8), probit_rank=3, n_samples=10, dropout=0.1
)


def test_shapes_probabilities_and_finite_terms_with_an_empty_sample() -> None:
    torch.manual_seed(0)
    model = MPVAE(5, 3, TINY)
    x = torch.randn(6, 5)
    y = torch.tensor([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])
    terms = model.loss(x, y)
    assert set(terms) == {"loss", "nll", "rank", "kl"} and all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    p = model(x)
    assert p.shape == (6, 3) and ((p > 0) & (p < 1)).all()


def test_ranking_loss_by_hand_and_without_pairs() -> None:
    y = torch.tensor([[1, 0, 0], [0, 0, 0]])
    p = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.3, 0.4]])
    # sample 0: pairs (0,1), (0,2): exp(-5*0.8), exp(-5*0.4); sample 1 has no positive label: 0
    expected = (np.exp(-4.0) + np.exp(-2.0)) / 2 / 2
    assert abs(ranking_loss(y, p).item() - expected) < 1e-6


def test_gaussian_kl_known_values() -> None:
    zero = torch.zeros(1, 2)
    assert gaussian_kl(zero, zero, zero, zero).item() == 0.0
    # KL(N(1, 1) || N(0, 1)) = 1/2 per dimension
    assert abs(gaussian_kl(torch.ones(1, 2), zero, zero, zero).item() - 1.0) < 1e-6


def test_reset_parameters_is_deterministic() -> None:
    model = MPVAE(5, 3, TINY)
    torch.manual_seed(3)
    model.reset_parameters()
    first = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(3)
    model.reset_parameters()
    assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())


def test_learns_the_synthetic_labels_with_the_shared_trainer() -> None:
    cfg = MPVAEConfig(latent=8, encoder=(32, 32), label_encoder=(32,), decoder=(32, 32), probit_rank=4, n_samples=20)
    fit, y_val = fit_on_synthetic(lambda f, n: MPVAE(f, n, cfg), lambda m, x: m(x))
    every_label = multilabel_metrics(y_val, np.ones(y_val.shape))["mi_f1"]  # predicting every label: about 0.4
    assert fit.best_score > every_label + 0.1 and {"train_nll", "train_rank", "train_kl"} <= set(fit.history[-1])


def test_factorised_ranking_loss_equals_the_pair_sum() -> None:
    g = torch.Generator().manual_seed(0)
    y = (torch.rand(6, 9, generator=g) < 0.4).float()
    y[0] = 0  # no positive: no pairs
    p = torch.rand(6, 9, generator=g)
    pairs = (y[:, :, None] > 0) & (y[:, None, :] <= 0)
    per_sample = (torch.exp(-5 * (p[:, :, None] - p[:, None, :])) * pairs).sum((1, 2)) / pairs.sum((1, 2)).clamp(min=1)
    assert torch.allclose(ranking_loss(y, p), per_sample.mean(), rtol=1e-5)
