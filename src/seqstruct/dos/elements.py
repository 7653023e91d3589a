"""Element features of the crystal graphs (the CGCNN property set, computed here instead of read from a file).

The reference (Xtal2DoS, Mat2Spec) reads CGCNN's ``atom_init.json``: a 92-d binned one-hot vector of nine
element properties. This module recomputes the same nine properties for Z = 1..103 (H..Lr) and encodes them
compactly (F = 38 features per element):

==========================  ======  ============================================================================
feature block               width   encoding
==========================  ======  ============================================================================
group                       18      one-hot of the IUPAC group (pymatgen ``Element.group``; La..Yb, Ac..No: 3)
period                      7       one-hot of the period (``Element.row``)
block                       4       one-hot of s / p / d / f (``Element.block``; pymatgen puts La and Ac in f)
electronegativity           1       Pauling X (``Element.X``), min-max scaled to [0, 1] over the known values
covalent radius             1       Cordero 2008 covalent radius (``ase.data.covalent_radii``, Z <= 96 only:
                                    pymatgen has no covalent radius), scaled to [0, 1]
valence electrons           1       CGCNN convention, scaled to [0, 1]: the group for groups 1-12, group - 10
                                    for groups 13-18 (He: 2); f block: electrons outside the preceding noble-gas
                                    core (La 3 .. Yb 16, Ac 3 .. No 16)
first ionisation energy     1       ``Element.ionization_energy`` (eV), scaled to [0, 1]
electron affinity           1       ``Element.electron_affinity`` (eV, may be negative), scaled to [0, 1]
atomic volume               1       log of the molar volume (``Element.molar_volume``, cm^3/mol), scaled to [0, 1]
missing indicators          3       1.0 where the property above is unknown: electronegativity (He, Ne, Ar),
                                    covalent radius (Bk..Lr), molar volume (At, Fr, Fm..Lr)
==========================  ======  ============================================================================

Missing values are never silently zero: the scaled value is set to the mean of the scaled known values of that
property (so it sits mid-range rather than at an extreme) and the matching ``*_missing`` indicator is 1.
Ionisation energy, electron affinity, group, period and block are known for every Z in 1..103 with the
pinned pymatgen; a data change that loses one of them fails the table build (``RuntimeError``, a bug, not bad
input). The table is built once per process and cached.
"""

from __future__ import annotations

import math
import warnings
from functools import cache

import numpy as np

from seqstruct.common.errors import InputError

N_ELEMENTS = 103  # H..Lr: the composition vector length C and the highest supported atomic number
_BLOCKS = ("s", "p", "d", "f")
_CONTINUOUS = (
    "electronegativity",
    "covalent_radius",
    "valence_electrons",
    "ionisation_energy",
    "electron_affinity",
    "log_molar_volume",
)
# continuous column that may be unknown -> stem of its "<stem>_missing" indicator column
_MAY_BE_MISSING = {
    "electronegativity": "electronegativity",
    "covalent_radius": "covalent_radius",
    "log_molar_volume": "molar_volume",
}
_NOBLE_GAS_Z = (2, 10, 18, 36, 54, 86)

ELEMENT_FEATURE_NAMES: tuple[str, ...] = (
    *(f"group_{g}" for g in range(1, 19)),
    *(f"period_{p}" for p in range(1, 8)),
    *(f"block_{b}" for b in _BLOCKS),
    *_CONTINUOUS,
    *(f"{stem}_missing" for stem in _MAY_BE_MISSING.values()),
)


class UnknownElementError(InputError):
    """An atomic number outside H..Lr (1..103), the elements the features and composition vector cover."""


def check_atomic_numbers(z: np.ndarray, where: str = "") -> np.ndarray:
    """Return ``z`` as an int64 array after checking every entry is an element H..Lr.

    Parameters
    ----------
    z : np.ndarray
        Atomic numbers, any integer shape.
    where : str
        Prefix of the error message naming the material or file the numbers came from.

    Raises
    ------
    UnknownElementError
        If some Z is below 1 or above 103 (dummy species have Z = 0).
    """
    z = np.asarray(z)
    if z.size and not np.issubdtype(z.dtype, np.integer):
        raise UnknownElementError(f"{where}atomic numbers must be integers, got dtype {z.dtype}")
    z = z.astype(np.int64, copy=False)
    bad = z[(z < 1) | (z > N_ELEMENTS)]
    if bad.size:
        raise UnknownElementError(
            f"{where}atomic number Z={int(bad[0])} is not an element H..Lr (1..{N_ELEMENTS}); "
            "replace dummy/superheavy species or drop the material"
        )
    return z


def element_features(z: np.ndarray) -> np.ndarray:
    """Feature vectors of the atoms with atomic numbers ``z``.

    Parameters
    ----------
    z : np.ndarray
        Atomic numbers in 1..103.

    Returns
    -------
    np.ndarray
        float32 features, columns named by ``ELEMENT_FEATURE_NAMES``.

    Shapes
    ------
        z: (n,) -> (n, F) with F = ``len(ELEMENT_FEATURE_NAMES)`` = 38

    Raises
    ------
    UnknownElementError
        If some Z is outside 1..103.
    """
    z = check_atomic_numbers(z).reshape(-1)
    return _feature_table()[z - 1]


def composition_vector(z: np.ndarray) -> np.ndarray:
    """Element fractions of a set of atoms over H..Lr.

    Parameters
    ----------
    z : np.ndarray
        Atomic numbers of the atoms (one entry per atom, repeats count).

    Returns
    -------
    np.ndarray
        float32 fractions summing to 1; entry ``Z - 1`` is the fraction of element Z.

    Shapes
    ------
        z: (n,), n >= 1 -> (103,)

    Raises
    ------
    UnknownElementError
        If some Z is outside 1..103 or ``z`` is empty.
    """
    z = check_atomic_numbers(z).reshape(-1)
    if z.size == 0:
        raise UnknownElementError("composition of zero atoms is undefined; pass at least one atomic number")
    counts = np.bincount(z - 1, minlength=N_ELEMENTS).astype(np.float64)
    return (counts / counts.sum()).astype(np.float32)


@cache
def _feature_table() -> np.ndarray:
    """The (103, F) float32 feature table, row Z - 1 for element Z; built once, read-only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns about missing data for heavy elements
        raw = [_raw_properties(z) for z in range(1, N_ELEMENTS + 1)]
    onehots = np.stack([_onehots(r) for r in raw])
    values = np.array([[r[name] for name in _CONTINUOUS] for r in raw], dtype=np.float64)
    missing = ~np.isfinite(values)
    for j, name in enumerate(_CONTINUOUS):
        if missing[:, j].any() and name not in _MAY_BE_MISSING:
            lost = [int(z) for z in np.flatnonzero(missing[:, j]) + 1]
            raise RuntimeError(f"element property {name} is unknown for Z={lost}; the element table needs updating")
    scaled = np.stack([_minmax_fill(values[:, j]) for j in range(values.shape[1])], axis=1)
    flags = np.stack([missing[:, _CONTINUOUS.index(col)] for col in _MAY_BE_MISSING], axis=1)
    table = np.concatenate([onehots, scaled, flags.astype(np.float64)], axis=1).astype(np.float32)
    assert table.shape == (N_ELEMENTS, len(ELEMENT_FEATURE_NAMES)) and np.isfinite(table).all()
    table.setflags(write=False)
    return table


def _raw_properties(z: int) -> dict:
    """Unscaled properties of element ``z`` (nan where unknown)."""
    from ase.data import covalent_radii
    from pymatgen.core.periodic_table import Element

    el = Element.from_Z(z)
    group, period, block = int(el.group), int(el.row), str(el.block)
    return {
        "group": group,
        "period": period,
        "block": block,
        "electronegativity": _as_float(el.X),
        "covalent_radius": float(covalent_radii[z]) if z <= 96 else math.nan,  # Cordero 2008 ends at Cm
        "valence_electrons": float(_valence_electrons(z, group, block)),
        "ionisation_energy": _as_float(el.ionization_energy),
        "electron_affinity": _as_float(el.electron_affinity),
        "log_molar_volume": math.log(v) if (v := _as_float(el.molar_volume)) > 0 else math.nan,
    }


def _valence_electrons(z: int, group: int, block: str) -> int:
    """CGCNN-style valence electron count (see the module docstring)."""
    if z == 2:
        return 2
    if block == "f":
        return z - max(n for n in _NOBLE_GAS_Z if n < z)
    return group if group <= 12 else group - 10


def _onehots(raw: dict) -> np.ndarray:
    """Group (18), period (7) and block (4) one-hots of one element."""
    out = np.zeros(18 + 7 + len(_BLOCKS))
    out[raw["group"] - 1] = 1.0
    out[18 + raw["period"] - 1] = 1.0
    out[25 + _BLOCKS.index(raw["block"])] = 1.0
    return out


def _minmax_fill(column: np.ndarray) -> np.ndarray:
    """Scale the known values to [0, 1]; unknown (nan) entries get the mean of the scaled known values."""
    known = np.isfinite(column)
    lo, hi = column[known].min(), column[known].max()
    scaled = (column - lo) / (hi - lo)
    return np.where(known, scaled, scaled[known].mean())


def _as_float(value: object) -> float:
    """pymatgen property (float, FloatWithUnit or None) as a float, nan when unknown."""
    if value is None:
        return math.nan
    out = float(value)
    return out if math.isfinite(out) else math.nan
