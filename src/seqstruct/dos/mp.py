"""Materials Project electronic DoS: download (mp-api) and the raw eDoS CSV.

This module downloads the structures and
total DoS of a list of Materials Project ids (:func:`fetch_electronic_dos`, resumable, one file per material),
reads them back as ``(structures, spectra, ids)`` (:func:`load_fetched`) and writes them as the raw eDoS CSV
that ``prepare_dos`` reads (:func:`write_edos_csv`; the phonon CSV's layout).

Each total DoS is binned onto the thesis' 128-point grid by :func:`seqstruct.dos.edos.bin_total_dos` (the
energy reference and the bins are described there).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
from monty.json import MontyEncoder
from pymatgen.core import Structure
from pymatgen.electronic_structure.dos import CompleteDos, Dos

from seqstruct.common.errors import InputError, one_line
from seqstruct.common.io import atomic_path
from seqstruct.data.fetch import require_access
from seqstruct.data.registry import get_dataset
from seqstruct.dos.edos import E_MAX, E_MIN, GAP_TOL, N_BINS, DosError, References, bin_centres, bin_total_dos

log = logging.getLogger(__name__)

API_KEY_ENV = "MP_API_KEY"

#: the registry entry whose access rule (``api_key: MP_API_KEY``) :func:`seqstruct.data.fetch.require_access` checks
REGISTRY_ID = "mp_edos"
#: the columns of the raw eDoS CSV (the phonon CSV's layout, seqstruct.dos.formats)
CSV_COLUMNS = ("mp_id", "structure", "energy", "edos")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_STATUS = re.compile(r"status code (\d{3})")


# --------------------------------------------------------------------------------------------------- fetching


class MPClient(Protocol):
    """What :func:`fetch_electronic_dos` uses of ``mp_api.client.MPRester`` (a fake in tests)."""

    materials: Any

    def get_dos_by_material_id(self, material_id: str) -> Dos: ...

    def __enter__(self) -> MPClient: ...

    def __exit__(self, *exc: object) -> bool | None: ...


ClientFactory = Callable[[str], MPClient]


@dataclass
class FetchSummary:
    """What one :func:`fetch_electronic_dos` call did.

    Attributes
    ----------
    fetched : list of str
        Ids downloaded and written in this call.
    skipped : list of str
        Ids whose file was already there and readable.
    missing : dict of str to str
        Ids Materials Project has no structure or no DoS for (nothing written; a rerun asks again), with why.
    """

    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


def mp_client(api_key: str) -> MPClient:
    """The default client factory: ``mp_api.client.MPRester(api_key, mute_progress_bars=True)``."""
    from mp_api.client import MPRester

    return MPRester(api_key=api_key, mute_progress_bars=True)


def fetched_path(out_dir: str | os.PathLike[str], material_id: str) -> Path:
    """The file of one material: ``out_dir/<material_id>.json.gz``."""
    return Path(out_dir) / f"{_check_id(material_id)}.json.gz"


def fetch_electronic_dos(
    material_ids: Iterable[str],
    out_dir: str | os.PathLike[str],
    api_key: str | None = None,
    chunk_size: int = 100,
    retries: int = 3,
    progress: bool = True,
    client_factory: ClientFactory | None = None,
    backoff_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> FetchSummary:
    """Download the final structure and total DoS of each Materials Project id to ``out_dir/<id>.json.gz``.

    Ids are processed in chunks of ``chunk_size``: one ``mpr.materials.search(material_ids=chunk,
    fields=["material_id", "structure"])`` per chunk, then ``mpr.get_dos_by_material_id(id)`` (the total DoS,
    no projections) per material. Each file holds ``{"material_id", "structure": Structure.as_dict(),
    "dos": Dos.as_dict()}`` as gzipped JSON, written to a temporary name and renamed into place. An id whose
    file exists and reads back is skipped, so an interrupted run is resumed by running it again; the API key is
    only needed when something is left to fetch. A corrupt file is fetched again.

    Parameters
    ----------
    material_ids : iterable of str
        Materials Project ids (``mp-149``); duplicates are fetched once.
    out_dir : str or os.PathLike
        Folder of the per-material files (created).
    api_key : str or None
        The API key; ``None`` reads ``$MP_API_KEY``.
    chunk_size : int
        Ids per structure query.
    retries : int
        Retries of a request after a transient failure (connection error, timeout, HTTP 429/5xx), waiting
        ``backoff_s * 2**attempt`` seconds before retry ``attempt + 1``.
    progress : bool
        Show a tqdm bar over the ids.
    client_factory : callable or None
        ``api_key -> client`` (a context manager with ``materials.search`` and ``get_dos_by_material_id``);
        ``None`` uses :func:`mp_client` (``MPRester``).
    backoff_s : float
        Base wait between retries, seconds.
    sleep : callable
        The wait function (injectable for tests).

    Returns
    -------
    FetchSummary
        Ids fetched, skipped (already there) and missing on Materials Project.

    Raises
    ------
    InputError
        No API key (one line naming ``MP_API_KEY``), a malformed id, a bad ``chunk_size``/``retries``, or a
        request that still fails after the retries or is refused (e.g. HTTP 401/403, a bad key). Files already
        written are kept; rerunning resumes.
    """
    ids = _unique_ids(material_ids)
    if chunk_size < 1 or retries < 0:
        raise InputError(f"fetch_electronic_dos: chunk_size ({chunk_size}) must be >= 1 and retries ({retries}) >= 0")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    summary = FetchSummary()
    pending = []
    for mid in ids:
        (summary.skipped if _readable(fetched_path(out, mid), mid) else pending).append(mid)
    log.info("MP eDoS: %d ids, %d already in %s, %d to fetch", len(ids), len(summary.skipped), out, len(pending))
    if not pending:
        return summary
    key = api_key or require_access(get_dataset(REGISTRY_ID)) or ""
    retry = _Retry(retries, backoff_s, sleep)
    factory = client_factory or mp_client
    with retry("opening the Materials Project client", lambda: factory(key)) as client, _bar(pending, progress) as bar:
        for chunk in _chunks(pending, chunk_size):
            _fetch_chunk(client, chunk, out, retry, summary)
            bar.update(len(chunk))
    if summary.missing:
        shown = ", ".join(list(summary.missing)[:20])
        log.warning("Materials Project has no structure or DoS for %d ids: %s", len(summary.missing), shown)
    return summary


def _fetch_chunk(client: MPClient, chunk: list[str], out: Path, retry: _Retry, summary: FetchSummary) -> None:
    docs = retry(
        f"structures of {chunk[0]}..{chunk[-1]}",
        lambda: client.materials.search(material_ids=chunk, fields=["material_id", "structure"]),
    )
    structures = {}
    for doc in docs or []:
        mid, structure = _canonical(_field(doc, "material_id")), _field(doc, "structure")
        if structure is not None:
            structures[mid] = structure if isinstance(structure, Structure) else Structure.from_dict(structure)
    for mid in chunk:
        structure = structures.get(_canonical(mid))
        if structure is None:
            summary.missing[mid] = "no structure (unknown or deprecated id)"
            continue
        try:
            dos = retry(f"DoS of {mid}", lambda mid=mid: client.get_dos_by_material_id(mid))
        except _NotFound as exc:
            summary.missing[mid] = exc.why
            continue
        _write_fetched(fetched_path(out, mid), mid, structure, dos)
        summary.fetched.append(mid)


def _write_fetched(path: Path, material_id: str, structure: Structure, dos: Dos) -> None:
    record = {"material_id": material_id, "structure": structure.as_dict(), "dos": dos.as_dict()}
    text = json.dumps(record, cls=MontyEncoder)
    with atomic_path(path) as tmp, gzip.GzipFile(tmp, "wb", mtime=0) as fh:
        fh.write(text.encode())


class _NotFound(Exception):
    """Materials Project answered that the data does not exist (not retried, the material is skipped)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Retry:
    """Call a request, retrying transient failures with exponential backoff."""

    def __init__(self, retries: int, backoff_s: float, sleep: Callable[[float], None]) -> None:
        self.retries, self.backoff_s, self.sleep = retries, backoff_s, sleep

    def __call__(self, what: str, request: Callable[[], Any]) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return request()
            except Exception as exc:  # classified below; bugs are re-raised
                kind = _classify(exc)
                if kind == "not_found":
                    raise _NotFound(one_line(exc)) from exc
                if kind == "bug":
                    raise
                if kind == "refused" or attempt == self.retries:
                    raise InputError(
                        f"Materials Project request for {what} failed after {attempt + 1} tries ({one_line(exc)}); "
                        f"check the network and the {API_KEY_ENV} key, then rerun (finished files are kept)"
                    ) from exc
                wait = self.backoff_s * 2**attempt
                log.warning(
                    "%s failed (%s); retry %d/%d in %.0f s", what, one_line(exc), attempt + 1, self.retries, wait
                )
                self.sleep(wait)
        raise AssertionError("unreachable")


def _classify(exc: Exception) -> Literal["transient", "refused", "not_found", "bug"]:
    """``transient`` (retry), ``refused`` (4xx: stop), ``not_found`` (skip the material) or ``bug`` (re-raise)."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return "transient"
    with contextlib.suppress(ImportError):
        import requests

        if isinstance(exc, requests.exceptions.RequestException):
            return "transient"
    if type(exc).__name__ != "MPRestError":
        return "transient" if isinstance(exc, OSError) else "bug"
    text = str(exc)
    status = _STATUS.search(text)
    if status:
        code = int(status.group(1))
        return "transient" if code == 429 or code >= 500 else "not_found" if code == 404 else "refused"
    if "timed out" in text.lower():
        return "transient"
    return "not_found" if re.search(r"\bno\b.*\bfound\b", text, re.IGNORECASE) else "refused"


def _canonical(material_id: Any) -> str:
    """The legacy form (``mp-149``) of an id in either form (``mp-149``, ``mp-ft``, emmet ``MPID``/``AlphaID``).

    Materials Project documents may carry the new alphabetic ids; results are matched to the requested ids in
    this form, while files keep the id as requested.
    """
    try:
        from emmet.core.mpid import AlphaID

        return str(AlphaID(material_id).string)
    except Exception:  # not an MP-style id or emmet missing: compare as given
        return str(getattr(material_id, "string", material_id))


def _field(doc: Any, name: str) -> Any:
    return doc.get(name) if isinstance(doc, dict) else getattr(doc, name, None)


def _unique_ids(material_ids: Iterable[str]) -> list[str]:
    if isinstance(material_ids, str):
        material_ids = [material_ids]
    return list(dict.fromkeys(_check_id(str(m)) for m in material_ids))


def _check_id(material_id: str) -> str:
    if not _ID.fullmatch(material_id):
        raise InputError(
            f"material id {material_id!r} is not a plain id like 'mp-149' (letters, digits, '.', '_', '-'); fix the id"
        )
    return material_id


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@contextlib.contextmanager
def _bar(items: Sequence[str], progress: bool) -> Iterator[Any]:
    from tqdm.auto import tqdm

    with tqdm(total=len(items), desc="MP eDoS", unit="material", disable=not progress) as bar:
        yield bar


def _readable(path: Path, material_id: str) -> bool:
    if not path.is_file():
        return False
    try:
        read_fetched(path, material_id)
    except DosError as exc:
        log.warning("refetching %s: %s", material_id, exc)
        return False
    return True


# --------------------------------------------------------------------------------------------------- loading


def read_fetched(path: str | os.PathLike[str], material_id: str | None = None) -> tuple[Structure, Dos]:
    """Read one file written by :func:`fetch_electronic_dos`.

    Parameters
    ----------
    path : str or os.PathLike
        ``<out_dir>/<id>.json.gz``.
    material_id : str or None
        The id the file must hold (checked when given).

    Returns
    -------
    tuple of (Structure, Dos)
        The structure and the (total) DoS.

    Raises
    ------
    DosError
        The file is missing, not gzipped JSON, lacks a key, holds another id, or does not decode.
    """
    where = Path(path)
    fix = "delete it and rerun fetch_electronic_dos"
    try:
        with gzip.open(where, "rt") as fh:
            record = json.load(fh)
        if material_id is not None and record.get("material_id") != material_id:
            raise DosError(f"{where} holds material {record.get('material_id')!r}, not {material_id!r}; {fix}")
        structure = Structure.from_dict(record["structure"])
        dos_dict = record["dos"]
        cls = CompleteDos if dos_dict.get("@class") == "CompleteDos" else Dos
        return structure, cls.from_dict(dos_dict)
    except FileNotFoundError:
        raise DosError(f"{where} not found; run fetch_electronic_dos for {material_id or 'the material'}") from None
    except DosError:
        raise
    except Exception as exc:  # any decoding failure means the file is unusable
        raise DosError(f"{where} cannot be read ({one_line(exc)}); {fix}") from None


def load_fetched(
    out_dir: str | os.PathLike[str],
    material_ids: Iterable[str],
    n_bins: int = N_BINS,
    e_min: float = E_MIN,
    e_max: float = E_MAX,
    reference: References = "band_edges",
    gap_tol: float = GAP_TOL,
    skip_missing: bool = False,
) -> tuple[list[Structure], np.ndarray, list[str]]:
    """Read the fetched files of ``material_ids`` and bin their total DoS (:func:`bin_total_dos`).

    Parameters
    ----------
    out_dir : str or os.PathLike
        The folder :func:`fetch_electronic_dos` wrote.
    material_ids : iterable of str
        Ids to load, in this order (duplicates once).
    n_bins, e_min, e_max, reference, gap_tol
        As for :func:`bin_total_dos`.
    skip_missing : bool
        Leave out ids without a file (e.g. Materials Project had no DoS) instead of raising.

    Returns
    -------
    structures : list of Structure
        One per loaded id.
    spectra : numpy.ndarray
        (N, n_bins) float32.
    ids : list of str
        The loaded ids, in order.

    Raises
    ------
    DosError
        A file is missing (unless ``skip_missing``) or unreadable, or a DoS cannot be binned.
    """
    structures, rows, ids = [], [], []
    for mid in _unique_ids(material_ids):
        path = fetched_path(out_dir, mid)
        if skip_missing and not path.exists():
            continue
        structure, dos = read_fetched(path, mid)
        rows.append(bin_total_dos(dos, n_bins, e_min, e_max, reference, gap_tol, material_id=mid))
        structures.append(structure)
        ids.append(mid)
    spectra = np.stack(rows) if rows else np.zeros((0, n_bins), dtype=np.float32)
    return structures, spectra, ids


def read_ids(path: str | os.PathLike[str]) -> list[str]:
    """Material ids from a text file, one per line (a CSV's first column; a header ``mp_id`` or ``material_id``,
    blank lines and ``#`` comments are skipped).

    Raises
    ------
    InputError
        The file is missing or holds no id.
    """
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the Materials Project id list ({exc.strerror})") from None
    ids = [line.split(",")[0].strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
    ids = [m for m in ids if m not in ("mp_id", "material_id")]
    if not ids:
        raise InputError(f"{path}: no Materials Project ids (one per line, e.g. mp-149)")
    return ids


def ase_dict(structure: Structure) -> dict[str, Any]:
    """The ASE-style dict of the raw CSVs: atomic ``numbers``, Cartesian ``positions`` and ``cell`` in Å, ``pbc``."""
    return {
        "numbers": [int(z) for z in structure.atomic_numbers],
        "positions": structure.cart_coords.tolist(),
        "cell": structure.lattice.matrix.tolist(),
        "pbc": [True, True, True],
    }


def write_edos_csv(
    path: str | os.PathLike[str],
    structures: Sequence[Structure],
    spectra: np.ndarray,
    ids: Sequence[str],
    n_bins: int = N_BINS,
    e_min: float = E_MIN,
    e_max: float = E_MAX,
) -> Path:
    """Write binned eDoS as the raw CSV ``prepare_dos`` reads (columns :data:`CSV_COLUMNS`: the material id, its
    structure as an ASE-style dict, the bin centres and the binned DoS, Python literals), atomically.

    Raises
    ------
    InputError
        The lengths of ``structures``, ``spectra`` and ``ids`` differ, or ``spectra`` is not (N, n_bins).
    """
    spectra = np.asarray(spectra, dtype=np.float64)
    if spectra.shape != (len(ids), n_bins) or len(structures) != len(ids):
        raise InputError(
            f"{path}: {len(structures)} structures, {len(ids)} ids and spectra {spectra.shape} must agree "
            f"(N structures, N ids, (N, {n_bins}) spectra)"
        )
    centres = repr(bin_centres(n_bins, e_min, e_max).tolist())
    rows = [
        {"mp_id": m, "structure": repr(ase_dict(s)), "energy": centres, "edos": repr(v.tolist())}
        for m, s, v in zip(ids, structures, spectra)
    ]
    with atomic_path(path) as tmp:
        pd.DataFrame(rows, columns=list(CSV_COLUMNS)).to_csv(tmp, index=False)
    return Path(path)
