import numpy as np
import pytest
from numpy.testing import assert_allclose

from seqstruct.common.metrics import bias, pearson, r2, regression_metrics, rmse


def test_known_values() -> None:
    t = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.0, 2.0, 3.0, 6.0])
    assert_allclose(rmse(t, p), 1.0)
    assert_allclose(rmse(t, p, scale=2.0), 0.5)
    assert_allclose(r2(t, p), 1 - 4 / 5)
    assert_allclose(pearson(t, p), np.corrcoef(t, p)[0, 1])
    assert_allclose(bias(t, p), 0.5)
    assert_allclose(bias(t, p - 1.0, scale=2.0), -0.25)


def test_nan_targets_are_dropped_not_imputed() -> None:
    t = np.array([1.0, np.nan, 3.0])
    p = np.array([1.0, 100.0, 2.0])
    m = regression_metrics(t, p)
    assert m["n"] == 2
    assert_allclose(m["rmse"], np.sqrt(0.5))


def test_constant_prediction_gives_zero_corr() -> None:
    assert pearson(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])) == 0.0


def test_r2_is_invariant_to_affine_standardisation() -> None:
    rng = np.random.default_rng(0)
    t, p = rng.normal(size=50), rng.normal(size=50)
    assert_allclose(r2(t, p), r2(3 * t + 7, 3 * p + 7))


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="shape mismatch"):
        rmse(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="NaN/inf"):
        rmse(np.ones(2), np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="no non-NaN"):
        rmse(np.array([np.nan]), np.array([1.0]))


def test_directions_cover_every_metric_and_are_joined() -> None:
    from seqstruct.common.metrics import DIRECTIONS, direction

    m = regression_metrics(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 2.0]))
    assert set(m) <= set(DIRECTIONS)
    assert direction("rmse") == "lower" and direction("r2") == "higher"
    with pytest.raises(KeyError, match="no direction"):
        direction("nope")
