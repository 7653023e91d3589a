"""The DoS models by slug: config class and constructor (every model is ``Model(dims, cfg)``, seqstruct.dos.batch).

=================  ======================  =====================================================================
slug               class                   thesis row
=================  ======================  =====================================================================
``e3nn``           ``E3NNNet``             E3NN (Table 2.3): equivariant convolutions on the atom positions
``gatgnn``         ``GATGNN``              GATGNN (Table 2.3): graph attention encoder + MLP head
``mat2spec``       ``Mat2Spec``            Mat2Spec (Tables 2.3, 2.7): GATGNN encoder + mixture embedding head
``rnn``            ``GRUDecoderNet``       RNN (Tables 2.5, 2.7): UniMP encoder + GRU decoder
``rnn_attn``       ``GRUAttnNet``          RNN+Attn: the GRU decoder with attention over the atoms
``chunk_rnn_attn`` ``ChunkGRUAttnNet``     Chunk RNN+Attn: a chunk of values per step, with attention
``xtal2dos``       ``Xtal2DoS``            Xtal2DoS: UniMP encoder + transformer decoder
=================  ======================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from seqstruct.dos.batch import GraphDims
from seqstruct.dos.decoders import ChunkGRUAttnNet, DecoderConfig, GRUAttnNet, GRUDecoderNet
from seqstruct.dos.e3nn_net import E3NNConfig, E3NNNet
from seqstruct.dos.gatgnn import GATGNN, GATGNNConfig
from seqstruct.dos.mat2spec import Mat2Spec, Mat2SpecConfig
from seqstruct.dos.xtal2dos import Xtal2DoS, Xtal2DoSConfig

#: slug -> (config class, constructor)
MODELS: dict[str, tuple[type, Callable[[GraphDims, Any], nn.Module]]] = {
    "e3nn": (E3NNConfig, E3NNNet),
    "gatgnn": (GATGNNConfig, GATGNN),
    "mat2spec": (Mat2SpecConfig, Mat2Spec),
    "rnn": (DecoderConfig, GRUDecoderNet),
    "rnn_attn": (DecoderConfig, GRUAttnNet),
    "chunk_rnn_attn": (DecoderConfig, ChunkGRUAttnNet),
    "xtal2dos": (Xtal2DoSConfig, Xtal2DoS),
}


def build_model(method: str, dims: GraphDims, cfg: Any) -> nn.Module:
    """The model ``method`` for feature sizes ``dims`` with config ``cfg`` (an instance of its config class)."""
    config_class, build = MODELS[method]
    if not isinstance(cfg, config_class):
        raise TypeError(f"{method} takes a {config_class.__name__}, got {type(cfg).__name__}")
    return build(dims, cfg)
