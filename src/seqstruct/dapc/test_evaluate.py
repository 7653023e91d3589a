"""Linear read-outs: pooled R², the held-out and in-sample recovery, lagged forecasting; the linear baselines."""

import numpy as np
import pytest

from seqstruct.dapc.evaluate import fit_linear, forecast_r2, lagged_pairs, pooled_r2, recovery_r2
from seqstruct.dapc.linear import make_linear


def test_pooled_r2_pools_dimensions():
    y = np.array([[0.0, 0.0], [1.0, 10.0], [2.0, 20.0]])
    pred = y.copy()
    pred[:, 0] = 1.0  # first dimension explained not at all (SS 2), second perfectly (SS 200)
    assert pooled_r2(y, pred) == pytest.approx(1 - 2 / 202)
    with pytest.raises(ValueError, match="constant"):
        pooled_r2(np.ones((3, 1)), np.ones((3, 1)))


def test_a_linear_map_of_the_state_is_recovered_exactly():
    rng = np.random.default_rng(0)
    state = rng.normal(size=(400, 3))
    z = state @ rng.normal(size=(3, 5)) + 2.0
    out = recovery_r2(z, state, in_sample_frames=100)
    assert out["r2"] == pytest.approx(1.0) and out["r2_in_sample"] == pytest.approx(1.0)


def test_held_out_r2_punishes_overfitting_that_in_sample_rewards():
    rng = np.random.default_rng(1)
    state, z = rng.normal(size=(200, 3)), rng.normal(size=(200, 40))  # unrelated
    out = recovery_r2(z, state, in_sample_frames=60)
    assert out["r2_in_sample"] > 0.3 and out["r2"] < 0.0


def test_forecast_uses_the_lagged_target():
    t = np.arange(600, dtype=float)
    y = np.sin(t / 10)[:, None]
    z = np.c_[np.sin(t / 10), np.cos(t / 10)]
    assert forecast_r2(z[:400], y[:400], z[400:], y[400:], lag=5) == pytest.approx(1.0, abs=1e-9)
    zz, yy = lagged_pairs(z, y, 3)
    assert np.array_equal(yy, y[3:]) and np.array_equal(zz, z[:-3])
    with pytest.raises(ValueError, match="lag"):
        lagged_pairs(z[:3], y[:3], 3)


def test_fit_linear_refuses_non_finite_latents():
    with pytest.raises(ValueError, match="non-finite"):
        fit_linear(np.array([[np.nan], [1.0]]), np.ones((2, 1)))


@pytest.mark.parametrize("name", ["sfa", "dca"])
def test_slow_and_predictable_baselines_find_a_slow_signal(name):
    rng = np.random.default_rng(0)
    t = np.arange(3000)
    slow = np.sin(t / 100)
    x = np.c_[slow, rng.normal(size=(3000, 4))] @ rng.normal(size=(5, 5))
    z = make_linear(name, 1, T=3, seed=0).fit(x).transform(x)
    assert z.shape == (3000, 1) and abs(np.corrcoef(z[:, 0], slow)[0, 1]) > 0.99


def test_unknown_linear_model():
    with pytest.raises(ValueError, match="unknown linear model"):
        make_linear("ica", 3)
