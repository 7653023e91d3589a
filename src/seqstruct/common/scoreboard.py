"""The thesis scoreboard: every thesis table with its status here and, where produced, how it compares.

Generated from ``config/thesis/index.yaml`` (the thesis' tables: keys, metrics and their directions, the data
each needs) and the produced tables ``results/tables/<id>.csv`` with their ``.meta.json`` (which hold the
comparison spec, ``seqstruct.common.report.ComparisonSpec``); never written by hand. A table's status is one
of:

* ``reproduced on the thesis' data``: produced from real data, every dataset of which the index lists under
  ``thesis_datasets`` (the registry ids that are the thesis' own data);
* ``reproduced on stand-in data: <datasets>``: produced from other real data, or from the domain's synthetic
  generator (``source: synthetic``);
* ``needs data: <what>``: not produced, and the thesis' data is not available (``needs`` in the index);
* ``not implemented yet``: not produced although the data is available.

The headline comparison is per panel: the best method here and in the thesis (among the methods both have) on
the table's headline metric, and how many method pairs are ordered as in the thesis.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from seqstruct.common.errors import InputError
from seqstruct.common.io import atomic_path, read_json
from seqstruct.common.report import ComparisonSpec, compare

REPRODUCED, STAND_IN, NEEDS, TODO = (
    "reproduced on the thesis' data",
    "reproduced on stand-in data",
    "needs data",
    "not implemented yet",
)


def load_index(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The ``tables`` mapping of ``config/thesis/index.yaml`` (table id -> entry), in thesis order.

    Raises
    ------
    InputError
        When the file is missing or has no ``tables`` mapping.
    """
    try:
        doc = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(f"{path}: thesis index not found (it lists every thesis table; see config/thesis/)") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("tables"), dict):
        raise InputError(f"{path}: expected a mapping `tables:` of table id -> entry")
    return doc["tables"]


def status(entry: Mapping[str, Any], meta: Mapping[str, Any] | None) -> tuple[str, str]:
    """``(status, detail)`` of one thesis table: one of the four statuses of the module docstring and what it
    names (the stand-in datasets, the data needed)."""
    if meta is None:
        return (NEEDS, str(entry["needs"])) if entry.get("needs") else (TODO, "")
    state, detail = _status(entry, meta)
    if meta.get("crop_data"):  # which data each crop's sub-tables used
        detail += "; " + ", ".join(f"{crop}: {label}" for crop, label in meta["crop_data"].items())
    return state, detail


def _status(entry: Mapping[str, Any], meta: Mapping[str, Any]) -> tuple[str, str]:
    datasets = sorted(meta.get("datasets") or {})
    if meta.get("source") == "synthetic":
        return STAND_IN, f"synthetic {entry.get('domain', '')} data ({', '.join(datasets)})".replace("  ", " ")
    thesis_own = set(entry.get("thesis_datasets") or [])
    if datasets and set(datasets) <= thesis_own:
        return REPRODUCED, ", ".join(datasets)
    return STAND_IN, ", ".join(datasets) or "?"


def headline(table: pd.DataFrame, thesis: pd.DataFrame, spec: ComparisonSpec) -> list[str]:
    """One phrase per panel: best method here vs the thesis on the headline metric, and the ordering."""
    out = []
    for c in compare(table, thesis, spec):
        value = c.ours.loc[c.ours[spec.method_key].astype(str) == c.best_here, f"{spec.headline}_mean"]
        best = f"{c.best_here} ({spec.number(float(value.iloc[0]))})" if len(value) else c.best_here
        panel = " ".join(map(str, c.panel))
        thesis_panel = " ".join(map(str, c.thesis_panel))
        text = (f"{panel}: " if panel else "") + f"{best} / {c.best_thesis}"  # no panel keys: one unnamed panel
        text += f" (thesis {thesis_panel})" if thesis_panel != panel else ""
        if c.pairs:
            text += f", {c.pairs_agree}/{c.pairs} pairs as in the thesis (tau {c.tau:+.2f})"
        out.append(text)
    return out


def render_scoreboard(
    index: Mapping[str, Mapping[str, Any]], thesis_dir: str | os.PathLike[str], tables: Sequence[str | os.PathLike[str]]
) -> str:
    """The scoreboard as markdown.

    Parameters
    ----------
    index : mapping
        ``load_index(config/thesis/index.yaml)``.
    thesis_dir : path
        ``config/thesis`` (the published numbers, ``<id>.csv``).
    tables : sequence of paths
        The produced tables (``results/tables/<id>.csv``; their ``.meta.json`` beside them).
    """
    produced = {Path(t).stem: Path(t) for t in tables}
    unknown = sorted(set(produced) - set(index))
    if unknown:
        raise InputError(f"tables {unknown} are not in the thesis index; add them to config/thesis/index.yaml")
    rows, counts = [], {REPRODUCED: 0, STAND_IN: 0, NEEDS: 0, TODO: 0}
    for tid, entry in index.items():
        path = produced.get(tid)
        meta = read_json(path.with_suffix(".meta.json")) if path else None
        state, detail = status(entry, meta)
        counts[state] += 1
        compared = "–"
        if path and meta and not meta.get("thesis"):
            compared = "– (its meta.json predates the comparison spec: rebuild the table to compare it)"
        if path and meta and meta.get("thesis"):
            spec = ComparisonSpec.from_json(meta["thesis"])
            phrases = headline(pd.read_csv(path), pd.read_csv(Path(thesis_dir) / f"{tid}.csv"), spec)
            compared = f"{spec.label(spec.headline)}: " + "; ".join(phrases)
        cell = f"{state}: {detail}" if detail else state
        if path and entry.get("needs"):
            cell += f"; not available here: {entry['needs']}"
        link = f"[{_name(tid)}]({tid}.md)" if path else _name(tid)
        rows.append(f"| {link} | {entry['chapter']} | {entry['title']} | {cell} | {compared} |")
    total = len(index)
    summary = ", ".join(f"{n} {state}" for state, n in counts.items() if n)
    return "\n".join(
        [
            "# Thesis scoreboard",
            "",
            f"All {total} tables of the thesis (J. Bai, Cornell 2022) and where this pipeline stands on each: "
            f"{summary}. "
            "Generated from `config/thesis/index.yaml` (the published tables) and `results/tables/` by the "
            "`scoreboard` rule; never edited by hand. *Best here / thesis*: the method with the best headline metric "
            "in this run (its value) and the thesis' best among the same methods; *pairs*: method pairs ordered "
            "as in the thesis, with Kendall's tau.",
            "",
            "| table | chapter | what it compares | status | headline: best here / thesis, ordering |",
            "|---|---|---|---|---|",
            *rows,
            "",
        ]
    )


def write_scoreboard(
    index_yaml: str | os.PathLike[str], tables: Sequence[str | os.PathLike[str]], out_md: str | os.PathLike[str]
) -> None:
    """Render the scoreboard of ``index_yaml`` (its folder holds the thesis CSVs) and write it atomically."""
    text = render_scoreboard(load_index(index_yaml), Path(index_yaml).parent, tables)
    with atomic_path(out_md) as tmp:
        tmp.write_text(text)


def _name(tid: str) -> str:
    return tid.replace("table", "Table ").replace("_", ".")
