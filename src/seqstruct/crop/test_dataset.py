import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from seqstruct.crop.conftest import tiny_prepared
from seqstruct.crop.dataset import Split, make_tensors, masked_after_week
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


def test_masking_replaces_late_weeks_of_one_year_with_county_training_means() -> None:
    data = make_tensors(tiny_prepared(), Split(2003))
    t = data.year_index(2003)
    train = data.years < 2002
    expected_fill = data.weekly[:, torch.as_tensor(train)].mean(dim=1)  # (N, C, W) county means, train years
    torch.testing.assert_close(data.weekly_fill, expected_fill)
    before = data.weekly.clone()
    with masked_after_week(data, 2003, 22) as masked:
        assert masked is data
        torch.testing.assert_close(data.weekly[:, t, :, 22:], expected_fill[:, :, 22:])  # weeks 23..52
        torch.testing.assert_close(data.weekly[:, t, :, :22], before[:, t, :, :22])  # weeks 1..22 kept
        others = [i for i in range(len(data.years)) if i != t]
        torch.testing.assert_close(data.weekly[:, others], before[:, others])  # earlier years untouched
        assert not torch.equal(data.weekly[:, t], before[:, t])
    assert torch.equal(data.weekly, before)  # restored
    with masked_after_week(data, 2003, 52):
        assert torch.equal(data.weekly, before)  # week 52: nothing left to mask
    with pytest.raises(ValueError, match="mask week 53 outside 0..52"), masked_after_week(data, 2003, 53):
        pass


def test_early_mask_covers_the_weekly_extras_only_when_asked() -> None:
    data = make_tensors(tiny_prepared(), Split(2003))
    t = data.year_index(2003)
    assert data.extra_vars == ("e0", "e1", "prev_year_yield") and list(data.extra_week) == [0, 30, 0]
    extra = data.extra.clone()
    with masked_after_week(data, 2003, 22):  # the thesis: weather only
        assert torch.equal(data.extra, extra)
    with masked_after_week(data, 2003, 22, ("weather", "planting")):
        assert data.extra[:, t, 1].tolist() == data.extra_fill[:, 1].tolist()  # e1 is week 30 > 22: masked
        assert torch.equal(data.extra[:, t, [0, 2]], extra[:, t, [0, 2]])  # not weekly: kept
        assert torch.equal(data.extra[:, :t], extra[:, :t])
    with masked_after_week(data, 2003, 30, ("planting",)):  # week 30 is known by week 30
        assert torch.equal(data.extra, extra)
        assert not torch.equal(data.weekly[:, t, :, 30:], data.weekly_fill[:, :, 30:])  # weather not masked
    assert torch.equal(data.extra, extra)
    with pytest.raises(ValueError, match="unknown early-prediction mask"), masked_after_week(data, 2003, 5, ("soil",)):
        pass
