"""The phonon DoS set: crystal structures with 51-point phonon DoS (registry ``phdos_e3nn``, raw ``data.csv``).

Raw format (``../shared/data/dos/PROVENANCE.md``): a CSV with columns ``mp_id``, ``structure`` (an ASE-style dict
``{'numbers': [Z..], 'positions': [[x, y, z]..] (Cartesian, Å), 'cell': 3x3 (Å), 'pbc': [..]}``), ``phfreq``
(the frequency grid, cm⁻¹) and ``phdos`` (the DoS on that grid, each row max-normalised), the last three as
Python literals. The synthetic generator (``seqstruct.dos.synthetic``) writes the same format, and so can a
user's own set: any grid length, the same grid in every row.

Every row is checked; a bad row raises :class:`PhononDataError` naming the file, the material and the fix:
a missing column, an unparsable literal, a structure without atoms or with positions and numbers of different
lengths, a singular cell, a grid that differs between rows, a spectrum of the wrong length, with NaN/inf or
with negative values, or one that is zero everywhere. Nothing is dropped silently.

The tutorial split (``idx_train.txt`` / ``idx_valid.txt`` / ``idx_test.txt``) indexes the tutorial's later
1,522-row file whose first 1,521 rows are this file's; :func:`tutorial_split` drops the indices past the end
(index 1521, once, in train) and logs them.

Shapes: spectra (N, L) float32; grid (L,) float32.
"""

from __future__ import annotations

import ast
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pymatgen.core import Lattice, Structure

from seqstruct.common.errors import InputError
from seqstruct.common.splits import SPLITS

log = logging.getLogger(__name__)

#: tutorial split file -> our split name
TUTORIAL_FILES = {"train": "idx_train.txt", "val": "idx_valid.txt", "test": "idx_test.txt"}


class PhononDataError(InputError):
    """A phonon DoS file that cannot be read as documented in :mod:`seqstruct.dos.phonon`."""


@dataclass(frozen=True)
class SpectraSet:
    """Materials with their structures and spectra on one grid.

    Attributes
    ----------
    ids : list of str
        Material ids, in file order.
    structures : list of pymatgen Structure
    spectra : (N, L) float32 ndarray
        The spectra as stored (phonon: max-normalised).
    grid : (L,) float32 ndarray
        The frequency (cm⁻¹) or energy (eV) of each point.
    source : str
        The file they were read from (for messages).
    """

    ids: list[str]
    structures: list[Structure]
    spectra: np.ndarray
    grid: np.ndarray
    source: str


def _literal(text: Any, path: str, material: str, column: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise PhononDataError(
            f"{path}: material {material}: column {column!r} is not a Python literal ({str(text)[:40]!r}...); "
            "re-export the file in the format of seqstruct.dos.phonon"
        ) from None


def structure_from_ase_dict(entry: Any, path: str, material: str) -> Structure:
    """A pymatgen ``Structure`` from an ASE-style dict (numbers, Cartesian positions in Å, cell in Å).

    Raises
    ------
    PhononDataError
        Missing keys, no atoms, numbers and positions of different lengths, or a singular cell.
    """
    where = f"{path}: material {material}"
    if not isinstance(entry, dict) or not {"numbers", "positions", "cell"} <= entry.keys():
        raise PhononDataError(f"{where}: structure must be a dict with numbers, positions and cell")
    numbers = np.asarray(entry["numbers"], dtype=np.int64).reshape(-1)
    positions = np.asarray(entry["positions"], dtype=np.float64)
    cell = np.asarray(entry["cell"], dtype=np.float64)
    if len(numbers) == 0:
        raise PhononDataError(f"{where}: the structure has zero atoms; remove the row or give its atoms")
    if positions.shape != (len(numbers), 3):
        raise PhononDataError(
            f"{where}: {len(numbers)} atomic numbers but positions of shape {positions.shape}; they must agree"
        )
    if cell.shape != (3, 3) or not np.isfinite(cell).all() or abs(np.linalg.det(cell)) < 1e-6:
        raise PhononDataError(f"{where}: the cell {cell.tolist()} is not a finite, non-singular 3x3 matrix")
    if not np.isfinite(positions).all():
        raise PhononDataError(f"{where}: positions contain NaN or inf")
    if numbers.min() < 1:
        raise PhononDataError(f"{where}: atomic number {numbers.min()} is not an element (Z must be >= 1)")
    return Structure(Lattice(cell), numbers.tolist(), positions, coords_are_cartesian=True)


def _vector(entry: Any, path: str, material: str, column: str, length: int | None) -> np.ndarray:
    v = np.asarray(entry, dtype=np.float64).reshape(-1) if isinstance(entry, list | tuple) else None
    where = f"{path}: material {material}: {column}"
    if v is None:
        raise PhononDataError(f"{where} must be a list of numbers")
    if length is not None and len(v) != length:
        raise PhononDataError(f"{where} has {len(v)} points, expected {length} (the grid of the first row)")
    if not np.isfinite(v).all():
        raise PhononDataError(f"{where} contains NaN or inf; fix or remove the row")
    return v


def read_phonon_csv(
    path: str | os.PathLike[str],
    expected_len: int | None = None,
    grid_column: str = "phfreq",
    value_column: str = "phdos",
) -> SpectraSet:
    """Read and check a spectra CSV (module docstring); ``expected_len`` pins the grid length (51).

    The Materials Project eDoS CSV (``seqstruct.dos.mp``) has the same layout with the columns ``energy`` and
    ``edos`` (``grid_column``, ``value_column``).

    Raises
    ------
    PhononDataError
        For the first bad row or a missing column, naming the file and the material.
    """
    path = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PhononDataError(f"{path}: cannot be read as CSV ({exc}); fetch the file again") from None
    columns = ("mp_id", "structure", grid_column, value_column)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise PhononDataError(f"{path}: missing column(s) {missing}; expected {list(columns)}")
    if frame.empty:
        raise PhononDataError(f"{path}: no rows")
    dup = frame["mp_id"][frame["mp_id"].duplicated()]
    if len(dup):
        raise PhononDataError(f"{path}: material id {dup.iloc[0]} appears more than once; ids must be unique")
    ids, structures, spectra = [], [], []
    grid: np.ndarray | None = None
    for row in frame.itertuples(index=False):
        mid = str(row.mp_id)
        structures.append(structure_from_ase_dict(_literal(row.structure, path, mid, "structure"), path, mid))
        values = row._asdict()
        freq = _vector(_literal(values[grid_column], path, mid, grid_column), path, mid, grid_column, expected_len)
        if grid is None:
            grid = freq
        elif not np.allclose(freq, grid):
            raise PhononDataError(f"{path}: material {mid}: its grid differs from the first row's; resample it")
        dos = _vector(_literal(values[value_column], path, mid, value_column), path, mid, value_column, len(grid))
        if (dos < 0).any():
            raise PhononDataError(f"{path}: material {mid}: {value_column} has negative values (min {dos.min():.3g})")
        if dos.sum() <= 0:
            raise PhononDataError(f"{path}: material {mid}: {value_column} is zero everywhere; remove the row")
        ids.append(mid)
        spectra.append(dos)
    assert grid is not None
    log.info("%s: %d materials, %d-point grid %.4g..%.4g", path, len(ids), len(grid), grid[0], grid[-1])
    return SpectraSet(ids, structures, np.asarray(spectra, np.float32), grid.astype(np.float32), path)


def tutorial_split(files: dict[str, str | os.PathLike[str]], n: int) -> dict[str, np.ndarray]:
    """The tutorial's fixed split as sorted index arrays into the ``n`` rows of the staged file.

    ``files`` maps ``train``/``val``/``test`` to the tutorial's index files. Indices ``>= n`` (the row the
    tutorial later appended) are dropped and logged.

    Raises
    ------
    PhononDataError
        An unreadable index file, a negative index, an index in two splits, or rows covered by none.
    """
    out: dict[str, np.ndarray] = {}
    for split in SPLITS:
        path = Path(files[split])
        try:
            idx = np.loadtxt(path, dtype=np.int64, ndmin=1)
        except ValueError as exc:
            raise PhononDataError(f"{path}: not one integer per line ({exc})") from None
        if (idx < 0).any():
            raise PhononDataError(f"{path}: negative row index {idx.min()}")
        past = idx[idx >= n]
        if len(past):
            log.info("%s: dropped %d index(es) past the %d rows: %s", path, len(past), n, past.tolist())
        out[split] = np.sort(idx[idx < n])
    every = np.concatenate(list(out.values()))
    if len(np.unique(every)) != len(every):
        raise PhononDataError(f"{files['train']}: the tutorial split files share row indices")
    if len(every) != n:
        raise PhononDataError(f"{files['train']}: the tutorial split covers {len(every)} of the {n} rows")
    return out
