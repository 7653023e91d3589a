"""The 12-class USDA soil texture triangle: sand / silt / clay percentages -> texture class.

The class limits are the published USDA-NRCS definitions: Soil Survey Division Staff (1993), Soil Survey Manual,
USDA Handbook No. 18, chapter 3 "Examination and Description of Soils", "Soil Textural Classes" (pp. 136-143;
the 2017 edition by the Soil Science Division Staff keeps the same 12 classes and limits), also reproduced in the
SSSA Glossary of Soil Science Terms under "soil texture":

=================  ===========================================================================================
class              definition (percent of the fine earth, < 2 mm)
=================  ===========================================================================================
sand               85 or more sand, and silt + 1.5 clay < 15
loamy sand         70 to 91 sand, silt + 1.5 clay >= 15, and silt + 2 clay < 30
sandy loam         7 to 20 clay, more than 52 sand, and silt + 2 clay >= 30; or less than 7 clay, less than
                   50 silt and silt + 2 clay >= 30 (the 1993 text says "more than 43 sand", which is implied)
loam               7 to 27 clay, 28 to 50 silt, and 52 or less sand
silt loam          50 or more silt and 12 to 27 clay; or 50 to 80 silt and less than 12 clay
silt               80 or more silt and less than 12 clay
sandy clay loam    20 to 35 clay, less than 28 silt, and more than 45 sand
clay loam          27 to 40 clay and more than 20 to 45 sand
silty clay loam    27 to 40 clay and 20 or less sand
sandy clay         35 or more clay and 45 or more sand
silty clay         40 or more clay and 40 or more silt
clay               40 or more clay, less than 45 sand, and less than 40 silt
=================  ===========================================================================================

Boundaries. A range "a to b" is read as ``a <= x < b`` (the lower limit belongs to the class, the upper one to
the next), which is how the limits above tile the triangle. The one place where the published text overlaps is
the line sand = 45 with 35 <= clay < 40 (both "clay loam: 20 to 45 sand" and "sandy clay: 45 or more sand");
there, and on sand = 45 with clay >= 40, the point goes to the finer, non-sandy class (clay loam, clay): sandy
clay is ``sand > 45``. With these conventions every composition gets exactly one class
(``test_texture.py`` checks it with hypothesis).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

TEXTURE_CLASSES: tuple[str, ...] = (
    "clay",
    "silty clay",
    "sandy clay",
    "clay loam",
    "silty clay loam",
    "sandy clay loam",
    "loam",
    "silt loam",
    "sandy loam",
    "silt",
    "loamy sand",
    "sand",
)
"""The 12 USDA texture classes, in the order of the thesis' soil variables 8-19 (finest first); the index of a
name here is the integer :func:`texture_class` returns."""

SUM_TOLERANCE = 1.0
"""Default tolerance (percentage points) on ``sand + silt + clay == 100``."""

(
    CLAY,
    SILTY_CLAY,
    SANDY_CLAY,
    CLAY_LOAM,
    SILTY_CLAY_LOAM,
    SANDY_CLAY_LOAM,
    LOAM,
    SILT_LOAM,
    SANDY_LOAM,
    SILT,
    LOAMY_SAND,
    SAND,
) = range(len(TEXTURE_CLASSES))


def normalise_composition(
    sand: ArrayLike, silt: ArrayLike, clay: ArrayLike, tolerance: float = SUM_TOLERANCE
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rescale sand / silt / clay so that they sum to exactly 100, and flag the compositions that cannot be.

    Parameters
    ----------
    sand, silt, clay : array_like of float, broadcastable to one shape
        Percentages of the fine earth.
    tolerance : float
        Largest accepted ``|sand + silt + clay - 100|`` in percentage points.

    Returns
    -------
    sand, silt, clay : ndarray of float64, the broadcast shape
        The rescaled percentages (meaningless where ``valid`` is False).
    valid : ndarray of bool, the broadcast shape
        False where an input is NaN or negative, or the sum is off by more than ``tolerance``.
    """
    s, si, c = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (sand, silt, clay)))
    total = s + si + c
    with np.errstate(invalid="ignore"):
        valid = (s >= 0) & (si >= 0) & (c >= 0) & (np.abs(total - 100.0) <= tolerance)
    scale = np.divide(100.0, total, out=np.ones_like(total), where=valid & (total > 0))
    return s * scale, si * scale, c * scale, valid


def _decision_table(sand: np.ndarray, silt: np.ndarray, clay: np.ndarray) -> list[tuple[np.ndarray, int]]:
    """(condition, class) pairs; the first true condition gives the class, and the last one is always true.

    Read band by band (clay bands, after the two coarse classes), this is the table of the module docstring
    with its boundary conventions.
    """
    coarse1, coarse2 = silt + 1.5 * clay, silt + 2.0 * clay
    return [
        (coarse1 < 15, SAND),
        (coarse2 < 30, LOAMY_SAND),
        # clay >= 40
        ((clay >= 40) & (sand > 45), SANDY_CLAY),
        ((clay >= 40) & (silt >= 40), SILTY_CLAY),
        (clay >= 40, CLAY),
        # 27 <= clay < 40
        ((clay >= 35) & (sand > 45), SANDY_CLAY),
        ((clay >= 27) & (sand > 45), SANDY_CLAY_LOAM),
        ((clay >= 27) & (sand > 20), CLAY_LOAM),
        (clay >= 27, SILTY_CLAY_LOAM),
        # 20 <= clay < 27
        ((clay >= 20) & (silt < 28), SANDY_CLAY_LOAM),
        ((clay >= 20) & (silt < 50), LOAM),
        (clay >= 20, SILT_LOAM),
        # 7 <= clay < 20 (sand <= 52 implies silt > 28 there)
        ((clay >= 7) & (sand > 52), SANDY_LOAM),
        ((clay >= 7) & (silt < 50), LOAM),
        # clay < 7 (silt + 2 clay >= 30 here)
        ((clay < 7) & (silt < 50), SANDY_LOAM),
        # silt >= 50 and clay < 20
        ((clay >= 12) | (silt < 80), SILT_LOAM),
        (np.ones_like(sand, dtype=bool), SILT),
    ]


def texture_class(sand: ArrayLike, silt: ArrayLike, clay: ArrayLike, tolerance: float = SUM_TOLERANCE) -> np.ndarray:
    """The USDA texture class of each sand / silt / clay composition (vectorised).

    Compositions within ``tolerance`` of 100 % are first rescaled to sum to exactly 100 (see
    :func:`normalise_composition`); the class limits and their boundary conventions are in the module docstring.

    Parameters
    ----------
    sand, silt, clay : array_like of float, broadcastable to one shape
        Percentages of the fine earth (SSURGO ``sandtotal_r``, ``silttotal_r``, ``claytotal_r``).
    tolerance : float
        Largest accepted ``|sand + silt + clay - 100|`` in percentage points.

    Returns
    -------
    ndarray of int64, the broadcast shape
        Index into :data:`TEXTURE_CLASSES`; -1 where an input is NaN or negative, or the sum is off by
        more than ``tolerance``.
    """
    s, si, c, valid = normalise_composition(sand, silt, clay, tolerance)
    table = _decision_table(s, si, c)
    with np.errstate(invalid="ignore"):
        classes = np.select([cond for cond, _ in table], [k for _, k in table], default=-1).astype(np.int64)
    classes[~valid] = -1
    return classes


def texture_one_hot(classes: ArrayLike) -> np.ndarray:
    """One-hot fractions of the texture classes, NaN where the class is unknown (-1).

    Parameters
    ----------
    classes : array_like of int, any shape S
        Indices into :data:`TEXTURE_CLASSES` or -1, as returned by :func:`texture_class`.

    Returns
    -------
    ndarray of float64, shape S + (12,)
        1.0 for the class, 0.0 for the others; all NaN where the class is -1.
    """
    k = np.asarray(classes, dtype=np.int64)
    out = (k[..., None] == np.arange(len(TEXTURE_CLASSES))).astype(np.float64)
    out[k < 0] = np.nan
    return out
