"""A table of this run beside the thesis' published numbers, for any table: ranks, ordering, markdown.

A table (``seqstruct.common.tables``: key columns, ``<metric>_mean/_std``, ``n_seeds``) and the thesis' CSV of
the same table (``config/thesis/<table>.csv``: key columns, ``<metric>``, ``<metric>_std``) are split into
*panels* by ``ComparisonSpec.panel_keys`` (e.g. crop and test year; dataset) and compared per panel on the
methods both have. The headline metric ranks the methods here and in the thesis (1 = best, by the metric's
direction); a method's ordering "agrees" when it holds the same rank, and Kendall's tau summarises all pairs.

The spec is stored in the table's meta.json (``ComparisonSpec.to_json``), so the scoreboard
(``seqstruct.common.scoreboard``) compares every produced table without knowing its domain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from seqstruct.common.tables import float_format

Panel = tuple[Any, ...]


@dataclass(frozen=True)
class ComparisonSpec:
    """How a table is compared with the thesis.

    Attributes
    ----------
    panel_keys : tuple of str
        Key columns that split the table into panels (the remaining key is ``method_key``).
    metrics : mapping
        Metric -> direction (``lower``/``higher``/``none``), in column order.
    headline : str
        The metric that ranks the methods.
    method_key : str
        The key column naming the compared methods.
    labels : mapping
        Metric -> column label (default: the metric name).
    panel_map : mapping
        Our panel -> the thesis panel it stands for (default: the same panel).
    method_map : mapping
        A thesis method name -> ours, where the thesis prints another name for the same method.
    thesis_only : tuple, optional
        The one thesis panel every panel of ours is compared with (the thesis has no other).
    decimals : int, optional
        Fixed decimals of the numbers; None: 4 significant digits.
    key_names : mapping, optional
        Panel key -> how a value of it is named in headings, e.g. ``{"snr": "SNR {}"}`` (default: the bare
        value, e.g. ``soybean 2017``).
    """

    panel_keys: tuple[str, ...]
    metrics: Mapping[str, str]
    headline: str
    method_key: str = "method"
    labels: Mapping[str, str] = field(default_factory=dict)
    panel_map: Mapping[Panel, Panel] = field(default_factory=dict)
    method_map: Mapping[str, str] = field(default_factory=dict)
    thesis_only: Panel | None = None
    decimals: int | None = None
    key_names: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.headline not in self.metrics:
            raise ValueError(f"headline {self.headline!r} is not one of the metrics {list(self.metrics)}")
        if self.metrics[self.headline] not in ("lower", "higher"):
            raise ValueError(
                f"headline {self.headline!r} needs a direction (lower or higher), not {self.metrics[self.headline]!r}"
            )

    def label(self, metric: str) -> str:
        """The column label of ``metric``."""
        return self.labels.get(metric, metric)

    def words(self, panel: Panel) -> str:
        """A panel in words: ``soybean 2017``; ``SNR 0.3`` with ``key_names={"snr": "SNR {}"}``."""
        names = [self.key_names.get(k, "{}").format(v) for k, v in zip(self.panel_keys, panel)]
        return (", " if self.key_names else " ").join(names)

    def thesis_panel(self, panel: Panel) -> Panel:
        """The thesis panel ``panel`` is compared with."""
        return self.thesis_only or self.panel_map.get(panel, panel)

    def number(self, value: float) -> str:
        """One number as the report prints it."""
        return float_format(decimals=self.decimals)(value)

    def to_json(self) -> dict[str, Any]:
        """A JSON-able form (panels and metrics as lists: JSON objects lose their order in a key-sorted file);
        ``from_json`` reads it back."""
        return {
            "panel_keys": list(self.panel_keys),
            "metrics": [[m, d] for m, d in self.metrics.items()],
            "headline": self.headline,
            "method_key": self.method_key,
            "labels": dict(self.labels),
            "panel_map": [[list(k), list(v)] for k, v in self.panel_map.items()],
            "method_map": dict(self.method_map),
            "thesis_only": list(self.thesis_only) if self.thesis_only else None,
            "decimals": self.decimals,
            "key_names": dict(self.key_names),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ComparisonSpec:
        """The spec written by ``to_json``."""
        return cls(
            panel_keys=tuple(d["panel_keys"]),
            metrics={m: w for m, w in d["metrics"]},
            headline=d["headline"],
            method_key=d.get("method_key", "method"),
            labels=dict(d.get("labels") or {}),
            panel_map={tuple(k): tuple(v) for k, v in d.get("panel_map") or []},
            method_map=dict(d.get("method_map") or {}),
            thesis_only=tuple(d["thesis_only"]) if d.get("thesis_only") else None,
            decimals=d.get("decimals"),
            key_names=dict(d.get("key_names") or {}),
        )


@dataclass
class PanelComparison:
    """One panel of ours beside its thesis panel.

    Attributes
    ----------
    panel, thesis_panel : tuple
        Our panel's key values and the thesis panel's.
    ours : pandas.DataFrame
        Our rows of the panel (table columns).
    thesis : pandas.DataFrame
        The thesis rows of the thesis panel, indexed by method.
    order : pandas.DataFrame
        ``ordering`` of the headline metric over the shared methods.
    best_here, best_thesis : str
        The best method here (all of ours) and in the thesis among our methods (``–`` when none is shared).
    """

    panel: Panel
    thesis_panel: Panel
    ours: pd.DataFrame
    thesis: pd.DataFrame
    order: pd.DataFrame
    best_here: str
    best_thesis: str

    @property
    def pairs_agree(self) -> int:
        """Method pairs ordered as in the thesis."""
        return int(self.order["pairs_agree"].sum() // 2) if len(self.order) > 1 else 0

    @property
    def pairs(self) -> int:
        """All pairs of shared methods."""
        return len(self.order) * (len(self.order) - 1) // 2

    @property
    def tau(self) -> float:
        """Kendall's tau of the two orderings."""
        return kendall_tau(self.order)


def ordering(ours: pd.Series, theirs: pd.Series, direction: str = "lower") -> pd.DataFrame:
    """How the ordering of the methods in both series (method -> metric) agrees with the thesis.

    Returns one row per shared method (index, in the order of ``ours``): ``rank`` here and ``thesis_rank``
    (1 = best: lowest for ``direction="lower"``, highest for ``"higher"``) and ``pairs_agree``, the number of
    other shared methods it is ordered against as in the thesis, out of ``pairs``.
    """
    if direction not in ("lower", "higher"):
        raise ValueError(f"ordering needs direction lower or higher, got {direction!r}")
    shared = [m for m in ours.index if m in theirs.index and pd.notna(theirs[m])]
    a, b = ours[shared].astype(float), theirs[shared].astype(float)
    agree = {m: int(sum(np.sign(a[m] - a[o]) == np.sign(b[m] - b[o]) for o in shared if o != m)) for m in shared}
    sign = 1.0 if direction == "lower" else -1.0
    return pd.DataFrame(
        {
            "rank": (sign * a).rank(method="min").astype(int),
            "thesis_rank": (sign * b).rank(method="min").astype(int),
            "pairs_agree": pd.Series(agree, dtype=int),
            "pairs": len(shared) - 1,
        },
        index=shared,
    )


def kendall_tau(order: pd.DataFrame) -> float:
    """Kendall's tau between the two orderings of ``ordering``: (agreeing - disagreeing) / all pairs."""
    n = len(order)
    if n < 2:
        return float("nan")
    agree = order["pairs_agree"].sum() / 2
    total = n * (n - 1) / 2
    return float((2 * agree - total) / total)


def compare(table: pd.DataFrame, thesis: pd.DataFrame, spec: ComparisonSpec) -> list[PanelComparison]:
    """Every panel of ``table`` (first-seen order) beside its thesis panel."""
    out = []
    keys, m, head = list(spec.panel_keys), spec.method_key, spec.headline
    sign = 1.0 if spec.metrics[head] == "lower" else -1.0
    groups = table.groupby(keys, sort=False) if keys else [((), table)]  # no panel keys: one panel of all rows
    for panel, rows in groups:
        panel = panel if isinstance(panel, tuple) else (panel,)
        tp = spec.thesis_panel(panel)
        mask = np.logical_and.reduce([thesis[k] == v for k, v in zip(keys, tp)]) if keys else np.ones(len(thesis), bool)
        th = thesis[mask].replace({m: dict(spec.method_map)}).set_index(m)
        order = ordering(
            rows.set_index(m)[f"{head}_mean"], th[head] if head in th else pd.Series(dtype=float), spec.metrics[head]
        )
        best_here = rows.loc[(sign * rows[f"{head}_mean"]).idxmin(), m]
        shared = th.loc[th.index.isin(rows[m]), head].dropna() if head in th else pd.Series(dtype=float)
        best_thesis = (sign * shared).idxmin() if len(shared) else "–"
        out.append(PanelComparison(panel, tp, rows, th, order, str(best_here), str(best_thesis)))
    return out


def unreproduced_panels(thesis: pd.DataFrame, spec: ComparisonSpec, panels: Sequence[Panel]) -> list[Panel]:
    """Thesis panels (first-seen order) that no panel of ours reproduces: compared only with a different
    panel through ``thesis_only``, or not compared at all. A ``panel_map`` stand-in counts as reproduced."""
    done = {spec.panel_map.get(p, p) for p in panels}
    keys = list(spec.panel_keys)
    seen = list(dict.fromkeys(tuple(r) for r in thesis[keys].itertuples(index=False))) if keys else []
    return [p for p in seen if p not in done]


def _cell(spec: ComparisonSpec, mean: float, std: float, n: int) -> str:
    return f"{spec.number(mean)} ± {spec.number(std)}" if n > 1 else spec.number(mean)


def _thesis_cell(spec: ComparisonSpec, row: pd.Series | None, metric: str) -> str:
    if row is None or metric not in row or pd.isna(row[metric]):
        return "–"
    std = row.get(f"{metric}_std")
    return (
        f"{spec.number(row[metric])} ± {spec.number(std)}"
        if std is not None and pd.notna(std)
        else spec.number(row[metric])
    )


def _order_cells(order: pd.DataFrame, method: str) -> list[str]:
    """The rank cell and the agreement cell of one method: "yes" when it holds the same place in the ordering
    here as in the thesis, with how many of its pairwise orderings agree (dashes when the thesis lacks it)."""
    if method not in order.index or len(order) < 2:
        return ["–", "–"]
    o = order.loc[method]
    verdict = "yes" if o["rank"] == o["thesis_rank"] else "no"
    return [f"{o['rank']} / {o['thesis_rank']}", f"{verdict} ({o['pairs_agree']}/{o['pairs']} pairs as in the thesis)"]


def default_panel_note(spec: ComparisonSpec, panel: Panel, thesis_panel: Panel) -> str:
    """`` (the thesis reports X only)`` or `` (stands in for the thesis' X)`` when the panels differ."""
    if thesis_panel == panel:
        return ""
    if spec.thesis_only:
        return f" (the thesis reports {spec.words(thesis_panel)} only)"
    return f" (stands in for the thesis' {spec.words(thesis_panel)})"


def render(
    table: pd.DataFrame,
    thesis: pd.DataFrame,
    spec: ComparisonSpec,
    title: str,
    intro: str,
    panel_note: Callable[[Panel, Panel], str] | None = None,
    panel_intro: Callable[[Panel], str] | None = None,
    extra_columns: Mapping[str, Callable[[Panel, str], str]] | None = None,
    unreproduced: Callable[[Panel], str] | None = None,
    sections: Sequence[str] = (),
) -> str:
    """Markdown: one section per panel of ``table`` beside its thesis panel.

    Parameters
    ----------
    table, thesis : pandas.DataFrame
        This run's table and the thesis' numbers of the same table.
    spec : ComparisonSpec
        Panels, metrics and their directions.
    title, intro : str
        The heading and the paragraph under it.
    panel_note : callable, optional
        ``panel_note(panel, thesis_panel)``: text after the section heading (default ``default_panel_note``).
    panel_intro : callable, optional
        ``panel_intro(panel)``: a sentence under the section heading ('' for none).
    extra_columns : mapping, optional
        Column label -> ``cell(panel, method)``, placed after the seeds column.
    unreproduced : callable, optional
        ``unreproduced(thesis_panel)``: one line for each thesis panel no panel reproduces (none by default).
    sections : sequence of str
        Further markdown sections (e.g. ``selection_section``), after the panels.
    """
    extra = dict(extra_columns or {})
    head = spec.label(spec.headline)
    best_word = "Lowest" if spec.metrics[spec.headline] == "lower" else "Highest"
    out = [f"# {title}: this run beside the thesis", "", intro, ""]
    results = compare(table, thesis, spec)
    for c in results:
        note = (panel_note or (lambda p, t: default_panel_note(spec, p, t)))(c.panel, c.thesis_panel)
        out += [f"## {spec.words(c.panel)}, thesis {spec.words(c.thesis_panel)}{note}", ""]
        if panel_intro is not None and (sentence := panel_intro(c.panel)):
            out += [sentence, ""]
        labels = [spec.label(m) for m in spec.metrics]
        out += [
            "| method | "
            + " | ".join(labels)
            + " | seeds |"
            + "".join(f" {k} |" for k in extra)
            + "".join(f" thesis {lab} |" for lab in labels)
            + f" {head} rank here / thesis | ordering agrees |",
            "|---|" + "---|" * (len(labels) + 1 + len(extra) + len(labels) + 2),
        ]
        for _, r in c.ours.iterrows():
            n, method = int(r["n_seeds"]), r[spec.method_key]
            cells = [
                str(method),
                *(_cell(spec, r[f"{m}_mean"], r[f"{m}_std"], n) for m in spec.metrics),
                str(n) if n > 1 else "1 (deterministic: std 0)",
            ]
            cells += [cell(c.panel, method) for cell in extra.values()]
            t = c.thesis.loc[method] if method in c.thesis.index else None
            cells += [_thesis_cell(spec, t, m) for m in spec.metrics]
            cells += _order_cells(c.order, method)
            out.append("| " + " | ".join(cells) + " |")
        out += [
            "",
            (f"{best_word} {head} here: **{c.best_here}**; in the thesis among these methods: **{c.best_thesis}**."),
        ]
        if len(c.order) > 1:
            out[-1] += (
                f" {head} ordering: {c.pairs_agree} of {c.pairs} method pairs ordered as in the thesis "
                f"(Kendall's tau {c.tau:+.2f})."
            )
        out.append("")
    for s in sections:
        out += [s.rstrip("\n"), ""]
    if unreproduced is not None:
        out += [unreproduced(p) for p in unreproduced_panels(thesis, spec, [c.panel for c in results])]
    return "\n".join(out).rstrip("\n") + "\n"


def selection_section(
    selections: Sequence[Mapping[str, Any]],
    split_key: str,
    split_label: str,
    metric_label: str,
    where: str,
    names: Mapping[str, str] | None = None,
    decimals: int | None = 4,
    heading: str = "Settings chosen on validation",
) -> str:
    """Markdown section: per method and split, the settings chosen on validation (``selection.json``)."""
    names = names or {}
    fmt = float_format(decimals=decimals)
    out = [
        f"## {heading}",
        "",
        "Grid searched with seed " + ", ".join(sorted({str(s["seed"]) for s in selections})) + f" {where}",
        "",
        f"| method | {split_label} | grid points | chosen | validation {metric_label} |",
        "|---|---|---|---|---|",
    ]
    for s in selections:
        best = fmt(s["points"][0]["score"]) if s["points"] else "– (one point: nothing to choose)"
        chosen = ", ".join(f"{k}={v}" for k, v in s["chosen"].items()) or "base settings (no grid)"
        out.append(
            f"| {names.get(s['method'], s['method'])} | {s[split_key]} | {max(1, len(s['points']))} | "
            f"{chosen} | {best} |"
        )
    return "\n".join(out) + "\n"
