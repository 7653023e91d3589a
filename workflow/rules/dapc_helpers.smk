# Chapter 3.1 helpers for dapc.smk: constants, wildcard constraints, input functions, targets; no rules here.
import re

from seqstruct.dapc.prepare import PREPARED_FILES as DAPC_PREPARED_FILES
from seqstruct.dapc.prepare import SERIES_ROLES as DAPC_SERIES_ROLES
from seqstruct.dapc.prepare import lorenz_name
from seqstruct.dapc.train import DETERMINISTIC as DAPC_DETERMINISTIC
from seqstruct.dapc.train import MODELS as DAPC_MODELS
from seqstruct.dapc.train import check_params as dapc_check_params
from seqstruct.dapc.train import known_params as dapc_known_params
from seqstruct.dapc.train import dim_variants as dapc_dim_variants
from seqstruct.dapc.train import run_settings as dapc_run_settings

DAPC = config["dapc"]


def dapc_fail(message):
    raise WorkflowError(f"config dapc: {message}")


try:  # the runs of dapc.methods plus those Figure 3.6 derives (<run>_d<d>: <run> with d latent dimensions)
    DAPC = {**DAPC, "methods": {**DAPC["methods"], **dapc_dim_variants(DAPC)}}
except ValueError as err:
    dapc_fail(str(err))

#: Lorenz data set name -> its SNR (lorenz_snr0.3 -> 0.3)
DAPC_LORENZ = {lorenz_name(s): float(s) for s in DAPC["lorenz"]["snrs"]}
#: real forecasting series name -> its spec (dapc.series)
DAPC_SERIES = DAPC.get("series", {})
DAPC_FORECAST_TABLES = DAPC.get("forecast_tables", {})


def dapc_alternatives(names):
    """A wildcard constraint matching exactly `names` (none: nothing)."""
    return "|".join(re.escape(n) for n in sorted(names)) or "^$"


#: every dapc rule's wildcards (the table names are explicit, so no other domain's table rule collides)
DAPC_WILDCARDS = {
    "method": dapc_alternatives(DAPC["methods"]),
    "dataset": dapc_alternatives([*DAPC_LORENZ, *DAPC_SERIES]),
    "lorenz": dapc_alternatives(DAPC_LORENZ),
    "series": dapc_alternatives(DAPC_SERIES),
    "seed": r"\d+",
    "table": dapc_alternatives(DAPC["tables"]),
    "ftable": dapc_alternatives(DAPC_FORECAST_TABLES),
}


def dapc_model(method):
    """The model (seqstruct.dapc.train.MODELS) of run name `method`."""
    return DAPC["methods"][method]["model"]


def dapc_params(method, dataset=None):
    """The settings of run `method` on `dataset` (seqstruct.dapc.train.run_settings)."""
    return dapc_run_settings(DAPC, method, dataset)


def dapc_series_files(name):
    """Role -> raw file name of series `name`, checked against its kind and registry entry."""
    spec = DAPC_SERIES[name]
    roles = DAPC_SERIES_ROLES[spec["kind"]]
    if sorted(spec["files"]) != sorted(roles):
        dapc_fail(
            f"series.{name}.files: a {spec['kind']} series needs the roles {list(roles)}, got {sorted(spec['files'])}"
        )
    if spec["registry"] not in REGISTRY:
        dapc_fail(
            f"series.{name}.registry: {spec['registry']!r} is not in {config['registry']}"
        )
    names = [f.name for f in REGISTRY[spec["registry"]].files]
    for role, file in spec["files"].items():
        if file not in names:
            dapc_fail(
                f"series.{name}.files.{role}: {file!r} is not a file of registry entry {spec['registry']} {names}"
            )
    return dict(spec["files"])


def dapc_series_inputs(wildcards):
    """Input function of prepare_dapc_series: the raw files by role and their verify_raw stamps."""
    reg = DAPC_SERIES[wildcards.series]["registry"]
    files = dapc_series_files(wildcards.series)
    return {
        **{
            role: ancient(f"resources/raw/{reg}/{file}") for role, file in files.items()
        },
        "verified": [
            ancient(f"resources/verified/{reg}/{file}.json") for file in files.values()
        ],
    }


def dapc_series_checksums(wildcards):
    """Registry sha256 of the raw files of a series (a params entry: a registry change reruns prepare)."""
    spec = DAPC_SERIES[wildcards.series]
    return {
        f: REGISTRY[spec["registry"]].sha256_of(f)
        for f in dapc_series_files(wildcards.series).values()
    }


def dapc_check_settings():
    """Parse time: an unknown model, a misspelt setting or a table row naming no method fails the dry run."""
    deep = set().union(
        *(dapc_known_params(m) for m in DAPC_MODELS if m not in DAPC_DETERMINISTIC)
    )
    unknown = sorted(set(DAPC["train"]) - deep)
    if unknown:
        dapc_fail(
            f"train: {unknown} is no setting of any deep model; valid: {sorted(deep)}"
        )
    clash = sorted(set(DAPC_SERIES) & set(DAPC_LORENZ))
    if clash:
        dapc_fail(f"series {clash} share a name with the Lorenz data sets")
    for name in DAPC_SERIES:
        dapc_series_files(name)
    for method, entry in DAPC["methods"].items():
        if entry["model"] not in DAPC_MODELS:
            dapc_fail(
                f"methods.{method}: model {entry['model']!r} is not one of {list(DAPC_MODELS)}"
            )
        for dataset in [None, *DAPC_SERIES]:
            try:
                dapc_check_params(entry["model"], dapc_params(method, dataset))
            except (ValueError, TypeError) as err:
                where = f"series.{dataset}.params / " if dataset else ""
                dapc_fail(
                    f"settings of {method} (dapc.train / {where}methods.{method}.params): {err}"
                )
    tables = {
        **DAPC["tables"],
        **{t: spec["rows"] for t, spec in DAPC_FORECAST_TABLES.items()},
    }
    figure = DAPC.get("forecast_figure", {})
    if figure:
        tables["forecast_figure"] = {
            **figure.get("rows", {}),
            "baseline": figure.get("baseline", ""),
        }
    dims = DAPC.get("dims_figure") or {}
    if dims.get("baseline") and dims.get("series") not in DAPC_SERIES:
        dapc_fail(
            f"dims_figure.series: {dims.get('series')!r} is not in dapc.series {sorted(DAPC_SERIES)}"
        )
    for table, rows in tables.items():
        for row, method in rows.items():
            if method not in DAPC["methods"]:
                dapc_fail(
                    f"tables.{table}.{row}: {method!r} is not in dapc.methods {sorted(DAPC['methods'])}"
                )
    for table, spec in DAPC_FORECAST_TABLES.items():
        for name in spec["series"]:
            if name not in DAPC_SERIES:
                dapc_fail(
                    f"forecast_tables.{table}.series: {name!r} is not in dapc.series {sorted(DAPC_SERIES)}"
                )
        for row, without in spec.get("gains", {}).items():
            if row not in spec["rows"] or without not in spec["rows"]:
                dapc_fail(
                    f"forecast_tables.{table}.gains: {row!r} and {without!r} must both be rows of the table"
                )


dapc_check_settings()


def dapc_prepared(dataset):
    """The prepared files of `dataset` (seqstruct.dapc.prepare.PREPARED_FILES)."""
    return [f"results/data/dapc/{dataset}/{name}" for name in DAPC_PREPARED_FILES]


def dapc_seeds(method):
    """Seeds of run `method`: every configured seed, or the first one for a deterministic model."""
    return seeds_for(dapc_model(method), DAPC_DETERMINISTIC)


def dapc_run_dir(method, dataset, seed):
    """The folder of one run."""
    return f"results/models/dapc/{method}/{dataset}/seed{seed}"


def dapc_table_runs(table):
    """(run folder, row name, SNR) of every run of a Lorenz table: per SNR, row and seed."""
    return [
        (dapc_run_dir(method, dataset, seed), row, snr)
        for dataset, snr in DAPC_LORENZ.items()
        for row, method in DAPC["tables"][table].items()
        for seed in dapc_seeds(method)
    ]


def dapc_table_metrics(wildcards):
    """metrics.json of every run of a table."""
    return [f"{run}/metrics.json" for run, _, _ in dapc_table_runs(wildcards.table)]


def dapc_figure_rows():
    """Row name -> run of the table whose methods Figure 3.2 (lower) draws (dapc.figure_table)."""
    return dict(DAPC["tables"].get(DAPC["figure_table"], {}))


def dapc_lorenz_latents(wildcards):
    """latents.npz of the first seed of every run of dapc_figure_rows() on one Lorenz data set."""
    return [
        f"{dapc_run_dir(m, wildcards.lorenz, dapc_seeds(m)[0])}/latents.npz"
        for m in dapc_figure_rows().values()
    ]


def dapc_forecast_runs(table):
    """(run folder, row name, series) of every run of a forecasting table: per series, row and seed."""
    spec = DAPC_FORECAST_TABLES[table]
    return [
        (dapc_run_dir(method, series, seed), row, series)
        for series in spec["series"]
        for row, method in spec["rows"].items()
        for seed in dapc_seeds(method)
    ]


def dapc_forecast_metrics(wildcards):
    """metrics.json of every run of a forecasting table."""
    return [f"{run}/metrics.json" for run, _, _ in dapc_forecast_runs(wildcards.ftable)]


def dapc_figure_runs():
    """(run folder, row name, series) of every run Figure 3.5 draws: the baseline (its run name as row name)
    and the rows, on every series (none without series or a baseline)."""
    figure = DAPC.get("forecast_figure", {})
    if not (DAPC_SERIES and figure.get("baseline")):
        return []
    rows = {figure["baseline"]: figure["baseline"], **figure.get("rows", {})}
    return [
        (dapc_run_dir(method, series, seed), row, series)
        for series in DAPC_SERIES
        for row, method in rows.items()
        for seed in dapc_seeds(method)
    ]


def dapc_dims_runs():
    """(run folder, row name, d) of every run Figure 3.6 draws: the baseline (its run name as row name) and the
    rows at each d of dapc.dims_figure, on its series (none without a baseline)."""
    figure = DAPC.get("dims_figure") or {}
    if not figure.get("baseline"):
        return []
    rows = {figure["baseline"]: figure["baseline"], **figure.get("rows", {})}
    return [
        (dapc_run_dir(f"{method}_d{d}", figure["series"], seed), row, d)
        for d in figure.get("dims", [])
        for row, method in rows.items()
        for seed in dapc_seeds(method)
    ]


def dapc_tables():
    """The DAPC thesis tables of the config (CSV paths)."""
    return expand(
        "results/tables/{table}.csv",
        table=[*DAPC["tables"], *DAPC_FORECAST_TABLES],
    )


def dapc_targets():
    """Every DAPC table, meta and report of the config, the Figure 3.2 panels and Figure 3.5."""
    targets = expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=[*DAPC["tables"], *DAPC_FORECAST_TABLES],
    )
    if DAPC_LORENZ:
        targets.append("results/figures/figure3_2_upper.png")
    if DAPC_LORENZ and DAPC["figure_table"] in DAPC["tables"]:
        targets += expand(
            "results/figures/figure3_2_lower_{lorenz}.png", lorenz=list(DAPC_LORENZ)
        )
    if dapc_figure_runs():
        targets.append("results/figures/figure3_5.png")
    if dapc_dims_runs():
        targets.append("results/figures/figure3_6.png")
    return targets
