import numpy as np
import pytest
import torch

from seqstruct.dapc.lorenz import (
    lift,
    lorenz_states,
    make_lorenz,
    measured_snr,
    median_subspace,
    top_eigenvalue,
)

FRAMES, DRAWS = 600, 200


@pytest.fixture(scope="module")
def states() -> np.ndarray:
    return lorenz_states(FRAMES)


def test_states_are_z_scored_resampled_and_deterministic() -> None:
    full = lorenz_states()  # the thesis size: 55,000 integration points resampled to 11,000, 1,000 dropped
    assert full.shape == (10000, 3)
    np.testing.assert_allclose(full.mean(axis=0), 0.0, atol=0.1)  # z-scored over the burn-in too
    np.testing.assert_allclose(full.std(axis=0), 1.0, atol=0.05)
    assert np.array_equal(full, lorenz_states())
    assert np.abs(np.diff(full, axis=0)).max() < 1.0  # 0.025 time units per frame: a smooth trajectory


def test_lift_shape_scale_and_seed(states: np.ndarray) -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    lifted = lift(states, seed=3)
    assert torch.equal(torch.get_rng_state(), before)  # the global torch RNG is untouched
    assert lifted.shape == (FRAMES, 30) and lifted.dtype == np.float64
    assert top_eigenvalue(lifted) == pytest.approx(top_eigenvalue(states), rel=1e-10)
    assert np.array_equal(lifted, lift(states, seed=3))
    assert not np.allclose(lifted, lift(states, seed=4))
    quirk = lift(states, seed=3, dropout=0.5)  # dropout active while lifting, as in the released code
    assert not np.allclose(quirk, lifted)
    assert top_eigenvalue(quirk) == pytest.approx(top_eigenvalue(states), rel=1e-10)


@pytest.mark.parametrize("noise", ["power", "eigen"])
@pytest.mark.parametrize("snr", [0.3, 5.0])
def test_measured_snr_matches_its_definition(noise: str, snr: float) -> None:
    data = make_lorenz(snr, seed=1, noise=noise, frames=FRAMES, draws=DRAWS)
    assert data.x.shape == data.clean.shape == (FRAMES, 30) and data.state.shape == (FRAMES, 3)
    assert data.x.dtype == np.float32
    np.testing.assert_allclose(data.x.mean(axis=0), 0.0, atol=1e-5)  # mean-centred
    assert measured_snr(data.clean, data.x, noise) == pytest.approx(snr, rel=0.15)


def test_the_two_modes_differ_and_seeds_are_reproducible() -> None:
    a = make_lorenz(1.0, seed=2, noise="power", frames=FRAMES, draws=DRAWS)
    b = make_lorenz(1.0, seed=2, noise="power", frames=FRAMES, draws=DRAWS)
    c = make_lorenz(1.0, seed=2, noise="eigen", frames=FRAMES, draws=DRAWS)
    d = make_lorenz(1.0, seed=5, noise="power", frames=FRAMES, draws=DRAWS)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.clean, c.clean)
    assert not np.allclose(a.x, c.x) and not np.allclose(a.x, d.x)
    # "power" noise is isotropic; "eigen" noise is concentrated in 7 directions
    spectrum = np.linalg.eigvalsh(np.cov(c.x.astype(np.float64) - c.clean, rowvar=False))[::-1]
    assert spectrum[:7].sum() / spectrum.sum() > 0.6


def test_median_subspace_is_orthonormal() -> None:
    basis = median_subspace(np.random.default_rng(0), 30, 7, draws=DRAWS)
    assert basis.shape == (30, 7)
    np.testing.assert_allclose(basis.T @ basis, np.eye(7), atol=1e-10)


def test_bad_arguments_are_refused(states: np.ndarray) -> None:
    with pytest.raises(ValueError, match="noise must be"):
        make_lorenz(1.0, noise="white", frames=FRAMES)
    with pytest.raises(ValueError, match="snr must be positive"):
        make_lorenz(0.0, frames=FRAMES)
