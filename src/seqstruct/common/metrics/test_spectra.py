"""Spectrum metrics on hand-computed examples and against scikit-learn / scipy."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import wasserstein_distance
from sklearn.metrics import r2_score

from seqstruct.common.metrics import direction
from seqstruct.common.metrics.spectra import WD_UNIT, spectrum_metrics


def test_hand_computed_two_spectra() -> None:
    # both truths sum to 2 (so their normalised middle values are equal); prediction shapes already normalised
    y = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    q = np.array([[0.5, 0.25, 0.25], [0.0, 0.5, 0.5]])
    m = spectrum_metrics(y, q)
    p = np.array([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])  # the truth normalised (up to 1e-10)
    # normalised space: |q - p| = [0, .25, .25, 0, 0, 0] -> MAE 0.5/6, MSE 0.125/6
    assert_allclose(m["mae"], 0.5 / 6, rtol=1e-8)
    assert_allclose(m["mse"], 0.125 / 6, rtol=1e-8)
    # original space: the prediction times the true sum 2: [1, .5, .5] vs [1, 1, 0], second row exact
    assert_allclose(m["mae_ori"], 1.0 / 6, rtol=1e-8)
    assert_allclose(m["mse_ori"], 0.5 / 6, rtol=1e-8)
    # WD row 1: cumsums q [.5, .75, 1], p [.5, 1, 1] -> |diff| sum .25; row 2 exact -> mean .125 (x unit)
    assert_allclose(m["wd"], 0.125 * WD_UNIT, rtol=1e-8)
    # R²: per-position means of p are [.25, .5, .25]; SS_tot = [.125, 0, .125]; SS_res = [0, .0625, .0625]; the
    # middle position has no variance, so no weight: 1 - .0625 / .25
    assert_allclose(m["r2"], 0.75, rtol=1e-8)
    assert_allclose(m["r2"], r2_score(p, q, multioutput="variance_weighted"), rtol=1e-8)


def test_agrees_with_scikit_learn_and_scipy_on_random_spectra() -> None:
    rng = np.random.default_rng(0)
    y = rng.gamma(0.5, size=(40, 51)) * rng.uniform(0.5, 3, size=(40, 1))
    q = rng.dirichlet(np.ones(51), size=40)
    m = spectrum_metrics(y, q)
    p = y / (y.sum(axis=1, keepdims=True) + 1e-10)
    ori = q * y.sum(axis=1, keepdims=True)
    assert_allclose(m["r2"], r2_score(p, q, multioutput="variance_weighted"), rtol=1e-9)
    assert_allclose(m["r2_ori"], r2_score(y, ori, multioutput="variance_weighted"), rtol=1e-9)
    grid = np.arange(51)
    wd = np.mean([wasserstein_distance(grid, grid, q[i], p[i]) for i in range(40)]) * WD_UNIT
    assert_allclose(m["wd"], wd, rtol=1e-9)
    kl = np.mean((p * (np.log(p + 1e-10) - np.log(q + 1e-10))).sum(axis=1))
    assert_allclose(m["kl"], kl, rtol=1e-9)


def test_prediction_is_renormalised_and_perfect_prediction_scores_perfectly() -> None:
    rng = np.random.default_rng(1)
    y = rng.uniform(0, 1, size=(5, 8))
    m = spectrum_metrics(y, 7 * y)  # any scale of the right shape
    assert_allclose([m["mae"], m["mse"], m["wd"], m["mae_ori"], m["mse_ori"]], 0, atol=1e-9)
    assert_allclose([m["r2"], m["r2_ori"]], 1, atol=1e-9)
    assert abs(m["kl"]) < 1e-8


@pytest.mark.parametrize(
    ("y", "q", "match"),
    [
        (np.ones((2, 3)), np.ones((2, 4)), "one shape"),
        (np.ones(3), np.ones(3), "one shape"),
        (np.array([[1.0, np.nan]]), np.ones((1, 2)), "NaN"),
        (np.array([[1.0, -1.0]]), np.ones((1, 2)), "non-negative"),
        (np.zeros((1, 2)), np.ones((1, 2)), "positive sum"),
        (np.ones((1, 2)), np.zeros((1, 2)), "positive sum"),
    ],
)
def test_bad_inputs_raise(y: np.ndarray, q: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        spectrum_metrics(y, q)


def test_directions() -> None:
    assert direction("wd") == "lower" and direction("r2_ori") == "higher" and direction("mse_ori") == "lower"
