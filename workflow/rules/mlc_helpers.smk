# Chapter 2.3 helpers for mlc.smk: constants, wildcard constraints, input functions, targets; no rules here.
from seqstruct.mlc.formats import FormatError, roles
from seqstruct.mlc.prepare import PREPARED_FILES as MLC_PREPARED_FILES
from seqstruct.mlc.train import DETERMINISTIC as MLC_DETERMINISTIC
from seqstruct.mlc.train import METHODS as MLC_METHODS
from seqstruct.mlc.train import check_params as mlc_check_params

MLC = config["mlc"]
#: the data sets that run (names of the catalogue mlc.datasets)
MLC_USED = list(dict.fromkeys([*MLC["table_datasets"], *MLC["extra_datasets"]]))
#: the tables made from the MLC runs of `table_datasets`; mlc_extras holds the same methods on the other data sets
MLC_RUN_TABLES = [*MLC["tables"], "mlc_extras"]
#: every mlc rule's wildcards (the table names are explicit, so no other domain's table rule collides)
MLC_WILDCARDS = {
    "method": "|".join(sorted(MLC_METHODS)),
    "dataset": "|".join(sorted(MLC_USED)) or "^$",
    "seed": r"\d+",
    "table": "|".join(MLC_RUN_TABLES),
}


def mlc_fail(message):
    raise WorkflowError(f"config mlc: {message}")


for _name in [*MLC_USED, *MLC["overrides"], *MLC["dataset_grids"]]:  # parse time: one line naming the key
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
    for method in MLC_METHODS:
        for dataset in MLC_USED:
            grid = mlc_grid(method, dataset)
            for point in [{}] + [{k: v[0]} for k, v in grid.items()]:
                try:
                    mlc_check_params(method, {**mlc_settings(method, dataset), **point})
                except (ValueError, TypeError) as err:
                    mlc_fail(f"settings of {method} on {dataset} (methods / overrides / grids): {err}")


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
    """The data sets of a run table: table_datasets for the thesis tables, the others for mlc_extras."""
    return list(MLC["extra_datasets" if table == "mlc_extras" else "table_datasets"])


def mlc_table_methods(table):
    """The methods of a run table (mlc_extras: every method of the thesis tables)."""
    return mlc_methods() if table == "mlc_extras" else MLC["tables"][table]


def mlc_runs(table):
    """Run folders (method, data set, seed) of a run table."""
    return [
        f"results/models/mlc/{method}/{dataset}/seed{seed}"
        for dataset in mlc_table_datasets(table)
        for method in mlc_table_methods(table)
        for seed in seeds_for(method, MLC_DETERMINISTIC)
    ]


def mlc_table_metrics(wildcards):
    """metrics.json of every run of a run table."""
    return [f"{run}/metrics.json" for run in mlc_runs(wildcards.table)]


def mlc_table_selections(wildcards):
    """selection.json of every (method, data set) of a run table."""
    return [
        f"results/models/mlc/{method}/{dataset}/selection.json"
        for dataset in mlc_table_datasets(wildcards.table)
        for method in mlc_table_methods(wildcards.table)
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
    tables = list(MLC["tables"]) + ["table2_11"]
    return expand("results/tables/{table}.csv", table=tables)


def mlc_targets():
    """Every MLC table, meta and report of the config, and the extras table when there are other data sets."""
    tables = list(MLC["tables"]) + ["table2_11"]
    if mlc_table_datasets("mlc_extras"):
        tables.append("mlc_extras")
    return expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=tables,
    )
