# Chapter 2.1, raw-raster ingestion: PRISM / NLDAS-2 / gSSURGO / NLCD / NASS -> county features -> the prepared
# dataset of every crop whose crop.data is "rasters" (seqstruct.crop.rasters). The real files come from
# crop.rasters.root (README, "Nationwide data from rasters"); with crop.source synthetic, from the synthetic
# raster set on the real counties of crop.rasters.synthetic.states. Jobs fan out per variable-year.


localrules:
    nass_yields,


if RASTER_SET == "nationwide":

    rule fetch_prism:
        output:
            directory(f"{raster_root()}/prism/{{var}}/{{year}}"),
        log:
            "logs/fetch_prism/{var}_{year}.log",
        wildcard_constraints:
            var="|".join(CROP["rasters"]["prism_vars"]),
            year=r"\d{4}",
        conda:
            CONDA_ENV
        script:
            "../scripts/fetch_rasters.py"

    rule fetch_nldas:
        output:
            directory(f"{raster_root()}/nldas/{{product}}/{{year}}"),
        log:
            "logs/fetch_nldas/{product}_{year}.log",
        wildcard_constraints:
            product="FORA|NOAH",
            year=r"\d{4}",
        conda:
            CONDA_ENV
        script:
            "../scripts/fetch_rasters.py"


rule synthesize_crop_rasters:
    input:
        **census_inputs(),
    output:
        "resources/raw/synthetic_rasters/MANIFEST.json",
    log:
        "logs/synthesize_crop_rasters.log",
    benchmark:
        "benchmarks/synthesize_crop_rasters.tsv"
    conda:
        CONDA_ENV
    params:
        settings=lambda wc: raster_settings(),
    script:
        "../scripts/synthesize_crop_rasters.py"


rule crop_raster_weights:
    input:
        **census_inputs(),
        nlcd=raster_input(raster_files()["nlcd"]),
    output:
        f"{RASTER_OUT}/weights_{{grid}}.npz",
    log:
        f"logs/crop_raster_weights/{RASTER_SET}_{{grid}}.log",
    benchmark:
        f"benchmarks/crop_raster_weights/{RASTER_SET}_{{grid}}.tsv"
    wildcard_constraints:
        grid="|".join(RASTER_GRIDS),
    conda:
        CONDA_ENV
    params:
        nlcd=raster_files()["nlcd"],
        states=raster_settings()["states"],
        window=RASTER_SET == "synthetic",
    script:
        "../scripts/crop_raster_weights.py"


rule aggregate_prism:
    input:
        weights=f"{RASTER_OUT}/weights_prism.npz",
        files=raster_input("prism/{var}/{year}"),
    output:
        f"{RASTER_OUT}/prism/{{var}}_{{year}}.nc",
    log:
        f"logs/aggregate_prism/{RASTER_SET}/{{var}}_{{year}}.log",
    benchmark:
        f"benchmarks/aggregate_prism/{RASTER_SET}/{{var}}_{{year}}.tsv"
    wildcard_constraints:
        var="|".join(CROP["rasters"]["prism_vars"]),
        year=r"\d{4}",
    conda:
        CONDA_ENV
    params:
        folder=lambda wc: f"prism/{wc.var}/{wc.year}",
    script:
        "../scripts/aggregate_prism.py"


rule aggregate_nldas:
    input:
        weights=f"{RASTER_OUT}/weights_nldas.npz",
        files=raster_input("nldas/{product}/{year}"),
    output:
        f"{RASTER_OUT}/nldas/{{product}}_{{year}}.nc",
    log:
        f"logs/aggregate_nldas/{RASTER_SET}/{{product}}_{{year}}.log",
    benchmark:
        f"benchmarks/aggregate_nldas/{RASTER_SET}/{{product}}_{{year}}.tsv"
    wildcard_constraints:
        product="FORA|NOAH",
        year=r"\d{4}",
    conda:
        CONDA_ENV
    params:
        folder=lambda wc: f"nldas/{wc.product}/{wc.year}",
        names=lambda wc: [
            n
            for n in raster_settings()["nldas_vars"]
            if NLDAS_VARIABLES[n].product == wc.product
        ],
    script:
        "../scripts/aggregate_nldas.py"


rule merge_crop_year:
    input:
        raster_year_parts,
    output:
        f"{RASTER_OUT}/weekly_{{year}}.nc",
    log:
        f"logs/merge_crop_year/{RASTER_SET}/{{year}}.log",
    wildcard_constraints:
        year=r"\d{4}",
    conda:
        CONDA_ENV
    params:
        variables=lambda wc: raster_settings()["prism_vars"]
        + raster_settings()["nldas_vars"],
    script:
        "../scripts/merge_crop_year.py"


rule aggregate_soil:
    input:
        **census_inputs(),
        mukey=raster_input(raster_files()["mukey"]),
        tables=raster_input(raster_files()["soil_tables"]),
        nlcd=raster_input(raster_files()["nlcd"]),
    output:
        f"{RASTER_OUT}/soil.nc",
    log:
        f"logs/aggregate_soil/{RASTER_SET}.log",
    benchmark:
        f"benchmarks/aggregate_soil/{RASTER_SET}.tsv"
    conda:
        CONDA_ENV
    params:
        files=raster_files(),
        states=raster_settings()["states"],
    script:
        "../scripts/aggregate_soil.py"


rule nass_yields:
    input:
        raster_input(raster_files()["yields"]),
    output:
        f"{RASTER_OUT}/yields.csv",
    log:
        f"logs/nass_yields/{RASTER_SET}.log",
    conda:
        CONDA_ENV
    params:
        path=raster_files()["yields"],
    script:
        "../scripts/nass_yields.py"


rule prepare_crop_rasters:
    input:
        **census_inputs(),
        weekly=expand(f"{RASTER_OUT}/weekly_{{year}}.nc", year=raster_years()),
        soil=f"{RASTER_OUT}/soil.nc",
        yields=f"{RASTER_OUT}/yields.csv",
        adjacency=census_file("county_adjacency.txt"),
    output:
        "results/data/crop/{crop}.nc",
    log:
        "logs/prepare_crop_rasters/{crop}.log",
    benchmark:
        "benchmarks/prepare_crop_rasters/{crop}.tsv"
    wildcard_constraints:
        crop="|".join(RASTER_CROPS) or "(?!)",
    conda:
        CONDA_ENV
    params:
        source=RASTER_SET,
    script:
        "../scripts/prepare_crop_rasters.py"
