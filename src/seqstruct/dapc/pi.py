"""Gaussian predictive information (PI) of a latent sequence and the orthogonality penalty (thesis eq. 3.2, 3.5).

Every window of ``2T`` consecutive latent frames ``(z_{t-T+1}, ..., z_{t+T})`` is one sample of a ``2T·d``
vector; its sample covariance ``Σ_2T`` gives

    I_T = ln|Σ_T| − ½ ln|Σ_2T|,

with ``Σ_T`` the top-left ``(T·d)²`` block (stationarity). Multi-scale PI reuses the same matrix for
``I_{T/2}``, ``I_{T/4}``, ... (the top-left blocks of ``Σ_T``). The estimate is invariant to an invertible
linear map of the latents; ``orthogonality_penalty`` ‖Σ_1 − I‖²_F removes that freedom.

Shapes: latents ``z`` (B, L, d) with optional ``lengths`` (B,) of valid frames; ``Σ_2T`` (2T·d, 2T·d).
"""

from __future__ import annotations

import math

import numpy as np
import torch


def stacked_windows(z: torch.Tensor, window: int, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """All windows of ``window`` consecutive frames lying inside the valid part of each sequence.

    Parameters
    ----------
    z : torch.Tensor
        (B, L, d) latent sequences.
    window : int
        Frames per window (``2T`` for PI).
    lengths : torch.Tensor, optional
        (B,) valid frames per sequence; all ``L`` when None.

    Returns
    -------
    torch.Tensor
        (N, window·d), frame-major (the first ``d`` entries are the window's first frame).
    """
    b, length, d = z.shape
    if window > length:
        raise ValueError(f"a PI window of {window} frames is longer than the sequences ({length} frames)")
    w = z.unfold(1, window, 1)  # (B, L - window + 1, d, window)
    w = w.transpose(2, 3).reshape(b, length - window + 1, window * d)
    if lengths is None:
        return w.reshape(-1, window * d)
    starts = torch.arange(length - window + 1, device=z.device)
    keep = starts[None, :] + window <= lengths.to(z.device)[:, None]
    return w[keep]


def window_covariance(
    z: torch.Tensor, window: int, lengths: torch.Tensor | None = None, reg: float = 1e-4
) -> torch.Tensor:
    """Sample covariance (window·d, window·d) of the stacked windows, plus ``reg``·I (methods.md §4.3: 1e-4)."""
    x = stacked_windows(z, window, lengths)
    if x.shape[0] < 2:
        raise ValueError(f"{x.shape[0]} window(s) of {window} frames: too few for a covariance")
    x = x - x.mean(0, keepdim=True)
    cov = x.T @ x / (x.shape[0] - 1)
    return cov + reg * torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)


def pi_from_cov(cov_2t: torch.Tensor, d: int, T: int | None = None) -> torch.Tensor:
    """``I_T = ln|Σ_T| − ½ ln|Σ_2T|`` in nats from the covariance of ``2T`` stacked frames of ``d`` dimensions.

    ``T`` defaults to the largest window the matrix holds; a smaller ``T`` uses the top-left ``(2T·d)²`` block
    (multi-scale PI).
    """
    full = cov_2t.shape[0] // (2 * d)
    if cov_2t.shape[0] != 2 * full * d:
        raise ValueError(f"a covariance of size {cov_2t.shape[0]} is not 2T frames of {d} dimensions")
    T = full if T is None else T
    if not 1 <= T <= full:
        raise ValueError(f"T={T} is outside 1..{full} for this covariance")
    c2 = cov_2t[: 2 * T * d, : 2 * T * d]
    c1 = c2[: T * d, : T * d]
    return torch.linalg.slogdet(c1)[1] - 0.5 * torch.linalg.slogdet(c2)[1]


def predictive_information(
    z: torch.Tensor,
    T: int,
    lengths: torch.Tensor | None = None,
    alpha: float = 0.0,
    reg: float = 1e-4,
) -> torch.Tensor:
    """``I_T + α·I_{T/2}`` of latents ``z`` (B, L, d) (thesis eq. 3.5; α = 0 is plain PI). Scalar tensor."""
    cov = window_covariance(z, 2 * T, lengths, reg)
    pi = pi_from_cov(cov, z.shape[-1], T)
    if alpha and T >= 2:
        pi = pi + alpha * pi_from_cov(cov, z.shape[-1], T // 2)
    return pi


def orthogonality_penalty(z: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
    """``‖Σ_1 − I_d‖²_F`` with ``Σ_1`` the (d, d) covariance of all valid frames of ``z`` (B, L, d). Scalar."""
    cov = window_covariance(z, 1, lengths, reg=0.0)
    return ((cov - torch.eye(cov.shape[0], dtype=cov.dtype, device=cov.device)) ** 2).sum()


def ar1_pi(a: float, T: int) -> float:
    """Closed-form PI (nats) of the stationary scalar Gaussian AR(1) ``x_t = a·x_{t−1} + ε_t``, past and future
    windows of ``T`` steps: by the Markov property it equals the one-step MI, ``−½ ln(1 − a²)``."""
    if not -1 < a < 1:
        raise ValueError(f"an AR(1) coefficient must lie in (-1, 1), got {a}")
    return -0.5 * math.log1p(-(a**2))


def ar1_covariance(a: float, frames: int) -> np.ndarray:
    """(frames, frames) covariance of a stationary unit-innovation AR(1): ``a^|i−j| / (1 − a²)``."""
    idx = np.arange(frames)
    return a ** np.abs(idx[:, None] - idx[None, :]) / (1 - a**2)
