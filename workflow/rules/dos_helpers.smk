# Chapter 2.2 helpers for dos.smk: constants, wildcard constraints, input functions, targets; no rules here.
import os

from seqstruct.dos.formats import RAW_FILES as DOS_RAW_FILES
from seqstruct.dos.prepare import PREPARED_FILES as DOS_PREPARED_FILES
from seqstruct.dos.train import METHODS as DOS_METHODS
from seqstruct.dos.train import check_params as dos_check_params

DOS = config["dos"]


def dos_fail(message):
    raise WorkflowError(f"config dos: {message}")


for _table, _spec in DOS["tables"].items():  # parse time: one line naming the key
    if _spec["dataset"] not in DOS["datasets"]:
        dos_fail(
            f"tables.{_table}.dataset {_spec['dataset']!r} is not in dos.datasets {sorted(DOS['datasets'])}"
        )
if DOS["timing"]["dataset"] not in DOS["datasets"]:
    dos_fail(f"timing.dataset {DOS['timing']['dataset']!r} is not in dos.datasets")


#: the data sets that are ingested: MP eDoS only with an ids file (it needs MP_API_KEY) or a synthetic source
def dos_available(dataset):
    entry = DOS["datasets"][dataset]
    if DOS["source"] == "synthetic" or entry["format"] != "mp_edos":
        return True
    return bool(DOS["edos"]["ids_file"])


DOS_TABLES = {t: s for t, s in DOS["tables"].items() if dos_available(s["dataset"])}
DOS_USED = list(
    dict.fromkeys(
        [s["dataset"] for s in DOS_TABLES.values()]
        + ([DOS["timing"]["dataset"]] if DOS["timing"]["methods"] else [])
    )
)
#: every dos rule's wildcards (the table names are explicit, so no other domain's table rule collides)
DOS_WILDCARDS = {
    "method": "|".join(sorted(DOS_METHODS)),
    "dataset": "|".join(sorted(DOS_USED)) or "^$",
    "seed": r"\d+",
    "table": "|".join(DOS_TABLES) or "^$",
}


def dos_check_settings():
    """Parse time: a misspelt or refused setting fails the dry run with one line naming the valid ones."""
    for method in DOS_METHODS:
        grid = DOS["grids"].get(method, {})
        for point in [{}] + [{k: v[0]} for k, v in grid.items()]:
            try:
                dos_check_params(method, {**DOS["methods"].get(method, {}), **point})
            except (ValueError, TypeError) as err:
                dos_fail(f"settings of {method} (methods / grids): {err}")


dos_check_settings()


def dos_raw_files(dataset):
    """Role -> raw path of `dataset`: the synthetic CSV, or its registry files (phonon: data.csv and, for the
    tutorial split, its index files; MP eDoS: the CSV that fetch_mp_edos writes). ancient(): checksum-verified
    files with a new mtime retrain nothing."""
    if DOS["source"] == "synthetic":
        return {"csv": ancient(f"resources/raw/synthetic_dos/{dataset}.csv")}
    entry = DOS["datasets"][dataset]
    roles = dict(DOS_RAW_FILES[entry["format"]])
    if not (entry["format"] == "phonon_csv" and DOS["split"] == "tutorial"):
        roles = {"csv": roles["csv"]}
    return {
        role: ancient(f"resources/raw/{entry['registry']}/{name}")
        for role, name in roles.items()
    }


def dos_stamps(dataset):
    """verify_raw stamps of the registry files of `dataset` (none for synthetic or API data)."""
    if DOS["source"] == "synthetic":
        return []
    entry = DOS["datasets"][dataset]
    spec = REGISTRY[entry["registry"]]
    names = {f.name for f in spec.files}
    return [
        ancient(f"resources/verified/{entry['registry']}/{os.path.basename(p)}.json")
        for p in dos_raw_files(dataset).values()
        if os.path.basename(p) in names
    ]


def dos_checksums(wildcards):
    """Registry sha256 of the raw files of a data set (a params entry: a registry change reruns prepare)."""
    if DOS["source"] == "synthetic":
        return {}
    spec = REGISTRY[DOS["datasets"][wildcards.dataset]["registry"]]
    names = {f.name for f in spec.files}
    return {
        os.path.basename(p): spec.sha256_of(os.path.basename(p))
        for p in dos_raw_files(wildcards.dataset).values()
        if os.path.basename(p) in names
    }


def dos_prepare_inputs(wildcards):
    return {
        **dos_raw_files(wildcards.dataset),
        "verified": dos_stamps(wildcards.dataset),
    }


def dos_prepared(dataset):
    return [f"results/data/dos/{dataset}/{name}" for name in DOS_PREPARED_FILES]


def dos_run_metrics(methods, dataset):
    return [
        f"results/models/dos/{m}/{dataset}/seed{s}/metrics.json"
        for m in methods
        for s in config["seeds"]
    ]


def dos_table_metrics(wildcards):
    spec = DOS_TABLES[wildcards.table]
    return dos_run_metrics(spec["methods"], spec["dataset"])


def dos_table_selections(wildcards):
    spec = DOS_TABLES[wildcards.table]
    return [
        f"results/models/dos/{m}/{spec['dataset']}/selection.json"
        for m in spec["methods"]
    ]


def dos_table_raw(wildcards):
    """The raw files behind a table (their checksums go into the meta.json, compared with the registry)."""
    return list(dos_raw_files(DOS_TABLES[wildcards.table]["dataset"]).values())


def dos_table_stamps(wildcards):
    return dos_stamps(DOS_TABLES[wildcards.table]["dataset"])


def dos_figure_runs(wildcards):
    dataset = DOS_TABLES[dos_figure_table(wildcards.figure)]["dataset"]
    return [
        f"results/models/dos/{m}/{dataset}/seed{config['seeds'][0]}/predictions.npz"
        for m in DOS["figure_methods"]
    ]


#: Figure 2.16 shows phonon DoS (Table 2.3's data set), Figure 2.17 electronic DoS (Table 2.4's)
DOS_FIGURES = {"figure2_16": "table2_3", "figure2_17": "table2_4"}


def dos_figure_table(figure):
    return DOS_FIGURES[figure]


def dos_figures():
    return [f for f, t in DOS_FIGURES.items() if t in DOS_TABLES]


def dos_tables():
    """The DoS thesis tables of the config (CSV paths): those whose data set is ingested, and Table 2.7."""
    tables = list(DOS_TABLES) + (["table2_7"] if DOS["timing"]["methods"] else [])
    return expand("results/tables/{table}.csv", table=tables)


def dos_targets():
    """Every DoS table, meta and report of the config, and the figures of predicted vs true spectra."""
    tables = list(DOS_TABLES) + (["table2_7"] if DOS["timing"]["methods"] else [])
    targets = expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=tables,
    )
    return targets + expand("results/figures/{figure}.png", figure=dos_figures())
