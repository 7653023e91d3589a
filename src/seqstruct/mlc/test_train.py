"""One MLC training run end to end on a small synthetic prepared set: every method, the record, the threshold."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from seqstruct.common.metrics import choose_threshold, multilabel_metrics
from seqstruct.mlc.prepare import PREPARED_FILES, load_prepared, prepare_mulan
from seqstruct.mlc.synthetic import SyntheticMlc, write_synthetic_mulan
from seqstruct.mlc.train import DETERMINISTIC, METHODS, SHALLOW, run

SMALL_DEEP = {"epochs": 3, "lr": 2e-3, "scheduler": "none", "batch_size": 64}
PARAMS = {
    "br": {},
    "asl": {**SMALL_DEEP, "hidden": [32]},
    "mlknn": {"k": 5},
    "haram": {},
    "c2ae": {**SMALL_DEEP, "encoder": [32], "label_encoder": [32], "decoder": [32]},
    "lamp": {**SMALL_DEEP, "d_model": 16, "heads": 1, "layers": 1, "encoder": [32]},
    "mpvae": {
        **SMALL_DEEP,
        "latent": 8,
        "encoder": [32],
        "label_encoder": [32],
        "decoder": [32],
        "probit_rank": 4,
        "n_samples": 10,
    },
    "cgmvae": {**SMALL_DEEP, "latent": 8, "embed": 32, "encoder": [32], "label_encoder": [32], "decoder": 32},
}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("mlc")
    files = write_synthetic_mulan(root / "raw", "toy", SyntheticMlc(n_train=240, n_test=60, sparse=True))
    prepare_mulan(files["train"], files["test"], files["xml"], "toy", root / "toy", seed=0)
    return root / "toy"


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_run_records_validation_chosen_threshold_and_test_metrics(
    method: str, prepared: Path, tmp_path: Path
) -> None:
    record = run(method, prepared, 0, PARAMS[method], tmp_path / "run")
    on_disk = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert on_disk["method"] == METHODS[method] and on_disk["dataset"] == "toy"
    data = load_prepared(prepared)
    assert (data.part("train")[1].sum(1) == 0).any()  # samples without a positive label: no NaN from them
    y_va, y_te = data.part("val")[1], data.part("test")[1]
    saved = np.load(tmp_path / "run" / "scores.npz")
    assert saved["scores"].shape == y_te.shape and np.array_equal(saved["rows"], data.split["test"])
    assert np.isfinite(saved["scores"]).all() and ((saved["scores"] >= 0) & (saved["scores"] <= 1)).all()
    # the test metrics are those of the saved scores at the threshold chosen on validation, never on test
    th = record["threshold"]
    assert record["val"]["threshold"] == th == record["test"]["threshold"]
    expected = multilabel_metrics(y_te, saved["scores"], th)
    assert record["test"]["mi_f1"] == pytest.approx(expected["mi_f1"], abs=1e-6)
    assert record["test_at_half"]["threshold"] == 0.5
    assert set(record["provenance"]["inputs"]) == {str(prepared / n) for n in PREPARED_FILES}
    if method in DETERMINISTIC:  # the validation scores can be recomputed
        assert record["val"]["mi_f1"] == pytest.approx(choose_threshold(y_va, _val_scores(method, data), "mi_f1")[1])
    else:
        assert record["epochs_run"] == 3 and 1 <= record["best_epoch"] <= 3
        assert all(np.isfinite(h["train_loss"]) and np.isfinite(h["val_score"]) for h in record["history"])
    assert record["test"]["mi_f1"] > 0.3  # the planted label structure is learnable


def _val_scores(method: str, data) -> np.ndarray:
    model = SHALLOW[method](**PARAMS[method])
    return model.fit(*data.part("train")).predict_proba(data.part("val")[0])


def test_an_unknown_setting_names_the_valid_ones(prepared: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown model settings \\['hiden'\\]"):
        run("cgmvae", prepared, 0, {"hiden": 3}, tmp_path / "run")
    with pytest.raises(ValueError, match="unknown model settings \\['hidden'\\]"):
        run("mlknn", prepared, 0, {"hidden": [3]}, tmp_path / "run")
    with pytest.raises(ValueError, match="unknown MLC method 'svm'"):
        run("svm", prepared, 0, {}, tmp_path / "run")


def test_check_params_refuses_what_run_would_refuse() -> None:
    from seqstruct.mlc.train import check_params

    check_params("cgmvae", {"epochs": 2, "lr": 1e-3, "embed": 8, "batch_size": 4})
    check_params("br", {"c": 0.5})
    with pytest.raises(ValueError, match="hiden"):
        check_params("asl", {"hiden": [3]})
    with pytest.raises(ValueError, match="unknown MLC method"):
        check_params("svm", {})


def test_schema_names_exactly_the_methods_of_the_code() -> None:
    """The mlc schema's method enum is seqstruct.mlc.train.METHODS (the one list the code has)."""
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[3] / "workflow/schemas/mlc.schema.yaml").read_text())
    assert schema["$defs"]["method"]["enum"] == list(METHODS)


def test_train_fraction_uses_the_same_nested_subset_for_every_run(prepared: Path, tmp_path: Path) -> None:
    from seqstruct.mlc.train import training_subset

    data = load_prepared(prepared)
    half, tenth = training_subset(data, 0.5).split["train"], training_subset(data, 0.1).split["train"]
    assert len(half) == round(0.5 * len(data.split["train"])) and set(tenth) <= set(half) <= set(data.split["train"])
    assert np.array_equal(training_subset(data, 0.5).split["val"], data.split["val"])
    record = run("br", prepared, 0, {"train_fraction": 0.5}, tmp_path / "run")
    assert record["data_pct"] == 50 and record["test"]["n"] == len(data.split["test"])
    with pytest.raises(ValueError, match="train_fraction"):
        run("br", prepared, 0, {"train_fraction": 0}, tmp_path / "bad")
