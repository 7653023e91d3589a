"""The GPU path of the DoS models: training picks CUDA when present and CPU and CUDA compute the same function.

Skipped without a CUDA device (CI has none); run on a GPU machine with ``pytest -m cuda``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from seqstruct.common.config import split_params
from seqstruct.dos.conftest import dims_of, make_batch
from seqstruct.dos.models import build_model
from seqstruct.dos.test_train import TINY, data_dir  # noqa: F401 - the module fixture
from seqstruct.dos.train import METHODS, param_classes, run

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none visible to torch)"),
]


@pytest.mark.parametrize("method", sorted(METHODS))
def test_training_runs_on_cuda(method: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.delenv("SEQSTRUCT_DEVICE", raising=False)
    record = run(method, data_dir, 0, {"epochs": 2, "batch_size": 8, **TINY[method]}, tmp_path / "run")
    assert record["device"].startswith("cuda") and all(v == v for v in record["test"].values())


@pytest.mark.parametrize("method", sorted(set(METHODS) - {"mat2spec"}))  # Mat2Spec samples its latent in eval
def test_cpu_and_cuda_forward_agree(method: str) -> None:
    batch = make_batch(n_atoms=(2, 3, 5), F=7, G=5, L=11)
    model_cfg = split_params(TINY[method], *param_classes(method))[1]
    torch.manual_seed(0)
    model = build_model(method, dims_of(batch), model_cfg).eval()
    with torch.no_grad():
        cpu = model(batch)
        gpu = model.cuda()(batch.to("cuda")).cpu()
    torch.testing.assert_close(gpu, cpu, atol=1e-4, rtol=1e-4)
