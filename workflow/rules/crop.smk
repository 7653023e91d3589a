# Chapter 2.1: crop yield (GNN-RNN and baselines), thesis Table 2.1.


# Tables and figures take seconds: on a cluster they run where Snakemake runs, not as Slurm jobs.
localrules:
    crop_table,
    crop_figures,


rule prepare_crop:
    input:
        unpack(crop_raw_inputs),
    output:
        "results/data/crop/{crop}.nc",
    log:
        "logs/prepare_crop/{crop}.log",
    benchmark:
        "benchmarks/prepare_crop/{crop}.tsv"
    conda:
        CONDA_ENV
    script:
        "../scripts/prepare_crop.py"


rule train_crop:
    input:
        data="results/data/crop/{crop}.nc",
    output:
        metrics="results/models/crop/{method}/{crop}_{year}/seed{seed}/metrics.json",
        predictions="results/models/crop/{method}/{crop}_{year}/seed{seed}/predictions.csv",
        model="results/models/crop/{method}/{crop}_{year}/seed{seed}/model.pt",
    log:
        "logs/train_crop/{method}/{crop}_{year}/seed{seed}.log",
    benchmark:
        "benchmarks/train_crop/{method}/{crop}_{year}/seed{seed}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        gpu=gpu_for,
    params:
        settings=crop_method_settings,
        ckpt="results/ckpt/crop/{method}/{crop}_{year}/seed{seed}",
    script:
        "../scripts/train_crop.py"


rule crop_table:
    input:
        metrics=crop_table_metrics,
        raw=crop_table_raw,
        data=f"results/data/crop/{config['crop']['crop']}.nc",
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
    conda:
        CONDA_ENV
    params:
        scale=config["scale"],
        crop=config["crop"],
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
    conda:
        CONDA_ENV
    script:
        "../scripts/crop_figures.py"
