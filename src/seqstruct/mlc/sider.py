"""Reader of the MoleculeNet SIDER CSV and its featurization as RDKit Morgan fingerprints.

``sider.csv`` has a header: column ``smiles``, then one 0/1 column per side-effect class (27 MedDRA system
organ classes; 1427 drugs). :func:`read_sider` checks every row (a missing field or a label that is not 0 or 1
raises :class:`~seqstruct.mlc.prepare.MlcDataError` naming the file, the row and the column);
:func:`morgan_fingerprints` turns the SMILES into a sparse 0/1 bit matrix, dropping (and logging) any SMILES RDKit
cannot parse; :func:`prepare_sider` writes the prepared data set (seeded 80/10/10 split, like every other set).

Rows are numbered as in the file: the header is row 1, the first molecule row 2.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from seqstruct.mlc.prepare import FRACTIONS, MlcDataError, PreparedMlc, write_prepared

log = logging.getLogger(__name__)

SMILES_COLUMN = "smiles"
_FIX = "use the MoleculeNet SIDER CSV (header smiles + one 0/1 column per label), or fetch it again"


@dataclass(frozen=True, eq=False)
class SiderTable:
    """The rows of a SIDER-style CSV.

    Attributes
    ----------
    smiles : list of str
        The N SMILES strings, in file order.
    labels : numpy.ndarray
        (N, L) uint8 0/1.
    label_names : tuple of str
        The L label column names, in file order.
    rows : numpy.ndarray
        (N,) int64 file row number of each molecule (header = row 1).
    source : str
        The file read.
    """

    smiles: list[str]
    labels: np.ndarray
    label_names: tuple[str, ...]
    rows: np.ndarray
    source: str


def _label(value: str, where: str, column: str) -> int:
    """0 or 1 from a CSV field (``0``, ``1``, ``0.0``, ``1.0``); anything else raises :class:`MlcDataError`."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number not in (0.0, 1.0):
        raise MlcDataError(f"{where}, column {column!r}: label value {value!r} is not 0 or 1; {_FIX}")
    return int(number)


def read_sider(path: str | os.PathLike[str]) -> SiderTable:
    """Read and check a SIDER-style CSV.

    Parameters
    ----------
    path : path
        The CSV file (UTF-8, comma-separated, quoted header names allowed).

    Returns
    -------
    SiderTable
        SMILES, (N, L) labels and the label names.

    Raises
    ------
    MlcDataError
        The file is missing or empty, its first column is not ``smiles``, it has no label column or no molecule
        row, or a row has a missing or extra field or a label value that is not 0 or 1 (one line: file, row,
        column).
    """
    source = Path(path)
    if not source.is_file():
        raise MlcDataError(f"{source}: SIDER CSV not found; check the path or fetch it (data rule / registry sider)")
    with open(source, newline="", encoding="utf-8-sig") as fh:  # a byte-order mark is not part of "smiles"
        reader = csv.reader(fh)
        header = next(reader, None)
        if not header or header[0].strip().lower() != SMILES_COLUMN or len(header) < 2:
            raise MlcDataError(
                f"{source}, row 1: the header must be {SMILES_COLUMN!r} followed by the label columns, got "
                f"{(header or [])[:3]}; {_FIX}"
            )
        names = tuple(h.strip() for h in header[1:])
        smiles, labels, rows = [], [], []
        for row_no, fields in enumerate(reader, start=2):
            if not fields:
                continue  # a blank line
            where = f"{source}, row {row_no}"
            if len(fields) != len(header):
                missing = f"column {header[len(fields)]!r} is missing" if len(fields) < len(header) else "extra fields"
                raise MlcDataError(f"{where}: {len(fields)} fields, the header has {len(header)} ({missing}); {_FIX}")
            smiles.append(fields[0].strip())
            labels.append([_label(v.strip(), where, c) for v, c in zip(fields[1:], names)])
            rows.append(row_no)
    if not smiles:
        raise MlcDataError(f"{source}: no molecule rows after the header; {_FIX}")
    y = np.asarray(labels, dtype=np.uint8).reshape(len(smiles), len(names))
    return SiderTable(smiles, y, names, np.asarray(rows, dtype=np.int64), str(source))


@contextlib.contextmanager
def _quiet_rdkit() -> Iterator[None]:
    """Silence RDKit's own log lines (parse errors go to stderr) and restore the previous levels afterwards."""
    from rdkit import RDLogger, rdBase

    enabled = [line.split(":")[0] for line in rdBase.LogStatus().splitlines() if line.endswith(":enabled")]
    RDLogger.DisableLog("rdApp.*")
    try:
        yield
    finally:
        for name in enabled:
            RDLogger.EnableLog(name)


def morgan_fingerprints(
    smiles: Sequence[str], radius: int = 2, n_bits: int = 2048, source: str = "<smiles>", rows: Sequence[int] = ()
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Morgan (ECFP-like) bit fingerprints of the SMILES RDKit can parse.

    Parameters
    ----------
    smiles : sequence of str
        N SMILES strings.
    radius : int
        Morgan radius (2: ECFP4-like).
    n_bits : int
        Fingerprint length F.
    source, rows : str, sequence of int
        The file and the file row of each SMILES, named in the warning about a SMILES that is dropped.

    Returns
    -------
    (scipy.sparse.csr_matrix, numpy.ndarray)
        ``(K, F)`` float32 0/1 fingerprints of the K parsed molecules, and the ``(K,)`` int64 positions in
        ``smiles`` they belong to. Each SMILES RDKit cannot parse (or an empty one) is logged as a warning and left
        out.
    """
    from rdkit import Chem
    from rdkit.Chem import rdFingerprintGenerator

    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    indptr, indices, kept = [0], [], []
    with _quiet_rdkit():
        for i, text in enumerate(smiles):
            mol = Chem.MolFromSmiles(text) if text else None
            if mol is None:
                row = f"row {rows[i]}" if len(rows) else f"SMILES #{i + 1}"
                log.warning("%s, %s: RDKit cannot parse SMILES %r; the row is dropped", source, row, text)
                continue
            bits = sorted(generator.GetFingerprint(mol).GetOnBits())
            indices.extend(bits)
            indptr.append(len(indices))
            kept.append(i)
    data = np.ones(len(indices), dtype=np.float32)
    x = sp.csr_matrix((data, np.asarray(indices, dtype=np.int64), indptr), shape=(len(kept), n_bits))
    return x, np.asarray(kept, dtype=np.int64)


def prepare_sider(
    csv_path: str | os.PathLike[str],
    dataset: str,
    out_dir: str | os.PathLike[str],
    seed: int,
    radius: int = 2,
    n_bits: int = 2048,
    fractions: Sequence[float] = FRACTIONS,
) -> PreparedMlc:
    """Prepare SIDER: Morgan fingerprints as features, the side-effect columns as labels, a seeded split.

    Parameters
    ----------
    csv_path : path
        ``sider.csv``.
    dataset : str
        The dataset id (recorded and mixed into the split seed).
    out_dir : path
        Output folder, ``results/data/mlc/<dataset>``.
    seed : int
        The split seed.
    radius, n_bits : int
        Morgan radius and fingerprint length F.
    fractions : sequence of 3 floats
        Train/val/test shares.

    Returns
    -------
    PreparedMlc
        features (N, F) float32 0/1 CSR, labels (N, L) uint8, rows in file order without the dropped ones (the
        real file: N = 1427, L = 27, none dropped). ``info.json`` records the fingerprint settings and the dropped
        rows (``n_dropped``, ``dropped_rows``: file row numbers).

    Raises
    ------
    MlcDataError
        A bad CSV (see :func:`read_sider`), or no SMILES RDKit can parse; nothing is written.
    """
    start = time.perf_counter()
    table = read_sider(csv_path)
    x, kept = morgan_fingerprints(table.smiles, radius, n_bits, table.source, table.rows)
    dropped = sorted(set(table.rows.tolist()) - set(table.rows[kept].tolist()))
    if not len(kept):
        raise MlcDataError(f"{table.source}: RDKit cannot parse any of the {len(table.smiles)} SMILES; {_FIX}")
    if dropped:
        log.warning(
            "%s: dropped %d of %d rows whose SMILES RDKit cannot parse", table.source, len(dropped), len(table.smiles)
        )
    from rdkit import __version__ as rdkit_version

    extra = {
        "featurizer": {"kind": "morgan", "radius": radius, "n_bits": n_bits, "rdkit": rdkit_version},
        "n_rows_read": len(table.smiles),
        "n_dropped": len(dropped),
        "dropped_rows": dropped,
    }
    names = [f"morgan_r{radius}_bit{j}" for j in range(n_bits)]
    prepared = write_prepared(
        out_dir, dataset, x, table.labels[kept], table.label_names, names, [table.source], seed, fractions, extra=extra
    )
    log.info(
        "%s: %d molecules (%d dropped), %d Morgan bits (radius %d), %d labels; split %s; %.1f s",
        dataset,
        len(kept),
        len(dropped),
        n_bits,
        radius,
        len(table.label_names),
        ", ".join(f"{k} {v}" for k, v in prepared.info["sizes"].items()),
        time.perf_counter() - start,
    )
    return prepared
