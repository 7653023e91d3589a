import numpy as np
import pytest
from numpy.testing import assert_allclose

from seqstruct.crop.conftest import tiny_prepared
from seqstruct.crop.dataset import Split, make_tensors
from seqstruct.crop.raw import CropDataError


def test_standardisation_uses_training_years_only() -> None:
    ds = tiny_prepared()
    data = make_tensors(ds, Split(2003))
    train = data.years < 2002
    y_raw = ds["yield"].values[:, train]
    assert_allclose(data.y_mean, np.nanmean(y_raw), rtol=1e-6)
    assert_allclose(data.y_std, np.nanstd(y_raw), rtol=1e-5)
    w = data.weekly.numpy()[:, train][ds["observed"].values[:, train]]
    assert_allclose(w.mean(axis=0), 0, atol=1e-5)
    # changing the test year's yields changes nothing about the standardisation
    ds2 = ds.copy(deep=True)
    ds2["yield"][:, -1] = 1000.0
    assert make_tensors(ds2, Split(2003)).y_mean == data.y_mean


def test_labels_stay_nan_and_prev_year_feature() -> None:
    ds = tiny_prepared()
    data = make_tensors(ds, Split(2003))
    assert np.isnan(data.y[0, 3]) and np.isnan(data.y[4, -1])
    prev = data.extra[:, :, -1].numpy()
    assert (prev == prev[:1]).all()  # the same for every county
    assert prev[0, 0] == 0.0  # first year: training mean
    raw_means = np.nanmean(ds["yield"].values, axis=0)
    z = prev[0, 1:]
    assert np.corrcoef(z, raw_means[:-1])[0, 1] > 0.999  # an affine map of the previous year's mean


def test_years_after_test_year_are_dropped_and_windows() -> None:
    data = make_tensors(tiny_prepared(), Split(2000))
    assert data.years[-1] == 2000 and data.weekly.shape[:2] == (9, 11)
    assert data.train_years(4) == [1994, 1995, 1996, 1997, 1998]
    assert data.window(2000, 5) == slice(6, 11)
    with pytest.raises(ValueError):
        data.window(1992, 5)


def test_missing_validation_year_is_a_clear_error() -> None:
    with pytest.raises(CropDataError, match="year 2010 needed by test year 2011"):
        make_tensors(tiny_prepared(), Split(2011))
