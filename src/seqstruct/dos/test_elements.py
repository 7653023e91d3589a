"""Tests of the element feature table and composition vectors."""

from __future__ import annotations

import numpy as np
import pytest

from seqstruct.common.errors import InputError
from seqstruct.dos.elements import (
    ELEMENT_FEATURE_NAMES,
    N_ELEMENTS,
    UnknownElementError,
    composition_vector,
    element_features,
)

ALL_Z = np.arange(1, N_ELEMENTS + 1)


def _columns(prefix: str) -> list[int]:
    return [k for k, name in enumerate(ELEMENT_FEATURE_NAMES) if name.startswith(prefix)]


def _column(name: str) -> int:
    return ELEMENT_FEATURE_NAMES.index(name)


def test_table_shape_dtype_and_range():
    table = element_features(ALL_Z)
    assert table.shape == (103, len(ELEMENT_FEATURE_NAMES)) == (103, 38)
    assert table.dtype == np.float32
    assert np.isfinite(table).all()
    assert table.min() >= 0.0 and table.max() <= 1.0
    assert len(set(ELEMENT_FEATURE_NAMES)) == len(ELEMENT_FEATURE_NAMES)
    assert len({row.tobytes() for row in table}) == 103  # every element has its own vector


@pytest.mark.parametrize("prefix, width", [("group_", 18), ("period_", 7), ("block_", 4)])
def test_one_hots_have_exactly_one_entry(prefix, width):
    cols = _columns(prefix)
    assert len(cols) == width
    np.testing.assert_array_equal(element_features(ALL_Z)[:, cols].sum(axis=1), 1.0)


def test_known_elements():
    na, cl, fe = element_features(np.array([11, 17, 26]))
    assert na[_column("group_1")] == na[_column("period_3")] == na[_column("block_s")] == 1
    assert cl[_column("group_17")] == cl[_column("block_p")] == 1
    assert fe[_column("group_8")] == fe[_column("period_4")] == fe[_column("block_d")] == 1
    assert cl[_column("electronegativity")] > na[_column("electronegativity")]
    assert na[_column("ionisation_energy")] < cl[_column("ionisation_energy")]
    # CGCNN valence convention: Na 1, Cl 7, Fe 8 (scaled over 1..16 -> (v - 1) / 15)
    v = _column("valence_electrons")
    np.testing.assert_allclose([na[v], cl[v], fe[v]], np.array([0, 6, 7]) / 15, atol=1e-6)


def test_missing_properties_are_flagged_not_zero():
    table = element_features(ALL_Z)
    x_missing = np.flatnonzero(table[:, _column("electronegativity_missing")]) + 1
    np.testing.assert_array_equal(x_missing, [2, 10, 18])  # Pauling X undefined for He, Ne, Ar
    r_missing = np.flatnonzero(table[:, _column("covalent_radius_missing")]) + 1
    np.testing.assert_array_equal(r_missing, np.arange(97, 104))  # Cordero radii end at Cm
    v_missing = np.flatnonzero(table[:, _column("molar_volume_missing")]) + 1
    assert {85, 87, 103} <= set(v_missing.tolist())
    # a missing value is the mean of the known scaled values, not 0
    known = np.delete(table[:, _column("electronegativity")], x_missing - 1)
    np.testing.assert_allclose(table[1, _column("electronegativity")], known.mean(), rtol=1e-5)


def test_element_features_rows_and_cache():
    z = np.array([8, 8, 1])
    out = element_features(z)
    assert out.shape == (3, 38)
    np.testing.assert_array_equal(out[0], out[1])
    out[0] = -1.0  # a copy: the cached table stays intact
    assert element_features(np.array([8])).min() >= 0.0


def test_composition_vector():
    comp = composition_vector(np.array([11, 17, 11, 17, 11, 17, 11, 17]))
    assert comp.shape == (103,) and comp.dtype == np.float32
    assert comp.sum() == pytest.approx(1.0)
    assert comp[10] == comp[16] == pytest.approx(0.5)
    np.testing.assert_allclose(composition_vector(np.array([103, 1, 1]))[[0, 102]], [2 / 3, 1 / 3], rtol=1e-6)


@pytest.mark.parametrize("z", [0, -3, 104, 118])
def test_unknown_element_names_z(z):
    with pytest.raises(UnknownElementError, match=f"Z={z}") as info:
        element_features(np.array([1, z]))
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)
    with pytest.raises(UnknownElementError, match=f"Z={z}"):
        composition_vector(np.array([z]))


def test_non_integer_or_empty_input():
    with pytest.raises(UnknownElementError, match="integers"):
        element_features(np.array([1.5]))
    with pytest.raises(UnknownElementError, match="zero atoms"):
        composition_vector(np.array([], dtype=np.int64))
    assert element_features(np.array([], dtype=np.int64)).shape == (0, 38)
