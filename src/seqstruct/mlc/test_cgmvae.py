import math
from collections.abc import Iterator
from dataclasses import replace

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from seqstruct.mlc.cgmvae import CGMVAE, CORRELATIONS, PRIORS, CGMVAEConfig, mixture_kl
from seqstruct.mlc.conftest import fit_on_synthetic
from seqstruct.mlc.label_graph import cooccurrence_adjacency
from seqstruct.mlc.probit import probit_draws

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


# ---- ablations (Tables 2.12, 2.14) and the label embeddings of Figure 2.19 ----

VARIANTS = [(p, c) for p in PRIORS for c in CORRELATIONS]


def _variant(prior: str, correlation: str, y_graph: torch.Tensor | None = None, **kw: float) -> CGMVAE:
    cfg = replace(TINY, prior=prior, correlation=correlation, probit_rank=2, n_samples=5, **kw)
    model = CGMVAE(5, 3, cfg)
    model.set_label_graph(_batch()[1] if y_graph is None else y_graph)
    return model


@pytest.mark.parametrize(("prior", "correlation"), VARIANTS)
def test_every_variant_gives_shapes_and_finite_terms_with_empty_samples(prior: str, correlation: str) -> None:
    torch.manual_seed(0)
    model = _variant(prior, correlation)
    x, y = _batch()  # row 0 without a positive label
    for labels in (y, torch.zeros_like(y)):
        terms = model.loss(x, labels)
        assert set(terms) == {"loss", "nll", "kl", "con"} and all(torch.isfinite(v) for v in terms.values())
        model.zero_grad()
        terms["loss"].backward()
        assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())
    assert terms["kl"] == 0 and terms["con"] == 0  # the batch without any positive label
    if correlation != "contrastive":
        assert model.loss(x, y)["con"] == 0
    model.eval()
    assert model(x).shape == (6, 3) and torch.isfinite(model(x)).all()
    assert model.label_embeddings().shape == (3, TINY.embed)


def test_single_prior_kl_is_the_analytic_kl_to_the_mean_embedding_gaussian() -> None:
    torch.manual_seed(0)
    model = CGMVAE(5, 3, replace(TINY, dropout=0.0, prior="single"))
    x = torch.randn(3, 5)
    y = torch.tensor([[1.0, 0, 1], [0, 0, 0], [0, 1, 0]])  # row 1: no positive label, left out of the KL
    with torch.no_grad():
        mu_x, logvar_x = model.enc_out(model.encoder(x)).chunk(2, dim=-1)
        e = torch.relu(model.lookup.weight.T + model.lookup.bias)  # (3, E) label embeddings
        e_mean = torch.stack([(e[0] + e[2]) / 2, e[1]])  # rows 0 and 2
        mu_y, logvar_y = model.label_out(model.label_encoder(e_mean)).chunk(2, dim=-1)
        q = Normal(mu_x[[0, 2]], (0.5 * logvar_x[[0, 2]]).exp())
        p = Normal(mu_y, (0.5 * logvar_y).exp())
        expected = kl_divergence(q, p).sum(-1).mean()
        torch.testing.assert_close(model.loss(x, y)["kl"], expected)


def test_gm_only_ignores_tau_and_contrastive_only_drops_the_kl() -> None:
    x, y = _batch()
    model = CGMVAE(5, 3, TINY)

    def terms(cfg: CGMVAEConfig) -> dict[str, torch.Tensor]:
        model.cfg = cfg
        torch.manual_seed(3)
        return model.loss(x, y)

    gm_only = [terms(replace(TINY, c_coeff=0.0, tau=tau)) for tau in (0.1, 1.0, 5.0)]
    assert gm_only[0]["con"] != gm_only[2]["con"]  # tau changes the (reported) contrastive term...
    assert all(torch.equal(t["loss"], gm_only[0]["loss"]) for t in gm_only)  # ...but not the loss
    t = terms(replace(TINY, kl_coeff=0.0))
    assert t["kl"] != 0  # a single-sample estimate: nonzero, may be negative
    torch.testing.assert_close(t["loss"], TINY.nll_coeff * t["nll"] + TINY.c_coeff * t["con"])


def test_cooccurrence_adjacency_by_hand() -> None:
    # labels 0-1 and 1-2 co-occur, 0-2 never: A + I = [[1,1,0],[1,1,1],[0,1,1]], degrees 2, 3, 2
    y = torch.tensor([[1, 1, 0], [0, 1, 1], [1, 0, 0], [0, 0, 0]])
    s = 1 / math.sqrt(6)
    expected = torch.tensor([[1 / 2, s, 0], [s, 1 / 3, s], [0, s, 1 / 2]])
    torch.testing.assert_close(cooccurrence_adjacency(y), expected)
    model = CGMVAE(5, 3, replace(TINY, correlation="gnn"))
    model.set_label_graph(y)
    torch.testing.assert_close(model.label_adj, expected)
    assert torch.equal(cooccurrence_adjacency(torch.zeros(2, 3)), torch.eye(3))  # no co-occurrence: self-loops


def test_gnn_needs_the_label_graph_and_it_survives_a_state_dict_round_trip() -> None:
    cfg = replace(TINY, correlation="gnn")
    model = CGMVAE(5, 3, cfg)
    x, y = _batch()
    with pytest.raises(RuntimeError, match="set_label_graph"):
        model.loss(x, y)
    with pytest.raises(RuntimeError, match="set_label_graph"):
        model(x)
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        model.set_label_graph(torch.ones(4, 2))
    model.set_label_graph(y)
    restored = CGMVAE(5, 3, cfg)
    restored.load_state_dict(model.state_dict())
    assert torch.isfinite(restored.loss(x, y)["loss"])


def test_label_embeddings_are_the_classifier_weights() -> None:
    x, _ = _batch()
    for correlation in ("contrastive", "gnn"):
        model = _variant("mixture", correlation).eval()
        h = model.label_embeddings()
        assert h.shape == (3, TINY.embed)
        assert torch.equal(h, model.lookup.weight.T) == (correlation == "contrastive")  # refined by the GNN
        mu_x = model.enc_out(model.encoder(x)).chunk(2, dim=-1)[0]
        w = torch.nn.functional.normalize(model.decoder(torch.cat([x, mu_x], dim=-1)), dim=-1)
        torch.testing.assert_close(model(x), w @ h.T)


def test_covariance_forward_is_the_logit_of_the_mean_probit_probability() -> None:
    torch.manual_seed(0)
    model = _variant("mixture", "covariance").eval()
    x, _ = _batch()
    torch.manual_seed(1)
    out = model(x)
    p = torch.sigmoid(out)
    assert out.shape == (6, 3) and ((p > 0) & (p < 1)).all()
    torch.manual_seed(1)
    mu_x = model.enc_out(model.encoder(x)).chunk(2, dim=-1)[0]
    logits = model.decode(x, mu_x)[0]
    torch.testing.assert_close(p, probit_draws(logits, model.r, 5).mean(0))
    torch.manual_seed(1)
    assert torch.sigmoid(model(x * 1e4)).max() < 1  # saturated probabilities stay clamped below 1


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Tiny tensors gain nothing from threads, and a loaded machine makes the thread pool spin (10x slower)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.parametrize(("prior", "correlation"), VARIANTS)
@pytest.mark.usefixtures("one_thread")
def test_every_variant_decreases_its_loss(prior: str, correlation: str) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(32, 5, generator=g)
    y = (x[:, :3] + 0.3 * torch.randn(32, 3, generator=g) > 0).float()
    torch.manual_seed(0)
    model = _variant(prior, correlation, y_graph=y, dropout=0.0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(50):
        opt.zero_grad()
        loss = model.loss(x, y)["loss"]
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.8 * sum(losses[:5])


def test_config_refuses_unknown_variants() -> None:
    with pytest.raises(ValueError, match="mixture.*single"):
        CGMVAEConfig(prior="uni")
    with pytest.raises(ValueError, match="contrastive.*covariance.*gnn.*none"):
        CGMVAEConfig(correlation="crf")
    with pytest.raises(ValueError, match="probit_rank"):
        CGMVAEConfig(probit_rank=0)
