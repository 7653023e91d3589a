"""A table's ``meta.json``: what it must hold, finding and reading it, and printing it readably.

``seqstruct.common.tables.write_table`` writes the file; ``seqstruct provenance results/tables/table2_1.csv``
(``seqstruct.cli``) prints ``format_meta(load_meta(...))``. Files written before runs recorded their own
provenance (``metrics.json`` without a ``provenance`` entry) are read too: what they lack shows as ``?``.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from pathlib import Path
from typing import Any

from seqstruct.common.errors import InputError

#: what every table's meta.json holds (DESIGN.md: dataset checksums, code version, seeds, scale, timing)
META_KEYS = ("table", "created_utc", "git", "packages", "datasets", "scale", "seeds", "wall_time_seconds", "runs")
#: the part of ``META_KEYS`` that the caller of ``write_table`` passes in; ``write_table`` fills in the rest
CALLER_META_KEYS = ("scale", "datasets")
#: what each run of meta.json copies from the top level of the run's metrics.json (besides the table keys)
RUN_KEYS = ("seed", "seconds", "device", "best_epoch", "epochs_run")
#: what each run of meta.json copies from the ``provenance`` entry of the run's metrics.json
RUN_PROVENANCE_KEYS = ("commit", "dirty", "host", "slurm_job_id", "finished_utc", "inputs")
#: where tables live, for a target given as a bare table name
TABLES_DIR = Path("results/tables")
SHORT = 12  # hex digits shown of a checksum or of the table's commit
#: run fields with a column of their own (any other field of a run is a table key and comes first)
_RUN_FIELDS = (*RUN_KEYS, *RUN_PROVENANCE_KEYS)
#: top-level keys printed in their own place; anything else is listed under "other"
_SHOWN = {
    "table",
    "keys",
    "metrics",
    "directions",
    "number_format",
    "created_utc",
    "host",
    "python",
    "platform",
    "git",
    "scale",
    "source",
    "split",
    "seeds",
    "wall_time_seconds",
    "std",
    "datasets",
    "packages",
    "methods",
    "thesis",
    "runs",
}


def missing_keys(meta: dict[str, Any]) -> list[str]:
    """The keys of ``META_KEYS`` that ``meta`` lacks (empty for a complete record)."""
    return [k for k in META_KEYS if k not in meta]


def meta_path(target: str | Path) -> Path:
    """The meta.json of ``target``: a table CSV, a ``.meta.json``, or a bare table name (in ``TABLES_DIR``).

    Raises
    ------
    InputError
        For any other kind of path.
    """
    p = Path(target)
    if p.name.endswith(".meta.json"):
        return p
    if p.suffix == ".csv":
        return p.with_suffix(".meta.json")
    if not p.suffix and p.parent == Path("."):
        return TABLES_DIR / f"{p.name}.meta.json"
    raise InputError(
        f"{target}: not a table; give its CSV, its .meta.json or its name, e.g. {TABLES_DIR / 'table2_1.csv'}"
    )


def load_meta(target: str | Path) -> dict[str, Any]:
    """Read the meta.json of ``target`` (see ``meta_path``).

    Raises
    ------
    InputError
        One line naming the file and the fix when it is missing, unreadable or not a JSON object.
    """
    path = meta_path(target)
    csv = path.with_name(path.name.removesuffix(".meta.json") + ".csv")
    rebuild = f"rebuild it with `snakemake --cores 2 --force {csv}`"
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{path} not found: run `snakemake --cores 2 {csv}` first") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{path} is not valid JSON ({e}): {rebuild}") from None
    except OSError as e:
        raise InputError(f"{path} cannot be read ({e.strerror})") from None
    if not isinstance(meta, dict):
        raise InputError(f"{path} holds a JSON {type(meta).__name__}, not a table's meta object: {rebuild}")
    for key, kinds in _TYPES.items():
        if key in meta and meta[key] is not None and not isinstance(meta[key], kinds):
            want = " or ".join(dict.fromkeys(_with_article(_JSON_NAMES[k]) for k in kinds))
            raise InputError(f"{path}: key {key!r} holds a JSON {_json_name(meta[key])}, expected {want}: {rebuild}")
    for key, kinds in (("runs", dict), ("datasets", dict)):
        items = meta.get(key) or []
        for i, item in enumerate(items.values() if isinstance(items, dict) else items):
            if not isinstance(item, kinds):
                raise InputError(
                    f"{path}: entry #{i + 1} of {key!r} holds a JSON {_json_name(item)}, expected an object: {rebuild}"
                )
    return meta


def incomplete_error(target: str | Path, meta: dict[str, Any]) -> InputError | None:
    """The error to end ``seqstruct provenance`` with when ``meta`` lacks required keys; None if complete."""
    missing = missing_keys(meta)
    if not missing:
        return None
    path = meta_path(target)
    csv = path.with_name(path.name.removesuffix(".meta.json") + ".csv")
    return InputError(
        f"{path} is incomplete: it lacks {', '.join(missing)}; rebuild it with `snakemake --cores 2 --force {csv}`"
    )


#: JSON types of the top-level keys that ``format_meta`` reads (``None`` is accepted as "not recorded")
_TYPES: dict[str, tuple[type, ...]] = {
    "table": (str,),
    "created_utc": (str,),
    "scale": (str,),
    "git": (dict,),
    "packages": (dict,),
    "datasets": (dict,),
    "methods": (dict,),
    "seeds": (list,),
    "runs": (list,),
    "wall_time_seconds": (int, float),
}
_JSON_NAMES = {bool: "boolean", str: "string", dict: "object", list: "array", int: "number", float: "number"}


def _json_name(value: Any) -> str:
    return "null" if value is None else _JSON_NAMES.get(type(value), type(value).__name__)


def _with_article(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def format_meta(meta: dict[str, Any]) -> str:
    """``meta`` as readable text: header fields, datasets, packages, method settings, then one line per run."""
    runs: list[dict[str, Any]] = meta.get("runs") or []
    git = meta.get("git") or {}
    env = ", ".join(f"{label}{meta[k]}" for k, label in (("python", "Python "), ("platform", "")) if meta.get(k))
    header = [
        ("table", meta.get("table", "?")),
        ("created", f"{meta.get('created_utc', '?')} on {meta.get('host', '?')}" + (f" ({env})" if env else "")),
        ("code", _commit(git.get("commit"), git.get("dirty"), SHORT)),
        ("training code", _training_code(git, runs)),
        ("metrics", _metrics(meta)),
        ("scale", meta.get("scale", "?")),
        ("source", meta.get("source", "?")),
        ("split", meta.get("split", "?")),
        ("seeds", _join(meta.get("seeds"))),
        ("wall time", _wall_time(meta.get("wall_time_seconds"), len(runs))),
        ("std", meta.get("std", "?")),
    ]
    if missing := missing_keys(meta):
        header.append(("INCOMPLETE", f"lacks {', '.join(missing)}"))
    lines = _align([[f"{k}:", str(v)] for k, v in header], indent="")
    lines += ["", "datasets (raw files, sha256):"]
    for dataset, files in (meta.get("datasets") or {}).items():
        lines.append(f"  {dataset}")
        lines += _align([[name, str(sha)[:SHORT]] for name, sha in files.items()], indent="    ")
    inputs = Counter((path, sha) for r in runs for path, sha in (r.get("inputs") or {}).items())
    if inputs:
        lines += ["", "prepared data read by the runs (sha256):"]
        lines += _align([[path, sha[:SHORT], _n_runs(n)] for (path, sha), n in inputs.items()])
    packages = ", ".join(f"{k} {v or '-'}" for k, v in (meta.get("packages") or {}).items())
    lines += ["", "packages:", *textwrap.wrap(packages, 100, initial_indent="  ", subsequent_indent="  ")]
    if methods := meta.get("methods"):
        lines += ["", "methods:"]
        width = max(map(len, methods))
        for m, settings in methods.items():
            text = " ".join(f"{k}={_value(v)}" for k, v in settings.items())
            lines += textwrap.wrap(text, 100, initial_indent=f"  {m:<{width}}  ", subsequent_indent=" " * (width + 4))
    lines += ["", f"runs ({len(runs)}):", *_runs_table(runs, meta.get("keys") or [])]
    if other := {k: v for k, v in meta.items() if k not in _SHOWN}:
        lines += ["", "other:", *_align([[k, json.dumps(v)] for k, v in other.items()])]
    return "\n".join(lines)


def _metrics(meta: dict[str, Any]) -> str:
    """The metrics with their directions (``rmse (lower)``) and the number format, as far as recorded."""
    ways = meta.get("directions") or {}
    text = _join([f"{m} ({ways[m]})" if m in ways else m for m in meta["metrics"]] if meta.get("metrics") else None)
    return text + (f"; {meta['number_format']}" if meta.get("number_format") else "")


def _runs_table(runs: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """One aligned line per run, table ``keys`` first; ``?`` where a run did not record its provenance."""
    keys = list(dict.fromkeys([*keys, *(k for r in runs for k in r if k not in _RUN_FIELDS)]))
    rows = [
        [*(k.replace("_", " ") for k in keys), "seed", "device", "seconds", "epochs", "host", "slurm job", "commit"]
    ]
    for r in runs:
        known = r.get("host") is not None  # every run that recorded provenance recorded its host
        epochs = "-" if r.get("epochs_run") is None else f"{_value(r.get('best_epoch'))}/{r['epochs_run']}"
        seconds = "-" if r.get("seconds") is None else f"{r['seconds']:.1f}"
        slurm = r.get("slurm_job_id") or ("-" if known else "?")
        rows.append(
            [
                *(_value(r.get(k)) for k in keys),
                _value(r.get("seed")),
                _value(r.get("device")),
                seconds,
                epochs,
                r.get("host") or "?",
                str(slurm),
                _commit(r.get("commit"), r.get("dirty"), 7),
            ]
        )
    lines = _align(rows)
    if any(r.get("host") is None for r in runs):
        lines.append("  ? = not recorded (metrics.json written before runs recorded their provenance)")
    if any(r.get("dirty") for r in runs):
        lines.append("  + = trained with uncommitted changes")
    return lines


def _training_code(git: dict[str, Any], runs: list[dict[str, Any]]) -> str:
    """The commits the runs were trained at, when they differ from the table's; else that they agree."""
    counts = Counter((r.get("commit"), r.get("dirty")) for r in runs if r.get("host") is not None)
    unknown = sum(r.get("host") is None for r in runs)
    parts = [] if not unknown else [f"not recorded for {_n_runs(unknown)}"]
    if set(counts) == {(git.get("commit"), git.get("dirty"))} and not unknown:
        return f"same as the table's ({_n_runs(len(runs))})"
    parts += [f"{_commit(c, d, SHORT)} ({_n_runs(n)})" for (c, d), n in counts.items()]
    return "; ".join(parts) or "no runs"


def _commit(sha: str | None, dirty: bool | None, n: int) -> str:
    """``sha`` shortened to ``n`` digits; ``+`` when dirty (n < 12) or `` (uncommitted changes)``; ``?`` if None."""
    if not sha:
        return "?"
    if n < SHORT:
        return sha[:n] + ("+" if dirty else "")
    return sha[:n] + (" (uncommitted changes)" if dirty else " (clean)" if dirty is False else "")


def _wall_time(seconds: float | None, n_runs: int) -> str:
    if seconds is None:
        return "?"
    return f"{seconds:.1f} s ({seconds / 60:.1f} min) summed over {_n_runs(n_runs)}"


def _n_runs(n: int) -> str:
    return f"{n} run" if n == 1 else f"{n} runs"


def _join(values: list[Any] | None) -> str:
    return "?" if values is None else ", ".join(map(str, values))


def _value(v: Any) -> str:
    """A setting or cell as short text: lists comma-joined, None as ``-``."""
    if v is None:
        return "-"
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)


def _align(rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Rows of cells as lines with left-aligned columns (the last column is not padded)."""
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    return [indent + "  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths)), r[-1]]) for r in rows]
