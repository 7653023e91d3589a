import torch

from seqstruct.mlc.cgmvae import CGMVAE, CGMVAEConfig, mixture_kl
from seqstruct.mlc.conftest import fit_on_synthetic

TINY = CGMVAEConfig(latent=4, embed=16, encoder=(8, 8), label_encoder=(8,), decoder=8, dropout=0.1)


def _batch(b: int = 6, f: int = 5, n_labels: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(b, f, generator=g)
    y = (torch.rand(b, n_labels, generator=g) < 0.5).float()
    y[0] = 0  # a sample without a positive label
    y[1, 0] = 1
    return x, y


def test_shapes_and_a_finite_loss_with_an_empty_sample() -> None:
    torch.manual_seed(0)
    model = CGMVAE(5, 3, TINY)
    x, y = _batch()
    terms = model.loss(x, y)
    assert set(terms) == {"loss", "nll", "kl", "con"} and all(torch.isfinite(v) for v in terms.values())
    terms["loss"].backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    model.eval()
    assert model(x).shape == (6, 3) and torch.equal(model(x), model(x))  # eval: the mean, deterministic
    mu, logvar = model.label_gaussians()
    assert mu.shape == logvar.shape == (3, 4)


def test_a_batch_without_any_positive_label_gives_no_nan() -> None:
    model = CGMVAE(5, 3, TINY)
    x, _ = _batch()
    terms = model.loss(x, torch.zeros(6, 3))
    assert terms["kl"] == 0 and terms["con"] == 0 and torch.isfinite(terms["loss"])


def test_mixture_kl_is_zero_when_the_mixture_is_q_itself() -> None:
    mu, logvar = torch.randn(4, 3), torch.randn(4, 3) * 0.3
    z0 = mu + torch.randn(4, 3) * (0.5 * logvar).exp()
    # every sample's mixture: two components, both equal to its own q (so the mixture is q)
    y = torch.tensor(
        [[1, 0, 0, 0, 1, 0, 0, 0], [0, 1, 0, 0, 0, 1, 0, 0], [0, 0, 1, 0, 0, 0, 1, 0], [0, 0, 0, 1, 0, 0, 0, 1]]
    )
    kl = mixture_kl(z0, mu, logvar, torch.cat([mu, mu]), torch.cat([logvar, logvar]), y)
    torch.testing.assert_close(kl, torch.zeros(4), atol=1e-5, rtol=0)


def test_mixture_kl_averages_to_the_analytic_kl_for_one_component() -> None:
    torch.manual_seed(0)
    mu_q, logvar_q = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.2, -0.4]])
    mu_p, logvar_p = torch.tensor([[0.0, 0.0]]), torch.tensor([[0.0, 0.3]])
    n = 200_000
    z0 = mu_q + torch.randn(n, 2) * (0.5 * logvar_q).exp()
    kl = mixture_kl(z0, mu_q.expand(n, 2), logvar_q.expand(n, 2), mu_p, logvar_p, torch.ones(n, 1)).mean()
    var_q, var_p = logvar_q.exp(), logvar_p.exp()
    analytic = 0.5 * (logvar_p - logvar_q + (var_q + (mu_q - mu_p) ** 2) / var_p - 1).sum()
    assert abs(kl.item() - analytic.item()) < 0.02


def test_reset_parameters_redraws_every_parameter_deterministically() -> None:
    torch.manual_seed(0)
    model = CGMVAE(5, 3, TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    model.reset_parameters()
    first = {k: v.clone() for k, v in model.state_dict().items()}
    assert all(not torch.equal(before[k], first[k]) for k in before)
    torch.manual_seed(1)
    model.reset_parameters()
    assert all(torch.equal(first[k], v) for k, v in model.state_dict().items())


def test_learns_the_synthetic_labels_with_the_shared_trainer() -> None:
    """A short run of the shared trainer on the synthetic set: the label structure is found (validation only)."""
    cfg = CGMVAEConfig(latent=8, embed=32, encoder=(32, 32), label_encoder=(32,), decoder=32, dropout=0.1)
    fit, _ = fit_on_synthetic(lambda f, n: CGMVAE(f, n, cfg), lambda m, x: torch.sigmoid(m(x)))
    assert fit.best_score > 0.7 and {"train_nll", "train_kl", "train_con"} <= set(fit.history[-1])
