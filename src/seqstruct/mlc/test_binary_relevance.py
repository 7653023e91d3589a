import numpy as np
import scipy.sparse as sp

from seqstruct.mlc.binary_relevance import BinaryRelevance


def test_each_label_is_learnt_on_its_own_and_constant_labels_score_constantly() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0, np.zeros(200, bool), np.ones(200, bool)], axis=1).astype(int)
    model = BinaryRelevance(c=10.0).fit(x, y)
    scores = model.predict_proba(x)
    assert scores.shape == (200, 4)
    assert ((scores[:, :2] > 0.5) == y[:, :2].astype(bool)).mean() > 0.95
    assert (scores[:, 2] == 0).all() and (scores[:, 3] == 1).all()
    np.testing.assert_allclose(
        BinaryRelevance(c=10.0).fit(sp.csr_matrix(x), y).predict_proba(sp.csr_matrix(x)), scores, atol=1e-5
    )
