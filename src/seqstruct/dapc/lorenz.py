"""The noisy Lorenz benchmark of thesis section 3.1.4 (``reference/methods.md`` section 4.1).

Pipeline and shapes:

1. :func:`lorenz_states` -> (frames, 3): the Lorenz ODE (sigma 10, rho 28, beta 8/3, x0 = (1, 1, 1)) integrated
   with ``odeint`` at step 0.005 over ``(frames + burn_in) * 0.025`` time units, each coordinate z-scored,
   Fourier-resampled to ``frames + burn_in`` points (one per 0.025) and the first ``burn_in`` dropped.
2. :func:`lift` -> (frames, 30): a fixed random MLP 3 -> 128 -> 128 -> 30 (ELU, PyTorch default init, seeded),
   scaled so that the largest eigenvalue of its output covariance equals that of the states.
3. :func:`add_noise` -> (frames, 30): Gaussian noise, i.i.d. over time, at a signal-to-noise ratio ``snr``,
   then mean-centred. Two definitions of the SNR (``docs/deviations.md``):

   - ``"power"`` (the thesis text): a ratio of total powers; isotropic noise of per-dimension variance
     ``trace(cov(clean)) / (30 snr)``.
   - ``"eigen"`` (the released code): a ratio of top eigenvalues; ``noise_var = lambda_max(cov(states)) / snr``
     and noise covariance ``V diag(noise_var exp(-2 i / 7)) V^T``, ``i = 0..29``, where the first 7 columns of
     the orthonormal ``V`` span the one of ``draws`` Haar-random 7-dim subspaces whose principal angles to a
     random 3-dim "dynamics" subspace are nearest (Euclidean distance of the sorted angle vectors) to the
     per-angle median over all draws.

:func:`make_lorenz` runs the three steps into a :class:`LorenzData`; ``seqstruct.dapc.prepare.prepare_lorenz``
stores it as a prepared series.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import scipy.integrate
import scipy.signal
import torch
from torch import nn

log = logging.getLogger(__name__)

SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
NOISE_MODES = ("power", "eigen")
NOISE_RANK = 7  # "eigen" mode: the noise spectrum decays as exp(-2 i / NOISE_RANK) from the top of a 7-dim subspace
DYNAMICS_RANK = 3
NPZ_KEYS = ("x", "clean", "state", "meta")


@dataclass
class LorenzData:
    """One noisy Lorenz data set.

    Attributes
    ----------
    x : ndarray of shape (frames, 30), float32
        The noisy, mean-centred observations (the model input).
    clean : ndarray of shape (frames, 30), float64
        The lifted signal before noise (not centred).
    state : ndarray of shape (frames, 3), float64
        The z-scored Lorenz states (the recovery target).
    snr : float
        The requested signal-to-noise ratio.
    seed : int
        The seed of the lifting MLP and of the noise.
    noise : str
        ``"power"`` or ``"eigen"``, the SNR definition.
    """

    x: np.ndarray
    clean: np.ndarray
    state: np.ndarray
    snr: float
    seed: int
    noise: str

    @property
    def frames(self) -> int:
        """Number of time steps."""
        return len(self.x)

    def meta(self) -> dict[str, object]:
        """``snr``, ``seed``, ``noise`` and ``frames``, as stored in the ``.npz``."""
        return {"snr": float(self.snr), "seed": int(self.seed), "noise": self.noise, "frames": self.frames}


def _lorenz_rhs(state: np.ndarray, _t: float) -> tuple[float, float, float]:
    x, y, z = state
    return SIGMA * (y - x), x * (RHO - z) - y, x * y - BETA * z


def lorenz_states(frames: int = 10000, burn_in: int = 1000, dt: float = 0.005, step: float = 0.025) -> np.ndarray:
    """The z-scored, resampled Lorenz trajectory (deterministic).

    Parameters
    ----------
    frames
        Time steps returned.
    burn_in
        Leading time steps dropped after resampling (the transient from x0).
    dt
        Integration step of ``odeint``.
    step
        Time between returned frames.

    Returns
    -------
    ndarray of shape (frames, 3), float64
    """
    if frames < 1 or burn_in < 0:
        raise ValueError(f"need frames >= 1 and burn_in >= 0, got {frames} and {burn_in}")
    total = frames + burn_in
    n_fine = int(round(total * step / dt))
    t = dt * np.arange(n_fine)  # 0 .. total*step (exclusive): 55,000 points for the defaults
    fine = scipy.integrate.odeint(_lorenz_rhs, np.ones(3), t)
    fine = (fine - fine.mean(axis=0)) / fine.std(axis=0)
    return scipy.signal.resample(fine, total, axis=0)[burn_in:]


def _lifting_mlp(hidden: int, out_dim: int, dropout: float) -> nn.Sequential:
    """3 -> hidden -> hidden -> out_dim with ELU, dropout after each ELU (the released code's layout)."""
    return nn.Sequential(
        nn.Linear(DYNAMICS_RANK, hidden),
        nn.ELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.ELU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, out_dim),
    )


def top_eigenvalue(x: np.ndarray) -> float:
    """Largest eigenvalue of the covariance of the rows of ``x`` (T, D)."""
    return float(np.linalg.eigvalsh(np.atleast_2d(np.cov(x, rowvar=False)))[-1])


def lift(states: np.ndarray, seed: int, hidden: int = 128, out_dim: int = 30, dropout: float = 0.0) -> np.ndarray:
    """Lift the states nonlinearly to ``out_dim`` dimensions with a fixed random MLP.

    The MLP has PyTorch's default initialisation drawn under ``torch.manual_seed(seed)`` inside
    ``torch.random.fork_rng``, so the global torch RNG is left as it was. Its output is scaled so that the
    largest eigenvalue of its covariance equals that of ``cov(states)``.

    Parameters
    ----------
    states
        The Lorenz states (frames, 3).
    seed
        Seed of the MLP weights (and of the dropout masks).
    hidden
        Width of the two hidden layers.
    out_dim
        Dimension of the lifted signal.
    dropout
        Dropout probability active while lifting. The released code built the MLP with dropout 0.5 and never
        switched it to eval mode, so its lifted signal carries dropout noise; 0 (the default) is the clean
        lifting the thesis describes, 0.5 reproduces the quirk.

    Returns
    -------
    ndarray of shape (frames, out_dim), float64
    """
    states = np.asarray(states, np.float64)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mlp = _lifting_mlp(hidden, out_dim, dropout).double()  # weights drawn in float32, as PyTorch does
        mlp.train(dropout > 0)
        with torch.no_grad():
            lifted = mlp(torch.from_numpy(states)).numpy()
    return lifted * np.sqrt(top_eigenvalue(states) / top_eigenvalue(lifted))


def _orthonormal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """A Haar-random orthonormal (n, k) basis (QR of a Gaussian matrix with the signs fixed)."""
    q, r = np.linalg.qr(rng.normal(size=(n, k)))
    return q * np.sign(np.diag(r))


def median_subspace(rng: np.random.Generator, dim: int, rank: int = NOISE_RANK, draws: int = 5000) -> np.ndarray:
    """The ``rank``-dim random subspace of R^dim with median principal angles to a random 3-dim subspace.

    Parameters
    ----------
    rng
        Source of the dynamics basis and of the candidate subspaces.
    dim
        Ambient dimension.
    rank
        Dimension of the returned subspace.
    draws
        Haar-random candidates; the one whose sorted principal-angle vector is nearest (Euclidean) to the
        per-angle median over the candidates is returned.

    Returns
    -------
    ndarray of shape (dim, rank)
        An orthonormal basis of the chosen subspace.
    """
    dynamics = _orthonormal(rng, dim, DYNAMICS_RANK)
    q, _ = np.linalg.qr(rng.normal(size=(draws, dim, rank)))  # (draws, dim, rank), each spans a Haar subspace
    cosines = np.linalg.svd(dynamics.T @ q, compute_uv=False)  # (draws, 3), descending cosines
    angles = np.arccos(np.clip(cosines, -1.0, 1.0))  # ascending principal angles
    best = int(np.argmin(((angles - np.median(angles, axis=0)) ** 2).sum(axis=1)))
    return q[best]


def _complete_basis(rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
    """An orthonormal (n, n) matrix whose first k columns span the same space as ``basis`` (n, k)."""
    n, k = basis.shape
    q, _ = np.linalg.qr(np.concatenate([basis, rng.normal(size=(n, n - k))], axis=1))
    return q


def noise_covariance(
    snr: float, states: np.ndarray, clean: np.ndarray, mode: str, rng: np.random.Generator, draws: int = 5000
) -> np.ndarray:
    """The (D, D) covariance of the noise of :func:`add_noise` for SNR definition ``mode``."""
    dim = clean.shape[1]
    if mode == "power":
        return np.eye(dim) * np.trace(np.cov(clean, rowvar=False)) / (dim * snr)
    v = _complete_basis(rng, median_subspace(rng, dim, NOISE_RANK, draws))
    spectrum = top_eigenvalue(states) / snr * np.exp(-2.0 * np.arange(dim) / NOISE_RANK)
    return (v * spectrum) @ v.T


def add_noise(
    clean: np.ndarray, states: np.ndarray, snr: float, seed: int, noise: str = "power", draws: int = 5000
) -> np.ndarray:
    """Add Gaussian noise i.i.d. over time at signal-to-noise ratio ``snr`` and mean-centre the result.

    Parameters
    ----------
    clean
        The lifted signal (frames, D).
    states
        The Lorenz states (frames, 3); their top covariance eigenvalue sets the noise level in ``"eigen"`` mode.
    snr
        Signal-to-noise ratio (> 0).
    seed
        Seed of ``np.random.default_rng`` (noise subspace and samples).
    noise
        ``"power"`` (total-power ratio, isotropic) or ``"eigen"`` (top-eigenvalue ratio, 7-dim decaying
        spectrum); see the module docstring.
    draws
        Candidate subspaces of the ``"eigen"`` mode.

    Returns
    -------
    ndarray of shape (frames, D), float64
    """
    if noise not in NOISE_MODES:
        raise ValueError(f"noise must be one of {NOISE_MODES}, got {noise!r}")
    if not snr > 0:
        raise ValueError(f"snr must be positive, got {snr}")
    rng = np.random.default_rng(seed)
    cov = noise_covariance(snr, states, clean, noise, rng, draws)
    root = np.linalg.cholesky(cov + 1e-12 * np.trace(cov) * np.eye(len(cov)))
    noisy = clean + rng.normal(size=clean.shape) @ root.T
    return noisy - noisy.mean(axis=0)


def measured_snr(clean: np.ndarray, x: np.ndarray, noise: str) -> float:
    """The SNR of observations ``x`` (centred, as :func:`add_noise` returns them) by definition ``noise``.

    ``"power"``: ``trace(cov(clean)) / trace(cov(x - clean))``; ``"eigen"``: ``lambda_max(cov(clean)) /
    lambda_max(cov(x - clean))`` (the lifted signal's top eigenvalue equals the states' one).
    """
    residual = np.asarray(x, np.float64) - clean
    if noise == "power":
        return float(np.trace(np.cov(clean, rowvar=False)) / np.trace(np.cov(residual, rowvar=False)))
    return top_eigenvalue(clean) / top_eigenvalue(residual)


def make_lorenz(
    snr: float,
    seed: int = 0,
    noise: str = "power",
    frames: int = 10000,
    lift_dropout: float = 0.0,
    draws: int = 5000,
    burn_in: int = 1000,
) -> LorenzData:
    """States, lifted signal and noisy observations of the Lorenz benchmark at one SNR.

    Parameters
    ----------
    snr
        Signal-to-noise ratio (the thesis uses 0.3, 1.0 and 5.0).
    seed
        Seed of the lifting MLP and of the noise.
    noise
        SNR definition, ``"power"`` (thesis, default) or ``"eigen"`` (released code).
    frames
        Time steps.
    lift_dropout
        Dropout active while lifting (0.5 reproduces the released code; see :func:`lift`).
    draws
        Candidate noise subspaces in ``"eigen"`` mode.
    burn_in
        Leading resampled steps dropped.

    Returns
    -------
    LorenzData
    """
    state = lorenz_states(frames, burn_in)
    clean = lift(state, seed, dropout=lift_dropout)
    x = add_noise(clean, state, snr, seed, noise, draws)
    got = measured_snr(clean, x, noise)
    log.info("Lorenz: %d frames, snr %g (%s, measured %.3g), seed %d", frames, snr, noise, got, seed)
    return LorenzData(x=x.astype(np.float32), clean=clean, state=state, snr=float(snr), seed=int(seed), noise=noise)
