"""The PI estimator: the closed form of a Gaussian AR(1), invariance to an invertible map, the DCA package."""

import math

import numpy as np
import pytest
import torch

from seqstruct.dapc.pi import (
    ar1_covariance,
    ar1_pi,
    orthogonality_penalty,
    pi_from_cov,
    predictive_information,
    stacked_windows,
    window_covariance,
)


def ar1_series(a: float, frames: int, dims: int = 1, seed: int = 0) -> np.ndarray:
    """(frames, dims) independent stationary unit-innovation AR(1) series."""
    rng = np.random.default_rng(seed)
    x = np.zeros((frames, dims))
    x[0] = rng.normal(size=dims) / math.sqrt(1 - a**2)
    for t in range(1, frames):
        x[t] = a * x[t - 1] + rng.normal(size=dims)
    return x


@pytest.mark.parametrize("a", [0.3, 0.8, -0.6])
@pytest.mark.parametrize("T", [1, 4])
def test_exact_covariance_gives_the_closed_form(a, T):
    cov = torch.as_tensor(ar1_covariance(a, 2 * T))
    assert float(pi_from_cov(cov, d=1)) == pytest.approx(ar1_pi(a, T), rel=1e-9)


def test_sample_estimate_approaches_the_closed_form():
    z = torch.as_tensor(ar1_series(0.8, 40000))[None]
    got = float(predictive_information(z, T=4, reg=0.0))
    assert got == pytest.approx(ar1_pi(0.8, 4), rel=0.03)  # 0.511 nats


def test_independent_dimensions_add():
    z = torch.as_tensor(ar1_series(0.7, 40000, dims=3))[None]
    assert float(predictive_information(z, T=2, reg=0.0)) == pytest.approx(3 * ar1_pi(0.7, 2), rel=0.04)


def test_invariant_to_an_invertible_linear_map():
    z = torch.as_tensor(ar1_series(0.6, 5000, dims=3) + 0.3 * np.random.default_rng(1).normal(size=(5000, 3)))
    a = torch.as_tensor(np.random.default_rng(2).normal(size=(3, 3))) + 2 * torch.eye(3, dtype=torch.float64)
    before = predictive_information(z[None], T=3, reg=0.0)
    after = predictive_information((z @ a)[None], T=3, reg=0.0)
    assert float(after) == pytest.approx(float(before), rel=1e-8)


def test_agrees_with_the_dca_package():
    cov_util = pytest.importorskip("dca.cov_util")
    x = ar1_series(0.7, 20000, dims=3) @ np.random.default_rng(3).normal(size=(3, 3))
    T = 4
    ccms = cov_util.calc_cross_cov_mats_from_data(x, 2 * T)  # (2T, d, d) lags 0 .. 2T-1
    theirs = float(cov_util.calc_pi_from_cross_cov_mats(ccms))
    ours = float(predictive_information(torch.as_tensor(x)[None], T=T, reg=0.0))
    assert ours == pytest.approx(theirs, rel=5e-3)


def test_windows_and_covariance_shapes_respect_lengths():
    z = torch.randn(2, 10, 3)
    assert stacked_windows(z, 8).shape == (2 * 3, 24)
    assert stacked_windows(z, 8, torch.tensor([10, 8])).shape == (3 + 1, 24)
    assert window_covariance(z, 8).shape == (24, 24)
    w = stacked_windows(z, 2)
    assert torch.equal(w[0], torch.cat([z[0, 0], z[0, 1]]))  # frame-major


def test_multiscale_adds_the_half_window_term():
    z = torch.as_tensor(ar1_series(0.8, 20000, dims=2))[None]
    plain = predictive_information(z, T=4, reg=0.0)
    both = predictive_information(z, T=4, alpha=0.5, reg=0.0)
    half = predictive_information(z, T=2, reg=0.0)
    assert float(both) == pytest.approx(float(plain + 0.5 * half), rel=1e-3)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="longer than the sequences"):
        stacked_windows(torch.randn(1, 5, 2), 8)
    with pytest.raises(ValueError, match="not 2T frames"):
        pi_from_cov(torch.eye(10), d=3)
    with pytest.raises(ValueError, match="outside"):
        pi_from_cov(torch.eye(12), d=3, T=3)
    with pytest.raises(ValueError, match="AR"):
        ar1_pi(1.0, 2)


def test_orthogonality_penalty_is_zero_for_white_latents_and_has_gradients():
    x = np.random.default_rng(0).normal(size=(1000, 3))
    z = torch.as_tensor(np.linalg.qr(x - x.mean(0))[0] * math.sqrt(999))  # centred, covariance exactly I
    assert float(orthogonality_penalty(z[None])) == pytest.approx(0.0, abs=1e-8)
    y = torch.randn(2, 50, 3, requires_grad=True)
    (predictive_information(y, T=2) + orthogonality_penalty(y)).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0
