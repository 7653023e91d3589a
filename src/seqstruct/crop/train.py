"""Train and evaluate one crop method on one split with one seed: the entry point the workflow calls.

The 11 methods of thesis Table 2.1 (slug -> thesis name in ``METHODS``): three scikit-learn baselines on the
flattened single-year features and eight deep models (``seqstruct.crop.models``) trained by the shared
trainer with a log-cosh loss on standardised yields, the epoch chosen on the validation year. Hyperparameters
come in through ``params`` (chosen on the validation year by ``seqstruct.crop.search``).

Writes ``metrics.json``, ``predictions.csv`` and ``model.pt`` into ``out_dir``; ``metrics.json`` carries the
val/test metrics, the early-prediction metrics (test year, weekly features masked after each week; thesis
Table 2.2), the feature-group sensitivity on the test year (``seqstruct.crop.sensitivity``) and the run's
provenance (commit, host, SLURM job, sha256 of the prepared data).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Lasso, Ridge

from seqstruct.common.config import split_params
from seqstruct.common.device import pick_device
from seqstruct.common.metrics import regression_metrics
from seqstruct.common.provenance import utc_now
from seqstruct.common.runs import run_fingerprint, write_run
from seqstruct.common.seeding import seed_everything
from seqstruct.common.trainer import TrainConfig, Trainer
from seqstruct.crop.batches import GraphBatches, SeqBatches, predict
from seqstruct.crop.dataset import CropTensors, Split, make_tensors, masked_after_week, open_prepared
from seqstruct.crop.models import CropModelConfig, build_model, log_cosh_loss
from seqstruct.crop.raw import CropDataError
from seqstruct.crop.sampler import NeighborSampler
from seqstruct.crop.sensitivity import crop_sensitivity

log = logging.getLogger(__name__)

#: workflow slug -> thesis method name (Table 2.1 order)
METHODS = {
    "lasso_1y": "lasso 1y",
    "ridge_1y": "ridge 1y",
    "gradient_boosting_1y": "gradient-boosting 1y",
    "gru_1y": "gru 1y",
    "lstm_1y": "lstm 1y",
    "cnn_1y": "cnn 1y",
    "gnn_1y": "gnn 1y",
    "gru_5y": "gru 5y",
    "lstm_5y": "lstm 5y",
    "cnn_rnn_5y": "cnn-rnn 5y",
    "gnn_rnn_5y": "gnn-rnn 5y",
}
#: scikit-learn methods and the settings each accepts (with defaults)
SKLEARN: dict[str, dict[str, Any]] = {
    "lasso_1y": {"alpha": 0.01, "max_iter": 20000},
    "ridge_1y": {"alpha": 1.0},
    "gradient_boosting_1y": {"max_iter": 100, "max_depth": None, "learning_rate": 0.1},
}
#: methods without randomness: run once (seed = the first configured seed), reported with std 0. Gradient
#: boosting is deterministic here: no early stopping and no subsampling, so ``random_state`` is never used.
DETERMINISTIC = frozenset(SKLEARN)
HISTORY = 5  # years per sequence of the 5y models (thesis: t-4 ... t)
EARLY_WEEKS = tuple(range(13, 53))  # masking weeks of the early-prediction curve (beyond the thesis)


def history_of(method: str) -> int:
    """Years per input window: 1 for the single-year methods, ``HISTORY`` for the 5-year ones."""
    return HISTORY if method.endswith("_5y") else 1


def earliest_test_year(method: str, first_year: int) -> int:
    """The first test year ``method`` can have on data starting in ``first_year``.

    The validation year is the year before the test year; training target years lie before it and need
    ``max(history - 1, 1)`` earlier years (``crop.dataset.CropTensors.train_years``), so at least one exists from
    ``first_year + max(history - 1, 1) + 2`` on (1y methods: first year + 3; 5y methods: first year + 6).
    """
    return first_year + max(history_of(method) - 1, 1) + 2


def check_test_years(
    test_years: Sequence[int], methods: Sequence[str], years: tuple[int, int], source: str, key: str
) -> None:
    """Refuse test years the data cannot serve, before anything is prepared (the workflow calls this at parse time).

    Parameters
    ----------
    test_years : sequence of int
        The configured test years.
    methods : sequence of str
        The methods that will run on them.
    years : (int, int)
        First and last year of the data.
    source : str
        Where ``years`` come from (named in the message), e.g. the registry entry.
    key : str
        The config key of ``test_years`` (named in the message).

    Raises
    ------
    CropDataError
        A test year outside the data, or too early for one of the methods (no training year before its
        validation year).
    """
    first, last = years
    for year in test_years:
        if not first <= year <= last:
            raise CropDataError(
                f"config {key}: test year {year} is outside the data's years {first}-{last} ({source}); "
                f"choose test years in {first}-{last}"
            )
        late = {m: earliest_test_year(m, first) for m in methods if year < earliest_test_year(m, first)}
        if late:
            method, need = max(late.items(), key=lambda kv: kv[1])
            raise CropDataError(
                f"config {key}: test year {year} leaves {method} no training year before its validation year "
                f"{year - 1} (the data starts in {first}, {source}); choose a test year of {need} or later"
            )


@dataclass(frozen=True)
class DeepParams:
    """Per-method settings of the deep models that are not architecture or optimiser settings."""

    batch_size: int = 32  # non-graph: (county, year) windows per batch; graph: seed counties per batch
    loss_history_weight: float = 0.0  # weight of the loss on steps t-4..t-1 (reference default c1 = 0)
    fanouts: tuple[int, ...] = (10, 10)  # graph models: neighbours sampled per node and layer (0 = all)


def run(
    method: str,
    data_path: str | Path,
    test_year: int,
    seed: int,
    params: dict[str, Any],
    out_dir: str | Path,
    ckpt_dir: str | Path | None = None,
    threads: int = 1,
    crop: str = "soybean",
    evaluate_test: bool = True,
    early_week: int = 22,
    early_weeks: Sequence[int] = EARLY_WEEKS,
    early_mask: Sequence[str] = ("weather",),
    permutations: int = 3,
) -> dict[str, Any]:
    """Train ``method`` for test year ``test_year`` with ``seed``; write and return its metrics.

    Parameters
    ----------
    method
        One of ``METHODS`` (slug).
    data_path
        The prepared NetCDF.
    test_year
        Test year; validation is the year before.
    seed
        The run's seed.
    params
        Method settings (``SKLEARN[method]`` keys for the scikit-learn methods; for deep models any
        field of ``TrainConfig``, ``CropModelConfig`` and ``DeepParams``). Unknown keys raise.
    out_dir
        Where ``metrics.json``, ``predictions.csv`` and ``model.pt`` go.
    ckpt_dir
        Scratch folder for resumable checkpoints (deep models).
    threads
        CPU threads for torch.
    crop
        Crop name recorded in the outputs.
    evaluate_test
        False for hyperparameter searches: the test year is then never predicted or scored.
    early_week
        ``test_early`` holds the test metrics with weekly features masked after this week (Table 2.2).
    early_weeks
        The masking weeks of the ``early`` curve.
    early_mask
        What early prediction masks (``crop.dataset.MASKABLE``): "weather" (the thesis), and "planting".
    permutations
        Permutation seeds per feature group of the test-year sensitivity (``sensitivity`` in the metrics);
        0 skips it.
    """
    if method not in METHODS:
        raise ValueError(f"unknown crop method {method!r}; known: {sorted(METHODS)}")
    torch.set_num_threads(max(1, threads))
    seed_everything(seed)
    t0, started = time.perf_counter(), utc_now()
    split = Split(int(test_year))
    data = make_tensors(open_prepared(data_path), split)
    log.info(
        "%s: test %d, val %d, %d counties, years %d-%d, seed %d",
        METHODS[method],
        split.test_year,
        split.val_year,
        data.n_counties,
        data.years[0],
        data.years[-1],
        seed,
    )
    if method in SKLEARN:
        predict_year, model_state, extra = _fit_sklearn(method, data, params, seed)
        device, hops = "cpu", 0
    else:
        predict_year, model_state, extra, device, data = _fit_deep(method, data, data_path, params, seed, ckpt_dir)
        hops = extra["gnn_hops"]

    rows, result = [], {}
    evaluated = (("val", split.val_year), ("test", split.test_year)) if evaluate_test else (("val", split.val_year),)
    y = data.y.cpu().numpy()
    for name, year in evaluated:
        y_true, y_pred = y[:, data.year_index(year)], predict_year(year)
        result[name] = regression_metrics(y_true, y_pred)
        keep = ~np.isnan(y_true)
        rows.append(
            pd.DataFrame(
                {
                    "split": name,
                    "fips": data.fips[keep],
                    "year": year,
                    "y_true": y_true[keep] * data.y_std + data.y_mean,
                    "y_pred": y_pred[keep] * data.y_std + data.y_mean,
                }
            )
        )
    if evaluate_test:
        result.update(_early(data, predict_year, early_week, early_weeks, tuple(early_mask)))
        if permutations > 0:
            importance = crop_sensitivity(data, predict_year, history_of(method), hops, permutations, seed)
            result["sensitivity"] = [r.as_row() for r in importance]
    metrics = {
        "method": METHODS[method],
        "slug": method,
        "crop": crop,
        "test_year": split.test_year,
        "val_year": split.val_year,
        "seed": seed,
        **result,
        "y_mean": data.y_mean,
        "y_std": data.y_std,
        "device": str(device),
        "seconds": time.perf_counter() - t0,
        "params": params,
        **extra,
    }
    log.info(
        "%s test %d seed %d: %s",
        METHODS[method],
        split.test_year,
        seed,
        " | ".join(f"{k} {_fmt(result[k])}" for k in ("val", "test", "test_early") if k in result),
    )
    predictions = pd.concat(rows)
    return write_run(
        out_dir,
        metrics,
        started_utc=started,
        inputs=[data_path],
        artifacts={
            "predictions.csv": lambda tmp: predictions.to_csv(tmp, index=False, float_format="%.6g"),
            "model.pt": lambda tmp: torch.save(model_state, tmp),
        },
    )


def _fmt(m: dict[str, float]) -> str:
    return f"rmse {m['rmse']:.4f} r2 {m['r2']:.4f} corr {m['corr']:.4f} (n={m['n']})"


def _early(
    data: CropTensors,
    predict_year: Callable[[int], np.ndarray],
    week: int,
    weeks: Sequence[int],
    mask: tuple[str, ...],
) -> dict[str, Any]:
    """Test metrics with the test year's ``mask`` features masked after ``week`` (``test_early``) and after each
    of ``weeks`` (``early``: lists aligned with ``weeks``)."""
    year = data.split.test_year
    y_true = data.y[:, data.year_index(year)].cpu().numpy()
    curve: dict[str, Any] = {"weeks": [], "rmse": [], "r2": [], "corr": [], "mask": list(mask)}
    at_week = None
    for w in sorted(set(weeks) | {week}):
        with masked_after_week(data, year, w, mask):
            m = regression_metrics(y_true, predict_year(year))
        if w == week:
            at_week = {**m, "mask_after_week": week, "mask": list(mask)}
        if w in weeks:
            curve["weeks"].append(w)
            for k in ("rmse", "r2", "corr"):
                curve[k].append(m[k])
    return {"test_early": at_week, "early": curve}


# ---------------------------------------------------------------- scikit-learn baselines
def _fit_sklearn(
    method: str, data: CropTensors, params: dict[str, Any], seed: int
) -> tuple[Callable[[int], np.ndarray], dict[str, Any], dict[str, Any]]:
    """Fit on the flattened single-year features of the training years (labelled county-years only)."""
    unknown = set(params) - set(SKLEARN[method])
    if unknown:
        raise ValueError(f"unknown {method} settings {sorted(unknown)}; valid: {sorted(SKLEARN[method])}")
    kw = {**SKLEARN[method], **params}
    if method == "lasso_1y":
        model: Any = Lasso(alpha=float(kw["alpha"]), max_iter=int(kw["max_iter"]))
    elif method == "ridge_1y":
        model = Ridge(alpha=float(kw["alpha"]))
    else:
        depth = None if kw["max_depth"] is None else int(kw["max_depth"])
        model = HistGradientBoostingRegressor(
            max_iter=int(kw["max_iter"]),
            max_depth=depth,
            learning_rate=float(kw["learning_rate"]),
            early_stopping=False,
            random_state=seed,
        )
    years = data.train_years(history=1)
    x = np.concatenate([data.flat_features(t) for t in years])
    y = np.concatenate([data.y[:, data.year_index(t)].numpy() for t in years])
    keep = ~np.isnan(y)
    model.fit(x[keep], y[keep])
    log.info("%s fitted on %d county-years of %d-%d with %s", method, int(keep.sum()), years[0], years[-1], kw)
    state = {"kind": method, "settings": kw, "estimator": model, "history": 1, "gnn_hops": 0}
    return lambda year: model.predict(data.flat_features(year)), state, {"config": kw}


# ---------------------------------------------------------------- deep models
def _fit_deep(
    method: str,
    data: CropTensors,
    data_path: str | Path,
    params: dict[str, Any],
    seed: int,
    ckpt_dir: str | Path | None,
) -> tuple[Callable[[int], np.ndarray], dict[str, Any], dict[str, Any], torch.device, CropTensors]:
    train_cfg, model_cfg, deep = split_params(params, TrainConfig, CropModelConfig, DeepParams)
    device = pick_device()
    data = data.to(device)
    shapes = {
        "weekly": tuple(data.weekly.shape[2:]),
        "soil": tuple(data.soil.shape[2:]),
        "extra": tuple(data.extra.shape[2:]),
    }
    model = build_model(method, shapes, model_cfg)
    history = history_of(method)
    years = data.train_years(history=max(history - 1, 1))
    batches: SeqBatches | GraphBatches
    if model.graph:
        if len(deep.fanouts) != model_cfg.gnn_layers:
            raise ValueError(
                f"{method}: fanouts {list(deep.fanouts)} must name one count per GNN layer "
                f"(gnn_layers = {model_cfg.gnn_layers})"
            )
        sampler = NeighborSampler(data.edge_index, data.n_counties, deep.fanouts)
        batches = GraphBatches(data, years, deep.batch_size, seed, history, sampler)
    else:
        batches = SeqBatches(data, years, deep.batch_size, seed, history)

    def loss_fn(m: torch.nn.Module, batch: Any) -> torch.Tensor:
        pred, target = batches.forward(m, batch)
        loss = log_cosh_loss(pred[:, -1], target[:, -1])
        if deep.loss_history_weight > 0 and not torch.isnan(target[:, :-1]).all():
            loss = loss + deep.loss_history_weight * log_cosh_loss(pred[:, :-1], target[:, :-1])
        return loss

    y_val = data.y[:, data.year_index(data.split.val_year)].cpu().numpy()

    def validate(m: torch.nn.Module) -> float:
        return regression_metrics(y_val, predict(m, data, data.split.val_year, history))["rmse"]

    trainer = Trainer(
        model,
        train_cfg,
        device,
        Path(ckpt_dir) if ckpt_dir else None,
        run_fingerprint([data_path], method=method, seed=seed, test_year=data.split.test_year, params=params),
        desc=f"{METHODS[method]} {data.split.test_year} s{seed}",
    )
    fit = trainer.fit(batches, loss_fn, validate)
    model.eval()
    extra = {
        **fit.as_record(),
        "batches_per_epoch": len(batches),
        "gnn_hops": model_cfg.gnn_layers if model.graph else 0,  # how far a county's prediction reaches
        "config": {"train": asdict(train_cfg), "model": asdict(model_cfg), "deep": asdict(deep)},
    }
    if device.type == "cuda":
        extra["cuda_max_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    state = {
        "kind": method,
        "state_dict": model.state_dict(),
        "shapes": shapes,
        "config": extra["config"],
        "history": history,
        "gnn_hops": extra["gnn_hops"],
    }

    def predict_np(year: int) -> np.ndarray:
        with torch.no_grad():
            return predict(model, data, year, history)

    return predict_np, state, extra, device, data
