"""Train and evaluate one crop method on one split with one seed: the entry point the workflow calls.

Methods of the spine (thesis Table 2.1 names): ``lasso 1y`` (scikit-learn, alpha chosen on the validation
year), ``cnn-rnn 5y`` and ``gnn-rnn 5y`` (shared trainer, log-cosh loss on standardised yields, epoch chosen on
the validation year). Writes ``metrics.json``, ``predictions.csv`` and ``model.pt`` into ``out_dir``;
``metrics.json`` carries the run's provenance (commit, host, SLURM job, sha256 of the prepared data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import Lasso
from torch_geometric.utils import k_hop_subgraph

from seqstruct.common.device import pick_device
from seqstruct.common.io import atomic_path, write_json
from seqstruct.common.metrics import regression_metrics
from seqstruct.common.provenance import run_provenance, utc_now
from seqstruct.common.seeding import generator, seed_everything
from seqstruct.common.trainer import Trainer, TrainConfig
from seqstruct.crop.dataset import CropTensors, Split, make_tensors, open_prepared
from seqstruct.crop.models import CNNRNN, GNNRNN, CropModelConfig, log_cosh_loss

log = logging.getLogger(__name__)

#: workflow slug -> thesis method name
METHODS = {"lasso_1y": "lasso 1y", "cnn_rnn_5y": "cnn-rnn 5y", "gnn_rnn_5y": "gnn-rnn 5y"}
HISTORY = 5  # years per sequence of the 5y models (thesis: t-4 ... t)
#: methods without randomness: run once (seed = the first configured seed), reported with std 0
DETERMINISTIC = frozenset({"lasso_1y"})


@dataclass(frozen=True)
class DeepParams:
    """Per-method settings of the deep models that are not architecture or optimiser settings."""

    batch_size: int = 32  # CNN-RNN: sequences per batch; GNN-RNN: seed counties per batch
    loss_history_weight: float = 0.0  # weight of the loss on steps t-4..t-1 (reference default c1 = 0)


def run(method: str, data_path: str | Path, test_year: int, seed: int, params: dict[str, Any], out_dir: str | Path,
        ckpt_dir: str | Path | None = None, threads: int = 1, crop: str = "soybean",
        evaluate_test: bool = True) -> dict[str, Any]:
    """Train ``method`` for test year ``test_year`` with ``seed``; write and return its metrics.

    Args:
        method: one of ``METHODS`` (slug).
        data_path: the prepared NetCDF.
        test_year: test year; validation is the year before.
        seed: the run's seed.
        params: method settings from config (``alphas`` for lasso; for deep models any field of ``TrainConfig``,
            ``CropModelConfig`` and ``DeepParams``). Unknown keys raise.
        out_dir: where ``metrics.json``, ``predictions.csv`` and ``model.pt`` go.
        ckpt_dir: scratch folder for resumable checkpoints (deep models).
        threads: CPU threads for torch.
        crop: crop name recorded in the outputs.
        evaluate_test: False for hyperparameter searches: the test year is then never predicted or scored.
    """
    if method not in METHODS:
        raise ValueError(f"unknown crop method {method!r}; known: {sorted(METHODS)}")
    torch.set_num_threads(max(1, threads))
    seed_everything(seed)
    t0, started = time.perf_counter(), utc_now()
    split = Split(int(test_year))
    data = make_tensors(open_prepared(data_path), split)
    log.info("%s: test %d, val %d, %d counties, years %d-%d, seed %d", METHODS[method], split.test_year,
             split.val_year, data.n_counties, data.years[0], data.years[-1], seed)
    if method == "lasso_1y":
        predict, model_state, extra = _fit_lasso(data, params)
        device = "cpu"
    else:
        predict, model_state, extra, device = _fit_deep(method, data, params, seed, ckpt_dir)

    out = Path(out_dir)
    rows, result = [], {}
    evaluated = (("val", split.val_year), ("test", split.test_year)) if evaluate_test else (("val", split.val_year),)
    for name, year in evaluated:
        t = data.year_index(year)
        y_true, y_pred = data.y[:, t].numpy(), predict(year)
        result[name] = regression_metrics(y_true, y_pred)
        keep = ~np.isnan(y_true)
        rows.append(pd.DataFrame({"split": name, "fips": data.fips[keep], "year": year,
                                  "y_true": y_true[keep] * data.y_std + data.y_mean,
                                  "y_pred": y_pred[keep] * data.y_std + data.y_mean}))
    metrics = {
        "method": METHODS[method], "slug": method, "crop": crop, "test_year": split.test_year,
        "val_year": split.val_year, "seed": seed, **result,
        "y_mean": data.y_mean, "y_std": data.y_std, "device": str(device),
        "seconds": time.perf_counter() - t0, "params": params, **extra,
        "provenance": run_provenance(started, inputs=[data_path]),
    }
    log.info("%s test %d seed %d: %s", METHODS[method], split.test_year, seed,
             " | ".join(f"{k} {_fmt(v)}" for k, v in result.items()))
    with atomic_path(out / "predictions.csv") as tmp:
        pd.concat(rows).to_csv(tmp, index=False, float_format="%.6g")
    with atomic_path(out / "model.pt") as tmp:
        torch.save(model_state, tmp)
    write_json(out / "metrics.json", metrics)  # last: its presence means the run is complete
    return metrics


def _fmt(m: dict[str, float]) -> str:
    return f"rmse {m['rmse']:.4f} r2 {m['r2']:.4f} corr {m['corr']:.4f} (n={m['n']})"


def _split_params(params: dict[str, Any], *classes: type) -> list[Any]:
    """Build one dataclass per class from a flat dict; unknown keys raise with the valid names."""
    names = [{f.name for f in fields(c)} for c in classes]
    unknown = set(params) - set().union(*names)
    if unknown:
        raise ValueError(f"unknown model settings {sorted(unknown)}; valid: {sorted(set().union(*names))}")
    out = []
    for cls, keys in zip(classes, names):
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in params.items() if k in keys}
        out.append(cls(**kw))
    return out


# ---------------------------------------------------------------- lasso 1y
def _fit_lasso(data: CropTensors, params: dict[str, Any]) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """Lasso on flattened single-year features; alpha with the lowest validation RMSE."""
    alphas = [float(a) for a in params.get("alphas", [1e-3, 3e-3, 1e-2, 3e-2, 1e-1])]
    unknown = set(params) - {"alphas", "max_iter"}
    if unknown:
        raise ValueError(f"unknown lasso settings {sorted(unknown)}; valid: ['alphas', 'max_iter']")
    years = data.train_years(history=1)
    x = np.concatenate([data.flat_features(t) for t in years])
    y = np.concatenate([data.y[:, data.year_index(t)].numpy() for t in years])
    keep = ~np.isnan(y)
    x, y = x[keep], y[keep]
    x_val = data.flat_features(data.split.val_year)
    y_val = data.y[:, data.year_index(data.split.val_year)].numpy()
    scores, best = {}, None
    for alpha in alphas:
        model = Lasso(alpha=alpha, max_iter=int(params.get("max_iter", 20000))).fit(x, y)
        scores[alpha] = regression_metrics(y_val, model.predict(x_val))["rmse"]
        if best is None or scores[alpha] < scores[best[0]]:
            best = (alpha, model)
    alpha, model = best
    log.info("lasso: validation RMSE by alpha %s -> alpha %g", scores, alpha)
    state = {"kind": "lasso", "alpha": alpha, "coef": model.coef_, "intercept": model.intercept_}
    return (lambda year: model.predict(data.flat_features(year)),
            state, {"selection": {"alpha": alpha, "val_rmse_by_alpha": {str(a): s for a, s in scores.items()}}})


# ---------------------------------------------------------------- deep 5y models
def _fit_deep(method: str, data: CropTensors, params: dict[str, Any], seed: int,
              ckpt_dir: str | Path | None) -> tuple[Any, dict[str, Any], dict[str, Any], torch.device]:
    train_cfg, model_cfg, deep = _split_params(params, TrainConfig, CropModelConfig, DeepParams)
    device = pick_device()
    data = data.to(device)
    shapes = {"weekly": tuple(data.weekly.shape[2:]), "soil": tuple(data.soil.shape[2:]),
              "extra": tuple(data.extra.shape[2:])}
    model: torch.nn.Module = (GNNRNN if method == "gnn_rnn_5y" else CNNRNN)(shapes, model_cfg)
    years = data.train_years(history=HISTORY - 1)
    graph = method == "gnn_rnn_5y"
    batches = (_GraphBatches(data, years, deep.batch_size, seed, hops=model_cfg.gnn_layers) if graph
               else _SeqBatches(data, years, deep.batch_size, seed))
    predict = (lambda m, year: _predict_graph(m, data, year)) if graph else (lambda m, year: _predict_seq(m, data, year))

    def loss_fn(m: torch.nn.Module, batch: tuple[Any, ...]) -> torch.Tensor:
        pred, target = batches.forward(m, batch)
        loss = log_cosh_loss(pred[:, -1], target[:, -1])
        if deep.loss_history_weight > 0 and not torch.isnan(target[:, :-1]).all():
            loss = loss + deep.loss_history_weight * log_cosh_loss(pred[:, :-1], target[:, :-1])
        return loss

    val_t = data.year_index(data.split.val_year)
    y_val = data.y[:, val_t].cpu().numpy()

    def validate(m: torch.nn.Module) -> float:
        return regression_metrics(y_val, predict(m, data.split.val_year))["rmse"]

    fingerprint = {"method": method, "seed": seed, "test_year": data.split.test_year, "params": params,
                   "n_counties": data.n_counties, "y_mean": round(data.y_mean, 6)}
    trainer = Trainer(model, train_cfg, device, Path(ckpt_dir) if ckpt_dir else None, fingerprint,
                      desc=f"{METHODS[method]} {data.split.test_year} s{seed}")
    fit = trainer.fit(batches, loss_fn, validate)
    model.eval()
    extra = {"best_epoch": fit.best_epoch, "epochs_run": fit.epochs_run, "resumed_from": fit.resumed_from,
             "train_seconds": fit.seconds, "history": fit.history,
             "config": {"train": asdict(train_cfg), "model": asdict(model_cfg), "deep": asdict(deep)}}
    if device.type == "cuda":
        extra["cuda_max_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    state = {"kind": method, "state_dict": model.state_dict(), "shapes": shapes, "config": extra["config"]}

    def predict_np(year: int) -> np.ndarray:
        with torch.no_grad():
            return predict(model, year)

    return predict_np, state, extra, device


class _SeqBatches:
    """CNN-RNN batches: shuffled (county, target year) pairs with a reported yield, as 5-year windows."""

    def __init__(self, data: CropTensors, years: list[int], batch_size: int, seed: int) -> None:
        self.data, self.batch_size, self.seed = data, batch_size, seed
        pos = [(c, data.year_index(t)) for t in years for c in range(data.n_counties)
               if not torch.isnan(data.y[c, data.year_index(t)])]
        self.items = np.array(pos, dtype=np.int64).reshape(-1, 2)

    def __call__(self, epoch: int) -> Iterator[np.ndarray]:
        order = generator(self.seed, "seq-batches", epoch).permutation(len(self.items))
        for i in range(0, len(order), self.batch_size):
            yield self.items[order[i:i + self.batch_size]]

    def forward(self, model: torch.nn.Module, batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.data
        c = torch.as_tensor(batch[:, 0], device=d.y.device)[:, None]
        tt = torch.as_tensor(batch[:, 1], device=d.y.device)[:, None] + torch.arange(-HISTORY + 1, 1,
                                                                                     device=d.y.device)
        return model(d.weekly[c, tt], d.soil[c, tt], d.extra[c, tt]), d.y[c, tt]


def _predict_seq(model: torch.nn.Module, d: CropTensors, year: int, chunk: int = 512) -> np.ndarray:
    w = d.window(year, HISTORY)
    preds = [model(d.weekly[i:i + chunk, w], d.soil[i:i + chunk, w], d.extra[i:i + chunk, w])[:, -1]
             for i in range(0, d.n_counties, chunk)]
    return torch.cat(preds).cpu().numpy()


class _GraphBatches:
    """GNN-RNN batches: per training year (shuffled), seed counties with a reported yield in chunks; each batch
    is the seeds' L-hop neighbourhood, so message passing over it is exact for the seeds (no sampling)."""

    def __init__(self, data: CropTensors, years: list[int], batch_size: int, seed: int, hops: int) -> None:
        self.data, self.years, self.batch_size, self.seed, self.hops = data, years, batch_size, seed, hops

    def __call__(self, epoch: int) -> Iterator[tuple[int, np.ndarray]]:
        rng = generator(self.seed, "graph-batches", epoch)
        for t in rng.permutation(self.years):
            labelled = np.flatnonzero(~torch.isnan(self.data.y[:, self.data.year_index(int(t))]).cpu().numpy())
            labelled = rng.permutation(labelled)
            for i in range(0, len(labelled), self.batch_size):
                yield int(t), labelled[i:i + self.batch_size]

    def forward(self, model: torch.nn.Module, batch: tuple[int, np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
        year, seeds = batch
        d = self.data
        seeds_t = torch.as_tensor(seeds, device=d.y.device)
        subset, edges, mapping, _ = k_hop_subgraph(seeds_t, self.hops, d.edge_index, relabel_nodes=True,
                                                   num_nodes=d.n_counties)
        w = d.window(year, HISTORY)
        out = model(d.weekly[subset, w], d.soil[subset, w], d.extra[subset, w], edges)
        return out[mapping], d.y[seeds_t, w]


def _predict_graph(model: torch.nn.Module, d: CropTensors, year: int) -> np.ndarray:
    w = d.window(year, HISTORY)
    return model(d.weekly[:, w], d.soil[:, w], d.extra[:, w], d.edge_index)[:, -1].cpu().numpy()
