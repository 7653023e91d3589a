"""One DoS training run: fit a model on the training split of a prepared data set, select the epoch on
validation, score validation and test in both spaces, write the run record (``seqstruct.common.runs.write_run``).

Methods (``METHODS``, slug -> table name): the baselines ``e3nn``, ``gatgnn``, ``mat2spec``; the decoder
ablations ``rnn``, ``rnn_attn``, ``chunk_rnn_attn`` (Table 2.5); and ``xtal2dos``. Every model maps a batch of
crystal graphs to logits (B, L); the predicted spectrum shape is their softmax (``seqstruct.dos.batch``).

Loss: ``KL(p ‖ softmax(logits))`` with ``p = y / (Σ y + 1e-10)`` (the released code's ``normalized_sum`` + KL,
methods.md §2.3), averaged over the batch, or ``loss: wd`` for the 1-D Wasserstein distance between the two
cumulative sums (``Σ_l |P_l - Q_l|``; the code imports it but never uses it). A model with a loss of its own
(Mat2Spec) uses its ``training_loss``. Selection: the epoch with the best validation ``select_metric``
(default ``mse_ori``, the metric the released code selected on, but on *validation*, not test).

Record (``metrics.json``): ``method``, ``slug``, ``dataset``, ``seed``, ``val`` and ``test``
(``seqstruct.common.metrics.spectra.spectrum_metrics``: r2, mae, mse, wd, r2_ori, mae_ori, mse_ori, kl),
``params``, ``config``, ``best_epoch``, ``epochs_run``, ``history``, ``seconds_per_epoch``. Artifacts:
``predictions.npz`` (the test predictions (N_test, L) float32, the true spectra and the test material ids).

Shapes: a batch of B graphs (seqstruct.dos.batch); logits, targets (B, L).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.data import Batch, Data

from seqstruct.common.config import split_params
from seqstruct.common.device import pick_device
from seqstruct.common.metrics import direction
from seqstruct.common.metrics.spectra import WD_UNIT, spectrum_metrics
from seqstruct.common.provenance import utc_now
from seqstruct.common.runs import run_fingerprint, write_run
from seqstruct.common.seeding import generator, seed_everything
from seqstruct.common.trainer import TrainConfig, Trainer
from seqstruct.dos.losses import LOSSES, spectrum_loss, target_shape
from seqstruct.dos.models import MODELS, build_model
from seqstruct.dos.prepare import PreparedDos, load_prepared, prepared_files

log = logging.getLogger(__name__)

#: slug -> the name in the thesis tables
METHODS = {
    "e3nn": "E3NN",
    "gatgnn": "GATGNN",
    "mat2spec": "Mat2Spec",
    "rnn": "RNN",
    "rnn_attn": "RNN+Attn",
    "chunk_rnn_attn": "Chunk RNN+Attn",
    "xtal2dos": "Xtal2DoS",
}


@dataclass(frozen=True)
class DosParams:
    """Settings of a run that are neither the trainer's nor the model's."""

    batch_size: int = 64  # the released code: 1024 per GPU x 2 (Xtal2DoS), 256 (Mat2Spec)
    loss: str = "kl"  # "kl" (released) or "wd" (1-D Wasserstein on the cumulative sums)
    select_metric: str = "mse_ori"  # validation metric that selects the epoch (seqstruct.common.metrics.spectra)
    eval_batch_size: int = 256  # graphs per forward pass when predicting

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss must be one of {LOSSES}, got {self.loss!r}")
        if self.batch_size < 1 or self.eval_batch_size < 1:
            raise ValueError("batch sizes must be positive")
        direction(self.select_metric)  # a KeyError naming the known metrics


def param_classes(method: str) -> tuple[type, ...]:
    """The classes whose fields make up ``method``'s settings (``split_params`` order)."""
    if method not in METHODS:
        raise ValueError(f"unknown DoS method {method!r}; known: {sorted(METHODS)}")
    return (TrainConfig, MODELS[method][0], DosParams)


def check_params(method: str, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` (naming the valid keys) for a setting ``method`` does not have or a refused value;
    the workflow calls it on every configured setting at parse time."""
    try:
        split_params(params, *param_classes(method))
    except KeyError as err:
        raise ValueError(str(err).strip("'\"")) from None


def collate(graphs: Sequence[Data], device: torch.device) -> Batch:
    """One batch of graphs on ``device``."""
    return Batch.from_data_list(list(graphs)).to(device)


def predict(model: torch.nn.Module, graphs: Sequence[Data], device: torch.device, batch_size: int) -> np.ndarray:
    """Predicted spectrum shapes (N, L) float64 (softmax of the logits), in the order of ``graphs``."""
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(graphs), batch_size):
            logits = model(collate(graphs[i : i + batch_size], device))
            out.append(torch.softmax(logits.double(), dim=-1).cpu().numpy())
    return np.concatenate(out)


def epoch_batches(graphs: Sequence[Data], batch_size: int, seed: int, device: torch.device) -> Callable:
    """``batches(epoch)``: the shuffled training batches of an epoch (order from (seed, epoch) only)."""

    def batches(epoch: int) -> Iterator[Batch]:
        perm = generator(seed, "dos-batches", epoch).permutation(len(graphs))
        for i in range(0, len(perm), batch_size):
            yield collate([graphs[j] for j in perm[i : i + batch_size]], device)

    return batches


def loss_function(p: DosParams) -> Callable[[torch.nn.Module, Batch], Any]:
    """``loss_fn(model, batch)``: the model's own ``training_loss`` if it has one, else :func:`spectrum_loss`."""

    def loss_fn(model: torch.nn.Module, batch: Batch) -> Any:
        target = target_shape(batch.y)
        if hasattr(model, "training_loss"):
            return model.training_loss(batch, target)
        return spectrum_loss(model(batch), target, p.loss)

    return loss_fn


def fit(
    method: str,
    data: PreparedDos,
    params: dict[str, Any],
    seed: int,
    ckpt_dir: str | Path | None = None,
    fingerprint: Any = None,
) -> tuple[torch.nn.Module, dict[str, Any], DosParams, torch.device]:
    """Train ``method`` on ``data``'s training split, selecting the epoch on validation; returns the model (at
    the selected epoch), the fit's record entries, the run settings and the device."""
    train_cfg, model_cfg, p = split_params(params, *param_classes(method))
    device = pick_device()
    seed_everything(seed)
    model = build_model(method, data.dims, model_cfg)
    val_graphs, y_val = data.part("val"), data.spectra[data.split["val"]]
    maximize = direction(p.select_metric) == "higher"

    def validate(m: torch.nn.Module) -> dict[str, float]:
        metrics = spectrum_metrics(y_val, predict(m, val_graphs, device, p.eval_batch_size), WD_UNIT)
        return {"score": metrics[p.select_metric], **{k: v for k, v in metrics.items() if k != p.select_metric}}

    trainer = Trainer(
        model,
        train_cfg,
        device,
        Path(ckpt_dir) if ckpt_dir else None,
        fingerprint,
        desc=f"{METHODS[method]} {data.info['dataset']} s{seed}",
        maximize=maximize,
    )
    result = trainer.fit(epoch_batches(data.part("train"), p.batch_size, seed, device), loss_function(p), validate)
    ran = max(1, result.epochs_run - result.resumed_from)
    extra = {
        **result.as_record(),
        "seconds_per_epoch": result.seconds / ran,
        "n_parameters": sum(t.numel() for t in model.parameters()),
        "device": str(device),
        "config": {"train": asdict(train_cfg), "model": asdict(model_cfg), "run": asdict(p)},
    }
    return model, extra, p, device


def run(
    method: str,
    data_dir: str | Path,
    seed: int,
    params: dict[str, Any],
    out_dir: str | Path,
    ckpt_dir: str | Path | None = None,
    threads: int = 1,
    evaluate_test: bool = True,
) -> dict[str, Any]:
    """Train ``method`` on the prepared data set in ``data_dir`` with ``seed``; write and return its record.

    ``params`` holds fields of ``TrainConfig``, the model's config and ``DosParams`` (unknown keys raise).
    With ``evaluate_test=False`` (grid search) only validation is scored and no predictions are written.
    """
    split_params(params, *param_classes(method))  # an unknown method or setting raises before anything runs
    torch.set_num_threads(max(1, threads))
    t0, started = time.perf_counter(), utc_now()
    data = load_prepared(data_dir)
    name = data.info["dataset"]
    log.info("%s on %s: %s, seed %d", METHODS[method], name, data.info["sizes"], seed)
    fingerprint = run_fingerprint(prepared_files(data_dir), method=method, seed=seed, params=params)
    model, extra, p, device = fit(method, data, params, seed, ckpt_dir, fingerprint)
    result: dict[str, Any] = {}
    artifacts: dict[str, Callable[[Path], None]] = {}
    for split in ("val", "test") if evaluate_test else ("val",):
        idx = data.split[split]
        pred = predict(model, data.part(split), device, p.eval_batch_size)
        result[split] = spectrum_metrics(data.spectra[idx], pred, WD_UNIT)
        log.info(
            "%s %s seed %d: %s %s",
            METHODS[method],
            name,
            seed,
            split,
            ", ".join(f"{k} {result[split][k]:.4g}" for k in ("r2", "mae", "mse", "wd", "r2_ori", "mae_ori")),
        )
    if evaluate_test:
        idx = data.split["test"]
        ids = np.array([data.ids[i] for i in idx])
        artifacts["predictions.npz"] = lambda tmp: np.savez_compressed(
            tmp, pred=pred.astype(np.float32), true=data.spectra[idx], ids=ids, rows=idx
        )
    record = {
        "method": METHODS[method],
        "slug": method,
        "dataset": name,
        "seed": seed,
        **result,
        "params": params,
        "seconds": time.perf_counter() - t0,
        **extra,
    }
    return write_run(out_dir, record, artifacts=artifacts, started_utc=started, inputs=prepared_files(data_dir))
