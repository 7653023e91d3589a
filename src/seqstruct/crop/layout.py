"""Column layouts of the raw county-year crop arrays.

A raw array has one row per county-year: an id column, the year, the yield, then feature blocks. Each block is
stored *variable-major*: all weeks (or depths) of the first variable, then all of the second, and so on, so
column ``start + v * length + k`` holds variable ``v`` at week/depth ``k + 1``.

``KHAKI_SOYBEAN`` is the 433-column layout of the Khaki et al. (2020) soybean file
(methods.md §1.1 (a))::

    0 loc_ID | 1 year | 2 yield | 3-314 weekly 6 x 52 | 315-414 soil 10 x 10 | 415-428 planting 14 | 429-432 extra 4

The numbers are fields, so another layout (e.g. the nationwide FIPS-keyed file) is one more instance.

Each layout also declares the plausible range of every variable (``ranges``, checked by
``seqstruct.crop.raw.load_khaki_npz``); :data:`KHAKI_SOYBEAN_RANGES` documents the Khaki file's units and the
measured minimum and maximum of each variable in the real file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from seqstruct.data.values import Bounds


@dataclass(frozen=True)
class ColumnLayout:
    """Where each quantity lives in a raw county-year array.

    Attributes
    ----------
    name : str
        Short identifier, stored in the prepared dataset's ``layout`` attribute.
    n_columns : int
        Total number of columns; checked against the blocks below.
    id_col : int
        Column of the county id (``loc_ID`` for the Khaki data, FIPS for a FIPS-keyed file).
    year_col : int
        Column of the calendar year.
    yield_col : int
        Column of the yield (bushels per acre).
    weekly_start : int
        First column of the weekly block.
    weekly_vars : tuple of str
        Names of the weekly variables, in stored order.
    n_weeks : int
        Weeks per weekly variable.
    soil_start : int
        First column of the soil block.
    soil_vars : tuple of str
        Names of the soil variables, in stored order.
    n_depths : int
        Depths per soil variable.
    extra_start : int
        First column of the scalar extras.
    extra_vars : tuple of str
        Names of the scalar extras, in stored order (one column each).
    ranges : mapping of str to Bounds
        Plausible range of each variable (``"yield"`` and every weekly, soil and extra name); either every
        variable has one or the mapping is empty (no range check).
    extra_weeks : mapping of str to int
        Calendar week (1-based) of the extras that are values of one week (e.g. the weekly planting progress);
        early prediction can mask them with the weather (``crop.early_mask``). Other extras are absent.
    """

    name: str
    n_columns: int
    id_col: int
    year_col: int
    yield_col: int
    weekly_start: int
    weekly_vars: tuple[str, ...]
    n_weeks: int
    soil_start: int
    soil_vars: tuple[str, ...]
    n_depths: int
    extra_start: int
    extra_vars: tuple[str, ...]
    ranges: Mapping[str, Bounds] = field(default_factory=dict, hash=False)
    extra_weeks: Mapping[str, int] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        spans = sorted(
            [
                (self.id_col, self.id_col + 1, "id"),
                (self.year_col, self.year_col + 1, "year"),
                (self.yield_col, self.yield_col + 1, "yield"),
            ]
            + [
                (self.weekly_slice().start, self.weekly_slice().stop, "weekly"),
                (self.soil_slice().start, self.soil_slice().stop, "soil"),
                (self.extra_slice().start, self.extra_slice().stop, "extra"),
            ]
        )
        for (_, stop, a), (start, _, b) in zip(spans, spans[1:]):
            if start < stop:
                raise ValueError(f"layout {self.name!r}: blocks {a!r} and {b!r} overlap")
        if spans[0][0] < 0 or spans[-1][1] > self.n_columns:
            raise ValueError(
                f"layout {self.name!r}: blocks span columns {spans[0][0]}..{spans[-1][1] - 1}, "
                f"outside 0..{self.n_columns - 1}"
            )
        for label, names in (("weekly", self.weekly_vars), ("soil", self.soil_vars), ("extra", self.extra_vars)):
            if len(set(names)) != len(names):
                raise ValueError(f"layout {self.name!r}: duplicate {label} variable names")
        names = ("yield", *self.weekly_vars, *self.soil_vars, *self.extra_vars)
        if len(set(names)) != len(names):
            raise ValueError(f"layout {self.name!r}: a variable name is used in two blocks (or is 'yield')")
        bad_weeks = {
            k: w for k, w in self.extra_weeks.items() if k not in self.extra_vars or not 1 <= w <= self.n_weeks
        }
        if bad_weeks:
            raise ValueError(
                f"layout {self.name!r}: extra_weeks {bad_weeks} name no extra variable or a week outside "
                f"1..{self.n_weeks}"
            )
        if self.ranges:
            unknown = sorted(set(self.ranges) - set(names))
            missing = [n for n in names if n not in self.ranges]
            if unknown or missing:
                raise ValueError(
                    f"layout {self.name!r}: ranges must cover every variable or be empty "
                    f"(missing {missing}, unknown {unknown})"
                )

    @property
    def n_weekly(self) -> int:
        """Number of weekly columns (variables x weeks)."""
        return len(self.weekly_vars) * self.n_weeks

    @property
    def n_soil(self) -> int:
        """Number of soil columns (variables x depths)."""
        return len(self.soil_vars) * self.n_depths

    def weekly_slice(self) -> slice:
        """Columns of the weekly block; reshape to ``(rows, len(weekly_vars), n_weeks)``."""
        return slice(self.weekly_start, self.weekly_start + len(self.weekly_vars) * self.n_weeks)

    def soil_slice(self) -> slice:
        """Columns of the soil block; reshape to ``(rows, len(soil_vars), n_depths)``."""
        return slice(self.soil_start, self.soil_start + len(self.soil_vars) * self.n_depths)

    def extra_slice(self) -> slice:
        """Columns of the scalar extras, one per name in ``extra_vars``."""
        return slice(self.extra_start, self.extra_start + len(self.extra_vars))

    def variable_columns(self) -> dict[str, np.ndarray]:
        """Columns of each variable, in layout order: ``"yield"``, the weekly, soil and extra variables.

        A weekly variable maps to its ``n_weeks`` columns, a soil variable to its ``n_depths`` columns, an extra
        to its one column; the keys are the names :attr:`ranges` uses.
        """
        cols = {"yield": np.array([self.yield_col])}
        for v, name in enumerate(self.weekly_vars):
            cols[name] = self.weekly_start + v * self.n_weeks + np.arange(self.n_weeks)
        for v, name in enumerate(self.soil_vars):
            cols[name] = self.soil_start + v * self.n_depths + np.arange(self.n_depths)
        for k, name in enumerate(self.extra_vars):
            cols[name] = np.array([self.extra_start + k])
        return cols

    def extra_week_array(self) -> np.ndarray:
        """(len(extra_vars),) calendar week of each extra, 0 for the extras that are not one week's value."""
        return np.array([self.extra_weeks.get(v, 0) for v in self.extra_vars], dtype=np.int64)

    def weekly_column(self, var: str, week: int) -> int:
        """Column of weekly variable ``var`` at ``week`` (1-based)."""
        if not 1 <= week <= self.n_weeks:
            raise ValueError(f"week {week} outside 1..{self.n_weeks}")
        return self.weekly_start + self.weekly_vars.index(var) * self.n_weeks + week - 1

    def soil_column(self, var: str, depth: int) -> int:
        """Column of soil variable ``var`` at ``depth`` (1-based)."""
        if not 1 <= depth <= self.n_depths:
            raise ValueError(f"depth {depth} outside 1..{self.n_depths}")
        return self.soil_start + self.soil_vars.index(var) * self.n_depths + depth - 1


_PERCENT = Bounds(0.0, 100.0, "%")

# Plausible ranges of the Khaki soybean file: physically possible values with a wide margin, so that wrong units,
# shifted columns and corrupt numbers (1e9, -1e6) fail while real data passes. Weather units are Daymet's
# (methods.md 1.1 (a)); the soil and extra variables are unnamed in the file, their identities (in brackets) are
# inferred from their values. "measured" is the min..max over the 4000 rows of the real soybean_data.npz.
KHAKI_SOYBEAN_RANGES: dict[str, Bounds] = {
    "yield": Bounds(0.0, 150.0, "bu/acre", lo_open=True),  # measured 13..82.3
    # weekly means of daily Daymet values
    "prcp": Bounds(0.0, 300.0, "mm/day"),  # measured 0..42.3
    "srad": Bounds(0.0, 1000.0, "W/m2"),  # daylight mean shortwave radiation; measured 57.1..557
    "swe": Bounds(0.0, 5000.0, "kg/m2"),  # snow water equivalent; measured 0..192
    "tmax": Bounds(-60.0, 60.0, "degC"),  # measured -18.7..39.5
    "tmin": Bounds(-60.0, 60.0, "degC"),  # measured -30.1..24.7
    "vp": Bounds(0.0, 8000.0, "Pa"),  # water vapour pressure (saturation at 40 degC is 7.4 kPa); measured 45.7..3111
    # soil, 10 variables x 10 depths, constant over years
    "soil_0": Bounds(0.0, 2.7, "g/cm3 (bulk density, inferred)"),  # measured 1.16..1.75
    "soil_1": Bounds(0.0, 2.7, "g/cm3 (bulk density, inferred)"),  # measured 1.25..2.02
    "soil_2": Bounds(0.0, 100.0, "% (clay, inferred)"),  # measured 8.42..43.4
    "soil_3": Bounds(0.0, 100.0, "% (water content, inferred)"),  # measured 14.1..34.0
    "soil_4": Bounds(0.0, 1e5, "mm/day (hydraulic conductivity, inferred)"),  # measured 43.7..12871.7
    "soil_5": Bounds(0.0, 100.0, "% (water content, inferred)"),  # measured 5.65..25.4
    "soil_6": Bounds(0.0, 100.0, "% (organic matter, inferred)"),  # measured 0.1..17.2
    "soil_7": Bounds(0.0, 14.0, "pH (inferred)"),  # measured 4.6..8.03
    "soil_8": Bounds(0.0, 100.0, "% (sand, inferred)"),  # measured 3.0..72.5
    "soil_9": Bounds(0.0, 100.0, "% (saturated water content, inferred)"),  # measured 28.9..52.0
    # weekly planting progress of the state, % planted that week; measured 0..52 (row sums 88..100)
    **{f"planting_{i:02d}": _PERCENT for i in range(1, 15)},
    "extra_0": Bounds(0.0, 100.0, "(units unknown)"),  # measured 0.5..40
    "extra_1": Bounds(0.0, 1.0, "(productivity index, inferred)"),  # measured 0.117..0.866
    "extra_2": Bounds(0.0, 1.0, "(productivity index, inferred)"),  # measured 0.117..0.866
    "extra_3": Bounds(0.0, 500.0, "cm (depth to a restrictive layer, inferred)"),  # measured 65.6..150
}
"""Plausible range of every variable of :data:`KHAKI_SOYBEAN` (the comments give the real file's min..max)."""

KHAKI_SOYBEAN = ColumnLayout(
    name="khaki_soybean",
    n_columns=433,
    id_col=0,
    year_col=1,
    yield_col=2,
    weekly_start=3,
    weekly_vars=("prcp", "srad", "swe", "tmax", "tmin", "vp"),
    n_weeks=52,
    soil_start=315,
    soil_vars=tuple(f"soil_{i}" for i in range(10)),
    n_depths=10,
    extra_start=415,
    extra_vars=tuple(f"planting_{i:02d}" for i in range(1, 15)) + tuple(f"extra_{i}" for i in range(4)),
    ranges=KHAKI_SOYBEAN_RANGES,
    # Khaki et al. (2020) describe the planting block as 14 weeks from the start of April [inferred: week 14 =
    # April 2-8]; the real file's mean profile (0.3 1.9 7.6 17.7 18.3 18.2 11.5 ...%) peaks at weeks 17-19,
    # late April to mid-May, when Illinois and Indiana plant soybeans.
    extra_weeks={f"planting_{i:02d}": 13 + i for i in range(1, 15)},
)
"""The 433-column Khaki et al. soybean layout (``soybean_data.npz``)."""
