"""Thesis tables from per-run ``metrics.json`` files: mean and std over seeds, tidy-wide CSV + meta.json.

Layout (DESIGN.md "Conventions"): key columns, then ``<metric>_mean, <metric>_std`` per metric, then
``n_seeds``. The std is the population std over seeds (numpy's default, ddof=0); a method run with one seed
(deterministic methods) has std 0 and ``n_seeds`` 1. Numbers are written with ``digits`` significant digits
(default 4), or with a fixed number of ``decimals`` where a table follows the thesis' own format. Each metric's
direction (lower or higher is better) goes into the meta.json, where the reports and the scoreboard read it.

A metric or split may be a dotted path into the run record (``test.rmse``; ``split="test.yeast"`` for a record
``{"test": {"yeast": {"mi_f1": ...}}}``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqstruct.common.io import atomic_path, read_json, write_json
from seqstruct.common.meta import CALLER_META_KEYS, RUN_KEYS, RUN_PROVENANCE_KEYS
from seqstruct.common.metrics import direction
from seqstruct.common.provenance import environment, git_commit, raw_checksums
from seqstruct.data.registry import check_recorded, load_registry

DEFAULT_DIGITS = 4


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """The value at dotted ``path`` of a nested record (``lookup(r, "test.rmse") == r["test"]["rmse"]``).

    Raises
    ------
    KeyError
        Naming the first missing part and the keys present there.
    """
    node: Any = record
    for i, part in enumerate(path.split(".")):
        if not isinstance(node, Mapping) or part not in node:
            where = ".".join(path.split(".")[:i]) or "the record"
            have = sorted(node) if isinstance(node, Mapping) else type(node).__name__
            raise KeyError(f"{path!r}: {where} has no {part!r} (has {have})")
        node = node[part]
    return node


def aggregate(
    records: Sequence[Mapping[str, Any]], keys: Sequence[str], metrics: Sequence[str], split: str = "test"
) -> pd.DataFrame:
    """One row per distinct ``keys`` tuple (first-seen order) with mean/std over its records' ``split`` metrics.

    Raises
    ------
    ValueError
        When two records of one row share a seed (the same run counted twice).
    KeyError
        When a record lacks a key or a metric.
    """
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    rows = []
    for key, runs in groups.items():
        seeds = [r["seed"] for r in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"duplicate seeds {seeds} for {dict(zip(keys, key))}")
        row: dict[str, Any] = dict(zip(keys, key))
        for m in metrics:
            vals = np.array([lookup(r, f"{split}.{m}") for r in runs], dtype=float)
            row[f"{m}_mean"], row[f"{m}_std"] = float(vals.mean()), float(vals.std())
        row["n_seeds"] = len(runs)
        rows.append(row)
    return pd.DataFrame(rows)


def float_format(digits: int | None = DEFAULT_DIGITS, decimals: int | None = None) -> Callable[[float], str]:
    """The CSV number format: ``digits`` significant digits (``%.{digits}g``), or fixed ``decimals``."""
    if decimals is not None:
        return lambda v: f"{v:.{decimals}f}"
    if digits is None or digits < 1:
        raise ValueError(f"digits must be >= 1 (or give decimals), got {digits}")
    return lambda v: f"{v:.{digits}g}"


def write_csv(
    table: pd.DataFrame,
    out_csv: str | os.PathLike[str],
    digits: int | None = DEFAULT_DIGITS,
    decimals: int | None = None,
) -> None:
    """Write ``table`` to ``out_csv`` atomically with the number format of ``float_format``."""
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format=float_format(digits, decimals))


def write_table(
    metric_files: Sequence[str | Path | Mapping[str, Any]],
    out_csv: str | Path,
    keys: Sequence[str],
    metrics: Sequence[str],
    meta: dict[str, Any],
    split: str = "test",
    directions: Mapping[str, str] | None = None,
    digits: int | None = DEFAULT_DIGITS,
    decimals: int | None = None,
) -> pd.DataFrame:
    """Aggregate the ``split`` record of ``metric_files`` into ``out_csv`` and write ``<out_csv stem>.meta.json``
    beside it.

    Parameters
    ----------
    metric_files : sequence of paths or records
        The ``metrics.json`` of every run of the table (or the records themselves).
    out_csv : path
        ``results/tables/<table>.csv``.
    keys, metrics : sequence of str
        Key columns (fields of each record) and metrics (fields of its ``split`` record).
    meta : dict
        Merged into the provenance record (git commit, environment, seeds and timing of every run); must hold
        ``scale`` and ``datasets`` (raw file checksums by dataset id; see ``table_meta``). Each run's entry
        also carries the provenance of its ``metrics.json`` (training commit, host, SLURM job, input
        checksums); None for runs written before runs recorded it.
    split : str
        The record (dotted path) whose metrics the table reports, e.g. ``test``.
    directions : mapping, optional
        Metric -> ``lower``/``higher``/``none``; by default ``seqstruct.common.metrics.direction``.
    digits, decimals : int, optional
        The number format (``float_format``).

    Returns
    -------
    pandas.DataFrame
        The table as written.

    Raises
    ------
    ValueError
        When ``meta`` lacks ``scale`` or ``datasets`` (checked before anything is written).
    """
    missing = [k for k in CALLER_META_KEYS if k not in meta]
    if missing:
        raise ValueError(
            f"meta of {Path(out_csv).name} lacks {missing}: every table records its scale and the "
            "checksums of its datasets"
        )
    ways = {m: (directions or {}).get(m) or direction(m) for m in metrics}
    records = [p if isinstance(p, Mapping) else read_json(p) for p in metric_files]
    table = aggregate(records, keys, metrics, split=split)
    out_csv = Path(out_csv)
    write_csv(table, out_csv, digits, decimals)
    write_json(
        out_csv.with_suffix(".meta.json"),
        {
            "table": out_csv.stem,
            "keys": list(keys),
            "metrics": list(metrics),
            "directions": ways,
            "number_format": f"{decimals} decimals" if decimals is not None else f"{digits} significant digits",
            "git": git_commit(),
            **environment(),
            "split": split,
            **meta,
            "std": "population std over seeds (ddof=0)",
            "seeds": sorted({r["seed"] for r in records}),
            "wall_time_seconds": float(sum(r.get("seconds", 0.0) for r in records)),
            "runs": [_run_entry(r, keys) for r in records],
        },
    )
    return table


def table_meta(
    scale: str,
    source: str,
    raw: Sequence[str | os.PathLike[str]],
    methods: Mapping[str, Any] | None = None,
    grids: Mapping[str, Any] | None = None,
    selections: Sequence[Mapping[str, Any]] = (),
    selection_label: Sequence[str] = ("method",),
    registry: str | os.PathLike[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The caller's part of a table's meta.json, the same for every domain.

    Parameters
    ----------
    scale, source : str
        The config's ``scale`` and the domain's ``source`` (``real`` or ``synthetic``).
    raw : sequence of paths
        The raw files behind the table (``resources/raw/<dataset>/<file>``): their sha256 by dataset.
    methods, grids : mapping, optional
        Each method's base settings and validation grid, as configured.
    selections : sequence of mapping
        The ``selection.json`` records (``seqstruct.common.search.select``).
    selection_label : sequence of str
        ``selected`` in the meta maps ``" ".join(record[k] for k in selection_label)`` to the chosen point.
    registry : path, optional
        The dataset registry: the raw files' checksums are compared with it (for a ``real`` source; a synthetic
        stand-in is not registered).
    **extra
        Anything else the table should record (test years, masking week, ...).

    Raises
    ------
    seqstruct.data.DataError
        A raw file's sha256 differs from the registry's (one line: the file, both checksums, the fix).
    """
    meta: dict[str, Any] = {"scale": scale, "source": source, "datasets": raw_checksums(list(raw)), **extra}
    if registry is not None:
        check_recorded(meta["datasets"], load_registry(registry), where="the raw files behind this table")
    if methods is not None:
        meta["methods"] = dict(methods)
    if grids is not None:
        meta["grids"] = dict(grids)
    if selections:
        meta["selected"] = {" ".join(str(s[k]) for k in selection_label): s["chosen"] for s in selections}
    return meta


def _run_entry(record: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """One run of meta.json: its keys, seed, timing and training provenance (None where not recorded)."""
    prov = record.get("provenance") or {}
    return {**{k: record.get(k) for k in (*keys, *RUN_KEYS)}, **{k: prov.get(k) for k in RUN_PROVENANCE_KEYS}}
