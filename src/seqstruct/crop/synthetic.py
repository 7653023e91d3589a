"""Deterministic synthetic county crop data, written in the raw formats (and file names) of the real data.

The counties form an ``n_rows x n_cols`` grid of square cells (0.5 degree) in one or two states (Illinois 17,
Indiana 18: left and right halves of the grid). Files written, as in ``/work/shared/data/crop``:

* ``soybean_data.npz`` - array ``data`` (rows, 433) in the Khaki layout (``seqstruct.crop.layout.KHAKI_SOYBEAN``),
  ``missing_frac`` of the county-years absent, plus the rows of one loc_ID (1114) that is in no loc table;
* ``Soybeans_Loc_ID.csv`` - ``State,County,ID_loc`` with lower-case names spelled loc-table style
  ("la salle", "st clair", "mchenry") while the Census files spell them "LaSalle", "St. Clair", "McHenry";
* ``us_county_abbrev.txt`` - state name and postal code;
* ``county_adjacency.txt`` - Census format, ISO-8859-1, queen (8-cell) adjacency, every county listing itself,
  plus one isolated out-of-grid county with a non-ASCII name ("Doña Ana County, NM");
* ``gz_2010_us_050_00_20m.{shp,shx,dbf,prj}`` - county squares, fields GEO_ID, STATE, COUNTY, NAME, LSAD,
  CENSUSAREA, EPSG:4269.

Planted signal. Per year ``t`` a smooth latent field ``z_t`` on the grid (Gaussian noise smoothed with a
Gaussian kernel of 1.5 cells, scaled to unit variance) drives the yield::

    yield[c, t] = 40 + 0.4 (t - t0) + 4 u_c + 6 z_t[c] + s_t + N(0, 1.5^2)

with a persistent county effect ``u_c ~ N(0, 1)`` (also visible, noisily, in the county's soil and extras), a
trend and a year shock ``s_t ~ N(0, 2^2)``. A county's weather shows the field only through the growing-season
anomaly ``a[c, t] = z_t[c] + 1.5 e[c, t]`` (``e ~ N(0, 1)``), i.e. with noise variance 2.25 times the signal's,
so the mean over its (up to 8) neighbours estimates ``z_t[c]`` much better than its own weather does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
from shapely.geometry import box

from seqstruct.common.io import atomic_path
from seqstruct.crop.layout import KHAKI_SOYBEAN

STATES = ((17, "illinois", "IL"), (18, "indiana", "IN"))
ABBREV = (
    ("ALABAMA", "AL"),
    ("ILLINOIS", "IL"),
    ("INDIANA", "IN"),
    ("IOWA", "IA"),
    ("NEW MEXICO", "NM"),
    ("NEW YORK", "NY"),
    ("NORTHERN MARIANA IS", "MP"),
)
# (Census spelling, loc-table spelling): exercise the name normalisation of seqstruct.crop.counties.
SPECIAL_NAMES = (
    ("McHenry", "mchenry"),
    ("LaSalle", "la salle"),
    ("DeKalb", "de kalb"),
    ("St. Clair", "st clair"),
    ("Ste. Genevieve", "ste genevieve"),
    ("O'Brien", "o brien"),
)
PLAIN_NAMES = (
    "Adams",
    "Bond",
    "Boone",
    "Brown",
    "Bureau",
    "Carroll",
    "Cass",
    "Clark",
    "Clay",
    "Clinton",
    "Coles",
    "Cook",
    "Crawford",
    "Douglas",
    "Edgar",
    "Edwards",
    "Fayette",
    "Ford",
    "Franklin",
    "Fulton",
    "Greene",
    "Grundy",
    "Hamilton",
    "Hancock",
    "Hardin",
    "Henry",
    "Jackson",
    "Jasper",
    "Jefferson",
    "Jersey",
    "Kane",
    "Kendall",
    "Knox",
    "Lake",
    "Lee",
    "Logan",
    "Macon",
    "Marion",
    "Mason",
    "Menard",
    "Mercer",
    "Monroe",
    "Morgan",
    "Ogle",
    "Perry",
    "Pike",
    "Pope",
    "Putnam",
    "Scott",
    "Shelby",
    "Stark",
    "Tazewell",
    "Union",
    "Warren",
    "Wayne",
    "White",
)
ORPHAN_LOC_ID = 1114
EXTRA_COUNTY = (35013, "Do\u00f1a Ana County, NM")
CELL_DEG = 0.5
WEST, NORTH = -91.0, 42.5
SHP_BASE = "gz_2010_us_050_00_20m"
#: the files ``write_synthetic_crop`` writes (the real data's names; the workflow's synthesize_crop outputs)
RAW_FILES = (
    "soybean_data.npz",
    "Soybeans_Loc_ID.csv",
    "us_county_abbrev.txt",
    "county_adjacency.txt",
    *(f"{SHP_BASE}.{ext}" for ext in ("shp", "shx", "dbf", "prj")),
)
SOIL_BASE = np.array([1.43, 1.58, 26.0, 29.4, 926.0, 16.2, 1.80, 6.31, 14.6, 41.7])


def write_synthetic_crop(
    out_dir: str | os.PathLike[str],
    n_rows: int = 8,
    n_cols: int = 8,
    years: tuple[int, int] = (1990, 2018),
    seed: int = 0,
    missing_frac: float = 0.05,
) -> dict[str, Path]:
    """Write a synthetic crop dataset in the real raw formats (see the module docstring).

    Parameters
    ----------
    out_dir : path-like
        Folder to write into (created).
    n_rows, n_cols : int
        Grid size; counties = n_rows * n_cols. With ``n_cols >= 2`` the west half is Illinois, the east half
        Indiana.
    years : (int, int)
        First and last year, inclusive.
    seed : int
        Seed of the numpy Generator; same arguments -> identical arrays.
    missing_frac : float
        Fraction of county-years left out of the ``.npz`` (each county and each year keeps at least one row).

    Returns
    -------
    dict
        Paths by role: ``npz``, ``loc_csv``, ``abbrev_txt``, ``adjacency_txt`` (the argument names of
        ``seqstruct.crop.prepare.build_crop_dataset``), ``shp``, ``shx``, ``dbf``, ``prj``.
    """
    if n_rows < 1 or n_cols < 1:
        raise ValueError(f"grid must be at least 1 x 1, got {n_rows} x {n_cols}")
    if years[1] < years[0]:
        raise ValueError(f"years must be (first, last) with first <= last, got {years}")
    if not 0.0 <= missing_frac < 1.0:
        raise ValueError(f"missing_frac must be in [0, 1), got {missing_frac}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    counties = _counties(n_rows, n_cols)
    data = _data(rng, counties, n_rows, n_cols, years, missing_frac)

    paths = {
        "npz": out / "soybean_data.npz",
        "loc_csv": out / "Soybeans_Loc_ID.csv",
        "abbrev_txt": out / "us_county_abbrev.txt",
        "adjacency_txt": out / "county_adjacency.txt",
    }
    with atomic_path(paths["npz"]) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, data=data)
    with atomic_path(paths["loc_csv"]) as tmp:
        rows = sorted(counties, key=lambda c: c["loc_id"])
        tmp.write_text(
            "State,County,ID_loc\n" + "".join(f"{c['state_name']},{c['loc_name']},{c['loc_id']}\n" for c in rows)
        )
    with atomic_path(paths["abbrev_txt"]) as tmp:
        tmp.write_text("".join(f"{name}{' ' * max(1, 12 - len(name))}{code}\n" for name, code in ABBREV))
    with atomic_path(paths["adjacency_txt"]) as tmp:
        tmp.write_bytes(_adjacency_text(counties, n_rows, n_cols).encode("ISO-8859-1"))
    paths.update(_write_shapefile(out, counties))
    return paths


def _counties(n_rows: int, n_cols: int) -> list[dict]:
    """One record per grid cell (row-major): FIPS, names, state, loc_ID."""
    two_states = n_cols >= 2
    per_state: dict[int, int] = {}
    out = []
    for r in range(n_rows):
        for c in range(n_cols):
            st = STATES[1] if two_states and c >= n_cols // 2 else STATES[0]
            k = per_state.get(st[0], 0)
            per_state[st[0]] = k + 1
            if k < len(SPECIAL_NAMES):
                census, loc = SPECIAL_NAMES[k]
            elif k - len(SPECIAL_NAMES) < len(PLAIN_NAMES):
                census = PLAIN_NAMES[k - len(SPECIAL_NAMES)]
                loc = census.lower()
            else:
                census = f"Grid {k}"
                loc = census.lower()
            out.append(
                {
                    "row": r,
                    "col": c,
                    "state_fips": st[0],
                    "state_name": st[1],
                    "state": st[2],
                    "county_fips": 2 * k + 1,
                    "fips": st[0] * 1000 + 2 * k + 1,
                    "name": census,
                    "loc_name": loc,
                }
            )
    # loc_IDs as in the real tables: ordered by state name, then county name.
    for loc_id, rec in enumerate(sorted(out, key=lambda d: (d["state_name"], d["loc_name"]))):
        rec["loc_id"] = loc_id
    return out


def _smooth(field: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian smoothing of a 2-D grid with reflected edges."""
    half = max(1, int(np.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma) ** 2)
    k /= k.sum()
    for axis in (0, 1):
        padded = np.pad(field, [(half, half) if a == axis else (0, 0) for a in (0, 1)], mode="reflect")
        field = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), axis, padded)
    return field


def _data(
    rng: np.random.Generator,
    counties: list[dict],
    n_rows: int,
    n_cols: int,
    years: tuple[int, int],
    missing_frac: float,
) -> np.ndarray:
    layout = KHAKI_SOYBEAN
    year = np.arange(years[0], years[1] + 1)
    n, t, w = len(counties), len(year), layout.n_weeks
    rows = np.array([c["row"] for c in counties])
    cols = np.array([c["col"] for c in counties])

    z = np.empty((t, n))
    for j in range(t):
        f = _smooth(rng.standard_normal((n_rows, n_cols)), 1.5)
        f = (f - f.mean()) / (f.std() + 1e-12) if f.size > 1 else np.zeros_like(f)
        z[j] = f[rows, cols]
    u = rng.standard_normal(n)  # persistent county effect
    shock = rng.normal(0.0, 2.0, t)
    yld = 40 + 0.4 * (year - year[0])[None, :] + 4 * u[:, None] + 6 * z.T + shock[None, :] + rng.normal(0, 1.5, (n, t))
    yld = np.clip(yld, 5.0, None)

    # Weather: climatology + growing-season anomaly a = z + 1.5 e (noisy view of the field) + weekly noise.
    anomaly = z.T + 1.5 * rng.standard_normal((n, t))  # (n, t)
    wk = np.arange(1, w + 1)
    season = -np.cos(2 * np.pi * (wk - 4) / 52)  # -1 in early January, +1 in late July
    grow = np.exp(-0.5 * ((wk - 28) / 8.0) ** 2)
    a = anomaly[:, :, None] * grow[None, None, :]  # (n, t, w)
    lat_shift = -0.6 * rows[:, None, None]  # cooler to the north
    shape = (n, t, w)
    prcp = (2.6 + 0.9 * season) * np.exp(0.3 * a) * rng.gamma(2.0, 0.5, shape)
    srad = np.clip(300 + 130 * season + 12 * a + rng.normal(0, 25, shape), 40, None)
    tmax = 16 + 15 * season - 1.5 * a + lat_shift + rng.normal(0, 2.5, shape)
    tmin = tmax - 10 - rng.gamma(2.0, 1.0, shape)
    swe = np.clip(25 * (-season - 0.3) - 2 * (tmax - 5) + rng.normal(0, 3, shape), 0, None)
    vp = np.clip(1000 + 800 * season + 60 * a + rng.normal(0, 80, shape), 100, None)
    weekly = np.stack([prcp, srad, swe, tmax, tmin, vp], axis=2)  # order of layout.weekly_vars

    # Soil: constant over years; depth profile per variable; county effect and noise.
    depth = np.arange(1, layout.n_depths + 1)
    slope = np.zeros(len(SOIL_BASE))
    slope[0] = 0.04  # bulk-density-like variable rises with depth
    base = SOIL_BASE[None, :, None]
    n_soil = len(SOIL_BASE)
    soil_c = (
        base * (1 + 0.05 * u[:, None, None] + 0.08 * rng.standard_normal((n, n_soil, 1)))
        + slope[None, :, None] * base * (depth[None, None, :] - 1)
        + 0.01 * base * rng.standard_normal((n, n_soil, layout.n_depths))
    )
    soil = np.broadcast_to(soil_c[:, None], (n, t, *soil_c.shape[1:]))

    # Planting progress: 14 weekly increments (integers, sum ~88-100) per state and year.
    state_idx = np.array([0 if c["state_fips"] == STATES[0][0] else 1 for c in counties])
    planting = np.empty((n, t, 14))
    for s in range(2):
        for j in range(t):
            centre = 6 + rng.normal(0, 1.5)
            p = np.exp(-0.5 * ((np.arange(14) - centre) / 2.0) ** 2)
            inc = np.round(p / p.sum() * rng.uniform(88, 100))
            planting[state_idx == s, j] = inc
    extra4_c = np.stack(
        [
            5.8 + 0.5 * u + 0.3 * rng.standard_normal(n),
            rng.normal(0.63, 0.05, n),
            rng.normal(0.64, 0.05, n),
            rng.normal(137, 10, n),
        ],
        axis=1,
    )
    extra = np.concatenate([planting, np.broadcast_to(extra4_c[:, None], (n, t, 4))], axis=2)

    table = np.zeros((n, t, layout.n_columns))
    table[:, :, layout.id_col] = np.array([c["loc_id"] for c in counties])[:, None]
    table[:, :, layout.year_col] = year[None, :]
    table[:, :, layout.yield_col] = np.round(yld, 1)
    table[:, :, layout.weekly_slice()] = weekly.reshape(n, t, -1)
    table[:, :, layout.soil_slice()] = soil.reshape(n, t, -1)
    table[:, :, layout.extra_slice()] = extra

    keep = np.ones((n, t), dtype=bool)
    n_drop = int(round(missing_frac * n * t))
    for flat in rng.permutation(n * t):
        if n_drop == 0:
            break
        i, j = divmod(int(flat), t)
        if keep[i].sum() > 1 and keep[:, j].sum() > 1:
            keep[i, j] = False
            n_drop -= 1

    # One loc_ID (like 1114 in the real file) with rows for every year but no entry in the loc table.
    orphan_id = ORPHAN_LOC_ID if n <= ORPHAN_LOC_ID else n + 1000
    donor = int(rng.integers(n))
    orphan = table[donor].copy()
    orphan[:, layout.id_col] = orphan_id
    orphan[:, layout.yield_col] = np.round(np.clip(orphan[:, layout.yield_col] + rng.normal(0, 3, t), 5, None), 1)

    order = sorted(range(n), key=lambda i: counties[i]["loc_id"])
    rows_out = [table[i, j] for i in order for j in range(t) if keep[i, j]]
    return np.vstack([np.asarray(rows_out), orphan])


def _adjacency_text(counties: list[dict], n_rows: int, n_cols: int) -> str:
    """Census adjacency text: queen neighbours on the grid, self included, blocks in FIPS order."""
    at = {(c["row"], c["col"]): c for c in counties}
    census = {c["fips"]: f"{c['name']} County, {c['state']}" for c in counties}
    census[EXTRA_COUNTY[0]] = EXTRA_COUNTY[1]
    blocks: dict[int, list[int]] = {EXTRA_COUNTY[0]: [EXTRA_COUNTY[0]]}
    for c in counties:
        neigh = [
            at[(c["row"] + dr, c["col"] + dc)]["fips"]
            for dr in (-1, 0, 1)
            for dc in (-1, 0, 1)
            if (c["row"] + dr, c["col"] + dc) in at
        ]
        blocks[c["fips"]] = sorted(neigh, key=lambda f: census[f])
    lines = []
    for fips in sorted(blocks):
        for k, other in enumerate(blocks[fips]):
            head = f'"{census[fips]}"\t{fips:05d}' if k == 0 else "\t"
            lines.append(f'{head}\t"{census[other]}"\t{other:05d}')
    return "\n".join(lines) + "\n"


def _write_shapefile(out: Path, counties: list[dict]) -> dict[str, Path]:
    """Square county polygons in EPSG:4269, written via a temporary folder and moved into place atomically."""
    geoms = [
        box(
            WEST + c["col"] * CELL_DEG,
            NORTH - (c["row"] + 1) * CELL_DEG,
            WEST + (c["col"] + 1) * CELL_DEG,
            NORTH - c["row"] * CELL_DEG,
        )
        for c in counties
    ]
    gdf = gpd.GeoDataFrame(
        {
            "GEO_ID": [f"0500000US{c['fips']:05d}" for c in counties],
            "STATE": [f"{c['state_fips']:02d}" for c in counties],
            "COUNTY": [f"{c['county_fips']:03d}" for c in counties],
            "NAME": [c["name"] for c in counties],
            "LSAD": ["County"] * len(counties),
        },
        geometry=geoms,
        crs="EPSG:4269",
    )
    gdf["CENSUSAREA"] = gdf.geometry.to_crs(5070).area.to_numpy() / 2_589_988.110336  # square miles
    gdf = gdf[["GEO_ID", "STATE", "COUNTY", "NAME", "LSAD", "CENSUSAREA", "geometry"]]
    written: dict[str, Path] = {}
    with tempfile.TemporaryDirectory(dir=out, prefix=".shp.") as tmpdir:
        src = Path(tmpdir) / f"{SHP_BASE}.shp"
        gdf.to_file(src, engine="pyogrio")
        for ext in ("shp", "shx", "dbf", "prj"):
            dest = out / f"{SHP_BASE}.{ext}"
            with atomic_path(dest) as tmp:
                shutil.copyfile(src.with_suffix(f".{ext}"), tmp)
            written[ext] = dest
    return written


def main(argv: list[str] | None = None) -> int:
    """CLI: ``python -m seqstruct.crop.synthetic --out DIR [--seed N]``."""
    p = argparse.ArgumentParser(
        prog="python -m seqstruct.crop.synthetic",
        description="Write synthetic county crop data in the real raw formats.",
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--rows", type=int, default=8, help="grid rows (default 8)")
    p.add_argument("--cols", type=int, default=8, help="grid columns (default 8)")
    p.add_argument("--first-year", type=int, default=1990)
    p.add_argument("--last-year", type=int, default=2018)
    p.add_argument("--missing-frac", type=float, default=0.05)
    args = p.parse_args(argv)
    paths = write_synthetic_crop(
        args.out,
        n_rows=args.rows,
        n_cols=args.cols,
        years=(args.first_year, args.last_year),
        seed=args.seed,
        missing_frac=args.missing_frac,
    )
    for role, path in paths.items():
        print(f"{role}\t{path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
