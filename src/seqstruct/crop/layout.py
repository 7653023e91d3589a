"""Column layouts of the raw county-year crop arrays.

A raw array has one row per county-year: an id column, the year, the yield, then feature blocks. Each block is
stored *variable-major*: all weeks (or depths) of the first variable, then all of the second, and so on, so
column ``start + v * length + k`` holds variable ``v`` at week/depth ``k + 1``.

``KHAKI_SOYBEAN`` is the 433-column layout of the Khaki et al. (2020) soybean file
(methods.md §1.1 (a))::

    0 loc_ID | 1 year | 2 yield | 3-314 weekly 6 x 52 | 315-414 soil 10 x 10 | 415-428 planting 14 | 429-432 extra 4

The numbers are fields, so another layout (e.g. the nationwide FIPS-keyed file) is one more instance.
"""

from __future__ import annotations

from dataclasses import dataclass


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
)
"""The 433-column Khaki et al. soybean layout (``soybean_data.npz``)."""
