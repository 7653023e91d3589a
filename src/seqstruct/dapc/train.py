"""One DAPC-chapter run: fit a representation on the training part of a prepared series, score it on test.

Models (``MODELS``): ``dapc`` (``DapcConfig``: deterministic or probabilistic DAPC and its ablations PI only,
MR, FR, FR+PI, uni-GRU) and ``cpc`` (``CpcConfig``) train with the shared trainer on overlapping windows of the
training frames; ``pca``, ``sfa`` and ``dca`` are linear and deterministic (``seqstruct.dapc.linear``). A run
name (``dapc.methods`` in the config) is a model plus its settings.

Epoch selection (``select``): ``"val_loss"`` (default) keeps the epoch with the lowest loss on the validation
windows (fixed masks and negatives), without the true latent state; ``"ground_truth"`` is the released code's
protocol (the best R² of a linear map from the latents to the true state on the validation frames), labelled so
in the record.

Scoring: the test part is encoded as one sequence. Recovery (Lorenz): ``r2`` of a least-squares map fitted on
the first half of the test frames and scored on the second; ``r2_in_sample``: fitted and scored on the first
``in_sample_frames`` test frames (the thesis' protocol). Forecasting: the train and test parts are encoded
(causal encoder), the map from the features at ``t`` to the target at ``t + lag`` is fitted on train and scored
on test, for each lag of ``lags``.

Record (``metrics.json``): ``method``, ``model``, ``dataset``, ``seed``, ``select``, ``test`` (``r2`` ...,
``r2_lag<k>`` for forecasting), ``val``, ``params``, ``config``, timings, and for deep models ``best_epoch``,
``epochs_run``, ``seconds_per_epoch`` and the ``history``. Artifact ``latents.npz``: the test latents (N_test, d)
and the test target (N_test, k), for the figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from seqstruct.common.config import split_params
from seqstruct.common.device import pick_device
from seqstruct.common.provenance import utc_now
from seqstruct.common.runs import run_fingerprint, write_run
from seqstruct.common.seeding import generator, seed_everything
from seqstruct.common.trainer import TrainConfig, Trainer
from seqstruct.dapc.evaluate import fit_linear, forecast_r2, pooled_r2, recovery_r2
from seqstruct.dapc.linear import make_linear
from seqstruct.dapc.models import CPC, DAPC, CpcConfig, DapcConfig
from seqstruct.dapc.prepare import PreparedSeries, load_prepared, prepared_files, sequence_windows

log = logging.getLogger(__name__)

#: the deep models: their config class and constructor
DEEP: dict[str, tuple[type, Callable[..., torch.nn.Module]]] = {"dapc": (DapcConfig, DAPC), "cpc": (CpcConfig, CPC)}
LINEAR = ("pca", "sfa", "dca")
MODELS = (*DEEP, *LINEAR)
DETERMINISTIC = frozenset(LINEAR)
SELECTIONS = ("val_loss", "ground_truth")


@dataclass(frozen=True)
class RunParams:
    """Settings of a run that are neither the trainer's nor the model's."""

    window: int = 500  # frames per training sequence (code: 500)
    stride: int = 30  # between window starts (code: 30)
    batch_size: int = 20  # sequences per batch (code: 20)
    select: str = "val_loss"  # or "ground_truth" (the released code's selection, with the true state)
    in_sample_frames: int = 500  # the thesis' in-sample fit: the first frames of the test part
    lags: tuple[int, ...] = (5, 10, 15)  # forecasting lags
    d: int = 3  # linear models: output dimensions
    T: int = 4  # DCA: PI window
    dca_inits: int = 1  # DCA: random restarts

    def __post_init__(self) -> None:
        if self.select not in SELECTIONS:
            raise ValueError(f"select must be one of {SELECTIONS}, got {self.select!r}")


def param_classes(model: str) -> tuple[type, ...]:
    """The classes whose fields make up ``model``'s settings (``split_params`` order)."""
    if model not in MODELS:
        raise ValueError(f"unknown DAPC model {model!r}; known: {list(MODELS)}")
    return (TrainConfig, DEEP[model][0], RunParams) if model in DEEP else (RunParams,)


def known_params(model: str) -> set[str]:
    """The setting names ``model`` takes (the fields of its ``param_classes``)."""
    return {f.name for cls in param_classes(model) for f in fields(cls) if f.init}


def check_params(model: str, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming the valid keys when ``params`` holds a setting ``model`` lacks."""
    split_params(params, *param_classes(model))


def run_settings(dapc: dict[str, Any], method: str, dataset: str | None = None) -> dict[str, Any]:
    """The settings of run ``method`` on ``dataset`` from the ``dapc`` config section: those of ``dapc.train``
    (deep models only) and of the series' params (``dapc.series.<dataset>.params``) the model takes, under the
    method's own params (``dapc.methods.<method>.params``)."""
    entry = dapc["methods"][method]
    known = known_params(entry["model"])
    base = {} if entry["model"] in DETERMINISTIC else dict(dapc.get("train", {}))
    base.update(dapc.get("series", {}).get(dataset, {}).get("params", {}))
    return {**{k: v for k, v in base.items() if k in known}, **entry.get("params", {})}


def dim_variants(dapc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The runs Figure 3.6 adds (``dapc.dims_figure``): ``<run>_d<d>`` is run ``<run>`` (its baseline or a row)
    with ``d`` latent dimensions, for every ``d`` of ``dims``; as entries of ``dapc.methods``."""
    figure = dapc.get("dims_figure") or {}
    runs = [figure["baseline"], *figure.get("rows", {}).values()] if figure.get("baseline") else []
    out = {}
    for run in runs:
        if run not in dapc["methods"]:
            raise ValueError(f"dims_figure: {run!r} is not in dapc.methods {sorted(dapc['methods'])}")
        entry = dapc["methods"][run]
        for d in figure.get("dims", []):
            out[f"{run}_d{d}"] = {**entry, "params": {**entry.get("params", {}), "d": int(d)}}
    return out


def _encode(model: torch.nn.Module, x: np.ndarray, device: torch.device) -> np.ndarray:
    """(N, D) -> (N, d): the whole part as one sequence, eval mode."""
    model.eval()
    with torch.no_grad():
        return model.encode(torch.as_tensor(x, device=device)[None])[0].cpu().numpy().astype(np.float64)


def _fit_deep(
    model_name: str,
    settings: list[Any],
    params: dict[str, Any],
    data: PreparedSeries,
    data_dir: str | Path,
    seed: int,
    ckpt_dir: str | Path | None,
    desc: str,
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    train_cfg, model_cfg, p = settings
    device = pick_device()
    x_tr, _ = data.part("train")
    x_va, y_va = data.part("val")
    name = data.info["name"]
    wins = torch.as_tensor(sequence_windows(x_tr, p.window, p.stride, f"{name} train part"))
    val_wins = torch.as_tensor(sequence_windows(x_va, min(p.window, len(x_va)), p.window, f"{name} val part"))
    model = DEEP[model_name][1](wins.shape[-1], model_cfg)

    def batches(epoch: int) -> Iterator[torch.Tensor]:
        perm = torch.as_tensor(generator(seed, "dapc-batches", epoch).permutation(len(wins)))
        for i in range(0, len(perm), p.batch_size):
            yield wins[perm[i : i + p.batch_size]].to(device)

    def validate(m: torch.nn.Module) -> dict[str, float]:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(derived)
            terms = m.loss(val_wins.to(device), torch.Generator().manual_seed(derived))
        out = {k: float(v) for k, v in terms.items()}
        if p.select == "ground_truth" or data.info["task"] == "recovery":
            z = _encode(m, x_va, device)
            out["r2_truth"] = pooled_r2(y_va, fit_linear(z, y_va).predict(z))
        out["score"] = out["r2_truth"] if p.select == "ground_truth" else out["loss"]
        return out

    derived = int(generator(seed, "dapc-validation").integers(2**31))
    trainer = Trainer(
        model,
        train_cfg,
        device,
        Path(ckpt_dir) if ckpt_dir else None,
        run_fingerprint(prepared_files(data_dir), model=model_name, seed=seed, params=params),
        desc=desc,
        maximize=p.select == "ground_truth",
    )
    fit = trainer.fit(batches, lambda m, b: m.loss(b), validate)
    extra = {
        **fit.as_record(),
        "seconds_per_epoch": fit.seconds / max(1, fit.epochs_run - fit.resumed_from),
        "train_windows": len(wins),
        "device": str(device),
        "config": {"train": asdict(train_cfg), "model": asdict(model_cfg), "run": asdict(p)},
    }
    return (lambda x: _encode(model, x, device)), extra


def _fit_linear(
    model_name: str, p: RunParams, data: PreparedSeries, seed: int
) -> tuple[Callable[[np.ndarray], np.ndarray], dict[str, Any]]:
    x_tr, _ = data.part("train")
    opts = {"T": p.T, "n_init": p.dca_inits, "seed": seed} if model_name == "dca" else {}
    t0 = time.perf_counter()
    est = make_linear(model_name, p.d, **opts).fit(x_tr)
    extra = {"device": "cpu", "fit_seconds": time.perf_counter() - t0, "config": {"run": asdict(p), "model": opts}}
    return (lambda x: np.asarray(est.transform(x), np.float64)), extra


def score(
    encode: Callable[[np.ndarray], np.ndarray], data: PreparedSeries, p: RunParams
) -> tuple[dict, dict, np.ndarray]:
    """(test metrics, validation metrics, test latents (N_test, d)) of a fitted representation."""
    x_te, y_te = data.part("test")
    x_va, y_va = data.part("val")
    z_te = encode(x_te)
    if data.info["task"] == "recovery":
        test = recovery_r2(z_te, y_te, in_sample_frames=min(p.in_sample_frames, len(z_te)))
        val = recovery_r2(encode(x_va), y_va, in_sample_frames=min(p.in_sample_frames, len(x_va)))
        return test, val, z_te
    x_tr, y_tr = data.part("train")
    z_tr, z_va = encode(x_tr), encode(x_va)
    test = {f"r2_lag{k}": forecast_r2(z_tr, y_tr, z_te, y_te, k) for k in p.lags}
    val = {f"r2_lag{k}": forecast_r2(z_tr, y_tr, z_va, y_va, k) for k in p.lags}
    return test, val, z_te


def run(
    method: str,
    model: str,
    data_dir: str | Path,
    seed: int,
    params: dict[str, Any],
    out_dir: str | Path,
    ckpt_dir: str | Path | None = None,
    threads: int = 1,
) -> dict[str, Any]:
    """Fit run ``method`` (model ``model`` with ``params``) on the prepared series in ``data_dir``; write and
    return its record. ``params`` holds fields of ``TrainConfig``, the model's config and ``RunParams``."""
    settings = split_params(params, *param_classes(model))  # an unknown model or setting raises here
    p = settings[-1]
    torch.set_num_threads(max(1, threads))
    seed_everything(seed)
    t0, started = time.perf_counter(), utc_now()
    data = load_prepared(data_dir)
    name = data.info["name"]
    log.info("%s (%s) on %s, seed %d, %d frames x %d dims", method, model, name, seed, *data.x.shape)
    if model in DEEP:
        encode, extra = _fit_deep(model, settings, params, data, data_dir, seed, ckpt_dir, f"{method} {name} s{seed}")
    else:
        encode, extra = _fit_linear(model, p, data, seed)
    test, val, z_te = score(encode, data, p)
    log.info("%s %s seed %d: test %s", method, name, seed, ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    _, y_te = data.part("test")
    record = {
        "method": method,
        "model": model,
        "dataset": name,
        "seed": seed,
        "select": p.select,
        "test": test,
        "val": val,
        "params": params,
        "seconds": time.perf_counter() - t0,
        **extra,
    }
    artifacts = {"latents.npz": lambda tmp: _save_latents(tmp, z_te, y_te)}
    return write_run(out_dir, record, artifacts=artifacts, started_utc=started, inputs=prepared_files(data_dir))


def _save_latents(path: Path, z: np.ndarray, target: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.savez_compressed(f, latents=z.astype(np.float32), target=target.astype(np.float32))
