# Chapter 2.1: crop yield (GNN-RNN and baselines), thesis Tables 2.1 and 2.2, Figures 2.4-2.9.
# The chapter owns its wildcard constraints, helpers (crop_helpers.smk), rules and crop_targets() /
# crop_tables() (see docs/adding-a-domain.md).


include: "crop_helpers.smk"
include: "crop_rasters.smk"


# The synthetic stand-in and the tables and figures take seconds: on a cluster they run where Snakemake runs.
localrules:
    synthesize_crop,
    crop_table,
    crop_figures,
    crop_early_figure,
    crop_maps,
    crop_sensitivity,


rule synthesize_crop:
    output:
        expand("resources/raw/synthetic_crop/{name}", name=CROP_SYNTHETIC_FILES),
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


rule prepare_crop:
    input:
        unpack(crop_raw_inputs),
    output:
        "results/data/crop/{crop}.nc",
    log:
        "logs/prepare_crop/{crop}.log",
    benchmark:
        "benchmarks/prepare_crop/{crop}.tsv"
    wildcard_constraints:
        **{**CROP_WILDCARDS, "crop": "|".join(KHAKI_CROPS) or "(?!)"},
    conda:
        CONDA_ENV
    params:
        registry_sha256=crop_registry_checksums,
        max_dropped_share=lookup(dpath="crop/max_dropped_share", within=config),
    script:
        "../scripts/prepare_crop.py"


rule select_crop:
    input:
        data="results/data/crop/{crop}.nc",
    output:
        "results/models/crop/{method}/{crop}_{year}/selection.json",
    log:
        "logs/select_crop/{method}/{crop}_{year}.log",
    benchmark:
        "benchmarks/select_crop/{method}/{crop}_{year}.tsv"
    wildcard_constraints:
        **CROP_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_unless(CROP_DETERMINISTIC),
    params:
        base=crop_method_settings,
        grid=crop_method_grid,
        seed=config["seeds"][0],
    script:
        "../scripts/select_crop.py"


rule train_crop:
    input:
        data="results/data/crop/{crop}.nc",
        selection="results/models/crop/{method}/{crop}_{year}/selection.json",
    output:
        metrics="results/models/crop/{method}/{crop}_{year}/seed{seed}/metrics.json",
        predictions="results/models/crop/{method}/{crop}_{year}/seed{seed}/predictions.csv",
        model="results/models/crop/{method}/{crop}_{year}/seed{seed}/model.pt",
    log:
        "logs/train_crop/{method}/{crop}_{year}/seed{seed}.log",
    benchmark:
        "benchmarks/train_crop/{method}/{crop}_{year}/seed{seed}.tsv"
    wildcard_constraints:
        **CROP_WILDCARDS,
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_unless(CROP_DETERMINISTIC),
    params:
        early_week=CROP["early_week"],
        early_mask=CROP["early_mask"],
        permutations=CROP["sensitivity_permutations"],
        ckpt="results/ckpt/crop/{method}/{crop}_{year}/seed{seed}",
    script:
        "../scripts/train_crop.py"


rule crop_table:
    input:
        metrics=crop_table_metrics,
        selections=crop_table_selections,
        raw=crop_table_raw,
        verified=crop_raw_stamps,
        data=crop_table_data,
        thesis="config/thesis/{table}.csv",
    output:
        table=report(
            "results/tables/{table}.csv",
            caption="../report/crop_table.rst",
            category="Thesis tables",
        ),
        meta="results/tables/{table}.meta.json",
        report=report(
            "results/reports/{table}.md",
            caption="../report/crop_report.rst",
            category="Thesis tables",
        ),
    log:
        "logs/crop_table/{table}.log",
    benchmark:
        "benchmarks/crop_table/{table}.tsv"
    wildcard_constraints:
        **CROP_WILDCARDS,
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        crop=CROP,
        crop_data=crop_data_labels(),
        registry=config["registry"],
    script:
        "../scripts/crop_table.py"


rule crop_figures:
    input:
        table="results/tables/{table}.csv",
        metrics=crop_table_metrics,
        thesis="config/thesis/{table}.csv",
    output:
        rmse=report(
            "results/figures/{table}_rmse.png",
            caption="../report/crop_rmse.rst",
            category="Figures",
        ),
        curves=report(
            "results/figures/{table}_validation_curves.png",
            caption="../report/crop_validation_curves.rst",
            category="Figures",
        ),
    log:
        "logs/crop_figures/{table}.log",
    benchmark:
        "benchmarks/crop_figures/{table}.tsv"
    wildcard_constraints:
        **CROP_WILDCARDS,
    conda:
        CONDA_ENV
    script:
        "../scripts/crop_figures.py"


rule crop_early_figure:
    input:
        metrics=crop_early_metrics,
    output:
        report(
            "results/figures/table2_2_masking_week.png",
            caption="../report/crop_masking_week.rst",
            category="Figures",
        ),
    log:
        "logs/crop_early_figure/table2_2.log",
    benchmark:
        "benchmarks/crop_early_figure/table2_2.tsv"
    conda:
        CONDA_ENV
    params:
        early_week=CROP["early_week"],
    script:
        "../scripts/crop_early_figure.py"


rule crop_maps:
    input:
        predictions=crop_map_predictions,
        data="results/data/crop/{crop}.nc",
        shp=lambda wc: crop_raw_files(wc.crop)["shp"],
        shp_parts=lambda wc: crop_raw_files(wc.crop)["shp_parts"],
        verified=crop_raw_stamps,
    output:
        map=report(
            "results/figures/crop_map_{method}_{crop}_{year}.png",
            caption="../report/crop_map.rst",
            category="Figures",
        ),
        scatter=report(
            "results/figures/crop_scatter_{method}_{crop}_{year}.png",
            caption="../report/crop_scatter.rst",
            category="Figures",
        ),
    log:
        "logs/crop_maps/{method}_{crop}_{year}.log",
    benchmark:
        "benchmarks/crop_maps/{method}_{crop}_{year}.tsv"
    wildcard_constraints:
        **CROP_WILDCARDS,
    conda:
        CONDA_ENV
    script:
        "../scripts/crop_maps.py"


rule crop_sensitivity:
    input:
        metrics=crop_sensitivity_metrics,
    output:
        table=report(
            "results/tables/crop_sensitivity.csv",
            caption="../report/crop_sensitivity.rst",
            category="Sensitivity",
        ),
        figure=report(
            "results/figures/crop_sensitivity.png",
            caption="../report/crop_sensitivity_figure.rst",
            category="Sensitivity",
        ),
        report=report(
            "results/reports/crop_sensitivity.md",
            caption="../report/crop_sensitivity_report.rst",
            category="Sensitivity",
        ),
    log:
        "logs/crop_sensitivity.log",
    benchmark:
        "benchmarks/crop_sensitivity.tsv"
    conda:
        CONDA_ENV
    params:
        methods=[CROP_METHODS[m] for m in crop_sensitivity_methods()],
    script:
        "../scripts/crop_sensitivity.py"
