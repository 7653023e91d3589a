"""The GPU path of the crop models: training picks CUDA when present and CPU and CUDA compute the same function.

Skipped without a CUDA device (CI has none); run on a GPU machine with ``pytest -m cuda``.
"""

from pathlib import Path

import pytest
import torch

from seqstruct.crop.conftest import TINY_DEEP, tiny_prepared
from seqstruct.crop.dataset import Split, make_tensors
from seqstruct.crop.models import ARCHITECTURES, CNNRNN, GNNRNN, CropModelConfig
from seqstruct.crop.train import run

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none visible to torch)"),
]

FAST = {**TINY_DEEP, "epochs": 2}


@pytest.mark.parametrize("method", ARCHITECTURES)
def test_training_runs_on_cuda(method: str, tiny_nc: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEQSTRUCT_DEVICE", raising=False)
    m = run(method, tiny_nc, 2003, 0, FAST, tmp_path / "out", ckpt_dir=tmp_path / "ckpt")
    assert m["device"].startswith("cuda")
    assert m["cuda_max_memory_mb"] > 0 and all(v == v for v in m["test"].values())  # no NaN metrics


@pytest.mark.parametrize("model_cls", [CNNRNN, GNNRNN])
def test_cpu_and_cuda_forward_agree(model_cls: type) -> None:
    data = make_tensors(tiny_prepared(n_side=4), Split(2003))
    shapes = {g: tuple(getattr(data, g).shape[2:]) for g in ("weekly", "soil", "extra")}
    torch.manual_seed(0)
    model = model_cls(shapes, CropModelConfig(weekly_channels=(8, 8, 8, 8), hidden=16)).eval()
    w = data.window(2003, 5)
    args = [data.weekly[:, w], data.soil[:, w], data.extra[:, w]] + ([data.edge_index] if model_cls is GNNRNN else [])
    with torch.no_grad():
        cpu = model(*args)
        gpu = model.cuda()(*[a.cuda() for a in args]).cpu()
    torch.testing.assert_close(gpu, cpu, rtol=1e-3, atol=1e-4)
