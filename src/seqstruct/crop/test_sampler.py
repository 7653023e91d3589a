import numpy as np
import pytest
import torch

from seqstruct.crop.sampler import NeighborSampler


def star_and_path(n_leaves: int = 12) -> tuple[torch.Tensor, int]:
    """Node 0 with ``n_leaves`` leaves 1..n, plus a path n+1 - n+2 - n+3 hanging off leaf 1 (both directions)."""
    pairs = [(0, i) for i in range(1, n_leaves + 1)] + [
        (1, n_leaves + 1),
        (n_leaves + 1, n_leaves + 2),
        (n_leaves + 2, n_leaves + 3),
    ]
    e = np.array(pairs).T
    return torch.as_tensor(np.concatenate([e, e[::-1]], axis=1)), n_leaves + 4


def adjacency(edge_index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(s), int(d)) for s, d in edge_index.T}


@pytest.mark.parametrize("k", [1, 3, 10])
def test_never_samples_non_neighbours_and_respects_k(k: int) -> None:
    ei, n = star_and_path()
    real = adjacency(ei)
    sampler = NeighborSampler(ei, n, (k, k))
    rng = np.random.default_rng(0)
    for _ in range(50):
        seeds = rng.choice(n, size=4, replace=False)
        blocks = sampler.sample(seeds, rng)
        assert list(blocks.nodes[:4]) == list(seeds) and blocks.n_seeds == 4
        assert len(set(blocks.nodes)) == len(blocks.nodes)
        for layer in blocks.edges:
            glob = blocks.nodes[layer.numpy()]  # local -> global ids
            assert {(int(s), int(d)) for s, d in glob.T} <= real  # every sampled edge is a graph edge
            targets, counts = np.unique(glob[1], return_counts=True)
            assert counts.max(initial=0) <= k
            for t, c in zip(targets, counts):  # k or all of a smaller neighbourhood, each neighbour once
                assert c == min(k, len(sampler.neighbours(t)))
            assert len({(int(s), int(d)) for s, d in glob.T}) == glob.shape[1]  # without replacement


def test_layers_walk_outwards_from_the_seeds() -> None:
    ei, n = star_and_path()
    blocks = NeighborSampler(ei, n, (0, 0)).sample(np.array([13]), np.random.default_rng(0))  # 0: all neighbours
    first, last = (blocks.nodes[e.numpy()] for e in blocks.edges)
    assert set(last[1]) == {13} and set(last[0]) == {1, 14}  # the last layer sends into the seed only
    assert set(first[1]) == {13, 1, 14}  # the first layer into the seed and its neighbours
    assert set(blocks.nodes) == {13, 1, 14, 0, 15}  # two hops, nothing further (16 is three hops away)


def test_same_generator_state_same_sample_and_k_subsamples_hubs() -> None:
    ei, n = star_and_path(n_leaves=30)
    sampler = NeighborSampler(ei, n, (5,))
    a = sampler.sample(np.array([0]), np.random.default_rng(7))
    b = sampler.sample(np.array([0]), np.random.default_rng(7))
    assert all(torch.equal(x, y) for x, y in zip(a.edges, b.edges))
    drawn = [set(sampler.sample(np.array([0]), np.random.default_rng(s)).nodes[1:]) for s in range(20)]
    assert all(len(d) == 5 for d in drawn) and len(set().union(*drawn)) > 10  # different leaves each time


def test_bad_input_is_refused() -> None:
    ei, n = star_and_path()
    with pytest.raises(ValueError, match="outside 0..3"):
        NeighborSampler(ei, 4, (2,))
    with pytest.raises(ValueError, match="distinct"):
        NeighborSampler(ei, n, (2,)).sample(np.array([1, 1]), np.random.default_rng(0))
