"""Fixtures for the crop tests: a tiny prepared Dataset in the schema of ``seqstruct.crop.prepare``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

#: the staged crop files (``$SEQSTRUCT_DATA_MIRROR/crop``, else ``../shared/data/crop`` beside the checkout)
CROP_MIRROR = (
    Path(os.environ.get("SEQSTRUCT_DATA_MIRROR") or Path(__file__).resolve().parents[3].parent / "shared" / "data")
    / "crop"
)

#: settings that make the deep crop models tiny and fast (tests only)
TINY_DEEP = {
    "epochs": 3,
    "lr": 1e-3,
    "batch_size": 8,
    "weekly_channels": [4, 4, 4, 4],
    "soil_channels": [4, 4, 4],
    "hidden": 8,
    "head_hidden": 4,
    "scheduler": "none",
}


def tiny_prepared(n_side: int = 3, years: range = range(1990, 2004), seed: int = 0) -> xr.Dataset:
    """A grid of ``n_side**2`` counties with a yield driven by the first weekly variable plus noise."""
    rng = np.random.default_rng(seed)
    n, y = n_side * n_side, len(years)
    weekly = rng.normal(size=(n, y, 2, 52)).astype(np.float32)
    soil = np.repeat(rng.normal(size=(n, 1, 3, 6)), y, axis=1).astype(np.float32)
    extra = rng.normal(size=(n, y, 2)).astype(np.float32)
    yld = (40 + 5 * weekly[:, :, 0, 20:30].mean(-1) + rng.normal(0, 0.5, (n, y))).astype(np.float32)
    observed = np.ones((n, y), bool)
    observed[0, 3] = observed[4, -1] = False
    yld[~observed] = np.nan
    edges = [
        (i, j)
        for i in range(n)
        for j in range(n)
        if i != j and abs(i // n_side - j // n_side) + abs(i % n_side - j % n_side) == 1
    ]
    return xr.Dataset(
        {
            "yield": (("county", "year"), yld),
            "weekly": (("county", "year", "weekly_var", "week"), weekly),
            "soil": (("county", "year", "soil_var", "depth"), soil),
            "extra": (("county", "year", "extra_var"), extra),
            "observed": (("county", "year"), observed),
            "edge_index": (("pair", "edge"), np.array(edges, dtype=np.int64).T),
        },
        coords={
            "county": np.arange(17001, 17001 + 2 * n, 2),
            "year": np.array(years),
            "week": np.arange(1, 53),
            "weekly_var": ["a", "b"],
            "soil_var": ["s0", "s1", "s2"],
            "depth": np.arange(1, 7),
            "extra_var": ["e0", "e1"],
            "extra_week": ("extra_var", np.array([0, 30], dtype=np.int64)),  # e1: one week's value (like planting)
        },
        attrs={"crop": "soybean"},
    )


@pytest.fixture
def tiny_nc(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.nc"
    tiny_prepared().to_netcdf(path, engine="h5netcdf")
    return path
