"""Download a year of PRISM daily zips or NLDAS-2 hourly files, for users with internet (rules fetch_prism,
fetch_nldas).

These files have no fixed checksum (PRISM replaces provisional days by stable ones), so each one is checked by
reading it with its format reader (grid, CRS, the variables) before it is renamed into place. A rerun keeps
every file that is already there and reads, and fetches only the rest, so an interrupted year resumes; PRISM
asks that a file be downloaded at most twice a day, which this respects. NLDAS-2 needs an Earthdata token
(``EARTHDATA_TOKEN``, sent as a bearer token).
"""

from __future__ import annotations

import logging
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path

from seqstruct.common.io import atomic_path
from seqstruct.crop.rasters.grid import RasterDataError

log = logging.getLogger(__name__)

TOKEN_ENV = "EARTHDATA_TOKEN"


def download_checked(
    url: str,
    dest: Path,
    check: Callable[[Path], object],
    headers: dict[str, str] | None = None,
    retries: int = 3,
    timeout: float = 120.0,
) -> Path:
    """Download ``url`` to ``dest`` through a temporary name, keep it only if ``check(path)`` passes.

    Raises
    ------
    RasterDataError
        The URL is not http(s); the download failed ``retries`` times (the message names the URL and the last
        error); the downloaded file does not read (the message names the URL and what is wrong with it).
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise RasterDataError(f"{url}: only http(s) URLs are downloaded; fix the URL pattern")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    for attempt in range(1, retries + 1):
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=timeout) as resp, atomic_path(dest) as tmp:
                Path(tmp).write_bytes(resp.read())
                try:
                    check(Path(tmp))
                except RasterDataError as exc:
                    raise RasterDataError(f"{url}: the downloaded file does not read ({exc}); nothing kept") from exc
            return dest
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            last = exc
            if isinstance(exc, urllib.error.HTTPError) and exc.code in (401, 403, 404):
                break
            time.sleep(min(2.0**attempt, 30.0))
    raise RasterDataError(f"{url}: download failed ({last}); check the network, the URL and any login, then rerun")


def _fetch_all(pairs: Sequence[tuple[str, Path]], check: Callable[[Path], object], label: str, **kw) -> list[Path]:
    from tqdm.auto import tqdm

    todo = []
    for url, dest in pairs:
        if dest.is_file():
            try:
                check(dest)
                continue
            except RasterDataError:
                log.warning("%s does not read; downloading it again", dest)
        todo.append((url, dest))
    log.info("%s: %d of %d files to download", label, len(todo), len(pairs))
    for url, dest in tqdm(todo, desc=label, unit="file", mininterval=5.0):
        download_checked(url, dest, check, **kw)
    return [dest for _, dest in pairs]


def fetch_prism_year(var: str, year: int, dest: str | os.PathLike[str], base_url: str | None = None, grid=None):
    """The 365/366 daily COG zips of one PRISM variable-year into ``dest`` (resumable).

    ``base_url`` replaces PRISM's (tests); ``grid`` the full 4 km grid that every file must be on.
    """
    from seqstruct.crop.rasters.prism import PRISM_4KM, PRISM_BASE_URL, cog_zip_name, read_prism_day

    dest, base = Path(dest), (base_url or PRISM_BASE_URL).rstrip("/")
    days = [date(year, 1, 1) + timedelta(k) for k in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    names = [cog_zip_name(var, d) for d in days]
    pairs = [(f"{base}/{var}/daily/{year}/{n}", dest / n) for n in names]
    return _fetch_all(pairs, lambda p: read_prism_day(p, grid or PRISM_4KM), f"PRISM {var} {year}")


def fetch_nldas_year(product: str, year: int, dest: str | os.PathLike[str], base_url: str | None = None) -> list[Path]:
    """The hourly NetCDF files of one NLDAS-2 product-year into ``dest`` (resumable; needs ``EARTHDATA_TOKEN``)."""
    from seqstruct.crop.rasters.nldas import NLDAS_VARIABLES, nldas_file_name, nldas_hours, nldas_url, read_nldas_hour

    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise RasterDataError(
            f"{dest}: NLDAS-2 downloads need an Earthdata login: export {TOKEN_ENV}=<token> (from "
            "https://urs.earthdata.nasa.gov, with GES DISC authorised), or put the files there yourself"
        )
    names = [n for n, v in NLDAS_VARIABLES.items() if v.product == product]
    kw = {"base": base_url} if base_url else {}
    pairs = [
        (nldas_url(product, h, "netcdf", **kw), Path(dest) / nldas_file_name(product, h)) for h in nldas_hours(year)
    ]
    headers = {"Authorization": f"Bearer {token}"}
    return _fetch_all(pairs, lambda p: read_nldas_hour(p, names), f"NLDAS {product} {year}", headers=headers)


def main(argv: list[str] | None = None) -> int:
    """CLI: fetch PRISM variable-years or NLDAS-2 product-years into ``<root>/prism/<var>/<year>/`` or
    ``<root>/nldas/<product>/<year>/`` (the layout crop_rasters.smk reads), resuming what is there."""
    import argparse

    from seqstruct.common.errors import print_error

    p = argparse.ArgumentParser(prog="python -m seqstruct.crop.rasters.fetch", description=main.__doc__)
    p.add_argument("source", choices=["prism", "nldas"])
    p.add_argument("names", nargs="+", help="PRISM variables (ppt tmean ...) or NLDAS products (FORA NOAH)")
    p.add_argument("--years", type=int, nargs=2, required=True, metavar=("FIRST", "LAST"))
    p.add_argument("--root", type=Path, default=Path("resources/raw/nationwide"))
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        for name in args.names:
            for year in range(args.years[0], args.years[1] + 1):
                folder = args.root / args.source / name / str(year)
                if args.source == "prism":
                    fetch_prism_year(name, year, folder)
                else:
                    fetch_nldas_year(name, year, folder)
    except RasterDataError as exc:
        print_error(exc)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
