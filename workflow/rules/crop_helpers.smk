# Chapter 2.1 helpers for crop.smk: constants, wildcard constraints, input functions, targets; no rules here.
from pathlib import Path

from seqstruct.crop.rasters.ingest import GRIDS as RASTER_GRIDS
from seqstruct.crop.rasters.nldas import NLDAS_VARIABLES
from seqstruct.crop.rasters.synthetic import FILES as SYNTHETIC_RASTER_FILES
from seqstruct.crop.raw import CropDataError
from seqstruct.crop.synthetic import RAW_FILES as CROP_SYNTHETIC_FILES
from seqstruct.crop.train import DETERMINISTIC as CROP_DETERMINISTIC
from seqstruct.crop.train import METHODS as CROP_METHODS
from seqstruct.crop.train import check_test_years

CROP = config["crop"]
CROP_SHP = "gz_2010_us_050_00_20m"
#: the crops of the tables, and which data each one is prepared from (khaki: the Khaki npz; rasters: the
#: raster ingestion of crop_rasters.smk, the nationwide files or the synthetic raster set)
CROP_CROPS = CROP["crops"]
KHAKI_CROPS = [c for c in CROP_CROPS if CROP["data"].get(c, "khaki") == "khaki"]
RASTER_CROPS = [c for c in CROP_CROPS if CROP["data"].get(c) == "rasters"]
#: every crop rule's wildcards: the table names are explicit, so no other domain's table rule collides
CROP_WILDCARDS = {
    "method": "|".join(sorted(CROP_METHODS)),
    "crop": "|".join(CROP_CROPS),
    "year": r"\d{4}",
    "seed": r"\d+",
    "table": "|".join(sorted(CROP["tables"])),
}


def crop_data_years(crop):
    """(first, last) year of the data of `crop`, and where that is declared."""
    if crop in RASTER_CROPS:
        return tuple(raster_settings()["years"]), f"crop.rasters ({RASTER_SET})"
    if CROP["source"] == "synthetic":
        return (
            CROP["synthetic"]["first_year"],
            CROP["synthetic"]["last_year"],
        ), "crop.synthetic"
    name = f"{crop}_data.npz"
    dataset = registry_dataset_of(name, CROP["datasets"], "crop.datasets")
    years = REGISTRY[dataset].years
    if years is None:
        raise WorkflowError(
            f"{config['registry']}: dataset {dataset!r} declares no 'years: [first, last]'; the crop workflow "
            "needs them to check crop.test_years before it runs"
        )
    return years, f"dataset {dataset!r} in {config['registry']}"


def _check_crop_config():
    """At parse time: every crop has data, and every test year can be served by it."""
    unknown = [
        c
        for c in CROP_CROPS
        if CROP["data"].get(c, "khaki") not in ("khaki", "rasters")
    ]
    if unknown:
        raise WorkflowError(f"config crop.data: {unknown} need 'khaki' or 'rasters'")
    if CROP["source"] == "real" and [c for c in KHAKI_CROPS if c != "soybean"]:
        raise WorkflowError(
            "config crop.crops: the Khaki data has soybean only; set crop.data.corn: rasters and provide the "
            "nationwide rasters (README, 'Nationwide data from rasters')"
        )
    for crop in CROP_CROPS:
        try:
            check_test_years(
                CROP["test_years"],
                sorted({m for methods in CROP["tables"].values() for m in methods}),
                *crop_data_years(crop),
                key="crop.test_years",
            )
        except CropDataError as err:
            raise WorkflowError(f"{crop}: {err}") from None


def crop_tables():
    """The crop tables of the config (CSV paths)."""
    return expand("results/tables/{table}.csv", table=list(CROP["tables"]))


def crop_targets():
    """Every crop table, meta, report and figure of the config."""
    tables = list(CROP["tables"])
    targets = expand(
        [
            "results/tables/{table}.csv",
            "results/tables/{table}.meta.json",
            "results/reports/{table}.md",
        ],
        table=tables,
    )
    if "table2_1" in tables:
        targets += [
            "results/figures/table2_1_rmse.png",
            "results/figures/table2_1_validation_curves.png",
        ]
        if "gnn_rnn_5y" in CROP["tables"]["table2_1"]:
            targets += expand(
                "results/figures/crop_{kind}_gnn_rnn_5y_{crop}_{year}.png",
                kind=["map", "scatter"],
                crop=CROP_CROPS,
                year=CROP["test_years"],
            )
    if "table2_2" in tables:
        targets.append("results/figures/table2_2_masking_week.png")
    if CROP["sensitivity_permutations"] > 0:
        targets += [
            "results/tables/crop_sensitivity.csv",
            "results/figures/crop_sensitivity.png",
            "results/reports/crop_sensitivity.md",
        ]
    return targets


def census_file(name):
    """A registry Census file (boundaries, adjacency): the raster path uses the real counties even in the
    synthetic demo."""
    dataset = registry_dataset_of(name, CROP["datasets"], "crop.datasets")
    return ancient(f"resources/raw/{dataset}/{name}")


def crop_raw_files(crop):
    """Named raw inputs of the crop data preparation for `crop` (e.g. soybean)."""
    if crop in RASTER_CROPS:
        return {
            "adjacency": census_file("county_adjacency.txt"),
            "shp": census_file(f"{CROP_SHP}.shp"),
            "shp_parts": [
                census_file(f"{CROP_SHP}.{ext}") for ext in ("shx", "dbf", "prj")
            ],
        }
    return {
        "npz": raw_file("crop", f"{crop}_data.npz"),
        "loc": raw_file("crop", f"{crop.capitalize()}s_Loc_ID.csv"),
        "abbrev": raw_file("crop", "us_county_abbrev.txt"),
        "adjacency": raw_file("crop", "county_adjacency.txt"),
        "shp": raw_file("crop", f"{CROP_SHP}.shp"),
        "shp_parts": [
            raw_file("crop", f"{CROP_SHP}.{ext}") for ext in ("shx", "dbf", "prj")
        ],
    }


def crop_raw_paths(crop):
    """Every raw input of `crop` as one list, in crop_raw_files order."""
    files = crop_raw_files(crop)
    keys = ("npz", "loc", "abbrev", "adjacency", "shp")
    return [files[k] for k in keys if k in files] + files["shp_parts"]


def crop_raw_names(crop):
    """File names of the raw crop inputs of `crop`, in crop_raw_files order."""
    return [Path(p).name for p in crop_raw_paths(crop)]


def crop_raw_inputs(wildcards):
    """Input function of prepare_crop: the raw files and their verify_raw stamps."""
    stamps = [s for n in crop_raw_names(wildcards.crop) for s in raw_stamp("crop", n)]
    return {**crop_raw_files(wildcards.crop), "verified": stamps}


def crop_stamps_of(crop):
    """verify_raw stamps of the registry files behind `crop` (the Census files of a raster crop are always
    the registry's)."""
    if crop in RASTER_CROPS:
        return [
            ancient(
                f"resources/verified/{Path(str(p)).parent.name}/{Path(str(p)).name}.json"
            )
            for p in crop_raw_paths(crop)
        ]
    return [s for n in crop_raw_names(crop) for s in raw_stamp("crop", n)]


def crop_raw_stamps(wildcards):
    """verify_raw stamps of every raw crop file (rules that read some of them besides prepare_crop)."""
    crops = [wildcards.crop] if hasattr(wildcards, "crop") else CROP_CROPS
    return [s for crop in crops for s in crop_stamps_of(crop)]


def crop_registry_checksums(wildcards):
    """Registry sha256 of the raw crop files (a params entry: a registry change reruns the rule)."""
    return registry_checksums("crop", crop_raw_names(wildcards.crop))


def crop_method_settings(wildcards):
    """Base settings of one crop method (config crop.methods)."""
    return CROP["methods"].get(wildcards.method, {})


def crop_method_grid(wildcards):
    """Validation grid of one crop method (config crop.grids); empty: the base settings as they are."""
    return CROP["grids"].get(wildcards.method, {})


def crop_runs(table, methods=None):
    """Run folders (method, test year, seed) of a crop table, optionally only of `methods`."""
    return [
        f"results/models/crop/{method}/{crop}_{year}/seed{seed}"
        for crop in CROP_CROPS
        for year in CROP["test_years"]
        for method in CROP["tables"][table]
        if methods is None or method in methods
        for seed in seeds_for(method, CROP_DETERMINISTIC)
    ]


def crop_table_metrics(wildcards):
    """metrics.json of every (method, test year, seed) run of a crop table."""
    return [f"{run}/metrics.json" for run in crop_runs(wildcards.table)]


def crop_table_selections(wildcards):
    """selection.json of every (method, test year) of a crop table."""
    return [
        f"results/models/crop/{method}/{crop}_{year}/selection.json"
        for crop in CROP_CROPS
        for year in CROP["test_years"]
        for method in CROP["tables"][wildcards.table]
    ]


def crop_early_metrics(wildcards):
    """metrics.json of the 5-year runs of Table 2.2 (the masking-week figure)."""
    five_year = [m for m in CROP["tables"]["table2_2"] if m.endswith("_5y")]
    return [f"{run}/metrics.json" for run in crop_runs("table2_2", five_year)]


def crop_sensitivity_methods():
    """Every method of the configured crop tables, in Table 2.1 order."""
    return [
        m
        for m in CROP_METHODS
        if any(m in methods for methods in CROP["tables"].values())
    ]


def crop_sensitivity_metrics(wildcards):
    """metrics.json of every (method, test year, seed) run of the configured tables (the sensitivity table)."""
    return [
        f"results/models/crop/{method}/{crop}_{year}/seed{seed}/metrics.json"
        for crop in CROP_CROPS
        for year in CROP["test_years"]
        for method in crop_sensitivity_methods()
        for seed in seeds_for(method, CROP_DETERMINISTIC)
    ]


def crop_map_predictions(wildcards):
    """predictions.csv of every seed of one method and test year (the maps and scatter plots)."""
    return [
        f"results/models/crop/{wildcards.method}/{wildcards.crop}_{wildcards.year}/seed{seed}/predictions.csv"
        for seed in seeds_for(wildcards.method, CROP_DETERMINISTIC)
    ]


def crop_table_raw(wildcards):
    """The raw files behind a crop table (their checksums go into the meta.json, compared with the registry)."""
    return sorted({str(p) for crop in CROP_CROPS for p in crop_raw_paths(crop)})


def crop_table_data(wildcards):
    """The prepared dataset of every crop of the tables."""
    return [f"results/data/crop/{crop}.nc" for crop in CROP_CROPS]


def crop_data_labels():
    """Which data each crop's sub-tables come from (the meta.json and the scoreboard)."""
    labels = {}
    for crop in CROP_CROPS:
        if crop in RASTER_CROPS:
            labels[crop] = f"{RASTER_SET} rasters ({raster_root()})"
        elif CROP["source"] == "synthetic":
            labels[crop] = "synthetic_crop (the synthetic Khaki-format npz)"
        else:
            labels[crop] = "khaki_soybean (106 Illinois/Indiana counties)"
    for crop in sorted({"corn", "soybean"} - set(CROP_CROPS)):
        labels[crop] = (
            "not run (needs the nationwide rasters: crop.crops with it, crop.data."
            f"{crop}: rasters, README 'Nationwide data from rasters')"
        )
    return labels


# raster ingestion (crop_rasters.smk)

RASTER_SET = "synthetic" if CROP["source"] == "synthetic" else "nationwide"
RASTER_OUT = f"results/data/crop/rasters/{RASTER_SET}"


def raster_settings():
    """The raster settings in force: crop.rasters, with crop.rasters.synthetic's for the synthetic set."""
    r = CROP["rasters"]
    return {**r, **r["synthetic"]} if RASTER_SET == "synthetic" else r


def raster_files():
    """The single-file inputs (NLCD, map units, soil tables, yields) under the root."""
    if RASTER_SET == "synthetic":
        return SYNTHETIC_RASTER_FILES
    return CROP["rasters"]["files"]


def raster_root():
    """Where the raw raster files are."""
    if RASTER_SET == "synthetic":
        return "resources/raw/synthetic_rasters"
    return raster_settings()["root"]


def raster_years():
    first, last = raster_settings()["years"]
    return list(range(first, last + 1))


def nldas_products():
    """The NLDAS-2 products that the configured NLDAS features come from."""
    return sorted({NLDAS_VARIABLES[n].product for n in raster_settings()["nldas_vars"]})


def raster_input(sub):
    """A raw raster path: the synthetic set's manifest (which the generator writes), or the user's file."""
    if RASTER_SET == "synthetic":
        return "resources/raw/synthetic_rasters/MANIFEST.json"
    return ancient(f"{raster_root()}/{sub}")


def raster_year_parts(wildcards):
    """The per-variable (PRISM) and per-product (NLDAS) files of one year."""
    s = raster_settings()
    return expand(
        f"{RASTER_OUT}/prism/{{var}}_{wildcards.year}.nc", var=s["prism_vars"]
    ) + expand(
        f"{RASTER_OUT}/nldas/{{product}}_{wildcards.year}.nc", product=nldas_products()
    )


def census_inputs():
    return {
        "shp": census_file(f"{CROP_SHP}.shp"),
        "shp_parts": [census_file(f"{CROP_SHP}.{e}") for e in ("shx", "dbf", "prj")],
    }


def check_raster_files():
    """At parse time, for the real set: name every missing file or folder and the fix."""
    if RASTER_SET != "nationwide" or not RASTER_CROPS:
        return
    root = Path(
        raster_root()
    )  # missing PRISM / NLDAS folders are downloaded (fetch_prism, fetch_nldas)
    wanted = [
        root / raster_files()[k] for k in ("nlcd", "mukey", "soil_tables", "yields")
    ]
    missing = [str(p) for p in wanted if not p.exists()]
    if missing:
        raise WorkflowError(
            f"crop.data puts {RASTER_CROPS} on the nationwide rasters, but {len(missing)} of their files are "
            f"missing under {root} ({', '.join(missing)}); download them (README, 'Nationwide data from "
            "rasters') or set crop.rasters.root / crop.rasters.files to where they are"
        )


check_raster_files()
_check_crop_config()
