from pathlib import Path

import numpy as np
import pytest
import torch

from seqstruct.common.seeding import seed_everything
from seqstruct.common.trainer import Trainer, TrainConfig


def _problem(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=g)
    w = torch.tensor([1.0, -2.0, 0.5])
    y = x @ w + 0.01 * torch.randn(64, generator=g)
    return x[:48], y[:48], x[48:], y[48:]


def _run(ckpt: Path | None, epochs: int, seed: int = 0, crash_at: int = -1) -> tuple[Trainer, object]:
    seed_everything(seed)
    xt, yt, xv, yv = _problem()
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=epochs, lr=0.05, weight_decay=0.0, scheduler="none")
    trainer = Trainer(model, cfg, torch.device("cpu"), ckpt_dir=ckpt, fingerprint={"seed": seed}, desc="t")

    def batches(epoch: int):
        perm = np.random.default_rng(epoch).permutation(48)
        for i in range(0, 48, 16):
            yield perm[i:i + 16]

    def loss_fn(m, idx):
        return torch.mean((m(xt[idx]).squeeze(-1) - yt[idx]) ** 2)

    calls = []

    def validate(m):
        calls.append(1)
        if len(calls) == crash_at:
            raise RuntimeError("simulated kill")
        return float(torch.sqrt(torch.mean((m(xv).squeeze(-1) - yv) ** 2)))

    return trainer, trainer.fit(batches, loss_fn, validate)


def test_fit_learns_and_selects_best_validation_epoch() -> None:
    trainer, res = _run(None, epochs=30)
    scores = [h["val_score"] for h in res.history]
    assert res.best_score == min(scores)
    assert res.best_epoch == int(np.argmin(scores)) + 1
    assert res.best_score < 0.1


def test_resume_after_crash_equals_uninterrupted_run(tmp_path: Path) -> None:
    _, full = _run(None, epochs=12)
    with pytest.raises(RuntimeError, match="simulated kill"):
        _run(tmp_path, epochs=12, crash_at=6)  # dies during epoch 6
    assert torch.load(tmp_path / "last.pt", weights_only=False)["epoch"] == 5
    _, resumed = _run(tmp_path, epochs=12)
    assert resumed.resumed_from == 5
    assert [h["epoch"] for h in resumed.history] == list(range(1, 13))
    assert resumed.history == full.history
    assert resumed.best_score == full.best_score and resumed.best_epoch == full.best_epoch


def test_checkpoint_of_other_config_is_ignored(tmp_path: Path) -> None:
    _run(tmp_path, epochs=3)
    _, other = _run(tmp_path, epochs=4)  # different TrainConfig -> fresh start
    assert other.resumed_from == 0 and other.epochs_run == 4


def test_nan_loss_raises() -> None:
    model = torch.nn.Linear(1, 1)
    trainer = Trainer(model, TrainConfig(epochs=1, scheduler="none"), torch.device("cpu"))
    with pytest.raises(FloatingPointError):
        trainer.fit(lambda e: [0], lambda m, b: torch.tensor(float("nan"), requires_grad=True), lambda m: 0.0)
