from pathlib import Path

import numpy as np
import pytest
import torch

from seqstruct.common.runs import run_fingerprint
from seqstruct.common.seeding import seed_everything
from seqstruct.common.trainer import TrainConfig, Trainer, fingerprint_change


def _problem(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=g)
    w = torch.tensor([1.0, -2.0, 0.5])
    y = x @ w + 0.01 * torch.randn(64, generator=g)
    return x[:48], y[:48], x[48:], y[48:]


def _run(
    ckpt: Path | None, epochs: int, seed: int = 0, crash_at: int = -1, fingerprint: object = None
) -> tuple[Trainer, object]:
    seed_everything(seed)
    xt, yt, xv, yv = _problem()
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=epochs, lr=0.05, weight_decay=0.0, scheduler="none")
    trainer = Trainer(
        model, cfg, torch.device("cpu"), ckpt_dir=ckpt, fingerprint=fingerprint or {"seed": seed}, desc="t"
    )

    def batches(epoch: int):
        perm = np.random.default_rng(epoch).permutation(48)
        for i in range(0, 48, 16):
            yield perm[i : i + 16]

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
    record = res.as_record()
    assert record["best_epoch"] == res.best_epoch and record["history"] is res.history
    assert record["train_seconds"] == res.seconds and record["epochs_run"] == 30 and record["resumed_from"] == 0


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


def test_checkpoint_of_other_data_starts_fresh_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data = tmp_path / "data.nc"
    data.write_bytes(b"first version")
    _run(tmp_path / "ckpt", epochs=3, fingerprint=run_fingerprint([data], seed=0))
    _, same = _run(tmp_path / "ckpt", epochs=3, fingerprint=run_fingerprint([data], seed=0))
    assert same.resumed_from == 3  # same data, same settings: resumed
    data.write_bytes(b"second version")  # the prepared data changed: the checkpoint must not be resumed
    with caplog.at_level("WARNING"):
        _, fresh = _run(tmp_path / "ckpt", epochs=3, fingerprint=run_fingerprint([data], seed=0))
    assert fresh.resumed_from == 0 and fresh.epochs_run == 3
    assert f"other data (sha256 of {data} changed)" in caplog.text


def test_fingerprint_change_names_what_differs() -> None:
    old = {"inputs": {"a.nc": "1", "b.nc": "2"}, "seed": 0, "params": {"lr": 0.1}}
    assert fingerprint_change(old, dict(old)) == ""
    assert (
        fingerprint_change(old, {**old, "inputs": {"a.nc": "1", "b.nc": "3"}}) == "other data (sha256 of b.nc changed)"
    )
    assert fingerprint_change(old, {**old, "seed": 1, "params": {}}) == "other settings (params, seed)"
    assert fingerprint_change("{'seed': 0}", old) == "other settings"  # a checkpoint of the old repr format
    with pytest.raises(ValueError, match="inputs"):
        run_fingerprint([], inputs=1)


def test_checkpoint_of_other_config_is_ignored(tmp_path: Path) -> None:
    _run(tmp_path, epochs=3)
    _, other = _run(tmp_path, epochs=4)  # different TrainConfig -> fresh start
    assert other.resumed_from == 0 and other.epochs_run == 4


def test_nan_loss_raises() -> None:
    model = torch.nn.Linear(1, 1)
    trainer = Trainer(model, TrainConfig(epochs=1, scheduler="none"), torch.device("cpu"))
    with pytest.raises(FloatingPointError):
        trainer.fit(lambda e: [0], lambda m, b: torch.tensor(float("nan"), requires_grad=True), lambda m: 0.0)


def _linear_fit(cfg: TrainConfig, loss_fn, validate, maximize: bool = False, on_epoch=None):
    seed_everything(0)
    xt, yt, _, _ = _problem()
    trainer = Trainer(torch.nn.Linear(3, 1), cfg, torch.device("cpu"), desc="t", maximize=maximize)
    batches = lambda epoch: [slice(0, 24), slice(24, 48)]  # noqa: E731
    return trainer, trainer.fit(batches, lambda m, idx: loss_fn(m, xt[idx], yt[idx]), validate, on_epoch=on_epoch)


def _mse(m, x, y):
    return torch.mean((m(x).squeeze(-1) - y) ** 2)


def test_named_loss_terms_are_logged_and_the_total_is_minimised() -> None:
    def terms(m, x, y):
        mse = _mse(m, x, y)
        l2 = sum((p**2).sum() for p in m.parameters())
        return {"loss": mse + 0.0 * l2, "mse": mse, "l2": l2}

    _, res = _linear_fit(TrainConfig(epochs=5, lr=0.05, scheduler="none"), terms, lambda m: 0.0)
    first = res.history[0]
    assert {"train_loss", "train_mse", "train_l2"} <= set(first)
    assert first["train_loss"] == pytest.approx(first["train_mse"])
    assert res.history[-1]["train_mse"] < first["train_mse"]
    with pytest.raises(KeyError, match="without the 'loss' entry"):
        _linear_fit(TrainConfig(epochs=1, scheduler="none"), lambda m, x, y: {"mse": _mse(m, x, y)}, lambda m: 0.0)


def test_maximise_selects_the_highest_score_and_logs_named_validation_values() -> None:
    scores = iter([0.1, 0.7, 0.3, 0.5])
    val = lambda m: {"score": next(scores), "f1": 0.25}  # noqa: E731
    _, res = _linear_fit(TrainConfig(epochs=4, lr=0.01, scheduler="none"), _mse, val, maximize=True)
    assert res.best_epoch == 2 and res.best_score == 0.7
    assert all(h["val_f1"] == 0.25 for h in res.history)
    scores = iter([0.1, 0.7, 0.3, 0.5])
    _, low = _linear_fit(TrainConfig(epochs=4, lr=0.01, scheduler="none"), _mse, lambda m: next(scores))
    assert low.best_epoch == 1 and low.best_score == 0.1


def test_epoch_hook_runs_before_each_epoch_and_is_logged() -> None:
    seen = []

    def hook(m, epoch):
        seen.append(epoch)
        return {"beta": min(1.0, epoch / 2)}

    _, res = _linear_fit(TrainConfig(epochs=3, scheduler="none"), _mse, lambda m: 0.0, on_epoch=hook)
    assert seen == [0, 1, 2] and [h["beta"] for h in res.history] == [0.0, 0.5, 1.0]


def test_adamw_decouples_weight_decay_from_adam() -> None:
    cfg = dict(epochs=3, lr=0.05, weight_decay=0.5, scheduler="none")
    adam, _ = _linear_fit(TrainConfig(**cfg), _mse, lambda m: 0.0)
    adamw, _ = _linear_fit(TrainConfig(**cfg, optimizer="adamw"), _mse, lambda m: 0.0)
    assert isinstance(adamw.optimizer, torch.optim.AdamW) and type(adam.optimizer) is torch.optim.Adam
    assert not torch.equal(adam.model.weight, adamw.model.weight)
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        _linear_fit(TrainConfig(optimizer="sgd"), _mse, lambda m: 0.0)


def test_warmup_rsqrt_is_stepped_per_optimiser_step() -> None:
    cfg = TrainConfig(epochs=3, lr=1.0, scheduler="warmup_rsqrt", scheduler_interval="step", warmup_steps=4)
    _, res = _linear_fit(cfg, _mse, lambda m: 0.0)
    # two batches per epoch: after epoch e the scheduler has taken 2e steps; factor min(t/4, sqrt(4/t)), t = 2e+1
    assert [h["lr"] for h in res.history] == pytest.approx([3 / 4, 1.0 * (4 / 5) ** 0.5, (4 / 7) ** 0.5])
    from seqstruct.common.trainer import warmup_rsqrt

    f = warmup_rsqrt(4)
    assert [f(t) for t in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0]) and f(15) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="scheduler_interval"):
        _linear_fit(TrainConfig(scheduler_interval="batch"), _mse, lambda m: 0.0)


def test_gradient_clipping_bounds_the_first_update() -> None:
    big = lambda m, x, y: 1e6 * _mse(m, x, y)  # noqa: E731
    cfg = dict(epochs=1, lr=0.1, weight_decay=0.0, scheduler="none", optimizer="adamw")
    seed_everything(0)
    start = torch.nn.Linear(3, 1).weight.detach().clone()
    clipped, _ = _linear_fit(TrainConfig(**cfg, grad_clip=1e-3), big, lambda m: 0.0)
    # Adam normalises the step, so compare the gradient norm seen by the optimiser instead
    assert clipped.model.weight.grad is not None
    assert (
        float(torch.linalg.vector_norm(torch.cat([p.grad.ravel() for p in clipped.model.parameters()]))) <= 1e-3 + 1e-9
    )
    assert not torch.equal(start, clipped.model.weight)
