"""Thesis tables from per-run ``metrics.json`` files: mean and std over seeds, tidy-wide CSV + meta.json.

Layout (DESIGN.md "Conventions"): key columns, then ``<metric>_mean, <metric>_std`` per metric, then
``n_seeds``. The std is the population std over seeds (numpy's default, ddof=0); a method run with one seed
(deterministic methods) has std 0 and ``n_seeds`` 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from seqstruct.common.io import atomic_path, read_json, write_json
from seqstruct.common.meta import CALLER_META_KEYS, RUN_KEYS, RUN_PROVENANCE_KEYS
from seqstruct.common.provenance import environment, git_commit


def aggregate(records: Sequence[dict[str, Any]], keys: Sequence[str], metrics: Sequence[str],
              split: str = "test") -> pd.DataFrame:
    """One row per distinct ``keys`` tuple (first-seen order) with mean/std over its records' ``split`` metrics.

    Raises:
        ValueError: when two records of one row share a seed (the same run counted twice) or a metric is absent.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    rows = []
    for key, runs in groups.items():
        seeds = [r["seed"] for r in runs]
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"duplicate seeds {seeds} for {dict(zip(keys, key))}")
        row: dict[str, Any] = dict(zip(keys, key))
        for m in metrics:
            vals = np.array([r[split][m] for r in runs], dtype=float)
            row[f"{m}_mean"], row[f"{m}_std"] = float(vals.mean()), float(vals.std())
        row["n_seeds"] = len(runs)
        rows.append(row)
    return pd.DataFrame(rows)


def write_table(metric_files: Sequence[str | Path], out_csv: str | Path, keys: Sequence[str],
                metrics: Sequence[str], meta: dict[str, Any], split: str = "test") -> pd.DataFrame:
    """Aggregate the ``split`` record of ``metric_files`` into ``out_csv`` and write ``<out_csv stem>.meta.json``
    beside it.

    ``meta`` is merged into the provenance record (git commit, environment, seeds and timing of every run); it
    must hold ``scale`` and ``datasets`` (raw file checksums by dataset id). Each run's entry also carries the
    provenance of its ``metrics.json`` (training commit, host, SLURM job, input checksums); None for runs
    written before runs recorded it.

    Raises:
        ValueError: when ``meta`` lacks ``scale`` or ``datasets`` (checked before anything is written).
    """
    missing = [k for k in CALLER_META_KEYS if k not in meta]
    if missing:
        raise ValueError(f"meta of {Path(out_csv).name} lacks {missing}: every table records its scale and the "
                         "checksums of its datasets")
    records = [read_json(p) for p in metric_files]
    table = aggregate(records, keys, metrics, split=split)
    out_csv = Path(out_csv)
    with atomic_path(out_csv) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f")
    write_json(out_csv.with_suffix(".meta.json"), {
        "table": out_csv.stem, "keys": list(keys), "metrics": list(metrics), "git": git_commit(), **environment(),
        **meta,
        "std": "population std over seeds (ddof=0)",
        "seeds": sorted({r["seed"] for r in records}),
        "wall_time_seconds": float(sum(r.get("seconds", 0.0) for r in records)),
        "runs": [_run_entry(r, keys) for r in records],
    })
    return table


def _run_entry(record: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """One run of meta.json: its keys, seed, timing and training provenance (None where not recorded)."""
    prov = record.get("provenance") or {}
    return {**{k: record.get(k) for k in (*keys, *RUN_KEYS)},
            **{k: prov.get(k) for k in RUN_PROVENANCE_KEYS}}
