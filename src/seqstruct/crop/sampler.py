"""Layer-wise neighbour sampling for mini-batch GraphSAGE training (thesis §2.1: "each layer samples 10
neighbors to receive messages from"), written for this project instead of PyG's ``NeighborLoader``.

For ``L`` layers with fan-outs ``k_1 .. k_L`` and a batch of seed nodes, sampling walks outwards from the seeds:
every target of the last layer (the seeds) draws up to ``k_L`` distinct neighbours without replacement; those
neighbours join the targets of the layer before, which draw up to ``k_{L-1}`` each, and so on. Layer ``l`` then
passes messages only along the edges drawn for it, so the seeds' outputs depend on at most
``k_L (1 + k_{L-1} (1 + ...))`` nodes. A node with fewer neighbours than ``k`` keeps all of them.

Edges follow PyG's convention: ``edge_index[0]`` is the source (the neighbour), ``edge_index[1]`` the target.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class SampledBlocks:
    """The computation graph of one batch.

    Attributes
    ----------
    nodes : numpy.ndarray
        (M,) global ids of every node the batch touches; the seeds come first, in the given order.
    edges : list of torch.Tensor
        One (2, E_l) local edge index per layer, first layer first; local id ``i`` is ``nodes[i]``.
    n_seeds : int
        The seeds are ``nodes[:n_seeds]``.
    """

    nodes: np.ndarray
    edges: list[torch.Tensor]
    n_seeds: int


class NeighborSampler:
    """Sample up to ``fanouts[l]`` in-neighbours per target node for each layer ``l``.

    Parameters
    ----------
    edge_index : torch.Tensor or numpy.ndarray
        (2, E) global edge index of the graph (both directions of every undirected edge).
    n_nodes : int
        Number of nodes.
    fanouts : tuple of int
        Neighbours per target and layer, first layer first; ``0`` or less means all neighbours.
    """

    def __init__(self, edge_index: torch.Tensor | np.ndarray, n_nodes: int, fanouts: tuple[int, ...]) -> None:
        ei = np.asarray(edge_index.cpu() if isinstance(edge_index, torch.Tensor) else edge_index, dtype=np.int64)
        if ei.ndim != 2 or ei.shape[0] != 2:
            raise ValueError(f"edge_index must have shape (2, E), got {ei.shape}")
        if ei.size and (ei.min() < 0 or ei.max() >= n_nodes):
            raise ValueError(f"edge_index refers to nodes outside 0..{n_nodes - 1}")
        if not fanouts:
            raise ValueError("fanouts must name at least one layer")
        order = np.argsort(ei[1], kind="stable")  # CSR over targets: the in-neighbours of each node
        self.sources = ei[0, order]
        self.rowptr = np.concatenate([[0], np.cumsum(np.bincount(ei[1], minlength=n_nodes))])
        self.n_nodes = n_nodes
        self.fanouts = tuple(int(k) for k in fanouts)

    def neighbours(self, node: int) -> np.ndarray:
        """All in-neighbours of ``node`` (global ids)."""
        return self.sources[self.rowptr[node] : self.rowptr[node + 1]]

    def sample_layer(self, targets: np.ndarray, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Up to ``k`` distinct in-neighbours of each target, drawn uniformly without replacement.

        Returns
        -------
        src, dst : numpy.ndarray
            Global ids of the drawn edges, ``dst`` from ``targets``.
        """
        starts = self.rowptr[targets]
        degs = self.rowptr[targets + 1] - starts
        group = np.repeat(np.arange(len(targets)), degs)
        first = np.repeat(np.cumsum(degs) - degs, degs)  # position of each group's first edge
        edge = np.repeat(starts, degs) + np.arange(degs.sum()) - first
        if k > 0:
            order = np.lexsort((rng.random(len(edge)), group))  # groups stay contiguous, shuffled inside
            rank = np.arange(len(edge)) - first  # rank inside the group after the shuffle
            edge, group = edge[order][rank < k], group[order][rank < k]
        return self.sources[edge], targets[group]

    def sample(self, seeds: np.ndarray, rng: np.random.Generator) -> SampledBlocks:
        """The blocks of every layer for ``seeds`` (distinct global node ids)."""
        seeds = np.asarray(seeds, dtype=np.int64)
        if len(np.unique(seeds)) != len(seeds):
            raise ValueError("seed nodes must be distinct")
        local = np.full(self.n_nodes, -1, dtype=np.int64)
        local[seeds] = np.arange(len(seeds))
        nodes, targets, layers = [seeds], seeds, []
        for k in reversed(self.fanouts):  # the last layer's targets are the seeds
            src, dst = self.sample_layer(targets, k, rng)
            new = src[local[src] < 0]
            _, first = np.unique(new, return_index=True)
            new = new[np.sort(first)]  # unseen nodes in order of first appearance
            local[new] = np.arange(len(new)) + sum(len(n) for n in nodes)
            nodes.append(new)
            layers.append(torch.as_tensor(np.stack([local[src], local[dst]]), dtype=torch.long))
            targets = np.unique(np.concatenate([targets, src]))
        return SampledBlocks(nodes=np.concatenate(nodes), edges=layers[::-1], n_seeds=len(seeds))
