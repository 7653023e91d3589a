import numpy as np
import torch

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.mlc.c2ae import C2AE, C2AEConfig, latent_size, orthogonality_penalty, pairwise_ranking_loss
from seqstruct.mlc.conftest import fit_on_synthetic, fit_separable
from seqstruct.mlc.mpvae import ranking_loss

TINY = C2AEConfig(encoder=(8, 8), label_encoder=(8,), decoder=(8,))


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(4, 7, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([[0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 1, 0, 0], [0, 1, 0, 0, 1]])  # empty and full rows
    return x, y


def test_shapes_and_the_default_latent_size() -> None:
    model = C2AE(7, 5, TINY)
    x, y = _batch()
    assert latent_size(5, TINY) == 4 and latent_size(983, C2AEConfig()) == 786  # round(0.8 L)
    assert latent_size(5, C2AEConfig(latent=3)) == 3
    z_x, z_e = model.encode_features(x), model.encode_labels(y)
    assert z_x.shape == z_e.shape == (4, 4) and (z_x.abs() < 0.5).all() and (z_e.abs() < 0.5).all()
    assert model(x).shape == (4, 5)


def test_finite_loss_with_an_empty_and_a_full_row_and_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = C2AE(7, 5, TINY)
    x, y = _batch()
    terms = model.loss(x, y)
    assert set(terms) == {"loss", "match", "ortho", "rank"} and all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    # a batch in which no row has a (positive, negative) pair: no ranking term, still no NaN
    assert model.loss(x[:2], y[:2])["rank"] == 0


def test_ranking_loss_by_hand_on_one_row_of_three_labels() -> None:
    y = torch.tensor([[1, 0, 0]])
    p = torch.tensor([[0.9, 0.1, 0.5]])
    # pairs (0, 1) and (0, 2): exp(-s (0.9 - 0.1)) and exp(-s (0.9 - 0.5)), averaged over the 2 pairs
    for s in (5.0, 1.0):
        expected = (np.exp(-s * 0.8) + np.exp(-s * 0.4)) / 2
        assert abs(pairwise_ranking_loss(p, y, s).item() - expected) < 1e-6


def test_ranking_loss_equals_the_explicit_pair_sum_and_is_nan_free_on_large_scores() -> None:
    g = torch.Generator().manual_seed(1)
    y = (torch.rand(6, 9, generator=g) < 0.4).long()
    y[0], y[1] = 0, 1
    p = torch.rand(6, 9, generator=g)
    explicit = torch.zeros(6)
    for b in range(6):
        pos, neg = p[b, y[b] > 0], p[b, y[b] == 0]
        if len(pos) and len(neg):
            explicit[b] = torch.exp(-5 * (pos[:, None] - neg[None, :])).mean()
    torch.testing.assert_close(pairwise_ranking_loss(p, y), explicit)
    assert abs(pairwise_ranking_loss(p, y).mean().item() - ranking_loss(y, p).item()) < 1e-5  # MPVAE's, same form
    logits = (torch.randn(6, 9, generator=g) * 30).requires_grad_()
    loss = pairwise_ranking_loss(logits, y, 1.0)
    loss.sum().backward()
    assert torch.isfinite(loss).all() and torch.isfinite(logits.grad).all() and (loss[:2] == 0).all()


def test_orthogonality_penalty_is_zero_for_orthonormal_codes_and_known_otherwise() -> None:
    q, _ = torch.linalg.qr(torch.randn(6, 3, generator=torch.Generator().manual_seed(2)))
    assert orthogonality_penalty(q).item() < 1e-10
    assert abs(orthogonality_penalty(2 * q).item() - 3 * 3**2) < 1e-4  # Gram 4 I: (4 - 1)^2 per diagonal entry


def test_reset_parameters_redraws_every_parameter_deterministically() -> None:
    torch.manual_seed(0)
    model = C2AE(7, 5, TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    model.reset_parameters()
    first = {k: v.clone() for k, v in model.state_dict().items()}
    assert all(not torch.equal(before[k], first[k]) for k in before)
    torch.manual_seed(1)
    model.reset_parameters()
    assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())


def test_fits_a_separable_task() -> None:
    fitted, every_label = fit_separable(lambda f, n: C2AE(f, n, C2AEConfig(encoder=(32, 32), label_encoder=(32,))))
    assert fitted > 0.9 and fitted > every_label + 0.2


def test_learns_the_synthetic_labels_with_the_shared_trainer() -> None:
    cfg = C2AEConfig(encoder=(32, 32), label_encoder=(32,), decoder=(32,))
    fit, y_val = fit_on_synthetic(lambda f, n: C2AE(f, n, cfg), lambda m, x: torch.sigmoid(m(x)), epochs=60)
    every_label = multilabel_metrics(y_val, np.ones(y_val.shape))["mi_f1"]
    assert fit.best_score > every_label + 0.1 and {"train_match", "train_ortho", "train_rank"} <= set(fit.history[-1])
