"""Training batches and full-data prediction of the deep crop models.

A batch is a set of counties for one or more target years, each with the window of the ``history`` years that
ends at its target year (``history`` = 1 for single-year models, 5 for the 5-year ones). Batch order depends
only on (seed, epoch), so a resumed run draws the same batches as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from seqstruct.common.seeding import generator
from seqstruct.crop.dataset import CropTensors
from seqstruct.crop.sampler import NeighborSampler


class SeqBatches:
    """Non-graph models: shuffled (county, target year) pairs with a reported yield, ``batch_size`` per batch."""

    def __init__(self, data: CropTensors, years: list[int], batch_size: int, seed: int, history: int) -> None:
        self.data, self.batch_size, self.seed, self.history = data, batch_size, seed, history
        pos = [
            (c, data.year_index(t))
            for t in years
            for c in range(data.n_counties)
            if not torch.isnan(data.y[c, data.year_index(t)])
        ]
        self.items = np.array(pos, dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return -(-len(self.items) // self.batch_size)

    def __call__(self, epoch: int) -> Iterator[np.ndarray]:
        order = generator(self.seed, "seq-batches", epoch).permutation(len(self.items))
        for i in range(0, len(order), self.batch_size):
            yield self.items[order[i : i + self.batch_size]]

    def forward(self, model: torch.nn.Module, batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(predictions, targets), both (B, history)."""
        d, dev = self.data, self.data.y.device
        c = torch.as_tensor(batch[:, 0], device=dev)[:, None]
        tt = torch.as_tensor(batch[:, 1], device=dev)[:, None] + torch.arange(1 - self.history, 1, device=dev)
        return model(d.weekly[c, tt], d.soil[c, tt], d.extra[c, tt]), d.y[c, tt]


class GraphBatches:
    """Graph models: per training year (shuffled), the counties with a reported yield in shuffled chunks of
    ``batch_size`` seeds; each batch is the seeds' sampled computation graph (``NeighborSampler``)."""

    def __init__(
        self, data: CropTensors, years: list[int], batch_size: int, seed: int, history: int, sampler: NeighborSampler
    ) -> None:
        self.data, self.years, self.batch_size, self.seed = data, years, batch_size, seed
        self.history, self.sampler = history, sampler
        self.labelled = {t: np.flatnonzero(~torch.isnan(data.y[:, data.year_index(t)]).cpu().numpy()) for t in years}

    def __len__(self) -> int:
        return sum(-(-len(v) // self.batch_size) for v in self.labelled.values())

    def __call__(self, epoch: int) -> Iterator[tuple[int, np.ndarray, list[torch.Tensor], int]]:
        rng = generator(self.seed, "graph-batches", epoch)
        for t in rng.permutation(self.years):
            seeds = rng.permutation(self.labelled[int(t)])
            for i in range(0, len(seeds), self.batch_size):
                blocks = self.sampler.sample(seeds[i : i + self.batch_size], rng)
                yield int(t), blocks.nodes, blocks.edges, blocks.n_seeds

    def forward(
        self, model: torch.nn.Module, batch: tuple[int, np.ndarray, list[torch.Tensor], int]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(predictions, targets) of the batch's seeds, both (n_seeds, history)."""
        year, nodes, edges, n_seeds = batch
        d, dev = self.data, self.data.y.device
        idx = torch.as_tensor(nodes, device=dev)
        w = d.window(year, self.history)
        out = model(d.weekly[idx, w], d.soil[idx, w], d.extra[idx, w], [e.to(dev) for e in edges])
        return out[:n_seeds], d.y[idx[:n_seeds], w]


def predict(model: torch.nn.Module, d: CropTensors, year: int, history: int, chunk: int = 512) -> np.ndarray:
    """(N,) standardised prediction of every county for ``year``. Graph models see the whole graph (every
    neighbour, no sampling), so prediction is deterministic."""
    w = d.window(year, history)
    if getattr(model, "graph", False):
        return model(d.weekly[:, w], d.soil[:, w], d.extra[:, w], d.edge_index)[:, -1].cpu().numpy()
    preds = [
        model(d.weekly[i : i + chunk, w], d.soil[i : i + chunk, w], d.extra[i : i + chunk, w])[:, -1]
        for i in range(0, d.n_counties, chunk)
    ]
    return torch.cat(preds).cpu().numpy()
