import pytest
import torch
import torch.nn.functional as F
from e3nn import o3

from seqstruct.dos.conftest import check_overfits, check_reset_parameters, dims_of, make_batch
from seqstruct.dos.e3nn_net import E3NNConfig, E3NNNet

TINY = E3NNConfig(em=8, irreps_hidden="8x0e + 4x1o + 2x2e", lmax=2, layers=2, n_basis=6, radial=(8,))


def test_shapes_and_the_default_sizes(tiny_batch) -> None:
    dims = dims_of(tiny_batch)
    assert E3NNNet(dims, TINY)(tiny_batch).shape == (3, 11)
    assert E3NNNet(dims)(tiny_batch).shape == (3, 11)
    with pytest.raises(ValueError):
        E3NNConfig(irreps_hidden="8x0q")


def _rotated(batch, rot: torch.Tensor, shift: torch.Tensor):
    out = batch.clone()
    out.edge_vec = batch.edge_vec @ rot.to(batch.edge_vec.dtype).T
    out.pos = batch.pos @ rot.to(batch.pos.dtype).T + shift.to(batch.pos.dtype)
    return out


def _double(batch):
    for key in ("x", "pos", "edge_vec", "edge_attr", "comp", "y"):
        batch[key] = batch[key].double()
    return batch


def test_logits_are_invariant_under_rotation_inversion_and_translation() -> None:
    torch.manual_seed(0)
    batch = _double(make_batch())
    model = E3NNNet(dims_of(batch), TINY).double()
    ref = model(batch)
    shift = torch.randn(3, dtype=torch.float64)
    for _ in range(3):
        rot = o3.rand_matrix(dtype=torch.float64)
        torch.testing.assert_close(model(_rotated(batch, rot, shift)), ref, atol=1e-9, rtol=0)
    torch.testing.assert_close(model(_rotated(batch, -torch.eye(3, dtype=torch.float64), shift)), ref)
    # float32 as trained: invariant to 1e-5
    model32, b32 = E3NNNet(dims_of(batch), TINY), make_batch()
    torch.testing.assert_close(
        model32(_rotated(b32, o3.rand_matrix(), torch.randn(3))), model32(b32), atol=1e-5, rtol=1e-4
    )


def test_hidden_features_are_equivariant() -> None:
    torch.manual_seed(1)
    batch = _double(make_batch())
    model = E3NNNet(dims_of(batch), TINY).double()

    def hidden(b) -> torch.Tensor:
        sh, radial = model.edge_features(b.edge_vec)
        h = F.relu(model.embed(b.x))
        for conv, gate in zip(model.convs, model.gates):
            h = gate(conv(h, sh, radial, b.edge_index))
        return h

    rot = o3.rand_matrix(dtype=torch.float64)
    d = model.gates[-1].irreps_out.D_from_matrix(rot)
    # e3nn builds D(R) from float32 tables (error ~1e-7 even in float64): compare to 1e-5
    torch.testing.assert_close(hidden(_rotated(batch, rot, torch.zeros(3))), hidden(batch) @ d.T, atol=1e-5, rtol=1e-5)


def test_messages_are_aggregated_at_the_centre() -> None:
    batch = make_batch(n_atoms=(6,), seed=3)
    model = E3NNNet(dims_of(batch), E3NNConfig(em=4, irreps_hidden="4x0e", layers=0, n_basis=4, radial=(4,)))
    src, dst = batch.edge_index
    sh, radial = model.edge_features(batch.edge_vec)

    def atoms() -> torch.Tensor:
        return model.out(F.relu(model.embed(batch.x)), sh, radial, batch.edge_index)

    before = atoms()
    j = int(src[0])
    batch.x[j] += 1.0
    changed = set(((atoms() - before).abs().amax(1) > 1e-6).nonzero()[:, 0].tolist())
    receivers = set(dst[src == j].tolist())
    assert receivers <= changed <= receivers | {j}


def test_reset_parameters_redraws_every_weight_deterministically(tiny_batch) -> None:
    check_reset_parameters(lambda: E3NNNet(dims_of(tiny_batch), TINY), every=True)


def test_overfits_a_tiny_batch() -> None:
    batch = make_batch(n_atoms=(2, 3, 5, 4))
    check_overfits(E3NNNet(dims_of(batch), TINY), batch, lr=1e-2)
