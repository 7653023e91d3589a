"""The crystal-graph format every DoS model reads.

One material is a ``torch_geometric.data.Data`` with these fields (``graphs.crystal_graph`` builds them):

=============  ==============  ===========================================================================
field          shape / dtype   meaning
=============  ==============  ===========================================================================
``x``          (n, F) float32  element features of each atom (``elements.element_features``)
``z``          (n,) int64      atomic numbers
``pos``        (n, 3) float32  Cartesian positions in Å
``edge_index`` (2, E) int64    ``edge_index[0]`` = neighbour j (source), ``edge_index[1]`` = centre i
                               (target): messages flow j -> i, so PyG's default ``source_to_target`` flow
                               aggregates at the centre atom. Each centre has its 1..k nearest neighbours
                               within the cutoff (variable degree, no padded edges); periodic images make
                               repeated (j, i) pairs with different vectors.
``edge_vec``   (E, 3) float32  displacement centre -> neighbour image, Å (r_j + T - r_i)
``edge_attr``  (E, G) float32  Gaussian expansion of ``|edge_vec|`` (G centres)
``comp``       (1, C) float32  composition fractions over elements H..Lr (C = 103), sums to 1
``y``          (1, L) float32  the spectrum on its grid, as stored (phonon: max-normalised)
=============  ==============  ===========================================================================

A batch (``torch_geometric.data.Batch.from_data_list``) stacks these: ``x`` (N, F), ``batch`` (N,) graph index
of each atom, ``edge_index`` offset per graph, ``comp`` (B, C), ``y`` (B, L).

Every model is built as ``Model(dims, cfg)`` and maps a batch to logits (B, L); the predicted spectrum shape is
``softmax(logits, -1)``. A model with a loss of its own (Mat2Spec) also has ``training_loss(batch, target)``
returning named terms with the total under ``"loss"``, where ``target`` (B, L) is the sum-normalised spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GraphDims:
    """Feature sizes a model is built for (read off the prepared data, never hard-coded)."""

    atom: int  # F: element features per atom
    edge: int  # G: Gaussian distance features per edge
    comp: int  # C: composition vector length (103)
    out: int  # L: spectrum length (51 phonon, 128 electronic)
