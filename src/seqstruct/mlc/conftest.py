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
