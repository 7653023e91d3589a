"""Tests of the USDA texture triangle: interior points, boundaries, a partition property, NaN handling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seqstruct.crop.rasters.texture import TEXTURE_CLASSES, texture_class, texture_one_hot

# (sand, silt, clay) well inside each class
INTERIOR = {
    "clay": (20, 20, 60),
    "silty clay": (5, 45, 50),
    "sandy clay": (52, 6, 42),
    "clay loam": (33, 34, 33),
    "silty clay loam": (10, 56, 34),
    "sandy clay loam": (60, 13, 27),
    "loam": (40, 40, 20),
    "silt loam": (20, 65, 15),
    "sandy loam": (65, 25, 10),
    "silt": (5, 88, 7),
    "loamy sand": (82, 12, 6),
    "sand": (92, 5, 3),
}


def _name(sand: float, silt: float, clay: float) -> str:
    k = int(texture_class(sand, silt, clay))
    return TEXTURE_CLASSES[k] if k >= 0 else "invalid"


def test_class_list_is_the_thesis_order() -> None:
    assert len(TEXTURE_CLASSES) == len(set(TEXTURE_CLASSES)) == 12
    assert TEXTURE_CLASSES[0] == "clay" and TEXTURE_CLASSES[9] == "silt" and TEXTURE_CLASSES[-1] == "sand"


@pytest.mark.parametrize("name", list(INTERIOR))
def test_interior_points(name: str) -> None:
    assert _name(*INTERIOR[name]) == name


def test_vectorised_over_arrays() -> None:
    comp = np.array(list(INTERIOR.values()), dtype=float)
    got = texture_class(comp[:, 0], comp[:, 1], comp[:, 2])
    assert got.dtype == np.int64
    assert [TEXTURE_CLASSES[k] for k in got] == list(INTERIOR)
    grid = texture_class(comp[:, 0].reshape(3, 4), comp[:, 1].reshape(3, 4), comp[:, 2].reshape(3, 4))
    assert grid.shape == (3, 4)


def test_published_examples() -> None:
    """Clay / sand pairs with their documented USDA classes (R package hydroTools, soil_class example)."""
    clay = np.array([5, 60, 15, 5, 25, 5, 25, 45, 65, 75, 13, 47])
    sand = np.array([90, 32, 70, 70, 20, 10, 10, 10, 20, 10, 70, 10])
    expected = ["sand", "clay", "sandy loam", "sandy loam", "silt loam", "silt", "silt loam", "silty clay"]
    expected += ["clay", "clay", "sandy loam", "silty clay"]
    assert [TEXTURE_CLASSES[k] for k in texture_class(sand, 100 - sand - clay, clay)] == expected


@pytest.mark.parametrize(
    ("sand", "silt", "clay", "name"),
    [
        (85, 15, 0, "loamy sand"),  # silt + 1.5 clay = 15 is not sand
        (70, 30, 0, "sandy loam"),  # silt + 2 clay = 30 is not loamy sand
        (52, 28, 20, "loam"),  # clay 20 and silt 28 belong to loam, sand 52 too
        (52, 38, 10, "loam"),  # sand 52 or less is loam
        (53, 37, 10, "sandy loam"),
        (45, 28, 27, "clay loam"),  # clay 27 starts the clay-loam band; sand 45 is clay loam
        (46, 27, 27, "sandy clay loam"),
        (45, 20, 35, "clay loam"),  # the overlapping published line sand = 45, 35 <= clay < 40
        (46, 19, 35, "sandy clay"),
        (45, 10, 45, "clay"),  # sand = 45 with clay >= 40 is clay
        (20, 40, 40, "silty clay"),  # clay 40 and silt 40 both start silty clay
        (20, 41, 39, "silty clay loam"),
        (21, 40, 39, "clay loam"),  # more than 20 sand
        (20, 53, 27, "silty clay loam"),  # 20 or less sand
        (35, 50, 15, "silt loam"),  # silt 50 starts silt loam
        (36, 49, 15, "loam"),
        (10, 80, 10, "silt"),  # silt 80 starts silt
        (8, 80, 12, "silt loam"),  # but clay 12 is silt loam
        (0, 80, 20, "silt loam"),
        (65, 0, 35, "sandy clay"),  # clay 35 starts sandy clay
        (65, 1, 34, "sandy clay loam"),
        (40, 20, 40, "clay"),
    ],
)
def test_boundaries(sand: float, silt: float, clay: float, name: str) -> None:
    assert _name(sand, silt, clay) == name


def _definitions(sand: np.ndarray, silt: np.ndarray, clay: np.ndarray, e: float) -> dict[str, np.ndarray]:
    """The published class limits, each inequality relaxed by ``e`` (e > 0) or tightened (e < 0)."""

    def ge(x: np.ndarray, b: float) -> np.ndarray:
        return x >= b - e

    def le(x: np.ndarray, b: float) -> np.ndarray:
        return x <= b + e

    c1, c2 = silt + 1.5 * clay, silt + 2 * clay
    return {
        "sand": ge(sand, 85) & le(c1, 15),
        "loamy sand": ge(sand, 70) & le(sand, 91) & ge(c1, 15) & le(c2, 30),
        "sandy loam": (ge(clay, 7) & le(clay, 20) & ge(sand, 52) & ge(c2, 30))
        | (le(clay, 7) & le(silt, 50) & ge(c2, 30)),
        "loam": ge(clay, 7) & le(clay, 27) & ge(silt, 28) & le(silt, 50) & le(sand, 52),
        "silt loam": (ge(silt, 50) & ge(clay, 12) & le(clay, 27)) | (ge(silt, 50) & le(silt, 80) & le(clay, 12)),
        "silt": ge(silt, 80) & le(clay, 12),
        "sandy clay loam": ge(clay, 20) & le(clay, 35) & le(silt, 28) & ge(sand, 45),
        "clay loam": ge(clay, 27) & le(clay, 40) & ge(sand, 20) & le(sand, 45),
        "silty clay loam": ge(clay, 27) & le(clay, 40) & le(sand, 20),
        "sandy clay": ge(clay, 35) & ge(sand, 45),
        "silty clay": ge(clay, 40) & ge(silt, 40),
        "clay": ge(clay, 40) & le(sand, 45) & le(silt, 40),
    }


compositions = st.tuples(
    st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False), st.floats(0, 100, allow_nan=False)
).filter(lambda t: sum(t) > 1)


@settings(max_examples=400, deadline=None)
@given(compositions)
def test_every_composition_gets_exactly_one_class(raw: tuple[float, float, float]) -> None:
    """Any composition (rescaled to 100) gets one class, which meets its published limits, and no other class's
    limits hold strictly inside (0.01 points away from every boundary)."""
    total = sum(raw)
    sand, silt, clay = (np.array([100.0 * v / total]) for v in raw)
    k = int(texture_class(sand, silt, clay)[0])
    assert 0 <= k < 12
    loose = _definitions(sand, silt, clay, 1e-6)
    strict = _definitions(sand, silt, clay, -1e-2)
    assert loose[TEXTURE_CLASSES[k]][0]
    inside = [name for name, mask in strict.items() if mask[0]]
    assert inside in ([], [TEXTURE_CLASSES[k]])
    hot = texture_one_hot(k)
    assert hot.sum() == 1.0 and hot[k] == 1.0


def test_invalid_inputs_are_minus_one() -> None:
    sand = np.array([np.nan, 40, 40, 40, -1, 101, 40])
    silt = np.array([40, np.nan, 40, 40, 61, 0, 40])
    clay = np.array([20, 20, np.nan, 17.5, 40, -1, 20])
    assert texture_class(sand, silt, clay).tolist() == [-1, -1, -1, -1, -1, -1, TEXTURE_CLASSES.index("loam")]


def test_sums_inside_the_tolerance_are_rescaled() -> None:
    # sum 99.5 -> rescaled to sand 45.03, silt 20.1, clay 34.87: sandy clay loam (unscaled sand 44.8: clay loam)
    assert _name(44.8, 20.0, 34.7) == "sandy clay loam"
    assert _name(45.5, 20.0, 35.4) == "sandy clay"  # 100.9, within 1 point
    assert _name(45.0, 20.0, 36.5) == "invalid"  # 101.5
    assert int(texture_class(45.0, 20.0, 36.5, tolerance=2.0)) == TEXTURE_CLASSES.index("clay loam")


def test_one_hot_of_unknown_is_nan() -> None:
    hot = texture_one_hot(np.array([[0, -1], [11, 3]]))
    assert hot.shape == (2, 2, 12)
    assert np.isnan(hot[0, 1]).all()
    assert hot[0, 0, 0] == 1 and hot[1, 0, 11] == 1 and hot[1, 1, 3] == 1
    assert np.nansum(hot) == 3
