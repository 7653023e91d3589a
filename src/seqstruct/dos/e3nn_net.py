"""An E(3)-equivariant network for the DoS (the "E3NN" baseline, after Chen et al. 2021, Adv. Sci. 8, 2004214).

In the spirit of the phonon-DoS e3nn model (the authors' tutorial ``PeriodicNetwork``, built on e3nn's
``gate_points_2101.Network``): atoms carry features in irreducible representations of O(3), edges carry the
spherical harmonics of the bond vector, and every layer is a tensor-product convolution whose weights are a
learned function of the bond length, followed by a gated nonlinearity.

Embedding: ``h_i⁰ = ReLU(W_em x_i)``, ``em`` scalars ``0e`` (the tutorial embeds a mass-weighted one-hot of the
species by a Linear + ReLU; here the element features ``batch.x``). For every edge ``j -> i`` (centre
``i = edge_index[1]``) with ``r_ij = edge_vec`` (centre -> neighbour image)::

    Y_ij = Y^{0..lmax}(r_ij / |r_ij|)                              spherical harmonics, "component" normalised
    b_ij = √n_b · soft_one_hot_linspace(|r_ij|, 0, cutoff, n_b)     radial basis (gaussian, as the tutorial)

Convolution (:class:`EquivariantConv`, irreps ``in -> out``)::

    w_ij  = MLP_R(b_ij)                                            SiLU MLP -> weights of each edge's product
    m_ij  = TP_uvu(W_1 h_j, Y_ij; w_ij)                            only the paths whose output irrep is in ``out``
    h'_i  = W_sc h_i + W_2 ( Σ_{j -> i} m_ij / √n_nbr )            o3.Linear self-connection and mixing

A gated layer is a convolution to the gate's input ``scalars + gates + gated`` followed by ``e3nn.nn.Gate``
(scalars: SiLU for ``0e``, tanh for ``0o``; every ``l > 0`` irrep multiplied by a sigmoid-activated ``0e`` gate);
``layers`` such layers with irreps ``irreps_hidden``, then a last convolution to ``L x 0e``. The per-atom scalars
are mean-pooled over the atoms of each crystal to the logits (B, L).

Output interface. The tutorial ends with ``ReLU`` and divides by the maximum (phonon DoS stored max-normalised);
here the model returns logits and the predicted spectrum is ``softmax(logits)`` over positions — the shared
interface of every DoS model (``seqstruct.dos.batch``), trained with the same KL(p ‖ softmax).

Invariance: the logits depend on positions only through the edge vectors, so they are translation-invariant; the
spherical harmonics, equivariant products and gates make every scalar channel, hence the output, invariant under
rotations (and, with the parity-aware irreps, under inversion). The tutorial's node attributes (a second
one-hot of the species entering every linear map through a tensor product) are left out: the species enter through
``h⁰`` only.

Shapes: x (N, F); edge_index (2, E); edge_vec (E, 3); spherical harmonics (E, (lmax+1)²); radial basis (E, n_b);
node features (N, dim irreps); logits (B, L).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from e3nn import o3
from e3nn.math import soft_one_hot_linspace
from e3nn.nn import FullyConnectedNet, Gate
from torch import nn
from torch_geometric.data import Batch
from torch_geometric.nn import global_mean_pool
from torch_geometric.utils import scatter

from seqstruct.dos.batch import GraphDims


@dataclass(frozen=True)
class E3NNConfig:
    """Sizes (defaults: the phonon-DoS tutorial ``PeriodicNetwork``: em_dim 64, mul 32, lmax 1, 2 layers,
    10 radial basis functions, one radial hidden layer of 100; the cutoff is the graph radius of this data)."""

    em: int = 64  # scalar embedding of the element features (tutorial em_dim 64)
    irreps_hidden: str = "32x0e + 32x0o + 32x1e + 32x1o"  # gate_points_2101 hidden irreps of mul 32, lmax 1
    lmax: int = 1  # spherical harmonics of the edges, l = 0..lmax (tutorial lmax 1)
    layers: int = 2  # gated convolutions before the output convolution (tutorial layers 2)
    n_basis: int = 10  # radial basis functions (gate_points_2101 number_of_basis 10)
    radial: tuple[int, ...] = (100,)  # radial MLP hidden widths (radial_layers 1, radial_neurons 100)
    basis: str = "gaussian"  # soft_one_hot_linspace basis (gate_points_2101: gaussian, no cutoff envelope)
    cutoff: float = 8.0  # Å, end of the radial basis (the graph radius, methods.md §2.1; tutorial r_max 4)
    num_neighbors: float = 12.0  # aggregation divided by √num_neighbors (the graphs keep 12 nearest)

    def __post_init__(self) -> None:
        for name in ("em", "lmax", "n_basis"):
            if getattr(self, name) < 1:
                raise ValueError(f"E3NNConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.layers < 0 or self.cutoff <= 0 or self.num_neighbors <= 0:
            raise ValueError("E3NNConfig: layers must be >= 0, cutoff and num_neighbors > 0")
        o3.Irreps(self.irreps_hidden)  # raises on a malformed string


class EquivariantConv(nn.Module):
    """Tensor-product convolution ``irreps_in -> irreps_out`` (module docstring).

    Shapes: h (N, irreps_in.dim); sh (E, irreps_sh.dim); radial (E, n_b); edge_index (2, E) -> (N, irreps_out.dim).
    """

    def __init__(
        self,
        irreps_in: o3.Irreps,
        irreps_sh: o3.Irreps,
        irreps_out: o3.Irreps,
        n_basis: int,
        radial: tuple[int, ...],
        num_neighbors: float,
    ) -> None:
        super().__init__()
        self.irreps_in, self.irreps_out = o3.Irreps(irreps_in), o3.Irreps(irreps_out)
        self.num_neighbors = num_neighbors
        wanted = {ir for _, ir in self.irreps_out}
        mid, instructions = [], []
        for i_in, (mul, ir_in) in enumerate(self.irreps_in):
            for i_sh, (_, ir_sh) in enumerate(irreps_sh):
                for ir in ir_in * ir_sh:
                    if ir in wanted:
                        instructions.append((i_in, i_sh, len(mid), "uvu", True))
                        mid.append((mul, ir))
        irreps_mid, perm, _ = o3.Irreps(mid).sort()
        instructions = [(a, b, perm[k], mode, train) for a, b, k, mode, train in instructions]
        self.sc = o3.Linear(self.irreps_in, self.irreps_out)
        self.lin1 = o3.Linear(self.irreps_in, self.irreps_in)
        self.tp = o3.TensorProduct(
            self.irreps_in, irreps_sh, irreps_mid, instructions, internal_weights=False, shared_weights=False
        )
        self.radial = FullyConnectedNet([n_basis, *radial, self.tp.weight_numel], F.silu)
        self.lin2 = o3.Linear(irreps_mid, self.irreps_out)

    def forward(
        self, h: torch.Tensor, sh: torch.Tensor, radial: torch.Tensor, edge_index: torch.Tensor
    ) -> torch.Tensor:
        """``W_sc h_i + W_2 Σ_{j -> i} TP(W_1 h_j, Y_ij; MLP_R(b_ij)) / √n_nbr`` (N, irreps_out.dim)."""
        src, dst = edge_index[0], edge_index[1]
        m = self.tp(self.lin1(h)[src], sh, self.radial(radial))
        agg = scatter(m, dst, dim=0, dim_size=h.shape[0], reduce="sum") / math.sqrt(self.num_neighbors)
        return self.sc(h) + self.lin2(agg)


def make_gate(irreps: o3.Irreps) -> Gate:
    """The gate whose output is ``irreps``: its scalars pass through SiLU (``0e``) or tanh (``0o``), each ``l > 0``
    irrep is multiplied by its own sigmoid-activated ``0e`` gate."""
    irreps = o3.Irreps(irreps)
    scalars = o3.Irreps([(mul, ir) for mul, ir in irreps if ir.l == 0])
    gated = o3.Irreps([(mul, ir) for mul, ir in irreps if ir.l > 0])
    acts = [F.silu if ir.p == 1 else torch.tanh for _, ir in scalars]
    gates = o3.Irreps(f"{gated.num_irreps}x0e") if gated.num_irreps > 0 else o3.Irreps("")
    return Gate(scalars, acts, gates, [torch.sigmoid] * len(gates), gated)


class E3NNNet(nn.Module):
    """Equivariant DoS network (module docstring): ``layers`` gated convolutions, an output convolution to
    ``L x 0e`` per atom, mean pool -> logits (B, L)."""

    def __init__(self, dims: GraphDims, cfg: E3NNConfig = E3NNConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.irreps_sh = o3.Irreps.spherical_harmonics(cfg.lmax)
        self.embed = nn.Linear(dims.atom, cfg.em)
        irreps = o3.Irreps(f"{cfg.em}x0e")
        self.convs = nn.ModuleList()
        self.gates = nn.ModuleList()
        for _ in range(cfg.layers):
            gate = make_gate(o3.Irreps(cfg.irreps_hidden))
            self.convs.append(
                EquivariantConv(irreps, self.irreps_sh, gate.irreps_in, cfg.n_basis, cfg.radial, cfg.num_neighbors)
            )
            self.gates.append(gate)
            irreps = gate.irreps_out
        self.out = EquivariantConv(
            irreps, self.irreps_sh, o3.Irreps(f"{dims.out}x0e"), cfg.n_basis, cfg.radial, cfg.num_neighbors
        )

    def reset_parameters(self) -> None:
        """Re-initialise the embedding (torch default) and every e3nn weight (standard normal, e3nn's own init)."""
        self.embed.reset_parameters()
        with torch.no_grad():
            for module in (*self.convs, self.out):
                for p in module.parameters():
                    p.normal_()

    def edge_features(self, edge_vec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Y, b)``: spherical harmonics (E, (lmax+1)²) and radial basis (E, n_b) of the edge vectors."""
        sh = o3.spherical_harmonics(self.irreps_sh, edge_vec, normalize=True, normalization="component")
        radial = soft_one_hot_linspace(
            edge_vec.norm(dim=-1), 0.0, self.cfg.cutoff, self.cfg.n_basis, basis=self.cfg.basis, cutoff=False
        )
        return sh, radial * math.sqrt(self.cfg.n_basis)

    def forward(self, batch: Batch) -> torch.Tensor:
        """Logits (B, L): the mean over each crystal's atoms of the output scalars."""
        dtype = self.embed.weight.dtype
        sh, radial = self.edge_features(batch.edge_vec.to(dtype))
        h = F.relu(self.embed(batch.x.to(dtype)))
        for conv, gate in zip(self.convs, self.gates):
            h = gate(conv(h, sh, radial, batch.edge_index))
        h = self.out(h, sh, radial, batch.edge_index)
        return global_mean_pool(h, batch.batch, size=batch.num_graphs)
