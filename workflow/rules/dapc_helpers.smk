# Chapter 3.1 helpers for dapc.smk: constants, wildcard constraints, input functions, targets; no rules here.
from seqstruct.dapc.prepare import PREPARED_FILES as DAPC_PREPARED_FILES
from seqstruct.dapc.prepare import lorenz_name
from seqstruct.dapc.train import DETERMINISTIC as DAPC_DETERMINISTIC
from seqstruct.dapc.train import MODELS as DAPC_MODELS
from seqstruct.dapc.train import check_params as dapc_check_params
from seqstruct.dapc.train import known_params as dapc_known_params

DAPC = config["dapc"]
#: Lorenz data set name -> its SNR (lorenz_snr0.3 -> 0.3)
DAPC_LORENZ = {lorenz_name(s): float(s) for s in DAPC["lorenz"]["snrs"]}
#: every dapc rule's wildcards (the table names are explicit, so no other domain's table rule collides)
DAPC_WILDCARDS = {
    "method": "|".join(sorted(DAPC["methods"])) or "^$",
    "dataset": "|".join(sorted(DAPC_LORENZ)).replace(".", r"\.") or "^$",
    "lorenz": "|".join(sorted(DAPC_LORENZ)).replace(".", r"\.") or "^$",
    "seed": r"\d+",
    "table": "|".join(DAPC["tables"]) or "^$",
}


def dapc_fail(message):
    raise WorkflowError(f"config dapc: {message}")


def dapc_model(method):
    """The model (seqstruct.dapc.train.MODELS) of run name `method`."""
    return DAPC["methods"][method]["model"]


def dapc_params(method):
    """The settings of run `method`: those of dapc.train its model takes (deep models only; CPC has no
    decoder), merged with the method's own params."""
    model = dapc_model(method)
    known = set() if model in DAPC_DETERMINISTIC else dapc_known_params(model)
    base = {k: v for k, v in DAPC["train"].items() if k in known}
    return {**base, **DAPC["methods"][method].get("params", {})}


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
    for method, entry in DAPC["methods"].items():
        if entry["model"] not in DAPC_MODELS:
            dapc_fail(
                f"methods.{method}: model {entry['model']!r} is not one of {list(DAPC_MODELS)}"
            )
        try:
            dapc_check_params(entry["model"], dapc_params(method))
        except (ValueError, TypeError) as err:
            dapc_fail(
                f"settings of {method} (dapc.train / methods.{method}.params): {err}"
            )
    for table, rows in DAPC["tables"].items():
        for row, method in rows.items():
            if method not in DAPC["methods"]:
                dapc_fail(
                    f"tables.{table}.{row}: {method!r} is not in dapc.methods {sorted(DAPC['methods'])}"
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


def dapc_tables():
    """The DAPC thesis tables of the config (CSV paths)."""
    return expand("results/tables/{table}.csv", table=list(DAPC["tables"]))


def dapc_targets():
    """Every DAPC table, meta and report of the config and the Figure 3.2 panels."""
    targets = expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=list(DAPC["tables"]),
    )
    if DAPC_LORENZ:
        targets.append("results/figures/figure3_2_upper.png")
    if DAPC_LORENZ and DAPC["figure_table"] in DAPC["tables"]:
        targets += expand(
            "results/figures/figure3_2_lower_{lorenz}.png", lorenz=list(DAPC_LORENZ)
        )
    return targets
