import math
from dataclasses import replace

import torch
from torch.distributions import Normal, kl_divergence

from seqstruct.dos.conftest import check_reset_parameters, dims_of, make_batch, target_of
from seqstruct.dos.losses import spectrum_loss
from seqstruct.dos.mat2spec import (
    Mat2Spec,
    Mat2SpecConfig,
    negatives_contrastive,
    pairwise_symmetric_kl,
    tiled_pair_counts,
)

TINY = Mat2SpecConfig(
    hidden=8,
    layers=1,
    heads=2,
    comp_hidden=4,
    components=3,
    latent=4,
    feat_encoder=(8, 8),
    label_encoder=(8,),
    mix_hidden=8,
    decoder=8,
    emb=8,
    proj=6,
    dropout=0.1,
)
TERMS = {"loss", "nll_x", "nll_y", "align", "con"}


def test_training_loss_has_finite_named_terms_and_reaches_every_parameter(tiny_batch) -> None:
    torch.manual_seed(0)
    model = Mat2Spec(dims_of(tiny_batch), TINY)
    assert model(tiny_batch).shape == (3, 11)
    terms = model.training_loss(tiny_batch, target_of(tiny_batch))
    assert set(terms) == TERMS and all(torch.isfinite(v) and v.ndim == 0 for v in terms.values())
    assert terms["align"] > 0 and terms["nll_x"] > 0
    expected = terms["nll_x"] + terms["nll_y"] + 1.1 * terms["align"] + 0.1 * terms["con"]
    torch.testing.assert_close(terms["loss"], expected)
    terms["loss"].backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def test_default_sizes_build_and_run(tiny_batch) -> None:
    model = Mat2Spec(dims_of(tiny_batch))
    assert model.feature_gaussians(model.encoder(tiny_batch))[0].shape == (3, 10, 128)
    assert model.position_gaussians()[0].shape == (11, 128) and model.w_out.shape == (512, 11)
    assert set(model.training_loss(tiny_batch, target_of(tiny_batch))) == TERMS


def test_pairwise_symmetric_kl_matches_torch_distributions() -> None:
    g = torch.Generator().manual_seed(0)
    mu1, lv1 = torch.randn(2, 3, 5, generator=g, dtype=torch.float64), torch.randn(2, 3, 5, generator=g).double()
    mu2, lv2 = torch.randn(4, 5, generator=g, dtype=torch.float64), torch.randn(4, 5, generator=g).double()
    p = Normal(mu1[:, :, None], (0.5 * lv1[:, :, None]).exp())
    q = Normal(mu2[None, None], (0.5 * lv2[None, None]).exp())
    ref = (0.5 * kl_divergence(p, q) + 0.5 * kl_divergence(q, p)).sum(-1)  # (2, 3, 4)
    torch.testing.assert_close(pairwise_symmetric_kl(mu1, lv1, mu2, lv2), ref)


def test_alignment_uses_every_pair_and_the_released_tiling_only_some_when_gcd_is_not_one() -> None:
    counts = tiled_pair_counts(2, 4)
    assert torch.equal(counts, torch.tensor([[2.0, 0, 2, 0], [0, 2, 0, 2]]))  # k = j mod 2 only, each twice
    assert torch.equal(tiled_pair_counts(10, 51), torch.ones(10, 51))  # gcd 1: the full product (phDoS)
    batch = make_batch(L=4)
    cfg = replace(TINY, components=2)
    model = Mat2Spec(dims_of(batch), cfg)
    g = torch.Generator().manual_seed(1)
    mu_x, lv_x = torch.randn(3, 2, 4, generator=g), torch.randn(3, 2, 4, generator=g)
    mu_y, lv_y = torch.randn(4, 4, generator=g), torch.randn(4, 4, generator=g)
    pi_x, pi_y = torch.rand(3, 2, generator=g).softmax(-1), torch.rand(3, 4, generator=g).softmax(-1)

    def skl(b: int, k: int, j: int) -> torch.Tensor:
        p = Normal(mu_x[b, k], (0.5 * lv_x[b, k]).exp())
        q = Normal(mu_y[j], (0.5 * lv_y[j]).exp())
        return (0.5 * kl_divergence(p, q) + 0.5 * kl_divergence(q, p)).sum()

    full = sum(pi_x[b, k] * pi_y[b, j] * skl(b, k, j) for b in range(3) for k in range(2) for j in range(4)) / 3
    tiled = sum(pi_x[b, n % 2] * pi_y[b, n % 4] * skl(b, n % 2, n % 4) for b in range(3) for n in range(8)) / 3
    torch.testing.assert_close(model.alignment(mu_x, lv_x, pi_x, mu_y, lv_y, pi_y), full, rtol=1e-5, atol=1e-5)
    released = Mat2Spec(dims_of(batch), replace(cfg, tiled_pairs=True))
    torch.testing.assert_close(released.alignment(mu_x, lv_x, pi_x, mu_y, lv_y, pi_y), tiled, rtol=1e-5, atol=1e-5)
    assert not torch.isclose(full, tiled, rtol=1e-3)


def test_contrastive_loss_by_hand_and_without_negatives() -> None:
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    s = torch.tensor([[1.0, 1 / math.sqrt(2)], [0.0, 1 / math.sqrt(2)]])  # cosines, label rows x feature columns
    ref = -0.5 * ((s[0, 0] - s[0, 1]) + (s[1, 1] - s[1, 0]))  # the denominator is the single negative
    torch.testing.assert_close(negatives_contrastive(a, b), ref)
    assert negatives_contrastive(a[:1], b[:1]) == 0


def test_the_kl_loss_is_zero_at_the_target_and_finite_with_empty_bins() -> None:
    p = torch.tensor([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    logits = torch.log(p.clamp(min=1e-30)) + 3.0
    assert abs(float(spectrum_loss(logits, p))) < 1e-6
    assert torch.isfinite(spectrum_loss(torch.zeros(2, 3), p))


def test_eval_prediction_sampled_or_deterministic(tiny_batch) -> None:
    torch.manual_seed(0)
    model = Mat2Spec(dims_of(tiny_batch), TINY)
    assert not torch.equal(model(tiny_batch), model(tiny_batch))  # training mode: sampled latents
    model.eval()
    sampled = model(tiny_batch)
    torch.testing.assert_close(sampled.exp().sum(-1), torch.ones(3))  # log of a mean of softmaxes
    assert not torch.equal(sampled, model(tiny_batch))  # released: 3 sampled passes averaged
    det = Mat2Spec(dims_of(tiny_batch), replace(TINY, eval_samples=0))
    det.load_state_dict(model.state_dict())
    det.eval()
    assert torch.equal(det(tiny_batch), det(tiny_batch))


def test_reset_parameters_redraws_every_weight_deterministically(tiny_batch) -> None:
    check_reset_parameters(lambda: Mat2Spec(dims_of(tiny_batch), TINY))
    model = Mat2Spec(dims_of(tiny_batch), TINY)
    model.reset_parameters()
    assert model.w_out.abs().max() <= 1 / math.sqrt(11)  # nn.Linear(L -> E)'s weight init


def test_overfits_a_tiny_batch() -> None:
    torch.manual_seed(0)
    batch = make_batch(n_atoms=(2, 3, 5, 4))
    model = Mat2Spec(dims_of(batch), replace(TINY, dropout=0.0))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    target = target_of(batch)
    first = None
    for _ in range(40):
        terms = model.training_loss(batch, target)
        opt.zero_grad()
        terms["loss"].backward()
        opt.step()
        first = first if first is not None else {k: float(v.detach()) for k, v in terms.items()}
    last = {k: float(v.detach()) for k, v in model.training_loss(batch, target).items()}
    assert last["loss"] < 0.5 * first["loss"] and last["nll_x"] < first["nll_x"]
