"""The one training loop every deep model in seqstruct uses.

The loop is model-agnostic: the caller supplies the batches of an epoch, a loss on one batch and a validation
function that returns a score (lower is better). The trainer owns the optimiser, the learning-rate schedule,
the progress bar, early stopping on the *validation* score only, and resumable checkpoints.

Checkpoints go to an undeclared scratch folder (``results/ckpt/...``): after every epoch the full state
(model, optimiser, scheduler, best state so far, history, RNG states) is written atomically to ``last.pt``.
A rerun with the same fingerprint resumes after the last finished epoch instead of starting over; a rerun with
a different fingerprint (other config, other data) starts fresh. Batch order depends only on (seed, epoch), so a
resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from seqstruct.common.io import atomic_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by all deep models (defaults: the GNN-RNN thesis run, methods.md §1.7)."""

    epochs: int = 100  # thesis: 100-200 epochs "until the validation loss clearly stopped improving"
    lr: float = 1e-4  # Adam learning rate (thesis sweep 1e-5 ... 1e-3)
    weight_decay: float = 1e-5  # Adam weight decay (thesis: 1e-5 or 1e-4)
    scheduler: str = "cosine"  # "cosine" (warm restarts, stepped per epoch), "step", or "none"
    cosine_t0: int = 100  # CosineAnnealingWarmRestarts T_0 (epochs)
    cosine_eta_min: float = 1e-6  # its minimum learning rate
    step_size: int = 25  # StepLR period (epochs)
    step_gamma: float = 0.5  # StepLR factor
    patience: int = 0  # stop after this many epochs without validation improvement; 0 = never stop early
    grad_clip: float = 0.0  # max gradient norm; 0 = no clipping (the reference code does not clip)


@dataclass
class FitResult:
    """What ``Trainer.fit`` returns: the selected epoch (1-based), its validation score and the history."""

    best_epoch: int
    best_score: float
    epochs_run: int
    resumed_from: int
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0


class Trainer:
    """Train ``model`` with Adam, select the epoch with the lowest validation score.

    Args:
        model: the module to train (moved to ``device``).
        config: optimisation settings.
        device: where to train.
        ckpt_dir: folder for ``last.pt``; ``None`` disables checkpointing.
        fingerprint: anything JSON-like identifying the run (config, data checksum, seed); a checkpoint with a
            different fingerprint is ignored.
        desc: label of the progress bar.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        config: TrainConfig,
        device: torch.device,
        ckpt_dir: Path | None = None,
        fingerprint: Any = None,
        desc: str = "train",
    ) -> None:
        self.model = model.to(device)
        self.config = config
        self.device = device
        self.ckpt_path = Path(ckpt_dir) / "last.pt" if ckpt_dir is not None else None
        self.fingerprint = repr(fingerprint)
        self.desc = desc
        self.optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.scheduler = _make_scheduler(self.optimizer, config)

    def fit(
        self,
        batches: Callable[[int], Iterable[Any]],
        loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor],
        validate: Callable[[torch.nn.Module], float],
    ) -> FitResult:
        """Run the loop.

        Args:
            batches: ``batches(epoch)`` yields the training batches of 0-based ``epoch``.
            loss_fn: ``loss_fn(model, batch)`` returns a scalar loss (model is in train mode).
            validate: ``validate(model)`` returns the validation score, lower is better (model in eval mode,
                gradients off). Only validation data may be used here: it drives model selection.

        Returns:
            The fit summary; afterwards ``self.model`` holds the weights of the selected epoch.
        """
        cfg = self.config
        state = self._load()
        start = state["epoch"] if state else 0
        best_score = state["best_score"] if state else math.inf
        best_epoch = state["best_epoch"] if state else 0
        best_state = state["best_state"] if state else copy.deepcopy(self.model.state_dict())
        history: list[dict[str, float]] = state["history"] if state else []
        if start:
            log.info("resuming %s from checkpoint %s after epoch %d", self.desc, self.ckpt_path, start)
        t0 = time.perf_counter()
        bar = tqdm(range(start, cfg.epochs), desc=self.desc, initial=start, total=cfg.epochs, file=sys.stderr,
                   dynamic_ncols=True, mininterval=1.0)
        for epoch in bar:
            if cfg.patience and epoch - best_epoch >= cfg.patience:
                log.info("early stop after epoch %d: no validation improvement for %d epochs", epoch, cfg.patience)
                break
            train_loss = self._train_epoch(batches(epoch), loss_fn)
            self.model.eval()
            with torch.no_grad():
                score = float(validate(self.model))
            if not math.isfinite(score):
                raise FloatingPointError(f"{self.desc}: validation score is {score} at epoch {epoch + 1}")
            if self.scheduler is not None:
                self.scheduler.step()
            if score < best_score:
                best_score, best_epoch = score, epoch + 1
                best_state = copy.deepcopy(self.model.state_dict())
            history.append({"epoch": epoch + 1, "train_loss": train_loss, "val_score": score,
                            "lr": self.optimizer.param_groups[0]["lr"]})
            bar.set_postfix(loss=f"{train_loss:.4f}", val=f"{score:.4f}", best=f"{best_score:.4f}@{best_epoch}")
            log.info("epoch %d train_loss %.5f val %.5f (best %.5f @ %d)", epoch + 1, train_loss, score,
                     best_score, best_epoch)
            self._save(epoch + 1, best_score, best_epoch, best_state, history)
        bar.close()
        self.model.load_state_dict(best_state)
        return FitResult(best_epoch=best_epoch, best_score=best_score, epochs_run=len(history),
                         resumed_from=start, history=history, seconds=time.perf_counter() - t0)

    def _train_epoch(self, batches: Iterable[Any], loss_fn: Callable[[torch.nn.Module, Any], torch.Tensor]) -> float:
        self.model.train()
        total, count = 0.0, 0
        for batch in batches:
            self.optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(self.model, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"{self.desc}: training loss is {loss.item()}")
            loss.backward()
            if self.config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
            self.optimizer.step()
            total += float(loss.detach())
            count += 1
        if count == 0:
            raise ValueError(f"{self.desc}: an epoch produced no training batches")
        return total / count

    def _save(self, epoch: int, best_score: float, best_epoch: int, best_state: dict[str, Any],
              history: list[dict[str, float]]) -> None:
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
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None},
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
        if state.get("fingerprint") != self.fingerprint or state.get("config") != asdict(self.config):
            log.warning("checkpoint %s belongs to another configuration; starting from scratch", self.ckpt_path)
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


def _make_scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler | None:
    if cfg.scheduler == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=cfg.cosine_t0, eta_min=cfg.cosine_eta_min)
    if cfg.scheduler == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.step_size, gamma=cfg.step_gamma)
    if cfg.scheduler == "none":
        return None
    raise ValueError(f"unknown scheduler {cfg.scheduler!r}; expected 'cosine', 'step' or 'none'")
