# Helpers shared by the rule files (config lookups, input functions); no rules here.
import yaml

from seqstruct.crop.train import DETERMINISTIC, METHODS

CONDA_ENV = "../../envs/seqstruct.yaml"
REGISTRY = yaml.safe_load(open(config["registry"]))["datasets"]


def all_targets():
    """Every table, report and figure of the configured domains."""
    crop = config["crop"]
    tables = list(crop["tables"])
    targets = expand(["results/tables/{table}.csv", "results/reports/{table}.md"], table=tables)
    if "table2_1" in tables:
        targets += [
            "results/figures/table2_1_rmse.png",
            "results/figures/table2_1_validation_curves.png",
        ]
        if "gnn_rnn_5y" in crop["tables"]["table2_1"]:
            targets += expand(
                "results/figures/crop_{kind}_gnn_rnn_5y_{crop}_{year}.png",
                kind=["map", "scatter"],
                crop=crop["crop"],
                year=crop["test_years"],
            )
    if "table2_2" in tables:
        targets.append("results/figures/table2_2_masking_week.png")
    return targets


def method_seeds(method):
    """Seeds a method runs with: all configured seeds, or the first one for deterministic methods."""
    seeds = config["seeds"]
    return seeds[:1] if method in DETERMINISTIC else seeds


def gpu_for(wildcards):
    """Deep models ask the scheduler for one GPU; the shallow baselines for none."""
    return 0 if wildcards.method in DETERMINISTIC else 1


def registry_dataset_of(filename, datasets):
    """The dataset among `datasets` (registry ids) that registers `filename`; a clear error otherwise."""
    unknown = [d for d in datasets if d not in REGISTRY]
    if unknown:
        raise WorkflowError(
            f"config: unknown dataset id(s) {unknown} in crop.datasets; known ids in {config['registry']}: "
            f"{sorted(REGISTRY)}"
        )
    hits = [
        d for d in datasets if any(f["name"] == filename for f in REGISTRY[d]["files"])
    ]
    if len(hits) != 1:
        raise WorkflowError(
            f"{config['registry']}: file {filename!r} is registered by {hits or 'none'} of the configured "
            f"datasets {datasets}; it must be exactly one"
        )
    return hits[0]


# ---- crop (chapter 2.1)
def crop_raw(name):
    """Path of a raw crop file for the configured source (registry dataset or synthetic stand-in).

    Raw inputs are wrapped in ancient(): they are checksum-verified, so a new mtime (e.g. after `dvc pull`)
    must not retrain everything."""
    if config["crop"]["source"] == "synthetic":
        return ancient(f"resources/raw/synthetic_crop/{name}")
    return ancient(
        f"resources/raw/{registry_dataset_of(name, config['crop']['datasets'])}/{name}"
    )


def crop_raw_files(crop):
    """Named raw inputs of the crop data preparation for `crop` (e.g. soybean)."""
    shp = "gz_2010_us_050_00_20m"
    return {
        "npz": crop_raw(f"{crop}_data.npz"),
        "loc": crop_raw(f"{crop.capitalize()}s_Loc_ID.csv"),
        "abbrev": crop_raw("us_county_abbrev.txt"),
        "adjacency": crop_raw("county_adjacency.txt"),
        "shp": crop_raw(f"{shp}.shp"),
        "shp_parts": [crop_raw(f"{shp}.{ext}") for ext in ("shx", "dbf", "prj")],
    }


def crop_raw_inputs(wildcards):
    """Input function of prepare_crop."""
    return crop_raw_files(wildcards.crop)


def crop_method_settings(wildcards):
    """Base settings of one crop method (config crop.methods)."""
    return config["crop"]["methods"].get(wildcards.method, {})


def crop_method_grid(wildcards):
    """Validation grid of one crop method (config crop.grids); empty: the base settings as they are."""
    return config["crop"]["grids"].get(wildcards.method, {})


def crop_runs(table, methods=None):
    """Run folders (method, test year, seed) of a crop table, optionally only of `methods`."""
    crop = config["crop"]["crop"]
    return [
        f"results/models/crop/{method}/{crop}_{year}/seed{seed}"
        for year in config["crop"]["test_years"]
        for method in config["crop"]["tables"][table]
        if methods is None or method in methods
        for seed in method_seeds(method)
    ]


def crop_table_metrics(wildcards):
    """metrics.json of every (method, test year, seed) run of a crop table."""
    return [f"{run}/metrics.json" for run in crop_runs(wildcards.table)]


def crop_table_selections(wildcards):
    """selection.json of every (method, test year) of a crop table."""
    crop = config["crop"]["crop"]
    return [
        f"results/models/crop/{method}/{crop}_{year}/selection.json"
        for year in config["crop"]["test_years"]
        for method in config["crop"]["tables"][wildcards.table]
    ]


def crop_early_metrics(wildcards):
    """metrics.json of the 5-year runs of Table 2.2 (the masking-week figure)."""
    five_year = [m for m in config["crop"]["tables"]["table2_2"] if m.endswith("_5y")]
    return [f"{run}/metrics.json" for run in crop_runs("table2_2", five_year)]


def crop_map_predictions(wildcards):
    """predictions.csv of every seed of one method and test year (the maps and scatter plots)."""
    return [
        f"results/models/crop/{wildcards.method}/{wildcards.crop}_{wildcards.year}/seed{seed}/predictions.csv"
        for seed in method_seeds(wildcards.method)
    ]


def crop_table_raw(wildcards):
    """The raw files behind a crop table (their checksums go into the meta.json)."""
    files = crop_raw_files(config["crop"]["crop"])
    return [files[k] for k in ("npz", "loc", "abbrev", "adjacency", "shp")] + files[
        "shp_parts"
    ]
