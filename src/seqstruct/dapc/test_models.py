"""DAPC and CPC on tiny tensors: loss terms, gradients, the ablation switches, masks and re-initialisation."""

import pytest
import torch

from seqstruct.dapc.masks import spec_masks
from seqstruct.dapc.models import CPC, DAPC, CpcConfig, DapcConfig, window_kl

TINY = {"d": 3, "hidden": 8, "layers": 1, "dropout": 0.0, "decoder_hidden": 8, "decoder_layers": 1}


def batch(b: int = 3, length: int = 30, dims: int = 6) -> torch.Tensor:
    return torch.randn(b, length, dims, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    "settings, terms",
    [
        ({}, {"pi", "ortho", "recon"}),
        ({"recon": "none"}, {"pi", "ortho"}),
        ({"pi_weight": 0.0}, {"ortho", "recon"}),
        ({"recon": "full", "shift": 1, "alpha": 0.5}, {"pi", "ortho", "recon"}),
        ({"probabilistic": True, "pseudo_frames": 20}, {"pi", "rate", "ortho", "recon"}),
        ({"bidirectional": False, "recon_norm": "sum"}, {"pi", "ortho", "recon"}),
    ],
)
def test_dapc_loss_terms_and_gradients(settings, terms):
    model = DAPC(6, DapcConfig(**TINY, T=2, **settings))
    out = model.loss(batch(), torch.Generator().manual_seed(1))
    assert set(out) == {"loss", *terms}
    assert all(torch.isfinite(v) for v in out.values())
    out["loss"].backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert model.encode(batch()).shape == (3, 30, 3)


def test_unidirectional_encoder_is_causal():
    model = DAPC(6, DapcConfig(**TINY, bidirectional=False)).eval()
    x = batch(1)
    y = x.clone()
    y[:, 20:] += 5.0
    with torch.no_grad():
        assert torch.allclose(model.encode(x)[:, :20], model.encode(y)[:, :20])
        assert not torch.allclose(model.encode(x)[:, 20:], model.encode(y)[:, 20:])


def test_cpc_loss_and_lag_check():
    model = CPC(6, CpcConfig(**{k: v for k, v in TINY.items() if "decoder" not in k}, k=3, negatives=4))
    out = model.loss(batch(), torch.Generator().manual_seed(0))
    assert torch.isfinite(out["loss"]) and out["loss"] > 0
    out["loss"].backward()
    with pytest.raises(ValueError, match="lag k=3"):
        model.loss(batch(length=3))


def test_reset_parameters_restores_the_initial_state():
    torch.manual_seed(0)
    model = DAPC(6, DapcConfig(**TINY, probabilistic=True, pseudo_frames=10))
    model.loss(batch())
    assert bool(model.pseudo_set)
    model.reset_parameters()
    assert not bool(model.pseudo_set) and float(model.pseudo.detach().abs().sum()) == 0.0


def test_window_kl_is_zero_at_the_prior():
    mu, logvar = torch.zeros(2, 10, 2), torch.zeros(2, 10, 2)
    assert float(window_kl(mu, logvar, torch.eye(4), 2)) == pytest.approx(0.0, abs=1e-6)
    assert float(window_kl(mu + 1, logvar, torch.eye(4), 2)) == pytest.approx(2.0, rel=1e-5)  # ½ · 4 · 1²


def test_spec_masks_hide_bands_and_spans_reproducibly():
    a = spec_masks((4, 50, 10), 2, 5, 2, 20, torch.Generator().manual_seed(3))
    b = spec_masks((4, 50, 10), 2, 5, 2, 20, torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and set(a.unique().tolist()) <= {0.0, 1.0}
    hidden = 1 - a
    assert hidden.sum() > 0
    # every hidden entry lies in a fully hidden feature column or a fully hidden frame row of its sequence
    col = hidden.min(1).values.bool()[:, None, :]
    row = hidden.min(2).values.bool()[:, :, None]
    assert torch.equal(hidden.bool(), (col | row) & hidden.bool())
    assert torch.equal(spec_masks((2, 5, 3), 0, 5, 0, 5), torch.ones(2, 5, 3))


def test_config_refuses_bad_values():
    with pytest.raises(ValueError, match="recon"):
        DapcConfig(recon="partial")
    with pytest.raises(ValueError, match="T must"):
        DapcConfig(T=0)
