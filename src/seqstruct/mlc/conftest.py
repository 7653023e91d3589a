"""Shared pieces of the MLC model tests: a short run of the shared trainer on the synthetic set."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from seqstruct.common.metrics import multilabel_metrics
from seqstruct.common.trainer import FitResult, TrainConfig, Trainer
from seqstruct.mlc.synthetic import SyntheticMlc, draw


def fit_on_synthetic(
    make_model: Callable[[int, int], torch.nn.Module],
    scores: Callable[[torch.nn.Module, torch.Tensor], torch.Tensor],
    epochs: int = 25,
) -> tuple[FitResult, np.ndarray]:
    """Train ``make_model(n_features, n_labels)`` (its ``loss(x, y)`` gives the named terms) on 400 synthetic rows,
    selecting on validation micro-F1 of ``scores(model, x)`` over 100 more; returns the fit and the validation labels.
    """
    torch.manual_seed(0)
    x, y = draw(SyntheticMlc(n_train=400, n_test=100))
    xs, ys = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    model = make_model(x.shape[1], y.shape[1])

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        perm = np.random.default_rng(epoch).permutation(400)
        for i in range(0, 400, 64):
            yield xs[perm[i : i + 64]], ys[perm[i : i + 64]]

    def validate(m: torch.nn.Module) -> float:
        return multilabel_metrics(y[400:], scores(m, xs[400:]).numpy())["mi_f1"]

    trainer = Trainer(model, TrainConfig(epochs=epochs, lr=2e-3, scheduler="none"), torch.device("cpu"), maximize=True)
    return trainer.fit(batches, lambda m, b: m.loss(*b), validate), y[400:]


def fit_separable(
    make_model: Callable[[int, int], torch.nn.Module], steps: int = 300, lr: float = 1e-2
) -> tuple[float, float]:
    """Train ``make_model(7, 5)`` full-batch with Adam for ``steps`` steps on 64 rows whose 5 labels are linearly
    separable (``y = [x W > 0]``); returns the training micro-F1 of ``σ(model(x)) >= 0.5`` (eval mode) and that of
    predicting every label (the chance level to beat).
    """
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 7, generator=g)
    y = (x @ torch.randn(7, 5, generator=g) > 0).float()
    torch.manual_seed(0)
    model = make_model(7, 5)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        model.loss(x, y)["loss"].backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        scores = torch.sigmoid(model(x)).numpy()
    every_label = multilabel_metrics(y.numpy(), np.ones(y.shape))["mi_f1"]
    return multilabel_metrics(y.numpy(), scores)["mi_f1"], every_label
