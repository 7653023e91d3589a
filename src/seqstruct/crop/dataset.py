"""From the prepared county x year NetCDF to standardised tensors for one train/validation/test split.

The prepared Dataset (``seqstruct.crop.prepare``) holds raw features per county and year in three variable
groups (``weekly`` (county, year, weekly_var, week), ``soil`` (county, year, soil_var, depth), ``extra``
(county, year, extra_var)), the yield (NaN where not reported) and the county graph. Models read the group
sizes from here, so the same code runs on any column layout.

Protocol (thesis §2.1, methods.md §1.2 and §1.4):

* test year ``T``; validation year ``T - 1``; training years ``< T - 1``. Years after ``T`` are dropped.
* The previous-year mean yield (mean over the counties that reported in year ``t - 1``) is appended to the extra
  features. For the first year there is no previous year: the feature is set to the training mean (0 after
  standardisation) instead of the reference code's same-year mean, which leaks (docs/deviations.md).
* Every feature is standardised with the mean/std over *observed* county-years of the training years only
  (std < 1e-6 -> 1). Yields are standardised with the training-years mean/std; metrics are reported in these
  units, so the RMSE is divided by the training-years yield std.
* Labels are never imputed: missing county-years keep a NaN label and are masked in losses and metrics.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from seqstruct.crop.raw import CropDataError

GROUPS = ("weekly", "soil", "extra")
REQUIRED_VARS = ("yield", "weekly", "soil", "extra", "observed", "edge_index", "extra_week")
PREV_YEAR = "prev_year_yield"  # name of the appended previous-year mean yield extra
#: what early prediction can mask: the weather (weekly block) and the weekly extras (planting progress)
MASKABLE = ("weather", "planting")


def open_prepared(path: str | Path) -> xr.Dataset:
    """Open a prepared crop NetCDF and check it has the variables the models need."""
    path = Path(path)
    if not path.exists():
        raise CropDataError(f"{path}: prepared crop dataset not found; run the prepare_crop rule first")
    ds = xr.load_dataset(path, engine="h5netcdf")
    missing = [v for v in REQUIRED_VARS if v not in ds]
    if missing:
        raise CropDataError(
            f"{path}: missing variables {missing}; it was prepared by an older version: rebuild it with "
            f"`snakemake --forcerun prepare_crop {path}`"
        )
    return ds


@dataclass(frozen=True)
class Split:
    """A test year; the validation year is the year before, training years all years before that."""

    test_year: int

    @property
    def val_year(self) -> int:
        return self.test_year - 1


@dataclass
class CropTensors:
    """Standardised tensors of one split (counties N, years Y, all years <= test year).

    Attributes
    ----------
    weekly : torch.Tensor
        (N, Y, C_w, W) weekly variables.
    soil : torch.Tensor
        (N, Y, C_s, D) soil variables by depth.
    extra : torch.Tensor
        (N, Y, E) scalar extras, the last one the previous-year mean yield.
    y : torch.Tensor
        (N, Y) standardised yield, NaN where not reported.
    years : numpy.ndarray
        (Y,) calendar years.
    edge_index : torch.Tensor
        (2, n_edges) symmetric county graph (positions), no self loops.
    fips : numpy.ndarray
        (N,) county ids.
    y_mean, y_std : float
        Training-years yield statistics (bu/acre).
    split : Split
        The split.
    weekly_fill : torch.Tensor
        (N, C_w, W) each county's mean standardised weekly features over the training years: the value that
        replaces masked weeks in early prediction (``masked_after_week``).
    extra_fill : torch.Tensor
        (N, E) the same for the extras.
    extra_vars : tuple of str
        (E,) names of the extras, the last one ``PREV_YEAR``.
    extra_week : numpy.ndarray
        (E,) calendar week of each extra that is one week's value (planting progress), 0 for the others.
    """

    weekly: torch.Tensor
    soil: torch.Tensor
    extra: torch.Tensor
    y: torch.Tensor
    years: np.ndarray
    edge_index: torch.Tensor
    fips: np.ndarray
    y_mean: float
    y_std: float
    split: Split
    weekly_fill: torch.Tensor
    extra_fill: torch.Tensor
    extra_vars: tuple[str, ...]
    extra_week: np.ndarray

    @property
    def n_counties(self) -> int:
        return int(self.weekly.shape[0])

    def year_index(self, year: int) -> int:
        """Position of ``year`` on the year axis."""
        hits = np.flatnonzero(self.years == year)
        if hits.size == 0:
            raise KeyError(f"year {year} not in data ({self.years.min()}-{self.years.max()})")
        return int(hits[0])

    def train_years(self, history: int) -> list[int]:
        """Training target years: before the validation year, with ``history`` earlier years available."""
        return [int(t) for t in self.years if self.years[0] + history <= t < self.split.val_year]

    def window(self, year: int, length: int) -> slice:
        """Year-axis slice of the ``length`` years ending at ``year``."""
        end = self.year_index(year) + 1
        if end - length < 0:
            raise ValueError(f"a {length}-year window ending {year} starts before {self.years[0]}")
        return slice(end - length, end)

    def to(self, device: torch.device) -> CropTensors:
        """Move all tensors to ``device``."""
        return replace(
            self,
            weekly=self.weekly.to(device),
            soil=self.soil.to(device),
            extra=self.extra.to(device),
            y=self.y.to(device),
            edge_index=self.edge_index.to(device),
            weekly_fill=self.weekly_fill.to(device),
            extra_fill=self.extra_fill.to(device),
        )

    def flat_features(self, year: int) -> np.ndarray:
        """(N, F) single-year feature matrix (weekly, soil and extras flattened) for the shallow baselines."""
        t = self.year_index(year)
        parts = [g[:, t].reshape(self.n_counties, -1) for g in (self.weekly, self.soil, self.extra)]
        return torch.cat(parts, dim=1).cpu().numpy()


@contextmanager
def masked_after_week(
    data: CropTensors, year: int, week: int, mask: tuple[str, ...] = ("weather",)
) -> Iterator[CropTensors]:
    """Early prediction (thesis §2.1.4): inside the block, every county's features of ``year`` after ``week``
    (1-based; weeks ``week + 1 ..`` are replaced, weeks ``1 .. week`` kept) hold the county's training-years
    means (``data.weekly_fill``, ``data.extra_fill``); restored on exit.

    ``mask`` names what is masked (``MASKABLE``): "weather" is the weekly block (the thesis: "all weather and
    land surface features"), "planting" the extras of one calendar week (``data.extra_week``; the weekly
    planting progress). Soil and the other extras are not weekly and stay. Only the year itself is masked:
    earlier years of a 5-year window are complete by then.
    """
    n_weeks = data.weekly.shape[-1]
    if not 0 <= week <= n_weeks:
        raise ValueError(f"mask week {week} outside 0..{n_weeks}")
    unknown = sorted(set(mask) - set(MASKABLE))
    if unknown:
        raise ValueError(f"unknown early-prediction mask {unknown}; choose from {list(MASKABLE)}")
    t = data.year_index(year)
    weekly_kept = data.weekly[:, t, :, week:].clone()
    late = torch.as_tensor(np.flatnonzero(data.extra_week > week), device=data.extra.device)
    extra_kept = data.extra[:, t, late].clone()
    if "weather" in mask:
        data.weekly[:, t, :, week:] = data.weekly_fill[:, :, week:]
    if "planting" in mask:
        data.extra[:, t, late] = data.extra_fill[:, late]
    try:
        yield data
    finally:
        data.weekly[:, t, :, week:] = weekly_kept
        data.extra[:, t, late] = extra_kept


def make_tensors(ds: xr.Dataset, split: Split) -> CropTensors:
    """Standardise ``ds`` for ``split`` (see module docstring). Raises CropDataError if years are missing."""
    years = ds["year"].values.astype(int)
    for need in (split.val_year, split.test_year):
        if need not in years:
            raise CropDataError(
                f"year {need} needed by test year {split.test_year} is not in the data "
                f"({years.min()}-{years.max()}); choose another crop.test_years entry"
            )
    ds = ds.sel(year=ds["year"] <= split.test_year)
    years = ds["year"].values.astype(int)
    observed = ds["observed"].values.astype(bool)
    train = years < split.val_year
    if not observed[:, train].any():
        raise CropDataError(
            f"no observed training rows before the validation year {split.val_year} of test year "
            f"{split.test_year}; choose a later crop.test_years entry"
        )

    y = ds["yield"].values.astype(np.float64)
    prev = _previous_year_mean(y, observed)

    groups = {g: ds[g].values.astype(np.float64) for g in GROUPS}
    groups["extra"] = np.concatenate([groups["extra"], prev[None, :, None].repeat(len(ds["county"]), 0)], axis=2)
    rows = observed & train[None, :]
    for g, arr in groups.items():
        sample = arr[rows]  # (n_rows, ...) observed training county-years
        mean, std = np.nanmean(sample, axis=0), np.nanstd(sample, axis=0)
        std = np.where(~np.isfinite(std) | (std < 1e-6), 1.0, std)
        groups[g] = np.nan_to_num((arr - np.nan_to_num(mean)) / std)
    # the previous-year feature of the first year has no value: put it at the training mean
    groups["extra"][:, 0, -1] = 0.0

    y_train = y[:, train][~np.isnan(y[:, train])]
    y_mean, y_std = float(y_train.mean()), float(y_train.std())
    if not y_std > 0:
        raise CropDataError("training yields have zero variance; cannot standardise")
    f32 = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    extra_week = np.append(ds["extra_week"].values.astype(np.int64), 0)  # the previous-year mean is no week's
    return CropTensors(
        weekly=f32(groups["weekly"]),
        soil=f32(groups["soil"]),
        extra=f32(groups["extra"]),
        y=f32((y - y_mean) / y_std),
        years=years,
        edge_index=torch.as_tensor(ds["edge_index"].values, dtype=torch.long),
        fips=ds["county"].values.astype(np.int64),
        y_mean=y_mean,
        y_std=y_std,
        split=split,
        weekly_fill=f32(groups["weekly"][:, train].mean(axis=1)),  # (N, C_w, W) per-county training-years mean
        extra_fill=f32(groups["extra"][:, train].mean(axis=1)),  # (N, E)
        extra_vars=(*(str(v) for v in ds["extra_var"].values), PREV_YEAR),
        extra_week=extra_week,
    )


def _previous_year_mean(y: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(Y,) mean yield over the counties reporting in the previous year; NaN for the first year."""
    means = np.array(
        [
            np.nanmean(np.where(observed[:, j], y[:, j], np.nan)) if observed[:, j].any() else np.nan
            for j in range(y.shape[1])
        ]
    )
    prev = np.full_like(means, np.nan)
    prev[1:] = means[:-1]
    if np.isnan(prev[1:]).any():
        raise CropDataError("a year without any reported yield breaks the previous-year mean feature")
    return prev
