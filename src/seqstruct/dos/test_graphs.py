"""Tests of crystal-graph construction: rock-salt geometry, edge direction, variable degree, bad input."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import torch
from pymatgen.core import Lattice, Structure
from torch_geometric.data import Batch

from seqstruct.common.errors import InputError
from seqstruct.dos.batch import GraphDims
from seqstruct.dos.elements import ELEMENT_FEATURE_NAMES, UnknownElementError, element_features
from seqstruct.dos.graphs import (
    BadMaterialsError,
    BadSpectrumError,
    DisorderedStructureError,
    EmptyStructureError,
    GraphSettings,
    GraphSettingsError,
    IsolatedAtomError,
    MaterialListError,
    OverlappingAtomsError,
    build_graphs,
    crystal_graph,
    gaussian_expansion,
    graph_dims,
    try_build_graphs,
)

A = 5.64  # Å, rock-salt NaCl lattice constant
FIRST, SECOND = A / 2, A / np.sqrt(2)  # 6 nearest (Na-Cl) at 2.82 Å, next 12 (like atoms) at 3.988 Å


@cache
def _nacl_cells() -> tuple[Structure, Structure]:
    """Rock salt as (primitive 2-atom, conventional 8-atom) cells; built once (the primitive search is slow)."""
    conventional = Structure.from_spacegroup("Fm-3m", Lattice.cubic(A), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    return conventional.get_primitive_structure(), conventional


def _nacl_primitive() -> Structure:
    return _nacl_cells()[0].copy()


def _nacl_conventional() -> Structure:
    return _nacl_cells()[1].copy()


@pytest.fixture(scope="module", params=["primitive", "conventional"])
def nacl(request) -> Structure:
    return _nacl_primitive() if request.param == "primitive" else _nacl_conventional()


def _degrees(graph) -> np.ndarray:
    return np.bincount(graph.edge_index[1].numpy(), minlength=graph.num_nodes)


def test_nacl_cells():
    assert len(_nacl_primitive()) == 2 and len(_nacl_conventional()) == 8


def test_nacl_fields_shapes_dtypes(nacl):
    n = len(nacl)
    g = crystal_graph(nacl, np.linspace(0, 1, 51), "mp-22862")
    assert set(g.keys()) == {"x", "z", "pos", "edge_index", "edge_vec", "edge_attr", "comp", "y"}
    assert g.x.shape == (n, len(ELEMENT_FEATURE_NAMES)) and g.x.dtype == torch.float32
    assert g.z.dtype == torch.int64 and sorted(set(g.z.tolist())) == [11, 17]
    assert g.pos.shape == (n, 3) and g.pos.dtype == torch.float32
    assert g.edge_index.shape == (2, 12 * n) and g.edge_index.dtype == torch.int64
    assert g.edge_vec.shape == (12 * n, 3) and g.edge_vec.dtype == torch.float32
    assert g.edge_attr.shape == (12 * n, 41) and g.edge_attr.dtype == torch.float32
    assert g.comp.shape == (1, 103) and g.y.shape == (1, 51) and g.y.dtype == torch.float32
    np.testing.assert_allclose(g.x.numpy(), element_features(g.z.numpy()))
    np.testing.assert_allclose(g.pos.numpy(), nacl.cart_coords, atol=1e-5)


def test_nacl_neighbour_shells(nacl):
    g = crystal_graph(nacl, None, "nacl")
    assert "y" not in g
    np.testing.assert_array_equal(_degrees(g), 12)  # 18 within the first two shells, capped at 12
    dist = g.edge_vec.norm(dim=1).numpy()
    z = g.z.numpy()
    src, dst = g.edge_index.numpy()
    for i in range(len(nacl)):
        d = np.sort(dist[dst == i])
        np.testing.assert_allclose(d, [FIRST] * 6 + [SECOND] * 6, rtol=1e-6)
        first = dst == i
        first &= np.isclose(dist, FIRST)
        assert (z[src[first]] != z[i]).all()  # nearest shell: the other element
        second = (dst == i) & np.isclose(dist, SECOND)
        assert (z[src[second]] == z[i]).all()  # second shell: the same element


def test_pymatgen_shells_match_rock_salt():
    centre, _, _, dist = _nacl_primitive().get_neighbor_list(4.5)
    d0 = np.sort(dist[centre == 0])
    np.testing.assert_allclose(d0, [FIRST] * 6 + [SECOND] * 12, rtol=1e-9)


def test_edge_vectors_distances_and_gaussians(nacl):
    g = crystal_graph(nacl, None, "nacl")
    dist = g.edge_vec.double().norm(dim=1).numpy()
    centres = np.linspace(0.0, 8.0, 41)
    expected = np.exp(-((dist[:, None] - centres[None, :]) ** 2) / 0.2**2)
    np.testing.assert_allclose(g.edge_attr.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gaussian_expansion(np.array([0.4]), 8.0, 41, 0.2)[0, 2], 1.0)


def test_edge_direction_target_is_centre(nacl):
    """edge_vec = pos[source] + lattice translation - pos[target]: neighbour j -> centre i."""
    g = crystal_graph(nacl, None, "nacl")
    src, dst = g.edge_index.numpy()
    pos = nacl.cart_coords
    translation = pos[dst] + g.edge_vec.double().numpy() - pos[src]
    frac = translation @ np.linalg.inv(nacl.lattice.matrix)
    np.testing.assert_allclose(frac, np.round(frac), atol=1e-5)


def test_composition(nacl):
    comp = crystal_graph(nacl, None, "nacl").comp[0].numpy()
    assert comp.sum() == pytest.approx(1.0)
    assert comp[10] == comp[16] == pytest.approx(0.5)
    assert np.count_nonzero(comp) == 2


def test_small_cutoff_gives_six_neighbours(nacl):
    g = crystal_graph(nacl, None, "nacl", cutoff=3.0, n_gaussians=16)
    np.testing.assert_array_equal(_degrees(g), 6)
    np.testing.assert_allclose(g.edge_vec.norm(dim=1).numpy(), FIRST, rtol=1e-6)
    assert g.edge_attr.shape == (6 * len(nacl), 16)


def test_variable_degree_without_padding():
    chain = Structure(Lattice.cubic(10.0), ["Na", "Cl", "Na"], [[0, 0, 0], [0.2, 0, 0], [0.4, 0, 0]])
    g = crystal_graph(chain, None, "chain", cutoff=2.5)
    np.testing.assert_array_equal(_degrees(g), [1, 2, 1])
    np.testing.assert_allclose(g.edge_vec.norm(dim=1).numpy(), 2.0, rtol=1e-6)
    assert g.edge_index.shape[1] == 4  # no pad edges to atom 0


def test_max_neighbours_cap_and_determinism(nacl):
    a = crystal_graph(nacl, None, "nacl", max_neighbors=8)
    b = crystal_graph(nacl.copy(), None, "nacl", max_neighbors=8)
    np.testing.assert_array_equal(_degrees(a), 8)
    torch.testing.assert_close(a.edge_index, b.edge_index)
    torch.testing.assert_close(a.edge_vec, b.edge_vec)


def test_batching_and_dims():
    graphs = build_graphs(
        [_nacl_primitive(), _nacl_conventional()], np.ones((2, 51)), ["p", "c"], GraphSettings(), progress=False
    )
    batch = Batch.from_data_list(graphs)
    assert batch.comp.shape == (2, 103) and batch.y.shape == (2, 51) and batch.x.shape == (10, 38)
    assert int(batch.edge_index.max()) == 9
    dims = graph_dims(GraphSettings(), 51)
    assert dims == GraphDims(atom=38, edge=41, comp=103, out=51)
    assert dims.atom == batch.x.shape[1] and dims.edge == batch.edge_attr.shape[1]


# ---------------------------------------------------------------------------------------------- bad input


def _one_line_naming(exc: BaseException, material_id: str) -> None:
    message = str(exc)
    assert isinstance(exc, InputError)
    assert f"material {material_id}:" in message and "\n" not in message


def test_empty_structure():
    with pytest.raises(EmptyStructureError, match="no atoms") as info:
        crystal_graph(Structure(Lattice.cubic(4.0), [], []), None, "mp-empty")
    _one_line_naming(info.value, "mp-empty")


@pytest.mark.parametrize("shift", [0.0, 0.3 / 4.0])
def test_overlapping_atoms(shift):
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [shift, 0, 0]])
    with pytest.raises(OverlappingAtomsError, match="closer than 0.5") as info:
        crystal_graph(s, None, "mp-overlap")
    _one_line_naming(info.value, "mp-overlap")


def test_overlap_threshold_is_a_setting():
    s = Structure(Lattice.cubic(4.0), ["Na", "Cl"], [[0, 0, 0], [0.3 / 4.0, 0, 0]])
    g = crystal_graph(s, None, "mp-close", min_distance=0.2)
    np.testing.assert_allclose(g.edge_vec.norm(dim=1).min().item(), 0.3, rtol=1e-5)


def test_isolated_atom():
    s = Structure(Lattice.cubic(4.0), ["Na"], [[0, 0, 0]])
    with pytest.raises(IsolatedAtomError, match="raise the cutoff or drop the material") as info:
        crystal_graph(s, None, "mp-lonely", cutoff=3.0)
    _one_line_naming(info.value, "mp-lonely")
    assert _degrees(crystal_graph(s, None, "mp-lonely", cutoff=4.5)).tolist() == [6]  # its own images


def test_disordered_structure():
    s = Structure(Lattice.cubic(4.0), [{"Na": 0.5, "K": 0.5}], [[0, 0, 0]])
    with pytest.raises(DisorderedStructureError, match="partially occupied") as info:
        crystal_graph(s, None, "mp-disordered")
    _one_line_naming(info.value, "mp-disordered")


def test_unknown_element_names_material():
    s = Structure(Lattice.cubic(4.0), ["Rf"], [[0, 0, 0]])
    with pytest.raises(UnknownElementError, match="Z=104") as info:
        crystal_graph(s, None, "mp-rf")
    _one_line_naming(info.value, "mp-rf")


@pytest.mark.parametrize(
    "spectrum, expected_len, match",
    [
        (np.r_[np.ones(50), np.nan], 51, "NaN/inf"),
        (np.r_[np.inf, np.ones(50)], None, "NaN/inf"),
        (np.ones(50), 51, "length 50, expected 51"),
        (np.ones((2, 51)), None, "shape"),
        (np.ones(0), None, "shape"),
    ],
)
def test_bad_spectrum(spectrum, expected_len, match):
    with pytest.raises(BadSpectrumError, match=match) as info:
        crystal_graph(_nacl_primitive(), spectrum, "mp-spec", expected_len=expected_len)
    _one_line_naming(info.value, "mp-spec")


def test_bad_settings():
    with pytest.raises(GraphSettingsError, match="cutoff"):
        GraphSettings(cutoff=0.0)
    with pytest.raises(GraphSettingsError, match="n_gaussians"):
        crystal_graph(_nacl_primitive(), None, "nacl", n_gaussians=1)


def _mixed_set(n_bad: int) -> tuple[list[Structure], list[np.ndarray], list[str]]:
    lonely = Structure(Lattice.cubic(20.0), ["Na"], [[0, 0, 0]])
    structures = [_nacl_primitive(), *[lonely] * n_bad, _nacl_conventional()]
    spectra = [np.ones(51)] * (n_bad + 2)
    spectra[-1] = np.ones(50)  # wrong length against the common 51
    ids = ["good-0", *[f"bad-{k}" for k in range(n_bad)], "short"]
    return structures, spectra, ids


def test_build_graphs_lists_all_bad_materials():
    structures, spectra, ids = _mixed_set(n_bad=6)
    with pytest.raises(BadMaterialsError) as info:
        build_graphs(structures, spectra, ids, progress=False)
    message = str(info.value)
    assert message.startswith("7 of 8 materials") and "\n" not in message
    assert "bad-0 (IsolatedAtomError" in message and "and 2 more" in message
    assert set(info.value.excluded) == set(ids[1:])
    assert info.value.excluded["short"].startswith("BadSpectrumError")


def test_try_build_graphs_excludes_and_reports():
    structures, spectra, ids = _mixed_set(n_bad=2)
    built = try_build_graphs(structures, spectra, ids, progress=False)
    assert built.ids == ["good-0"] and len(built.graphs) == 1
    assert list(built.excluded) == ["bad-0", "bad-1", "short"]
    assert "raise the cutoff" in built.excluded["bad-0"]


def test_material_list_errors():
    s = [_nacl_primitive()] * 2
    with pytest.raises(MaterialListError, match="lengths differ"):
        build_graphs(s, np.ones((3, 51)), ["a", "b"], progress=False)
    with pytest.raises(MaterialListError, match="repeat"):
        build_graphs(s, None, ["a", "a"], progress=False)


def test_common_length_is_not_set_by_a_bad_first_spectrum():
    structures = [_nacl_primitive()] * 3
    built = try_build_graphs(structures, [np.ones(7), np.ones(51), np.ones(51)], ["a", "b", "c"], progress=False)
    assert built.ids == ["b", "c"] and "length 7, expected 51" in built.excluded["a"]
