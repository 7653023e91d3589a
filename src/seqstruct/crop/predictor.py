"""Load a trained crop model (``model.pt`` of a training run) back as a predictor over a split's tensors, so
that a finished run can be probed again (``seqstruct.crop.sensitivity``) without retraining."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqstruct.crop.batches import predict
from seqstruct.crop.dataset import CropTensors
from seqstruct.crop.models import CropModelConfig, build_model
from seqstruct.crop.raw import CropDataError


@dataclass(frozen=True)
class Predictor:
    """A trained crop model bound to one split's tensors.

    Attributes
    ----------
    method : str
        The method slug.
    predict_year : callable
        ``predict_year(year)`` -> (N,) standardised predictions from the current tensors.
    history : int
        Years per input window.
    gnn_hops : int
        GNN layers of a graph model, 0 for the others.
    """

    method: str
    predict_year: Callable[[int], np.ndarray]
    history: int
    gnn_hops: int


def load_predictor(model_pt: str | Path, data: CropTensors) -> Predictor:
    """The model saved in ``model_pt`` by ``seqstruct.crop.train.run``, predicting from ``data``.

    Raises
    ------
    CropDataError
        If the file is missing or was written by a version that did not record the window and hops.
    """
    model_pt = Path(model_pt)
    if not model_pt.exists():
        raise CropDataError(f"{model_pt}: no trained model here; run its train_crop job first")
    state = torch.load(model_pt, map_location="cpu", weights_only=False)
    if "history" not in state:
        raise CropDataError(f"{model_pt}: written by an older version (no 'history'); rerun its train_crop job")
    method, history = state["kind"], int(state["history"])
    if "estimator" in state:
        estimator = state["estimator"]
        return Predictor(method, lambda year: estimator.predict(data.flat_features(year)), history, 0)
    cfg = CropModelConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in state["config"]["model"].items()})
    model = build_model(method, {k: tuple(v) for k, v in state["shapes"].items()}, cfg)
    model.load_state_dict(state["state_dict"])
    model.to(data.weekly.device).eval()

    def predict_year(year: int) -> np.ndarray:
        with torch.no_grad():
            return predict(model, data, year, history)

    return Predictor(method, predict_year, history, int(state["gnn_hops"]))
