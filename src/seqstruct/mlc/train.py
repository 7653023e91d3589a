"""One MLC training run: fit a method on the training split of a prepared data set, choose the decision threshold
on validation, score validation and test, write the run record (``seqstruct.common.runs.write_run``).

Methods (``METHODS``, slug -> table name, in the thesis' table order): ``br`` (binary relevance), ``mlknn`` and
``haram`` are deterministic; ``c2ae``, ``lamp``, ``mpvae``, ``asl`` and ``cgmvae`` train with the shared trainer,
selecting the epoch on the validation score ``select_metric`` (macro-F1 at its best validation threshold, as the
authors' code) and never looking at test. SLEEC and RBCC (thesis rows) are not implemented.

The threshold: one per run, the value of ``THRESHOLDS`` that maximises ``threshold_metric`` (default micro-F1)
on validation (``choose_threshold``); every thresholded test metric uses it. Test metrics at 0.5 are recorded
too (``test_at_half``).

Record (``metrics.json``): ``method``, ``slug``, ``dataset``, ``seed``, ``val`` and ``test`` (metric -> value at
the chosen threshold), ``test_at_half``, ``threshold``, ``params``, ``config``, timings and, for the deep
methods, ``best_epoch``, ``epochs_run`` and the training ``history``. Artifacts: ``scores.npz`` (the test
scores (N_test, L) float32 and the test row indices).

Shapes: features (N, F) dense or CSR, densified per batch; labels (N, L) 0/1; scores (N, L) in [0, 1].
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from seqstruct.common.config import init_settings, split_params
from seqstruct.common.device import pick_device
from seqstruct.common.metrics import choose_threshold, multilabel_metrics
from seqstruct.common.provenance import utc_now
from seqstruct.common.runs import run_fingerprint, write_run
from seqstruct.common.seeding import generator, seed_everything
from seqstruct.common.trainer import TrainConfig, Trainer
from seqstruct.mlc.asl import ASLConfig, ASLNet
from seqstruct.mlc.binary_relevance import BinaryRelevance
from seqstruct.mlc.c2ae import C2AE, C2AEConfig
from seqstruct.mlc.cgmvae import CGMVAE, CGMVAEConfig
from seqstruct.mlc.lamp import LaMP, LaMPConfig
from seqstruct.mlc.mlaram import HARAM
from seqstruct.mlc.mlknn import MLkNN
from seqstruct.mlc.mpvae import MPVAE, MPVAEConfig
from seqstruct.mlc.prepare import PreparedMlc, load_prepared, prepared_files

log = logging.getLogger(__name__)

#: slug -> the name in the thesis tables
METHODS = {
    "br": "BR",
    "mlknn": "MLKNN",
    "haram": "HARAM",
    "c2ae": "C2AE",
    "lamp": "LaMP",
    "mpvae": "MPVAE",
    "asl": "ASL",
    "cgmvae": "C-GMVAE",
}
#: the methods without randomness (one seed): their estimator, built from its own fields (BR ``c``, ``max_iter``;
#: MLkNN ``k``, ``s``; HARAM ``vigilance``, ``threshold``, ...)
SHALLOW: dict[str, type] = {"br": BinaryRelevance, "mlknn": MLkNN, "haram": HARAM}
DETERMINISTIC = frozenset(SHALLOW)
#: the deep models: their config class and constructor
DEEP: dict[str, tuple[type, Callable[..., torch.nn.Module]]] = {
    "c2ae": (C2AEConfig, C2AE),
    "mpvae": (MPVAEConfig, MPVAE),
    "asl": (ASLConfig, ASLNet),
    "lamp": (LaMPConfig, LaMP),
    "cgmvae": (CGMVAEConfig, CGMVAE),
}

#: the deep models whose forward returns probabilities (the others return logits)
PROBABILITIES = frozenset({"mpvae"})

Scores = Callable[[Any], np.ndarray]  # features (N, F) -> scores (N, L)


@dataclass(frozen=True)
class MlcParams:
    """Settings of a run that are neither the trainer's nor the model's."""

    batch_size: int = 128  # deep models
    select_metric: str = "ma_f1"  # deep models: validation metric (at its best threshold) that selects the epoch
    threshold_metric: str = "mi_f1"  # validation metric the run's one decision threshold maximises
    # share of the training split used (thesis Table 2.13, Figure 2.20): the first rows of a permutation drawn from
    # the data set's split seed, so every method and seed sees the same subset and 10% lies inside 50%
    train_fraction: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be in (0, 1], got {self.train_fraction}")


def training_subset(data: PreparedMlc, fraction: float) -> PreparedMlc:
    """``data`` with its training split cut to ``fraction`` of its rows (at least one); validation and test as
    they are. The rows: the first of ``generator(split_seed, "mlc-train-fraction", dataset).permutation``."""
    if fraction >= 1:
        return data
    train = data.split["train"]
    keep = max(1, round(fraction * len(train)))
    order = generator(data.info["split_seed"], "mlc-train-fraction", data.info["dataset"]).permutation(len(train))
    return replace(data, split={**data.split, "train": np.sort(train[order[:keep]])})


def dense(x: Any) -> np.ndarray:
    """(N, F) float32 ndarray of a dense array or a CSR matrix."""
    return np.asarray(x.toarray() if sp.issparse(x) else x, dtype=np.float32)


def param_classes(method: str) -> tuple[type, ...]:
    """The classes whose fields make up ``method``'s settings (``split_params`` order)."""
    if method not in METHODS:
        raise ValueError(f"unknown MLC method {method!r}; known: {sorted(METHODS)}")
    return (TrainConfig, DEEP[method][0], MlcParams) if method in DEEP else (MlcParams, SHALLOW[method])


def check_params(method: str, params: dict[str, Any]) -> None:
    """Raise ``ValueError`` (naming the valid keys) if ``params`` holds a setting ``method`` does not have, or a
    value its config class refuses; the workflow calls it on every configured setting before anything runs."""
    split_params(params, *param_classes(method))


def _fit_deep(
    method: str,
    settings: list[Any],
    params: dict[str, Any],
    data: PreparedMlc,
    data_dir: str | Path,
    seed: int,
    ckpt_dir: str | Path | None,
) -> tuple[Scores, dict[str, Any], MlcParams, torch.nn.Module]:
    build = DEEP[method][1]
    train_cfg, model_cfg, p = settings
    device = pick_device()
    x_tr, y_tr = data.part("train")
    x_va, y_va = data.part("val")
    xs = torch.as_tensor(dense(x_tr))
    ys = torch.as_tensor(y_tr.astype(np.float32))
    model = build(xs.shape[1], ys.shape[1], model_cfg)
    if hasattr(model, "set_label_graph"):  # C-GMVAE's GNN variant: the training labels' co-occurrence graph
        model.set_label_graph(ys)
    probabilities = method in PROBABILITIES

    def batches(epoch: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        perm = torch.as_tensor(generator(seed, "mlc-batches", epoch).permutation(len(xs)))
        for i in range(0, len(perm), p.batch_size):
            idx = perm[i : i + p.batch_size]
            yield xs[idx].to(device), ys[idx].to(device)

    def scores_of(m: torch.nn.Module, x: Any) -> np.ndarray:
        out = []
        with torch.no_grad():
            for i in range(0, x.shape[0], 1024):
                logits_or_p = m(torch.as_tensor(dense(x[i : i + 1024]), device=device))
                out.append((logits_or_p if probabilities else torch.sigmoid(logits_or_p)).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, y_va.shape[1]), np.float32)

    def validate(m: torch.nn.Module) -> dict[str, float]:
        s = scores_of(m, x_va)
        th, best = choose_threshold(y_va, s, p.select_metric)
        return {"score": best, "threshold": th}

    trainer = Trainer(
        model,
        train_cfg,
        device,
        Path(ckpt_dir) if ckpt_dir else None,
        run_fingerprint(prepared_files(data_dir), method=method, seed=seed, params=params),
        desc=f"{METHODS[method]} {data.info['dataset']} s{seed}",
        maximize=True,
    )
    fit = trainer.fit(batches, lambda m, b: m.loss(*b), validate)
    model.eval()
    extra = {
        **fit.as_record(),
        "device": str(device),
        "config": {"train": asdict(train_cfg), "model": asdict(model_cfg), "run": asdict(p)},
    }
    return (lambda x: scores_of(model, x)), extra, p, model


def run(
    method: str,
    data_dir: str | Path,
    seed: int,
    params: dict[str, Any],
    out_dir: str | Path,
    ckpt_dir: str | Path | None = None,
    threads: int = 1,
    evaluate_test: bool = True,
    keep_model: bool = False,
) -> dict[str, Any]:
    """Train ``method`` on the prepared data set in ``data_dir`` with ``seed``; write and return its record.

    With ``keep_model`` a deep model's weights are written too (``model.pt``), and for a model with
    ``label_embeddings()`` (C-GMVAE) the (L, E) label embeddings (``label_embeddings.npy``, Figure 2.19).

    ``params`` holds fields of ``TrainConfig``, the model's config and ``MlcParams`` (unknown keys raise).
    With ``evaluate_test=False`` (grid search) only validation is scored.
    """
    settings = split_params(params, *param_classes(method))  # an unknown method or setting raises here
    torch.set_num_threads(max(1, threads))
    seed_everything(seed)
    t0, started = time.perf_counter(), utc_now()
    fraction = next(s for s in settings if isinstance(s, MlcParams)).train_fraction
    data = training_subset(load_prepared(data_dir), fraction)
    name = data.info["dataset"]
    log.info(
        "%s on %s: %s, seed %d%s",
        METHODS[method],
        name,
        data.info["sizes"],
        seed,
        f", {len(data.split['train'])} training rows ({fraction:.0%})" if fraction < 1 else "",
    )
    if method in DEEP:
        predict, extra, p, model = _fit_deep(method, settings, params, data, data_dir, seed, ckpt_dir)
    else:
        p, estimator = settings
        predict = estimator.fit(*data.part("train")).predict_proba
        extra = {"device": "cpu", "config": {"run": asdict(p), "model": init_settings(estimator)}}
    x_va, y_va = data.part("val")
    s_va = predict(x_va)
    threshold, _ = choose_threshold(y_va, s_va, p.threshold_metric)
    result: dict[str, Any] = {"val": multilabel_metrics(y_va, s_va, threshold), "threshold": threshold}
    artifacts = {}
    if keep_model and method in DEEP:
        artifacts["model.pt"] = lambda tmp: torch.save(model.state_dict(), tmp)
        if hasattr(model, "label_embeddings"):
            with torch.no_grad():
                emb = model.label_embeddings().cpu().numpy()
            artifacts["label_embeddings.npy"] = lambda tmp: np.save(tmp, emb)
    if evaluate_test:
        x_te, y_te = data.part("test")
        s_te = predict(x_te)
        result["test"] = multilabel_metrics(y_te, s_te, threshold)
        result["test_at_half"] = multilabel_metrics(y_te, s_te, 0.5)
        idx = data.split["test"]
        artifacts["scores.npz"] = lambda tmp: np.savez_compressed(tmp, scores=s_te.astype(np.float32), rows=idx)
        log.info(
            "%s %s seed %d: threshold %.2f (val), test %s",
            METHODS[method],
            name,
            seed,
            threshold,
            ", ".join(f"{k} {result['test'][k]:.4f}" for k in ("ex_f1", "mi_f1", "ma_f1", "ha", "p_at_1")),
        )
    record = {
        "method": METHODS[method],
        "slug": method,
        "dataset": name,
        "seed": seed,
        "data_pct": round(100 * fraction, 6),
        **result,
        "params": params,
        "seconds": time.perf_counter() - t0,
        **extra,
    }
    return write_run(out_dir, record, artifacts=artifacts, started_utc=started, inputs=prepared_files(data_dir))
