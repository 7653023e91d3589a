import pytest
import torch
from torch_geometric.utils import scatter

from seqstruct.dos.conftest import check_overfits, check_reset_parameters, dims_of, make_batch
from seqstruct.dos.gatgnn import GATGNN, GATGNNConfig, GATGNNEncoder, GATGNNEncoderConfig

TINY = GATGNNConfig(hidden=8, layers=2, heads=2, comp_hidden=4, head=(8,))


def test_shapes_of_the_encoder_and_the_model(tiny_batch) -> None:
    dims = dims_of(tiny_batch)
    model = GATGNN(dims, TINY)
    assert model(tiny_batch).shape == (3, 11)
    assert model.encoder(tiny_batch).shape == (3, 8)
    assert GATGNN(dims)(tiny_batch).shape == (3, 11)  # the default (released) sizes
    with pytest.raises(ValueError, match="heads"):
        GATGNNEncoderConfig(heads=0)


def test_attention_is_a_softmax_over_each_centres_incoming_edges_and_atoms_of_each_crystal(tiny_batch) -> None:
    enc = GATGNNEncoder(dims_of(tiny_batch), TINY)
    x, alphas = enc.atom_states(tiny_batch, return_attention=True)
    centre = tiny_batch.edge_index[1]
    n = tiny_batch.num_nodes
    has_edges = torch.bincount(centre, minlength=n) > 0
    for alpha in alphas:
        assert alpha.shape == (tiny_batch.num_edges, 2) and (alpha > 0).all()
        sums = scatter(alpha, centre, dim=0, dim_size=n, reduce="sum")
        torch.testing.assert_close(sums[has_edges], torch.ones(int(has_edges.sum()), 2))
    beta = enc.composition_weights(x, tiny_batch)
    torch.testing.assert_close(scatter(beta[:, 0], tiny_batch.batch, reduce="sum"), torch.ones(3))


def test_messages_flow_from_neighbour_to_centre() -> None:
    batch = make_batch(n_atoms=(6,), seed=3)
    enc = GATGNNEncoder(dims_of(batch), GATGNNEncoderConfig(hidden=8, layers=1, heads=2)).eval()
    src, dst = batch.edge_index
    before = enc.atom_states(batch)
    j = int(src[0])
    batch.x[j] += 1.0
    changed = set(((enc.atom_states(batch) - before).abs().amax(1) > 1e-6).nonzero()[:, 0].tolist())
    receivers = set(dst[src == j].tolist())  # centres with j among their neighbours
    assert receivers <= changed <= receivers | {j}


def test_reset_parameters_redraws_every_weight_deterministically(tiny_batch) -> None:
    check_reset_parameters(lambda: GATGNN(dims_of(tiny_batch), TINY))


def test_overfits_a_tiny_batch() -> None:
    batch = make_batch(n_atoms=(2, 3, 5, 4))
    check_overfits(GATGNN(dims_of(batch), TINY), batch, lr=1e-2)
