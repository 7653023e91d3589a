import numpy as np
import pytest
from sklearn.metrics import f1_score, hamming_loss

from seqstruct.common.metrics import DIRECTIONS, direction
from seqstruct.common.metrics.multilabel import (
    THRESHOLDS,
    choose_threshold,
    example_f1,
    hamming_accuracy,
    macro_f1,
    micro_f1,
    multilabel_metrics,
    precision_at_k,
)

#: 4 samples x 3 labels; sample 3 has no true and no predicted label, label 2 is never true nor predicted
Y = np.array([[1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 0]])
P = np.array([[1, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0]])


def test_hand_computed_values() -> None:
    # per sample F1: 2/3, 2/3, 1, (dropped)
    assert example_f1(Y, P) == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    # tp 3, fp 1, fn 1
    assert micro_f1(Y, P) == pytest.approx(6 / 8)
    # label 0: 2tp=4 / (4+0+0) = 1; label 1: tp 1 fp 1 fn 1 -> 2/4; label 2: 0 (kept)
    assert macro_f1(Y, P) == pytest.approx((1 + 0.5 + 0) / 3)
    assert hamming_accuracy(Y, P) == pytest.approx(1 - 2 / 12)


def test_agrees_with_scikit_learn_on_random_matrices() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = (rng.random((30, 7)) < 0.3).astype(int)
        p = (rng.random((30, 7)) < 0.3).astype(int)
        y[:, 0] = p[:, 0] = 0  # an empty class: macro-F1 keeps it as 0 (zero_division=0)
        keep = (y.sum(1) + p.sum(1)) > 0  # example-F1 leaves out samples without true and predicted labels
        assert example_f1(y, p) == pytest.approx(f1_score(y[keep], p[keep], average="samples", zero_division=0))
        assert micro_f1(y, p) == pytest.approx(f1_score(y, p, average="micro", zero_division=0))
        assert macro_f1(y, p) == pytest.approx(f1_score(y, p, average="macro", zero_division=0))
        assert hamming_accuracy(y, p) == pytest.approx(1 - hamming_loss(y, p))


def test_precision_at_k() -> None:
    scores = np.array([[0.9, 0.8, 0.1], [0.2, 0.7, 0.6], [0.5, 0.5, 0.4], [0.3, 0.2, 0.1]])
    # top-1: label 0 (true), label 1 (true), label 0 on a tie (false), label 0 (no true label: 0)
    assert precision_at_k(Y, scores, 1) == pytest.approx(2 / 4)
    # top-2: {0,1}: 1/2, {1,2}: 1/2, {0,1}: 1/2, 0
    assert precision_at_k(Y, scores, 2) == pytest.approx((0.5 + 0.5 + 0.5 + 0) / 4)
    with pytest.raises(ValueError, match="k must be in 1..3"):
        precision_at_k(Y, scores, 4)


def test_no_nan_for_empty_samples_and_all_empty_cases() -> None:
    empty = np.zeros((3, 4), dtype=int)
    assert micro_f1(empty, empty) == 0.0 and macro_f1(empty, empty) == 0.0
    assert np.isnan(example_f1(empty, empty))  # no sample has an F1: stated, not hidden
    m = multilabel_metrics(Y, np.where(P == 1, 0.9, 0.1))
    assert all(np.isfinite(v) for v in m.values()) and m["n"] == 4 and m["threshold"] == 0.5


def test_threshold_is_chosen_on_the_given_scores_only() -> None:
    scores = np.array([[0.35, 0.1, 0.0], [0.4, 0.3, 0.0], [0.1, 0.45, 0.0], [0.0, 0.0, 0.0]])
    th, value = choose_threshold(Y, scores, "mi_f1")
    # every threshold in (0.1, 0.3] separates true from false scores; the tie goes to the one closest to 0.5
    assert value == pytest.approx(1.0) and th == 0.3
    assert th in THRESHOLDS
    assert multilabel_metrics(Y, scores, th)["mi_f1"] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="thresholded metric"):
        choose_threshold(Y, scores, "p_at_1")


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="only 0 and 1"):
        micro_f1(Y * 2, P)
    with pytest.raises(ValueError, match="shape mismatch"):
        macro_f1(Y, P[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        precision_at_k(Y, np.full(Y.shape, np.nan))


def test_directions() -> None:
    assert {direction(m) for m in ("ex_f1", "mi_f1", "ma_f1", "ha", "p_at_1")} == {"higher"}
    assert DIRECTIONS["n"] == "none"
