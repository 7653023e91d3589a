# Raw data: registry files (local copy -> $SEQSTRUCT_DATA_MIRROR -> public URL, sha256-checked) and the
# deterministic synthetic stand-ins written in the same raw formats.

SYNTHETIC_CROP_FILES = [
    "soybean_data.npz",
    "Soybeans_Loc_ID.csv",
    "us_county_abbrev.txt",
    "county_adjacency.txt",
    "gz_2010_us_050_00_20m.shp",
    "gz_2010_us_050_00_20m.shx",
    "gz_2010_us_050_00_20m.dbf",
    "gz_2010_us_050_00_20m.prj",
]


# Downloads need the network (often only on the login node); the synthetic stand-ins take a second.
localrules:
    fetch_raw,
    synthesize_crop,


rule fetch_raw:
    output:
        "resources/raw/{dataset}/{filename}",
    log:
        "logs/fetch_raw/{dataset}/{filename}.log",
    benchmark:
        "benchmarks/fetch_raw/{dataset}/{filename}.tsv"
    conda:
        CONDA_ENV
    params:
        registry=config["registry"],
    shell:
        "python -m seqstruct.data.fetch {wildcards.dataset} --file {wildcards.filename}"
        " --raw-dir resources/raw --registry {params.registry} > {log} 2>&1"


rule synthesize_crop:
    output:
        expand("resources/raw/synthetic_crop/{name}", name=SYNTHETIC_CROP_FILES),
    log:
        "logs/synthesize_crop.log",
    benchmark:
        "benchmarks/synthesize_crop.tsv"
    conda:
        CONDA_ENV
    params:
        settings=lookup(dpath="crop/synthetic", within=config),
    script:
        "../scripts/synthesize_crop.py"
