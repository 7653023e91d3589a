"""Synthetic crystals with a phonon-like DoS, written in the raw phonon CSV format (``seqstruct.dos.phonon``).

The offline demo and the tests' data (``--config 'dos={source: synthetic}'``). Each material is a random
primitive cell (lattice constants ``a ~ U(3, 6)`` Å, angles near 90°) holding 2..``max_atoms`` atoms of a few
light-to-heavy elements placed at random with a minimum separation of 1.8 Å. Its spectrum is learnable from the
structure: one Gaussian peak per atom at the frequency ``ω ∝ sqrt(k / m)`` of a harmonic bond, with ``m`` the
atom's mass and ``k ∝ 1 / d²`` its nearest-neighbour distance ``d``, plus a broad acoustic hump, sampled on the
grid ``0..1000`` cm⁻¹ in ``n_points`` points and max-normalised, as the real file.

Deterministic: the same settings and seed write the same bytes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pymatgen.core import Element, Lattice

from seqstruct.common.io import atomic_path
from seqstruct.common.seeding import generator

log = logging.getLogger(__name__)

#: the elements drawn (light to heavy, so the peak positions spread)
ELEMENTS = (3, 6, 8, 11, 13, 14, 16, 26, 29, 38, 50, 56, 82)


@dataclass(frozen=True)
class SyntheticDos:
    """Settings of the synthetic phonon set."""

    n_materials: int = 120
    max_atoms: int = 6
    n_points: int = 51  # grid points on 0..1000 cm^-1 (the real set: 51)
    peak_width: float = 40.0  # cm^-1
    seed: int = 0


def _cell(rng: np.random.Generator, n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """A random cell (3, 3) and Cartesian positions (n, 3), every pair of atoms (with images) >= 1.8 Å apart."""
    while True:
        a, b, c = rng.uniform(3.0, 6.0, 3)
        angles = rng.uniform(80, 100, 3)
        lattice = Lattice.from_parameters(a, b, c, *angles)
        frac = rng.uniform(0, 1, (n_atoms, 3))
        d = lattice.get_all_distances(frac, frac)
        np.fill_diagonal(d, np.inf)
        if n_atoms == 1 or d.min() >= 1.8:
            return lattice.matrix, lattice.get_cartesian_coords(frac)


def _spectrum(rng: np.random.Generator, z: np.ndarray, nearest: np.ndarray, cfg: SyntheticDos) -> np.ndarray:
    grid = np.linspace(0.0, 1000.0, cfg.n_points)
    mass = np.array([float(Element.from_Z(int(k)).atomic_mass) for k in z])
    omega = 2600.0 / (nearest * np.sqrt(mass))  # ~ sqrt(k / m) with k ~ 1 / d^2; spans ~60..900 cm^-1
    dos = np.exp(-((grid[None, :] - omega[:, None]) ** 2) / (2 * cfg.peak_width**2)).sum(axis=0)
    dos += 0.5 * np.exp(-((grid - omega.min() / 2) ** 2) / (2 * (3 * cfg.peak_width) ** 2))
    dos *= 1 + 0.05 * rng.standard_normal(cfg.n_points)  # a little noise
    dos = np.clip(dos, 0, None)
    return dos / dos.max()


def write_synthetic(path: str | os.PathLike[str], cfg: SyntheticDos = SyntheticDos()) -> None:
    """Write ``cfg.n_materials`` synthetic materials to ``path`` in the raw phonon CSV format (atomically)."""
    rng = generator(cfg.seed, "dos-synthetic")
    rows = []
    for i in range(cfg.n_materials):
        n = int(rng.integers(2, cfg.max_atoms + 1))
        z = rng.choice(ELEMENTS, size=n)
        cell, pos = _cell(rng, n)
        lattice = Lattice(cell)
        frac = lattice.get_fractional_coords(pos)
        d = lattice.get_all_distances(frac, frac)
        np.fill_diagonal(d, np.inf)
        nearest = np.minimum(d.min(axis=1), np.linalg.norm(cell, axis=1).min())  # images of itself count too
        dos = _spectrum(rng, z, nearest, cfg)
        structure = {"numbers": z.tolist(), "positions": pos.tolist(), "cell": cell.tolist(), "pbc": [True] * 3}
        grid = np.linspace(0.0, 1000.0, cfg.n_points)
        rows.append(
            {
                "mp_id": f"syn-{i:04d}",
                "structure": repr(structure),
                "phfreq": repr(grid.tolist()),
                "phdos": repr(dos.tolist()),
            }
        )
    with atomic_path(path) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)
    log.info("wrote %d synthetic materials to %s", cfg.n_materials, path)
