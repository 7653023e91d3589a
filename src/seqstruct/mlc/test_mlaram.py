import numpy as np
import pytest
import scipy.sparse as sp

from seqstruct.mlc.mlaram import HARAM, MLARAM

# 5 samples, 2 features; both features have train minimum 0 and maximum 10, so x_norm = x / 10
X = np.array([[0.0, 0.0], [2.0, 1.0], [10.0, 10.0], [6.0, 8.0], [9.0, 10.0]])
Y = np.array([[1, 0], [1, 0], [0, 1], [1, 0], [0, 1]])


def test_hand_computed_prototypes() -> None:
    """vigilance 0.8; complement code I = [x, 1 - x], |I| = 2, match = |I ∧ w| / 2.

    1. (0, 0)       -> I = [0, 0, 1, 1]: no node yet, node 0 = [0, 0, 1, 1]
    2. (0.2, 0.1)   -> I = [.2, .1, .8, .9]: node 0 overlap [0, 0, .8, .9] = 1.7, match .85 >= .8: fuzzy AND,
                       node 0 = [0, 0, .8, .9] (the box [0, .2] x [0, .1])
    3. (1, 1)       -> labels [0, 1]: no node with these labels, node 1 = [1, 1, 0, 0]
    4. (0.6, 0.8)   -> I = [.6, .8, .4, .2]: node 0 overlap [0, 0, .4, .2] = .6, match .3 < .8: node 2 = I
    5. (0.9, 1)     -> I = [.9, 1, .1, 0]: node 1 overlap [.9, 1, 0, 0] = 1.9, match .95: node 1 = [.9, 1, 0, 0]
    """
    model = MLARAM(vigilance=0.8).fit(X, Y)
    np.testing.assert_allclose(
        model.weights, [[0, 0, 0.8, 0.9], [0.9, 1, 0, 0], [0.6, 0.8, 0.4, 0.2]], rtol=0, atol=1e-12
    )
    np.testing.assert_array_equal(model.node_labels, [[1, 0], [0, 1], [1, 0]])
    np.testing.assert_array_equal(model.feature_min, [0, 0])
    np.testing.assert_array_equal(model.feature_range, [10, 10])
    # vigilance 0.9 refuses sample 2 (match .85): a node per sample of the first label vector, sample 5 still joins
    assert MLARAM(vigilance=0.9).fit(X, Y).n_nodes == 4


def test_hand_computed_scores_and_the_two_selection_rules() -> None:
    """Query (8, 9) -> I = [.8, .9, .2, .1]; T_j = |I ∧ w_j| / (α + |w_j|) with α = 1e-3:

    node 0 [0, 0, .8, .9]:    overlap [0, 0, .2, .1] = .3     T0 = .3 / 1.701 = .17637
    node 1 [.9, 1, 0, 0]:     overlap [.8, .9, 0, 0] = 1.7    T1 = 1.7 / 1.901 = .89427 (the winner)
    node 2 [.6, .8, .4, .2]:  overlap [.6, .8, .2, .1] = 1.7  T2 = 1.7 / 2.001 = .84958
    relative gaps (T1 - Tj) / T1: node 2 .04998, node 0 .80277.
    gap "relative", θ = .02: only node 1 votes -> [0, 1]; θ = .06: node 2 joins -> [T2, T1] / (T1 + T2) =
    [1.901, 2.001] / 3.902. gap "range", θ = .06: the tolerance is .06 (T1 - T0) = .04307 < .04998 -> [0, 1].
    """
    query = np.array([[8.0, 9.0]])
    relative = MLARAM(vigilance=0.8, gap="relative").fit(X, Y)
    np.testing.assert_allclose(relative.predict_proba(query), [[0, 1]])
    both = [[1.901 / 3.902, 2.001 / 3.902]]
    relative.threshold = 0.06  # θ only acts at prediction: it can be changed after fit
    np.testing.assert_allclose(relative.predict_proba(query), both)
    ranged = MLARAM(vigilance=0.8, threshold=0.06).fit(X, Y)  # gap="range" is the default
    np.testing.assert_allclose(ranged.predict_proba(query), [[0, 1]])
    ranged.threshold = 0.1  # .1 (T1 - T0) = .0718 >= .04998
    np.testing.assert_allclose(ranged.predict_proba(query), both)


def test_the_most_active_node_passing_vigilance_learns_and_labels_must_match() -> None:
    """One feature in [0, 10], vigilance 0.3 (match = |I ∧ w| / 1):

    0   -> node A = [0, 1];  10 -> I = [1, 0], overlap with A 0: node B = [1, 0]
    6   -> I = [.6, .4]: A overlap .4 (T = .4 / 1.001), B overlap .6 (T = .6 / 1.001): both pass, B learns: [.6, 0]
    6 with labels [0, 1]: the same features, but no node carries these labels: node C = [.6, .4]
    """
    x = np.array([[0.0], [10.0], [6.0], [6.0]])
    y = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    model = MLARAM(vigilance=0.3).fit(x, y)
    np.testing.assert_allclose(model.weights, [[0, 1], [0.6, 0], [0.6, 0.4]], atol=1e-12)
    np.testing.assert_array_equal(model.node_labels, [[1, 0], [1, 0], [0, 1]])


def test_slow_learning_moves_the_prototype_part_way() -> None:
    """β = .5 on the first case: w <- .5 (I ∧ w) + .5 w.

    sample 2: node 0 = .5 [0, 0, .8, .9] + .5 [0, 0, 1, 1] = [0, 0, .9, .95]; sample 4 still fails (match .3);
    sample 5: node 1 = .5 [.9, 1, 0, 0] + .5 [1, 1, 0, 0] = [.95, 1, 0, 0].
    """
    model = MLARAM(vigilance=0.8, beta=0.5).fit(X, Y)
    np.testing.assert_allclose(model.weights, [[0, 0, 0.9, 0.95], [0.95, 1, 0, 0], [0.6, 0.8, 0.4, 0.2]], atol=1e-12)


def _toy(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated blobs in 4-d with the label sets {0}, {1, 2} and {0, 2}."""
    centres = np.array([[0, 0, 0, 0], [5, 5, 0, 0], [0, 5, 5, 5]], dtype=float)
    sets = np.array([[1, 0, 0], [0, 1, 1], [1, 0, 1]])
    which = rng.integers(0, 3, size=n)
    return centres[which] + rng.normal(scale=0.4, size=(n, 4)), sets[which]


@pytest.mark.parametrize("model", [MLARAM(), MLARAM(gap="relative"), HARAM(n_clusters=1)], ids=repr)
def test_separable_toy_set_is_recovered_with_scores_in_unit_interval(model: MLARAM) -> None:
    rng = np.random.default_rng(0)
    x, y = _toy(rng, 300)
    x_new, y_new = _toy(rng, 100)
    scores = model.fit(x, y).predict_proba(x_new)
    assert scores.shape == (100, 3)
    np.testing.assert_array_equal(scores >= 0.5, y_new.astype(bool))
    far = model.predict_proba(rng.normal(scale=20.0, size=(50, 4)))  # outside the training range: clipped
    assert ((far >= 0) & (far <= 1)).all() and np.isfinite(far).all()


@pytest.mark.parametrize("cls", [MLARAM, HARAM])
def test_sparse_and_dense_input_give_identical_results(cls: type[MLARAM]) -> None:
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(120, 30)) * (rng.random((120, 30)) < 0.2)  # mostly zeros, some negative values
    y = (rng.random((120, 5)) < 0.3).astype(int)
    query = rng.normal(size=(40, 30)) * (rng.random((40, 30)) < 0.2)
    a = cls(vigilance=0.7, threshold=0.05).fit(dense, y)
    b = cls(vigilance=0.7, threshold=0.05).fit(sp.csr_matrix(dense), y)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.predict_proba(query), b.predict_proba(sp.csr_matrix(query)))
    # the sparse shortcut of the activation agrees with the direct |I ∧ w| / (α + |w|)
    code = a._code(query)
    direct = np.minimum(code[:, None, :], a.weights[None]).sum(-1) / (a.alpha + a.weights.sum(1))
    q = sp.csr_matrix(query)
    for i in range(5):
        cols, raw = q.indices[q.indptr[i] : q.indptr[i + 1]], q.data[q.indptr[i] : q.indptr[i + 1]]
        v = np.clip((raw - a.feature_min[cols]) / a.feature_range[cols], 0, 1)
        np.testing.assert_allclose(a._boxes.choice(cols, v, a.alpha), direct[i], rtol=1e-12)


def test_haram_clusters_cover_their_prototypes_and_searching_all_clusters_is_mlaram() -> None:
    rng = np.random.default_rng(2)
    x, y = _toy(rng, 200)
    y = y.copy()
    y[::7, 1] ^= 1  # more label vectors, more prototypes
    flat = MLARAM(vigilance=0.95).fit(x, y)
    tree = HARAM(vigilance=0.95, cluster_vigilance=0.6, n_clusters=10_000).fit(x, y)
    np.testing.assert_array_equal(tree.weights, flat.weights)
    assert 1 < tree.n_clusters_fitted < tree.n_nodes
    for k in range(tree.n_clusters_fitted):  # fast learning: a cluster is the fuzzy AND of its prototypes
        np.testing.assert_array_equal(tree.cluster_weights[k], tree.weights[tree.cluster_of == k].min(0))
    x_new, _ = _toy(rng, 50)
    np.testing.assert_array_equal(tree.predict_proba(x_new), flat.predict_proba(x_new))


def test_training_is_deterministic_in_row_order() -> None:
    rng = np.random.default_rng(3)
    x, y = _toy(rng, 100)
    a, b = MLARAM(vigilance=0.5).fit(x, y), MLARAM(vigilance=0.5).fit(x, y)
    np.testing.assert_array_equal(a.weights, b.weights)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"vigilance": 1.5}, "vigilance"),
        ({"threshold": -0.1}, "threshold"),
        ({"alpha": 0.0}, "alpha"),
        ({"beta": 0.0}, "beta"),
        ({"gap": "other"}, "gap"),
    ],
)
def test_bad_settings_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        MLARAM(**kwargs)


def test_misuse_raises() -> None:
    with pytest.raises(ValueError, match="before fit"):
        MLARAM().predict_proba(X)
    with pytest.raises(ValueError, match="labels must be"):
        MLARAM().fit(X, Y[:3])
    with pytest.raises(ValueError, match="2 columns"):
        MLARAM().fit(X, Y).predict_proba(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="n_clusters"):
        HARAM(n_clusters=0)
