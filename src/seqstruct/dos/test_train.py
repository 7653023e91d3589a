"""One DoS training run end to end on tiny synthetic crystals, and the losses on known values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.testing import assert_allclose

from seqstruct.common.io import read_json
from seqstruct.dos.graphs import GraphSettings
from seqstruct.dos.losses import spectrum_loss, target_shape
from seqstruct.dos.prepare import prepare_csv
from seqstruct.dos.synthetic import SyntheticDos, write_synthetic
from seqstruct.dos.train import METHODS, check_params, run

TINY = {
    "xtal2dos": {"d_model": 8, "enc_hidden": 2, "enc_heads": 2, "dec_layers": 1, "dec_heads": 2, "d_ff": 8},
    "rnn": {"d_model": 8, "enc_hidden": 2, "enc_heads": 2, "hidden": 8, "pos_dim": 4},
    "rnn_attn": {"d_model": 8, "enc_hidden": 2, "enc_heads": 2, "hidden": 8, "pos_dim": 4},
    "chunk_rnn_attn": {"d_model": 8, "enc_hidden": 2, "enc_heads": 2, "hidden": 8, "pos_dim": 4},
    "gatgnn": {"hidden": 8, "heads": 2, "head": [8]},
    "mat2spec": {
        "hidden": 8,
        "heads": 2,
        "components": 2,
        "latent": 4,
        "feat_encoder": [8],
        "label_encoder": [8],
        "mix_hidden": 8,
        "decoder": 8,
        "emb": 8,
        "proj": 8,
    },
    "e3nn": {"em": 4, "irreps_hidden": "4x0e + 2x1o", "layers": 1, "radial": [8], "cutoff": 5.0},
}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("dos")
    write_synthetic(tmp / "phdos.csv", SyntheticDos(n_materials=30, max_atoms=4, n_points=11))
    prepare_csv(tmp / "phdos.csv", tmp / "prep", "phdos", GraphSettings(cutoff=5.0, max_neighbors=6, n_gaussians=9))
    return tmp / "prep"


def test_losses_on_known_values() -> None:
    p = target_shape(torch.tensor([[1.0, 1.0, 2.0]]))
    assert_allclose(p.numpy(), [[0.25, 0.25, 0.5]], rtol=1e-6)
    logits = torch.log(torch.tensor([[0.5, 0.25, 0.25]]))
    kl = 0.25 * np.log(0.25 / 0.5) + 0.25 * np.log(1.0) + 0.5 * np.log(0.5 / 0.25)
    assert_allclose(float(spectrum_loss(logits, p, "kl")), kl, rtol=1e-5)
    # cumulative sums q [.5, .75, 1], p [.25, .5, 1] -> |diff| .25 + .25 + 0
    assert_allclose(float(spectrum_loss(logits, p, "wd")), 0.5, rtol=1e-5)
    assert float(spectrum_loss(torch.log(p), p, "kl")) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_every_method_trains_and_records_both_spaces(method: str, data_dir: Path, tmp_path: Path) -> None:
    params = {"epochs": 2, "batch_size": 8, "scheduler": "none", **TINY[method]}
    record = run(method, data_dir, 0, params, tmp_path / "run")
    assert record["method"] == METHODS[method] and record["epochs_run"] == 2 and 1 <= record["best_epoch"] <= 2
    for split in ("val", "test"):
        assert set(record[split]) == {"r2", "mae", "mse", "wd", "r2_ori", "mae_ori", "mse_ori", "kl"}
        assert all(np.isfinite(v) for v in record[split].values())
    assert record["seconds_per_epoch"] > 0 and record["n_parameters"] > 0
    with np.load(tmp_path / "run/predictions.npz") as f:
        assert f["pred"].shape == f["true"].shape == (3, 11) and len(f["ids"]) == 3
        assert_allclose(f["pred"].sum(axis=1), 1, rtol=1e-5)
    assert read_json(tmp_path / "run/metrics.json")["test"] == record["test"]


def test_same_seed_same_numbers(data_dir: Path, tmp_path: Path) -> None:
    params = {"epochs": 2, "batch_size": 8, "scheduler": "none", **TINY["xtal2dos"]}
    a = run("xtal2dos", data_dir, 1, params, tmp_path / "a")
    b = run("xtal2dos", data_dir, 1, params, tmp_path / "b")
    assert a["test"] == b["test"]


def test_bad_settings_name_the_valid_keys() -> None:
    with pytest.raises(ValueError, match="unknown model settings \\['d_modle'\\]"):
        check_params("xtal2dos", {"d_modle": 8})
    with pytest.raises(ValueError, match="loss must be one of"):
        check_params("xtal2dos", {"loss": "mse"})
    with pytest.raises(ValueError, match="no direction"):
        check_params("gatgnn", {"select_metric": "accuracy"})
    with pytest.raises(ValueError, match="unknown DoS method"):
        check_params("cgcnn", {})


def test_schema_names_exactly_the_methods_of_the_code() -> None:
    """The dos schema's method enum is seqstruct.dos.train.METHODS (the one list the code has)."""
    import yaml

    schema = yaml.safe_load((Path(__file__).resolve().parents[3] / "workflow/schemas/dos.schema.yaml").read_text())
    assert schema["$defs"]["method"]["enum"] == list(METHODS)
