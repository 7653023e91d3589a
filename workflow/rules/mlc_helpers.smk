# Chapter 2.3 helpers for mlc.smk: constants, wildcard constraints, input functions, targets; no rules here.
from seqstruct.mlc.formats import FormatError, roles
from seqstruct.mlc.prepare import PREPARED_FILES as MLC_PREPARED_FILES
from seqstruct.mlc.train import DETERMINISTIC as MLC_DETERMINISTIC
from seqstruct.mlc.train import METHODS as MLC_METHODS
from seqstruct.mlc.train import check_params as mlc_check_params

MLC = config["mlc"]


#: the ablation runs: a variant is a method with settings merged over the method's validation-chosen ones;
#: Figure 2.20's data fractions are variants <method>_p<percent> of their own
def mlc_fraction_run(method, pct):
    """The run of `method` on `pct` percent of the training data (the method itself at 100)."""
    return method if pct == 100 else f"{method}_p{pct}"


MLC_VARIANTS = {
    **{
        mlc_fraction_run(m, pct): {"method": m, "params": {"train_fraction": pct / 100}}
        for m in MLC["fractions"]["methods"]
        for pct in MLC["fractions"]["percents"]
        if pct < 100
    },
    **MLC["variants"],
}
#: the data sets that run (names of the catalogue mlc.datasets)
MLC_USED = list(
    dict.fromkeys(
        [
            *MLC["table_datasets"],
            *MLC["extra_datasets"],
            *(MLC["ablation_datasets"] if MLC["ablations"] else []),
            *(MLC["fractions"]["datasets"] if MLC["fractions"]["methods"] else []),
            *MLC["embedding_figure"]["datasets"],
        ]
    )
)
#: the tables made from the MLC runs: Tables 2.8-2.10 of `table_datasets`, mlc_extras with the same methods on
#: `extra_datasets`, and the ablation Tables 2.12-2.14 on `ablation_datasets`
MLC_RUN_TABLES = [*MLC["tables"], "mlc_extras", *MLC["ablations"]]
#: every mlc rule's wildcards (the table names are explicit, so no other domain's table rule collides)
MLC_WILDCARDS = {
    "method": "|".join(sorted(MLC_METHODS)),
    "run": "|".join(sorted([*MLC_METHODS, *MLC_VARIANTS])),
    "dataset": "|".join(sorted(MLC_USED)) or "^$",
    "seed": r"\d+",
    "table": "|".join(MLC_RUN_TABLES),
}


def mlc_fail(message):
    raise WorkflowError(f"config mlc: {message}")


for _name in [
    *MLC_USED,
    *MLC["overrides"],
    *MLC["dataset_grids"],
]:  # parse time: one line naming the key
    if _name not in MLC["datasets"]:
        mlc_fail(
            f"data set {_name!r} (table_datasets / extra_datasets / overrides / dataset_grids) is not in mlc.datasets "
            f"{sorted(MLC['datasets'])}"
        )


def mlc_methods():
    """Every method of the configured MLC tables, in METHODS order."""
    return [m for m in MLC_METHODS if any(m in ms for ms in MLC["tables"].values())]


def mlc_settings(method, dataset):
    """Base settings of `method` on `dataset`: mlc.methods merged with mlc.overrides.<dataset>."""
    return {
        **MLC["methods"].get(method, {}),
        **MLC["overrides"].get(dataset, {}).get(method, {}),
    }


def mlc_grid(method, dataset):
    """The validation grid of `method` on `dataset`: mlc.dataset_grids.<dataset>.<method>, else mlc.grids."""
    own = MLC["dataset_grids"].get(dataset, {})
    return own[method] if method in own else MLC["grids"].get(method, {})


def mlc_check_settings():
    """Parse time: a misspelt or refused setting fails the dry run with one line naming the valid ones."""
    for name, v in MLC_VARIANTS.items():
        if v["method"] not in MLC_METHODS:
            mlc_fail(
                f"variant {name!r} names method {v['method']!r}; known: {sorted(MLC_METHODS)}"
            )
    for run in [*MLC_METHODS, *MLC_VARIANTS]:
        method, extra = mlc_base(run), mlc_variant_params(run)
        for dataset in MLC_USED:
            grid = mlc_grid(method, dataset)
            for point in [{}] + [{k: v[0]} for k, v in grid.items()]:
                try:
                    mlc_check_params(
                        method, {**mlc_settings(method, dataset), **point, **extra}
                    )
                except (ValueError, TypeError) as err:
                    mlc_fail(
                        f"settings of {run} on {dataset} (methods / overrides / grids / variants): {err}"
                    )
    for table, rows in MLC["ablations"].items():
        for row, run in rows.items():
            if run not in MLC_METHODS and run not in MLC_VARIANTS:
                mlc_fail(
                    f"ablations.{table}.{row}: {run!r} is neither a method nor a variant"
                )


def mlc_base(run):
    """The method of a run name (a method, or a variant of one)."""
    return MLC_VARIANTS[run]["method"] if run in MLC_VARIANTS else run


def mlc_variant_params(run):
    """A variant's settings on top of its method's chosen ones ({} for a method)."""
    return dict(MLC_VARIANTS[run].get("params", {})) if run in MLC_VARIANTS else {}


mlc_check_settings()


def mlc_files(dataset):
    """Role -> raw file name of `dataset` (seqstruct.mlc.formats.roles), from its registry entry or, for a
    synthetic source, the Mulan files the synthetic rule writes."""
    entry = MLC["datasets"][dataset]
    if MLC["source"] == "synthetic":
        if entry["format"] != "mulan":
            mlc_fail(
                f"the synthetic source writes Mulan files; data set {dataset!r} has format {entry['format']}"
            )
        names = [f"{dataset}-train.arff", f"{dataset}-test.arff", f"{dataset}.xml"]
    else:
        if "registry" not in entry:
            mlc_fail(
                f"data set {dataset!r} names no registry id (mlc.datasets.{dataset}.registry)"
            )
        if entry["registry"] not in REGISTRY:
            try:
                get_dataset(entry["registry"], config["registry"])
            except DataError as err:
                mlc_fail(f"datasets.{dataset}: {err}")
        names = [f.name for f in REGISTRY[entry["registry"]].files]
    try:
        return roles(entry["format"], names, f"mlc data set {dataset!r}")
    except FormatError as err:
        raise WorkflowError(str(err)) from None


def mlc_raw_dir(dataset):
    """Where the raw files of `dataset` are: resources/raw/<registry id> or the synthetic stand-in's folder."""
    if MLC["source"] == "synthetic":
        return "resources/raw/synthetic_mlc"
    return f"resources/raw/{MLC['datasets'][dataset]['registry']}"


def mlc_raw_files(dataset):
    """Role -> raw path of `dataset` (ancient: the files are checksum-verified, a new mtime retrains nothing)."""
    return {
        role: ancient(f"{mlc_raw_dir(dataset)}/{name}")
        for role, name in mlc_files(dataset).items()
    }


def mlc_stamps(dataset):
    """verify_raw stamps of the raw files of `dataset` (none for the synthetic source)."""
    if MLC["source"] == "synthetic":
        return []
    reg = MLC["datasets"][dataset]["registry"]
    return [
        ancient(f"resources/verified/{reg}/{name}.json")
        for name in mlc_files(dataset).values()
    ]


def mlc_prepare_inputs(wildcards):
    """Input function of prepare_mlc: the raw files by role and their verify_raw stamps."""
    return {
        **mlc_raw_files(wildcards.dataset),
        "verified": mlc_stamps(wildcards.dataset),
    }


def mlc_checksums(wildcards):
    """Registry sha256 of the raw files of a data set (a params entry: a registry change reruns prepare)."""
    if MLC["source"] == "synthetic":
        return {}
    spec = REGISTRY[MLC["datasets"][wildcards.dataset]["registry"]]
    return {n: spec.sha256_of(n) for n in mlc_files(wildcards.dataset).values()}


def mlc_prepared(dataset):
    """The prepared files of `dataset` (seqstruct.mlc.prepare.PREPARED_FILES)."""
    return [f"results/data/mlc/{dataset}/{name}" for name in MLC_PREPARED_FILES]


def mlc_table_datasets(table):
    """The data sets of a run table."""
    if table in MLC["ablations"]:
        return list(MLC["ablation_datasets"])
    return list(MLC["extra_datasets" if table == "mlc_extras" else "table_datasets"])


def mlc_table_rows(table):
    """Row name -> run (a method or a variant) of a run table, in table order."""
    if table in MLC["ablations"]:
        return dict(MLC["ablations"][table])
    methods = mlc_methods() if table == "mlc_extras" else MLC["tables"][table]
    return {MLC_METHODS[m]: m for m in methods}


def mlc_run_dir(run, dataset, seed):
    """The folder of one training run."""
    return f"results/models/mlc/{run}/{dataset}/seed{seed}"


def mlc_table_runs(table):
    """(run folder, row name) of every run of a run table: per data set, row and seed (the first seed only for a
    deterministic method)."""
    return [
        (mlc_run_dir(run, dataset, seed), name)
        for dataset in mlc_table_datasets(table)
        for name, run in mlc_table_rows(table).items()
        for seed in seeds_for(mlc_base(run), MLC_DETERMINISTIC)
    ]


def mlc_dataset_metrics(dataset):
    """metrics.json of every run of the run tables' methods on `dataset` (the target mlc_dataset_runs)."""
    return [
        f"{mlc_run_dir(method, dataset, seed)}/metrics.json"
        for method in mlc_methods()
        for seed in seeds_for(method, MLC_DETERMINISTIC)
    ]


def mlc_table_metrics(wildcards):
    """metrics.json of every run of a run table."""
    return [f"{run}/metrics.json" for run, _ in mlc_table_runs(wildcards.table)]


def mlc_table_names(wildcards):
    """The row name of each metrics.json of mlc_table_metrics, in the same order."""
    return [name for _, name in mlc_table_runs(wildcards.table)]


def mlc_table_selections(wildcards):
    """selection.json of every (method, data set) of a run table (a variant's is its method's)."""
    methods = dict.fromkeys(
        mlc_base(r) for r in mlc_table_rows(wildcards.table).values()
    )
    return [
        f"results/models/mlc/{method}/{dataset}/selection.json"
        for dataset in mlc_table_datasets(wildcards.table)
        for method in methods
    ]


def mlc_fraction_metrics(wildcards):
    """metrics.json of Figure 2.20's runs: each fraction method at each percent (100: the method itself) on each
    fraction data set, every seed."""
    f = MLC["fractions"]
    return [
        f"{mlc_run_dir(mlc_fraction_run(m, pct), d, seed)}/metrics.json"
        for d in f["datasets"]
        for m in f["methods"]
        for pct in f["percents"]
        for seed in seeds_for(m, MLC_DETERMINISTIC)
    ]


def mlc_datasets_of(wildcards):
    """The data sets behind a table: a run table's, or table_datasets (Table 2.11, which has no wildcard)."""
    table = getattr(wildcards, "table", None)
    if table in MLC_RUN_TABLES:
        return mlc_table_datasets(table)
    return list(MLC["table_datasets"])


def mlc_table_raw(wildcards):
    """The raw files behind a table (their checksums go into the meta.json, compared with the registry)."""
    return [p for d in mlc_datasets_of(wildcards) for p in mlc_raw_files(d).values()]


def mlc_table_stamps(wildcards):
    """verify_raw stamps of the raw files behind a table."""
    return [s for d in mlc_datasets_of(wildcards) for s in mlc_stamps(d)]


def mlc_tables():
    """The MLC thesis tables of the config (CSV paths)."""
    tables = [*MLC["tables"], "table2_11", *MLC["ablations"]]
    return expand("results/tables/{table}.csv", table=tables)


def mlc_targets():
    """Every MLC table, meta and report of the config, the extras table when there are other data sets, the
    figures, and each run table data set's runs summary."""
    tables = [*MLC["tables"], "table2_11", *MLC["ablations"]]
    if mlc_table_datasets("mlc_extras"):
        tables.append("mlc_extras")
    targets = expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=tables,
    )
    if MLC["fractions"]["methods"]:
        targets += [
            "results/figures/figure2_20.png",
            "results/tables/mlc_fractions.csv",
        ]
    targets += expand(
        "results/figures/figure2_19_{dataset}.png",
        dataset=MLC["embedding_figure"]["datasets"],
    )
    targets += expand(
        "results/models/mlc/{dataset}.runs.csv",
        dataset=dict.fromkeys([*MLC["table_datasets"], *MLC["extra_datasets"]]),
    )
    return targets
