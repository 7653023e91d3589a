from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.mlc.arff import read_mulan
from seqstruct.mlc.binary_relevance import BinaryRelevance
from seqstruct.mlc.synthetic import SyntheticMlc, draw, write_synthetic_mulan


@pytest.mark.parametrize("sparse", [False, True])
def test_written_files_read_back_as_drawn(tmp_path: Path, sparse: bool) -> None:
    settings = SyntheticMlc(n_train=40, n_test=10, sparse=sparse, seed=2)
    paths = write_synthetic_mulan(tmp_path, "toy", settings)
    train, test = read_mulan(paths["train"], paths["test"], paths["xml"])
    features, labels = draw(settings)
    assert (train.n_samples, test.n_samples, train.n_labels, train.n_features) == (40, 10, 8, 20)
    assert sp.issparse(train.features) == sparse
    got = np.concatenate([np.asarray(sp.csr_matrix(d.features).todense()) for d in (train, test)])
    np.testing.assert_allclose(got, features, rtol=1e-5, atol=1e-5)
    assert np.array_equal(np.concatenate([train.labels, test.labels]), labels)


def test_deterministic_and_learnable() -> None:
    settings = SyntheticMlc()
    x, y = draw(settings)
    x2, y2 = draw(settings)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(y, draw(SyntheticMlc(seed=1))[1])
    assert 0.1 < y.mean() < 0.5  # every label is on for 15-40% of the samples
    model = BinaryRelevance().fit(x[:300], y[:300])
    assert multilabel_metrics(y[300:], model.predict_proba(x[300:]))["mi_f1"] > 0.6  # the features carry the labels
