import numpy as np
import pytest
import scipy.sparse as sp

from seqstruct.mlc.mlknn import MLkNN

X = np.array([[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]])
Y = np.array([[1, 0], [1, 0], [1, 1], [0, 0], [0, 0], [0, 1]])


def test_hand_computed_case() -> None:
    """k = 2, s = 1: label 0 is carried by the three left points, whose 2 neighbours (self excluded) carry it."""
    model = MLkNN(k=2, s=1.0).fit(X, Y)
    assert model.prior[0] == pytest.approx((1 + 3) / (2 + 6))
    # label 0: counts among carriers [0, 0, 3] -> (1 + h) / (3 + 3); among the others [3, 0, 0]
    np.testing.assert_allclose(model.like1[0], [1 / 6, 1 / 6, 4 / 6])
    np.testing.assert_allclose(model.like0[0], [4 / 6, 1 / 6, 1 / 6])
    proba = model.predict_proba(np.array([[1.5], [7.0], [6.2]]))
    # two / zero / one of the 2 neighbours carry label 0: posteriors 0.8, 0.2 and 0.5
    np.testing.assert_allclose(proba[:, 0], [0.8, 0.2, 0.5])
    np.testing.assert_array_equal(model.predict(np.array([[1.5], [7.0]]))[:, 0], [1, 0])


def test_sparse_features_give_the_same_scores() -> None:
    dense = MLkNN(k=2).fit(X, Y).predict_proba(X + 0.3)
    sparse = MLkNN(k=2).fit(sp.csr_matrix(X), Y).predict_proba(sp.csr_matrix(X + 0.3))
    np.testing.assert_allclose(dense, sparse)


def test_duplicate_points_exclude_only_the_sample_itself() -> None:
    x = np.array([[0.0], [0.0], [5.0], [9.0]])
    y = np.array([[1], [0], [1], [0]])
    model = MLkNN(k=1, s=1.0).fit(x, y)
    # neighbours with the sample itself left out: 0 -> 1 (its duplicate), 1 -> 0, 2 -> 3, 3 -> 2; so both carriers
    # (0, 2) have 0 neighbours with the label and both others (1, 3) have 1
    back = lambda like: (like * (1 * 2 + 2) - 1).round().tolist()  # noqa: E731 (the histogram from the smoothing)
    assert back(model.like1[0]) == [2.0, 0.0] and back(model.like0[0]) == [0.0, 2.0]


def test_bad_k_raises() -> None:
    with pytest.raises(ValueError, match="k must be in 1..5"):
        MLkNN(k=6).fit(X, Y)
