from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.conftest import check_overfits, check_reset_parameters
from seqstruct.dos.decoders import ChunkGRUAttnNet, ChunkGRUNet, DecoderConfig, GRUAttnNet, GRUDecoderNet
from seqstruct.dos.test_xtal2dos import (
    DIMS,
    check_gradients_reach_every_parameter,
    check_padding_and_order_invariance,
    crystals,
    peaky_batch,
)

TINY = DecoderConfig(d_model=16, enc_hidden=4, enc_heads=2, hidden=16, pos_dim=4)
MODELS = [GRUDecoderNet, ChunkGRUNet, GRUAttnNet, ChunkGRUAttnNet]


def _cfg(**kw: object) -> DecoderConfig:
    return DecoderConfig(**{**TINY.__dict__, **kw})


def test_class_defaults_and_overrides() -> None:
    assert [(m.chunk, m.attention, m.steps) for m in (cls(DIMS, TINY) for cls in MODELS)] == [
        (1, False, 11),
        (8, False, 2),
        (1, True, 11),
        (8, True, 2),
    ]
    model = GRUDecoderNet(DIMS, _cfg(chunk=3, attention=True))
    assert (model.chunk, model.attention, model.steps) == (3, True, 4)
    assert not hasattr(GRUDecoderNet(DIMS, TINY), "attn_key")


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("gated", [False, True])
@pytest.mark.parametrize("pos_dim", [0, 4])
def test_output_shapes(cls: type[GRUDecoderNet], gated: bool, pos_dim: int) -> None:
    torch.manual_seed(0)
    model = cls(DIMS, _cfg(gated_residual=gated, pos_dim=pos_dim))
    logits = model(Batch.from_data_list(crystals()))
    assert logits.shape == (3, DIMS.out) and torch.isfinite(logits).all()
    assert model.eval()(Batch.from_data_list(crystals((1,)))).shape == (1, DIMS.out)  # eval: BatchNorm, one atom


@pytest.mark.parametrize("chunk", [1, 4, 11, 16])
def test_chunks_cover_the_spectrum_and_are_cut_to_its_length(chunk: int) -> None:
    dims = GraphDims(DIMS.atom, DIMS.edge, DIMS.comp, 51)
    model = ChunkGRUAttnNet(dims, _cfg(chunk=chunk))
    assert model.steps * chunk >= 51 > (model.steps - 1) * chunk
    assert model(Batch.from_data_list(crystals(dims=dims))).shape == (3, 51)


@pytest.mark.parametrize("cls", MODELS)
def test_padding_atoms_and_batch_order_do_not_change_the_outputs(cls: type[GRUDecoderNet]) -> None:
    torch.manual_seed(0)
    check_padding_and_order_invariance(cls(DIMS, TINY))


def test_each_step_depends_only_on_earlier_steps() -> None:
    """Free-running decoding: perturbing the output layer's bias of the last chunk slot changes nothing before it
    is first fed back, i.e. logits of step 0 are unchanged while later steps change."""
    torch.manual_seed(0)
    model = GRUAttnNet(DIMS, TINY).eval()
    batch = Batch.from_data_list(crystals())
    with torch.no_grad():
        base = model(batch)
        model.out.bias.add_(1.0)
        shifted = model(batch)
    torch.testing.assert_close(shifted[:, 0], base[:, 0] + 1.0)
    assert (shifted[:, 1:] - base[:, 1:] - 1.0).abs().amax() > 1e-4  # the fed-back value reaches later steps


@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("gated", [False, True])
def test_gradients_reach_every_parameter(cls: type[GRUDecoderNet], gated: bool) -> None:
    torch.manual_seed(0)
    check_gradients_reach_every_parameter(cls(DIMS, _cfg(gated_residual=gated)))


@pytest.mark.parametrize("cls", MODELS)
def test_reset_parameters_redraws_every_parameter_deterministically(cls: type[GRUDecoderNet]) -> None:
    check_reset_parameters(lambda: cls(DIMS, TINY))


@pytest.mark.parametrize("cls", [GRUDecoderNet, ChunkGRUAttnNet])
def test_a_few_adam_steps_fit_three_crystals(cls: type[GRUDecoderNet]) -> None:
    torch.manual_seed(0)
    check_overfits(cls(DIMS, _cfg(graph_dropout=0.0)), peaky_batch(), steps=60, lr=1e-2)
