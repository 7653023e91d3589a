"""The one training loop every deep model in seqstruct uses.

The loop is model-agnostic: the caller supplies the batches of an epoch, a loss on one batch and a validation
function that returns the selection score. The trainer owns the optimiser (Adam or AdamW), the learning-rate
schedule (stepped per epoch or per optimiser step), gradient clipping, an optional hook at the start of every
epoch (KL annealing, temperature schedules), the progress bar, model selection on the *validation* score only
(lower or higher is better), early stopping, and resumable checkpoints.

A loss may be one scalar tensor or a dict of named terms whose ``"loss"`` entry is the total that is
minimised; every term's epoch mean goes into the history as ``train_<name>`` (``train_loss`` for the total).
The validation function may likewise return a float or a dict whose ``"score"`` entry selects the epoch and
whose other entries are logged as ``val_<name>``.

Checkpoints go to an undeclared scratch folder (``results/ckpt/...``): after every epoch the full state
(model, optimiser, scheduler, best state so far, history, RNG states) is written atomically to ``last.pt``.
A rerun with the same fingerprint resumes after the last finished epoch instead of starting over; a rerun with
a different fingerprint (other settings, other data: ``seqstruct.common.runs.run_fingerprint`` holds the sha256
of the prepared data) starts fresh and logs which part of the fingerprint changed. Batch order depends only on
(seed, epoch), so a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from seqstruct.common.io import atomic_path

log = logging.getLogger(__name__)

#: what ``loss_fn`` may return: a scalar tensor, or named terms with the total under ``"loss"``
Loss = torch.Tensor | Mapping[str, torch.Tensor]
#: what ``validate`` may return: the score, or named values with the score under ``"score"``
Score = float | Mapping[str, float]

OPTIMIZERS = ("adam", "adamw")
SCHEDULERS = ("cosine", "step", "warmup_rsqrt", "none")
INTERVALS = ("epoch", "step")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by all deep models (defaults: the GNN-RNN thesis run, methods.md §1.7).

    ``workflow/schemas/common.schema.yaml#/$defs/train`` mirrors these fields (a test checks that they agree).
    """

    epochs: int = 100  # thesis: 100-200 epochs "until the validation loss clearly stopped improving"
    lr: float = 1e-4  # learning rate (thesis sweep 1e-5 ... 1e-3)
    weight_decay: float = 1e-5  # weight decay (thesis: 1e-5 or 1e-4); decoupled for AdamW
    optimizer: str = "adam"  # "adam" or "adamw"
    scheduler: str = "cosine"  # "cosine" (warm restarts), "step", "warmup_rsqrt" or "none"
    scheduler_interval: str = "epoch"  # step the scheduler after every "epoch" or every optimiser "step"
    cosine_t0: int = 100  # CosineAnnealingWarmRestarts T_0 (in scheduler intervals)
    cosine_eta_min: float = 1e-6  # its minimum learning rate
    step_size: int = 25  # StepLR period (in scheduler intervals)
    step_gamma: float = 0.5  # StepLR factor
    warmup_steps: int = 4000  # warmup_rsqrt: linear warm-up length, then lr * sqrt(warmup / t) (Xtal2DoS, Noam)
    patience: int = 0  # stop after this many epochs without validation improvement; 0 = never stop early
    grad_clip: float = 0.0  # max gradient norm; 0 = no clipping (the crop reference code does not clip)


@dataclass
class FitResult:
    """What ``Trainer.fit`` returns.

    Attributes
    ----------
    best_epoch : int
        The selected epoch (1-based; 0 when no epoch ran).
    best_score : float
        Its validation score.
    epochs_run : int
        Epochs in the history (including those before a resume).
    resumed_from : int
        The epoch the run resumed after (0 for a fresh start).
    history : list of dict
        One entry per epoch: ``epoch``, ``train_loss`` (and ``train_<term>``), ``val_score`` (and
        ``val_<name>``), ``lr`` and what the epoch hook returned.
    seconds : float
        Wall time of this call.
    """

    best_epoch: int
    best_score: float
    epochs_run: int
    resumed_from: int
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0

    def as_record(self) -> dict[str, Any]:
        """The fit's entries of a run record (``metrics.json``): ``best_epoch``, ``epochs_run``,
        ``resumed_from``, ``train_seconds`` and ``history``."""
        return {
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "resumed_from": self.resumed_from,
            "train_seconds": self.seconds,
            "history": self.history,
        }


class Trainer:
    """Train ``model`` and keep the epoch with the best validation score.

    Parameters
    ----------
    model : torch.nn.Module
        The module to train (moved to ``device``).
    config : TrainConfig
        Optimisation settings.
    device : torch.device
        Where to train.
    ckpt_dir : Path, optional
        Folder for ``last.pt``; None disables checkpointing.
    fingerprint : Any
        Anything JSON-like identifying the run, normally ``seqstruct.common.runs.run_fingerprint(...)`` (sha256
        of the data, settings, seed); a checkpoint with a different fingerprint is ignored and the log says why.
    desc : str
        Label of the progress bar and the log lines.
    maximize : bool
        True when a higher validation score is better (F1, R²); False (default) for losses and errors.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        config: TrainConfig,
        device: torch.device,
        ckpt_dir: Path | None = None,
        fingerprint: Any = None,
        desc: str = "train",
        maximize: bool = False,
    ) -> None:
        self.model = model.to(device)
        self.config = config
        self.device = device
        self.ckpt_path = Path(ckpt_dir) / "last.pt" if ckpt_dir is not None else None
        self.fingerprint = _jsonable(fingerprint)
        self.desc = desc
        self.maximize = maximize
        self.optimizer = make_optimizer(model.parameters(), config)
        self.scheduler = make_scheduler(self.optimizer, config)

    def _better(self, score: float, best: float) -> bool:
        return score > best if self.maximize else score < best

    def fit(
        self,
        batches: Callable[[int], Iterable[Any]],
        loss_fn: Callable[[torch.nn.Module, Any], Loss],
        validate: Callable[[torch.nn.Module], Score],
        on_epoch: Callable[[torch.nn.Module, int], Mapping[str, float] | None] | None = None,
    ) -> FitResult:
        """Run the loop.

        Parameters
        ----------
        batches : callable
            ``batches(epoch)`` yields the training batches of 0-based ``epoch``.
        loss_fn : callable
            ``loss_fn(model, batch)`` returns a scalar loss, or a dict of named terms with the total under
            ``"loss"`` (model in train mode).
        validate : callable
            ``validate(model)`` returns the validation score, or a dict with the score under ``"score"`` (model
            in eval mode, gradients off). Only validation data may be used here: it drives model selection.
        on_epoch : callable, optional
            ``on_epoch(model, epoch)`` runs before the batches of 0-based ``epoch`` (e.g. sets a KL weight);
            it must depend on ``epoch`` only, so that a resumed run behaves as an uninterrupted one. What it
            returns (e.g. ``{"beta": 0.5}``) is logged in the history.

        Returns
        -------
        FitResult
            The fit summary; afterwards ``self.model`` holds the weights of the selected epoch.
        """
        cfg = self.config
        state = self._load()
        start = state["epoch"] if state else 0
        best_score = state["best_score"] if state else (-math.inf if self.maximize else math.inf)
        best_epoch = state["best_epoch"] if state else 0
        best_state = state["best_state"] if state else copy.deepcopy(self.model.state_dict())
        history: list[dict[str, float]] = state["history"] if state else []
        if start:
            log.info("resuming %s from checkpoint %s after epoch %d", self.desc, self.ckpt_path, start)
        t0 = time.perf_counter()
        bar = tqdm(
            range(start, cfg.epochs),
            desc=self.desc,
            initial=start,
            total=cfg.epochs,
            file=sys.stderr,
            dynamic_ncols=True,
            mininterval=1.0,
        )
        for epoch in bar:
            if cfg.patience and epoch - best_epoch >= cfg.patience:
                log.info("early stop after epoch %d: no validation improvement for %d epochs", epoch, cfg.patience)
                break
            hooked = dict(on_epoch(self.model, epoch) or {}) if on_epoch is not None else {}
            train = self._train_epoch(batches(epoch), loss_fn)
            self.model.eval()
            with torch.no_grad():
                val = _named(validate(self.model), "score", f"{self.desc}: validate")
            score = float(val.pop("score"))
            if not math.isfinite(score):
                raise FloatingPointError(f"{self.desc}: validation score is {score} at epoch {epoch + 1}")
            if self.scheduler is not None and cfg.scheduler_interval == "epoch":
                self.scheduler.step()
            if self._better(score, best_score):
                best_score, best_epoch = score, epoch + 1
                best_state = copy.deepcopy(self.model.state_dict())
            history.append(
                {
                    "epoch": epoch + 1,
                    **{f"train_{k}": v for k, v in train.items()},
                    "val_score": score,
                    **{f"val_{k}": float(v) for k, v in val.items()},
                    "lr": self.optimizer.param_groups[0]["lr"],
                    **hooked,
                }
            )
            bar.set_postfix(loss=f"{train['loss']:.4f}", val=f"{score:.4f}", best=f"{best_score:.4f}@{best_epoch}")
            log.info(
                "epoch %d train_loss %.5f val %.5f (best %.5f @ %d)",
                epoch + 1,
                train["loss"],
                score,
                best_score,
                best_epoch,
            )
            self._save(epoch + 1, best_score, best_epoch, best_state, history)
        bar.close()
        self.model.load_state_dict(best_state)
        return FitResult(
            best_epoch=best_epoch,
            best_score=best_score,
            epochs_run=len(history),
            resumed_from=start,
            history=history,
            seconds=time.perf_counter() - t0,
        )

    def _train_epoch(self, batches: Iterable[Any], loss_fn: Callable[[torch.nn.Module, Any], Loss]) -> dict[str, float]:
        """One pass over ``batches``; returns the mean of every loss term (``loss``: the total)."""
        self.model.train()
        totals: dict[str, float] = {}
        count = 0
        for batch in batches:
            self.optimizer.zero_grad(set_to_none=True)
            terms = _named(loss_fn(self.model, batch), "loss", f"{self.desc}: loss_fn")
            loss = terms["loss"]
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{self.desc}: training loss is {loss.item()}")
            loss.backward()
            if self.config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            if self.scheduler is not None and self.config.scheduler_interval == "step":
                self.scheduler.step()
            for k, v in terms.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach() if isinstance(v, torch.Tensor) else v)
            count += 1
        if count == 0:
            raise ValueError(f"{self.desc}: an epoch produced no training batches")
        return {k: v / count for k, v in totals.items()}

    def _save(
        self,
        epoch: int,
        best_score: float,
        best_epoch: int,
        best_state: dict[str, Any],
        history: list[dict[str, float]],
    ) -> None:
        if self.ckpt_path is None:
            return
        state = {
            "fingerprint": self.fingerprint,
            "config": asdict(self.config),
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "best_score": best_score,
            "best_epoch": best_epoch,
            "best_state": best_state,
            "history": history,
            "rng": {
                "torch": torch.get_rng_state(),
                "numpy": np.random.get_state(),
                "python": random.getstate(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
        }
        with atomic_path(self.ckpt_path) as tmp:
            torch.save(state, tmp)

    def _load(self) -> dict[str, Any] | None:
        if self.ckpt_path is None or not self.ckpt_path.exists():
            return None
        try:
            state = torch.load(self.ckpt_path, map_location=self.device, weights_only=False)
        except Exception as exc:  # a corrupt checkpoint is not fatal: start over, say so
            log.warning("ignoring unreadable checkpoint %s (%s); starting from scratch", self.ckpt_path, exc)
            return None
        why = fingerprint_change(state.get("fingerprint"), self.fingerprint)
        if not why and state.get("config") != asdict(self.config):
            why = "other training settings (TrainConfig)"
        if why:
            log.warning("checkpoint %s was made for %s; starting from scratch", self.ckpt_path, why)
            return None
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        rng = state["rng"]
        torch.set_rng_state(rng["torch"].cpu())
        np.random.set_state(rng["numpy"])
        random.setstate(rng["python"])
        if rng["cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(rng["cuda"])
        return state


def _jsonable(value: Any) -> Any:
    """``value`` as JSON would give it back (tuples as lists, keys as str), so that saved and new compare equal."""
    return json.loads(json.dumps(value, sort_keys=True, default=repr))


def fingerprint_change(old: Any, new: Any) -> str:
    """Say how fingerprint ``old`` differs from ``new``; empty if they are equal.

    Parameters
    ----------
    old, new : Any
        Two JSON-like fingerprints, normally ``run_fingerprint`` dicts (``inputs``: path -> sha256, settings).

    Returns
    -------
    str
        ``""`` when equal; otherwise e.g. ``"other data (sha256 of results/data/crop/soybean.nc changed)"`` or
        ``"other settings (params, seed)"``.
    """
    if old == new:
        return ""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return "other settings"
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    parts = []
    if "inputs" in changed:
        was, now = old.get("inputs") or {}, new.get("inputs") or {}
        files = sorted(k for k in set(was) | set(now) if was.get(k) != now.get(k)) if isinstance(was, dict) else []
        parts.append(f"other data (sha256 of {', '.join(files) or 'the inputs'} changed)")
    settings = [k for k in changed if k != "inputs"]
    if settings:
        parts.append(f"other settings ({', '.join(settings)})")
    return " and ".join(parts)


def _named(value: Any, main: str, what: str) -> dict[str, Any]:
    """``value`` as a dict with its main entry under ``main`` (a bare value becomes ``{main: value}``)."""
    if isinstance(value, Mapping):
        if main not in value:
            raise KeyError(f"{what} returned the terms {sorted(value)} without the {main!r} entry")
        return dict(value)
    return {main: value}


def make_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """Adam (L2 weight decay, as the reference codes use) or AdamW (decoupled weight decay)."""
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; expected one of {OPTIMIZERS}")


def warmup_rsqrt(warmup_steps: int) -> Callable[[int], float]:
    """Learning-rate factor of the warm-up + inverse-square-root schedule (Vaswani et al. 2017; Xtal2DoS).

    ``f(t) = min((t + 1) / w, sqrt(w / (t + 1)))`` for scheduler step ``t`` (0-based) and ``w = warmup_steps``:
    a linear rise to 1 at ``t + 1 = w``, then a decay as ``1 / sqrt(t)``.
    """
    if warmup_steps < 1:
        raise ValueError(f"warmup_steps must be >= 1, got {warmup_steps}")

    def factor(t: int) -> float:
        return min((t + 1) / warmup_steps, math.sqrt(warmup_steps / (t + 1)))

    return factor


def make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule of ``cfg`` (None for ``"none"``); ``cfg.scheduler_interval`` says how often
    the trainer steps it."""
    if cfg.scheduler_interval not in INTERVALS:
        raise ValueError(f"unknown scheduler_interval {cfg.scheduler_interval!r}; expected one of {INTERVALS}")
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=cfg.cosine_t0, eta_min=cfg.cosine_eta_min)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.step_gamma)
    if cfg.scheduler == "warmup_rsqrt":
        return torch.optim.lr_scheduler.LambdaLR(opt, warmup_rsqrt(cfg.warmup_steps))
    if cfg.scheduler == "none":
        return None
    raise ValueError(f"unknown scheduler {cfg.scheduler!r}; expected one of {SCHEDULERS}")
