from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch_geometric.data import Batch, Data
from torch_geometric.nn import TransformerConv

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.conftest import check_overfits, check_reset_parameters, kl_loss
from seqstruct.dos.xtal2dos import CrystalEncoder, Xtal2DoS, Xtal2DoSConfig

DIMS = GraphDims(atom=7, edge=5, comp=103, out=11)
TINY = Xtal2DoSConfig(d_model=16, enc_hidden=4, enc_heads=2, dec_layers=2, dec_heads=2, d_ff=32)
VARIANTS = [
    Xtal2DoSConfig(**{**TINY.__dict__, "gated_residual": g, "causal": c})
    for g, c in itertools.product((False, True), (False, True))
]


def crystal(n_atoms: int, seed: int, dims: GraphDims = DIMS) -> Data:
    """A random crystal graph in the ``seqstruct.dos.batch`` format: every centre has 1-4 incoming edges."""
    g = torch.Generator().manual_seed(seed)
    degree = torch.randint(1, 5, (n_atoms,), generator=g)
    centre = torch.repeat_interleave(torch.arange(n_atoms), degree)
    neighbour = torch.randint(0, n_atoms, (len(centre),), generator=g)  # self-images allowed, as with periodicity
    z = torch.randint(1, dims.comp + 1, (n_atoms,), generator=g)
    comp = torch.zeros(1, dims.comp).index_add_(1, z - 1, torch.ones(1, n_atoms)) / n_atoms
    return Data(
        x=torch.randn(n_atoms, dims.atom, generator=g),
        z=z,
        pos=torch.randn(n_atoms, 3, generator=g),
        edge_index=torch.stack([neighbour, centre]),
        edge_vec=torch.randn(len(centre), 3, generator=g),
        edge_attr=torch.rand(len(centre), dims.edge, generator=g),
        comp=comp,
        y=torch.rand(1, dims.out, generator=g),
    )


def crystals(sizes: tuple[int, ...] = (2, 3, 5), seed: int = 0, dims: GraphDims = DIMS) -> list[Data]:
    return [crystal(n, seed + i, dims) for i, n in enumerate(sizes)]


def check_padding_and_order_invariance(model: nn.Module) -> None:
    """In eval mode: reordering the crystals of a batch reorders the outputs, and adding a larger crystal (more
    padding in the dense atom tensor) leaves the other crystals' outputs unchanged."""
    model.eval()
    data = crystals()
    with torch.no_grad():
        base = model(Batch.from_data_list(data))
        permuted = model(Batch.from_data_list([data[2], data[0], data[1]]))
        extended = model(Batch.from_data_list([*data, crystal(8, 99)]))
    torch.testing.assert_close(permuted, base[[2, 0, 1]], atol=1e-5, rtol=0)
    torch.testing.assert_close(extended[:3], base, atol=1e-5, rtol=0)


def check_gradients_reach_every_parameter(model: nn.Module) -> None:
    model.train()
    batch = Batch.from_data_list(crystals())
    kl_loss(model(batch), batch.y).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name


def peaky_batch() -> Batch:
    """Three crystals with peaky targets, far from a fresh model's near-uniform prediction."""
    batch = Batch.from_data_list(crystals())
    batch.y = batch.y**4
    return batch


@pytest.mark.parametrize("cfg", VARIANTS, ids=lambda c: f"gated={c.gated_residual}-causal={c.causal}")
def test_shapes_of_the_encoder_and_the_model(cfg: Xtal2DoSConfig) -> None:
    torch.manual_seed(0)
    batch = Batch.from_data_list(crystals())
    h, context = CrystalEncoder(DIMS, cfg)(batch)
    assert h.shape == (10, cfg.d_model) and context.shape == (3, 2 * cfg.d_model)
    model = Xtal2DoS(DIMS, cfg)
    logits = model(batch)
    assert logits.shape == (3, DIMS.out) and torch.isfinite(logits).all()
    # a batch of one single-atom crystal (eval: BatchNorm cannot train on one value per channel)
    assert model.eval()(Batch.from_data_list(crystals((1,)))).shape == (1, DIMS.out)


def test_the_released_and_the_gated_encoder_layers() -> None:
    released = CrystalEncoder(GraphDims(92, 41, 103, 51))  # paper sizes: 512 -> 16 x 4 -> 16 x 4 -> 512 averaged
    convs = [m for m in released.convs if isinstance(m, TransformerConv)]
    assert [(c.in_channels, c.out_channels, c.heads, c.concat, c.beta) for c in convs] == [
        (512, 16, 4, True, False),
        (64, 16, 4, True, False),
        (64, 512, 4, False, False),
    ]
    assert all(c.root_weight and c.lin_edge.in_channels == 512 for c in convs)
    assert [type(n) for n in released.norms] == [nn.BatchNorm1d] * 3
    gated = CrystalEncoder(DIMS, Xtal2DoSConfig(**{**TINY.__dict__, "gated_residual": True}))
    assert all(c.beta for c in gated.convs) and [type(n) for n in gated.norms] == [nn.LayerNorm] * 2  # none last


@pytest.mark.parametrize("cfg", VARIANTS, ids=lambda c: f"gated={c.gated_residual}-causal={c.causal}")
def test_padding_atoms_and_batch_order_do_not_change_the_outputs(cfg: Xtal2DoSConfig) -> None:
    torch.manual_seed(0)
    check_padding_and_order_invariance(Xtal2DoS(DIMS, cfg))


@pytest.mark.parametrize("causal", [False, True])
def test_causal_mask_hides_later_positions(causal: bool) -> None:
    torch.manual_seed(0)
    model = Xtal2DoS(DIMS, Xtal2DoSConfig(**{**TINY.__dict__, "causal": causal})).eval()
    batch = Batch.from_data_list(crystals())
    from torch_geometric.utils import to_dense_batch

    h, context = model.encoder(batch)
    atoms, mask = to_dense_batch(h, batch.batch)
    z = model.queries(context).detach().requires_grad_()
    logits = model.decode(z, atoms, mask)
    torch.testing.assert_close(logits, model(batch))
    p = 4
    (grad,) = torch.autograd.grad(logits[:, p].sum(), z)
    later = grad[:, p + 1 :].abs().amax()
    assert grad[:, : p + 1].abs().amax() > 0
    if causal:
        assert later == 0
    else:
        assert later > 0  # the released decoder is bidirectional


@pytest.mark.parametrize("gated", [False, True])
def test_gradients_reach_every_parameter(gated: bool) -> None:
    torch.manual_seed(0)
    check_gradients_reach_every_parameter(Xtal2DoS(DIMS, Xtal2DoSConfig(**{**TINY.__dict__, "gated_residual": gated})))


def test_reset_parameters_redraws_every_parameter_deterministically() -> None:
    check_reset_parameters(lambda: Xtal2DoS(DIMS, TINY))


@pytest.mark.parametrize("cfg", VARIANTS[::3], ids=lambda c: f"gated={c.gated_residual}-causal={c.causal}")
def test_a_few_adam_steps_fit_three_crystals(cfg: Xtal2DoSConfig) -> None:
    torch.manual_seed(0)
    no_dropout = {"graph_dropout": 0.0, "attn_dropout": 0.0}
    check_overfits(Xtal2DoS(DIMS, Xtal2DoSConfig(**{**cfg.__dict__, **no_dropout})), peaky_batch())
