from pathlib import Path

import numpy as np
import pytest

from seqstruct.dapc.figures import gain_figure, latent_figure, lorenz_figure


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_lorenz_and_latent_panels_are_written(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    series = [{"x": rng.normal(size=(80, 30)), "clean": rng.normal(size=(80, 30)), "target": rng.normal(size=(80, 3))}]
    lorenz_figure(series, [1.0], tmp_path / "upper.png", frames=50)
    target = rng.normal(size=(60, 3))
    latent_figure({"DAPC": {"latents": target @ rng.normal(size=(3, 3)), "target": target}}, 1.0, tmp_path / "lo.png")
    assert _is_png(tmp_path / "upper.png") and _is_png(tmp_path / "lo.png")


def test_gain_figure_needs_the_baseline_and_draws_every_panel(tmp_path: Path) -> None:
    runs = [
        {"dataset": s, "lag": lag, "method": m, "seed": seed, "test": {"r2": 0.1 * i + 0.01 * seed}}
        for s in ("temp", "hc")
        for lag in (5, 10)
        for i, m in enumerate(("pca", "DAPC"))
        for seed in (0, 1)
    ]
    gain_figure(runs, tmp_path / "f.png", "pca", labels={"temp": "Temp stand-in"})
    gain_figure(runs, tmp_path / "d.png", "pca", panel="lag", group="dataset", title="by lag")  # Figure 3.6's way
    assert _is_png(tmp_path / "f.png") and _is_png(tmp_path / "d.png")
    with pytest.raises(KeyError):
        gain_figure(runs, tmp_path / "g.png", "PCA")
