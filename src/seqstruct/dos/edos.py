"""The thesis' 128-point electronic DoS vector from a pymatgen ``Dos`` / ``CompleteDos`` (:func:`bin_total_dos`).

The thesis' eDoS target (Mat2Spec's ``total_dos_128.npy``) is the total DoS on -4..4 eV in 128 bins of 62.5 meV
"with respect to band edges": the Fermi energy (metals) and the band edges (gapped materials) are 0 eV.

Energy reference (``reference=``)
---------------------------------
``"band_edges"`` (default)
    VBM and CBM from pymatgen ``Dos.get_cbm_vbm(tol=1e-4, abs_tol=False)`` on the spin-summed DoS: the band edges
    are where the total DoS crosses ``1e-4`` times its mean over the whole energy window (linear interpolation
    between grid points; the same call and tolerance emmet uses for Materials Project's DoS-derived gap). If
    there is no gap at E_F (pymatgen then returns ``cbm == vbm == efermi``) the reference is E_F: ``E - E_F``.
    If there is a gap, the states below it are shifted so the VBM is at 0 (``E - VBM`` for ``E <= VBM``, the
    negative side of the grid) and the states above it so the CBM is at 0 (``E - CBM`` for ``E >= CBM``, the
    positive side): the gap is removed, the valence and conduction edges meet at 0 eV.
``"fermi"``
    Plain ``E - E_F`` (E_F as stored in the DoS object); a gap stays on the grid as near-zero bins.

Binning
-------
Bin ``k`` (``k = 0..n_bins-1``) spans ``[e_min + k w, e_min + (k+1) w]`` with ``w = (e_max - e_min) / n_bins``; its
centre is ``e_min + (k + 0.5) w`` (for the defaults ``-4 + (k + 0.5) * 8/128``; 0 eV is the edge between bins 63
and 64). Its value is the mean of the DoS over the bin: the exact integral of the piecewise-linear DoS (linear
between the stored energy points, in the shifted energies) over the bin divided by ``w``. With the gap removed,
the valence branch (shifted energies <= 0) and the conduction branch (>= 0) are integrated separately, so a bin
that straddles 0 gets both parts. The result is in the DoS object's units (states/eV per cell for MP, spins
summed), float32, not normalised (models normalise the spectrum themselves). The shifted energies must cover the
whole grid; densities must be finite and non-negative; otherwise :class:`DosError` names the material.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pymatgen.electronic_structure.dos import Dos

from seqstruct.common.errors import InputError

N_BINS = 128
E_MIN = -4.0
E_MAX = 4.0
#: relative tolerance of ``Dos.get_cbm_vbm`` (a fraction of the mean total DoS), pymatgen's and emmet's default
GAP_TOL = 1e-4
References = Literal["band_edges", "fermi"]
REFERENCES = ("band_edges", "fermi")


class DosError(InputError):
    """A DoS cannot be binned or a fetched DoS file is unusable; the message names the material and the fix."""


def bin_centres(n_bins: int = N_BINS, e_min: float = E_MIN, e_max: float = E_MAX) -> np.ndarray:
    """Return the bin centres ``e_min + (k + 0.5) (e_max - e_min) / n_bins`` in eV, shape (n_bins,)."""
    width = (e_max - e_min) / n_bins
    return e_min + (np.arange(n_bins) + 0.5) * width


def band_edges(dos: Dos, reference: References = "band_edges", gap_tol: float = GAP_TOL) -> tuple[float, float]:
    """Return the absolute energies ``(vbm, cbm)`` that are mapped to 0 eV.

    Parameters
    ----------
    dos : pymatgen.electronic_structure.dos.Dos
        The DoS (spins are summed for the gap).
    reference : {"band_edges", "fermi"}
        ``"fermi"``: ``(E_F, E_F)``. ``"band_edges"``: pymatgen's interpolated ``(VBM, CBM)`` when the total DoS
        has a gap at E_F, else ``(E_F, E_F)`` (also when ``get_cbm_vbm`` fails because a grid point at exactly E_F
        has a DoS above the tolerance, which means there is no gap).
    gap_tol : float
        Relative tolerance of ``Dos.get_cbm_vbm`` (fraction of the mean total DoS).

    Returns
    -------
    tuple of float
        ``(vbm, cbm)`` in eV, ``vbm <= cbm``; equal when there is no gap or for ``"fermi"``.
    """
    efermi = float(dos.efermi)
    if reference == "fermi":
        return efermi, efermi
    try:
        cbm, vbm = (float(v) for v in dos.get_cbm_vbm(tol=gap_tol, abs_tol=False, spin=None))
    except ValueError:
        # pymatgen takes a grid point exactly at E_F for a gap and then fails to interpolate its edges; that only
        # happens when the DoS at that point is above the tolerance, i.e. there is no gap at E_F
        return efermi, efermi
    if not cbm > vbm:
        return efermi, efermi
    return vbm, cbm


def bin_total_dos(
    dos: Dos,
    n_bins: int = N_BINS,
    e_min: float = E_MIN,
    e_max: float = E_MAX,
    reference: References = "band_edges",
    gap_tol: float = GAP_TOL,
    material_id: str = "<unnamed>",
) -> np.ndarray:
    """Bin the spin-summed total DoS on ``n_bins`` equal bins of ``[e_min, e_max]`` relative to the reference.

    Parameters
    ----------
    dos : pymatgen.electronic_structure.dos.Dos
        A ``Dos`` or ``CompleteDos`` (only the total densities are used).
    n_bins : int
        Number of bins.
    e_min, e_max : float
        Grid range in eV relative to the reference.
    reference : {"band_edges", "fermi"}
        Energy zero; see the module docstring.
    gap_tol : float
        Relative tolerance for the band edges (``Dos.get_cbm_vbm``).
    material_id : str
        Named in error messages.

    Returns
    -------
    numpy.ndarray
        (n_bins,) float32: mean DoS over each bin (exact integral of the piecewise-linear DoS / bin width).

    Raises
    ------
    DosError
        Bad arguments, energies not strictly increasing or not finite, densities NaN/inf/negative, or the shifted
        energies do not cover ``[e_min, e_max]``.
    """
    _check_grid(n_bins, e_min, e_max, reference)
    energies, total = _total_density(dos, material_id)
    vbm, cbm = band_edges(dos, reference, gap_tol)
    lower_x, lower_f = _branch(energies, total, vbm, below=True)
    upper_x, upper_f = _branch(energies, total, cbm, below=False)
    _check_coverage(lower_x[0], upper_x[-1], e_min, e_max, reference, material_id)
    edges = np.linspace(e_min, e_max, n_bins + 1)
    integral = np.diff(_cumulative(lower_x, lower_f, edges)) + np.diff(_cumulative(upper_x, upper_f, edges))
    return (integral / np.diff(edges)).astype(np.float32)


def _check_grid(n_bins: int, e_min: float, e_max: float, reference: str) -> None:
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise DosError(f"n_bins must be a positive integer, got {n_bins!r}")
    if not (math.isfinite(e_min) and math.isfinite(e_max) and e_max > e_min):
        raise DosError(f"energy grid [{e_min}, {e_max}] eV is empty or not finite; give e_min < e_max")
    if reference not in REFERENCES:
        raise DosError(f"unknown DoS energy reference {reference!r}; give one of {', '.join(REFERENCES)}")


def _total_density(dos: Dos, material_id: str) -> tuple[np.ndarray, np.ndarray]:
    """Energies (strictly increasing, finite) and the spin-summed densities (finite, >= 0), as float64."""
    what = f"DoS of {material_id}"
    total = dos.get_densities() if dos.densities else None
    if total is None:
        raise DosError(f"{what} has no densities; fetch the material's total DoS again")
    energies = np.asarray(dos.energies, dtype=np.float64)
    total = np.asarray(total, dtype=np.float64)
    if energies.ndim != 1 or energies.shape != total.shape or energies.size < 2:
        raise DosError(
            f"{what}: energies {energies.shape} and densities {total.shape} must be 1-D of the same length >= 2; "
            "fetch the DoS again"
        )
    if not np.all(np.isfinite(energies)) or not np.all(np.diff(energies) > 0) or not math.isfinite(dos.efermi):
        raise DosError(f"{what}: energies or E_F are not finite or not strictly increasing; fetch the DoS again")
    bad = int(np.sum(~np.isfinite(total)))
    if bad:
        raise DosError(f"{what}: {bad} density values are NaN or infinite; fetch the DoS again or drop the material")
    if np.any(total < 0):
        raise DosError(
            f"{what}: {int(np.sum(total < 0))} density values are negative (min {total.min():.3g}); a DoS is >= 0, "
            "fetch it again or drop the material"
        )
    return energies, total


def _branch(energies: np.ndarray, total: np.ndarray, edge: float, below: bool) -> tuple[np.ndarray, np.ndarray]:
    """The DoS on one side of ``edge`` (``E <= edge`` or ``E >= edge``) in energies shifted by ``-edge``.

    A node at exactly 0 (the DoS interpolated at ``edge``) closes the branch, so each branch is a piecewise-linear
    function on ``[E_0 - edge, 0]`` or ``[0, E_end - edge]``.
    """
    at_edge = float(np.interp(edge, energies, total))
    keep = energies < edge if below else energies > edge
    x, f = energies[keep] - edge, total[keep]
    if below:
        return np.append(x, 0.0), np.append(f, at_edge)
    return np.insert(x, 0, 0.0), np.insert(f, 0, at_edge)


def _cumulative(x: np.ndarray, f: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Exact integral of the piecewise-linear ``f(x)`` from ``x[0]`` to each point (clipped to ``[x[0], x[-1]]``)."""
    if x.size < 2:
        return np.zeros_like(points)
    nodes = np.concatenate([[0.0], np.cumsum(np.diff(x) * (f[1:] + f[:-1]) / 2)])
    t = np.clip(points, x[0], x[-1])
    i = np.clip(np.searchsorted(x, t, side="right") - 1, 0, x.size - 2)
    return nodes[i] + (t - x[i]) * (f[i] + np.interp(t, x, f)) / 2


def _check_coverage(low: float, high: float, e_min: float, e_max: float, reference: str, material_id: str) -> None:
    if low <= min(e_min, 0.0) and high >= max(e_max, 0.0):
        return
    raise DosError(
        f"DoS of {material_id} covers only [{low:.3f}, {high:.3f}] eV relative to its {reference} reference, not "
        f"the grid [{e_min}, {e_max}] eV; fetch a DoS over a wider energy range or drop the material"
    )
